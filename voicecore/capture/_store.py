"""Where capture state lives between turns: the ``CaptureStore`` seam and its in-memory backend.

A shared backend (e.g. Redis) is one more module implementing ``CaptureStore``, that is
``StateStore[CaptureState]`` of ``voicecore.primitive``; the service receives it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final, TypeAlias

from cachetools import TTLCache

from voicecore.capture._state import CaptureState
from voicecore.primitive import StateStore

__all__ = ["CaptureKey", "CaptureStore", "InMemoryCaptureStore", "state_size"]

#: What a kept state costs beyond its strings (objects, dict slots): a generous estimate.
_STATE_OVERHEAD: Final = 2048

CaptureStore: TypeAlias = StateStore[CaptureState]
"""Where capture state lives between turns, keyed by ``CaptureKey``."""


@dataclass(frozen=True, slots=True)
class CaptureKey:
    """Capture state is kept per tenant, conversation and primitive: the same conversation id
    in two tenants names two conversations."""

    conversation_id: str
    objective_type: str
    tenant: str = ""


class InMemoryCaptureStore:
    """Capture states in memory: at most ``max_entries`` and about ``max_bytes`` (least
    recently used go first), each forgotten ``ttl`` seconds after its last turn.

    Each state weighs ``state_size`` but at least ``max_bytes / max_entries``, so one weighed
    bound keeps both. ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        max_bytes: int = 64 * 1024 * 1024,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError('"max_entries" should be positive')
        if not ttl > 0:
            raise ValueError('"ttl" should be positive')
        floor = max(1, max_bytes // max_entries)
        self._states: TTLCache[Hashable, CaptureState, float] = TTLCache(
            maxsize=max(max_bytes, floor),
            ttl=ttl,
            timer=clock,
            getsizeof=lambda state: max(floor, state_size(state)),
        )

    async def get(self, key: Hashable) -> CaptureState | None:
        """The state kept for ``key``, or None."""
        return self._states.get(key)

    async def put(self, key: Hashable, state: CaptureState) -> None:
        """Keep ``state``; its time to live starts again."""
        self._states[key] = state

    async def delete(self, key: Hashable) -> None:
        """Forget ``key``."""
        self._states.pop(key, None)

    def __len__(self) -> int:
        return len(self._states)

    @property
    def held_bytes(self) -> int:
        """The estimated weight of the states kept."""
        return int(self._states.currsize)


def state_size(state: CaptureState) -> int:
    """A cheap over-estimate of the memory ``state`` holds: its strings (up to four bytes a
    character) plus a fixed overhead for the objects around them."""
    chars = len(state.partial or "") + len(state.partial_readback)
    held = state.held
    if held is not None:
        chars += len(held.value) + len(held.readback) + len(repr(held.parts))
        chars += sum(len(candidate.value) for candidate in held.candidates)
    return _STATE_OVERHEAD + 4 * chars
