"""A card capture whose sealed data this server cannot open is a lost capture, as if it had
expired: the caller is asked again.

That happens when the card key changes under a capture held between turns: a replica that no
longer lists the key a capture was sealed with (``voicecore._card_keys``), or a process whose
random key sealed it (in memory, then restarted onto a shared state). The turn runs as on a
capture never begun (the state it writes replaces the unreadable one), the loss is logged once,
with the key id the token names (an operator's label, not a secret) and never a value, and it
is told to ``on_lost`` as ``unreadable``, which a server counts as a
``voicecore_capture_results_total`` result (``voicecore._metrics``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
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
    """``store`` with every state whose tokens ``opens`` refuses read as none (and told to
    ``on_lost``)."""

    store: StateStore[Any]
    #: Opens a token, or raises ``CardTokenError``.
    opens: Callable[[str], object]
    on_lost: list[LostListener]

    async def get(self, key: Hashable) -> CaptureState | None:
        state: CaptureState | None = await self.store.get(key)
        if state is None:
            return None
        try:
            for token in _tokens(state):
                self.opens(token)
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
        return state

    async def put(self, key: Hashable, state: CaptureState) -> None:
        await self.store.put(key, state)

    async def delete(self, key: Hashable) -> None:
        await self.store.delete(key)


def _tokens(state: CaptureState) -> Iterator[str]:
    """Every token ``state`` holds: the held value and its candidates, the partial value."""
    if state.held is not None:
        yield state.held.value
        yield from (candidate.value for candidate in state.held.candidates)
    if state.partial is not None:
        yield state.partial
