"""A card capture state as a turn reads it: its tokens sealed again with the sealing key, or,
when this server cannot open them, a lost capture, as if it had expired (the caller is asked
again).

Resealed because the capture machine compares tokens (the card said again at the readback is
a yes; n-best hypotheses that agree), and AES-SIV tokens of one card under two keys differ:
during a key rotation a card held under the old key would not match itself read under the
new one. Resealing also moves every capture a turn touches onto the newest key, so a capture
sealed with an old key outlives it only while no turn reads it (``docs/fleet.md``).

That happens when the card key changes under a capture held between turns: a replica that no
longer lists the key a capture was sealed with (``voicecore._card_keys``), or a process whose
random key sealed it (in memory, then restarted onto a shared state). The turn runs as on a
capture never begun (the state it writes replaces the unreadable one), the loss is logged once,
with the key id the token names (an operator's label, not a secret) and never a value, and it
is told to ``on_lost`` as ``unreadable``, which a server counts as a
``voicecore_capture_results_total`` result (``voicecore._metrics``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from loguru import logger

from voicecore._card_crypto import CardTokenError
from voicecore.capture import CaptureState
from voicecore.capture._expiry import LostListener
from voicecore.primitive import StateStore

__all__ = ["LosesCaptures", "OpenableStates"]


@runtime_checkable
class LosesCaptures(Protocol):
    """A primitive that drops capture states it cannot read, and tells ``on_lost``."""

    on_lost: list[LostListener]


@dataclass
class OpenableStates:
    """``store`` with every state's tokens resealed by ``reseals``, and every state whose
    tokens ``reseals`` refuses read as none (and told to ``on_lost``)."""

    store: StateStore[Any]
    #: A token sealed again with the sealing key, or ``CardTokenError``.
    reseals: Callable[[str], str]
    on_lost: list[LostListener]

    async def get(self, key: Hashable) -> CaptureState | None:
        state: CaptureState | None = await self.store.get(key)
        if state is None:
            return None
        try:
            return _resealed(state, self.reseals)
        except CardTokenError as refused:
            logger.warning(
                "card capture lost: its card data does not open with the card keys listed; "
                "asking again",
                why=refused.why,
                key_id=refused.key_id,
            )
            for listener in self.on_lost:
                listener(key, "unreadable")
            return None

    async def put(self, key: Hashable, state: CaptureState) -> None:
        await self.store.put(key, state)

    async def delete(self, key: Hashable) -> None:
        await self.store.delete(key)


def _resealed(state: CaptureState, reseals: Callable[[str], str]) -> CaptureState:
    """``state`` with every token it holds resealed: the held value and its candidates, the
    partial value."""
    held = state.held
    if held is not None:
        candidates = tuple(replace(c, value=reseals(c.value)) for c in held.candidates)
        held = replace(held, value=reseals(held.value), candidates=candidates)
    partial = reseals(state.partial) if state.partial is not None else None
    return replace(state, held=held, partial=partial)
