"""Where capture state lives between turns: the ``CaptureStore`` seam and its in-memory backend.

Every kept state has a version, which changes on every write and is never reused for a key (0:
nothing kept). A turn reads a state with ``load`` and stages what it writes as a
``CaptureWrite`` that names the version it read; the turn's commit (``voicecore.stores``) applies
the write only if that version is still the kept one, so two concurrent turns of one capture
never overwrite each other. ``InMemoryCaptureStore`` also keeps the plain ``StateStore`` calls
(``get``, ``put``, ``delete``) for a primitive run outside the executor, as tests do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias

from voicecore.capture._expiry import LostListener, ReportingTTLCache
from voicecore.capture._state import CaptureState
from voicecore.primitive import StateStore

__all__ = [
    "CaptureKey",
    "CaptureStore",
    "CaptureWrite",
    "InMemoryCaptureStore",
    "Versioned",
    "VersionedCaptures",
    "state_size",
]

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


@dataclass(frozen=True, slots=True)
class Versioned:
    """A kept state and its version; ``state`` None and version 0 when nothing is kept."""

    state: CaptureState | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class CaptureWrite:
    """What a turn writes for one key: ``state``, or None to forget the key.

    ``expected`` is the version the turn read (0: nothing was kept); the write applies only if
    it is still the kept one. None writes blindly (a turn that did not read the key).
    """

    key: Hashable
    state: CaptureState | None
    expected: int | None


class VersionedCaptures(Protocol):
    """The read side of the capture seam: a state with the version to compare on commit."""

    async def load(self, key: Hashable) -> Versioned:
        """The state kept for ``key`` and its version."""
        ...


class InMemoryCaptureStore:
    """Capture states in memory: at most ``max_entries`` and about ``max_bytes`` (least
    recently used go first), each forgotten ``ttl`` seconds after its last turn; the listeners
    of ``on_lost`` are told of each state dropped so (``voicecore.capture._expiry``).

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
        #: Told of each state the store drops by itself: expired, or evicted for room.
        self.on_lost: list[LostListener] = []
        self._states: ReportingTTLCache[Hashable, Versioned] = ReportingTTLCache(
            maxsize=max(max_bytes, floor),
            ttl=ttl,
            timer=clock,
            getsizeof=lambda kept: max(floor, state_size(kept.state or _EMPTY)),
            on_lost=self.on_lost,
        )
        # One counter for every key: a key forgotten and kept again never reuses a version.
        self._last_version = 0

    async def load(self, key: Hashable) -> Versioned:
        """The state kept for ``key`` and its version (``Versioned()`` if none)."""
        return self._states.get(key) or _NOTHING

    async def get(self, key: Hashable) -> CaptureState | None:
        """The state kept for ``key``, or None."""
        return (await self.load(key)).state

    async def put(self, key: Hashable, state: CaptureState) -> None:
        """Keep ``state``; its time to live starts again."""
        self.write(CaptureWrite(key, state, expected=None))

    async def delete(self, key: Hashable) -> None:
        """Forget ``key``."""
        self.write(CaptureWrite(key, None, expected=None))

    def conflicts(self, write: CaptureWrite) -> bool:
        """True if ``write`` read a version that is no longer the kept one."""
        if write.expected is None:
            return False
        return write.expected != (self._states.get(write.key) or _NOTHING).version

    def write(self, write: CaptureWrite) -> None:
        """Apply ``write`` at once (the caller checked ``conflicts``)."""
        if write.state is None:
            self._states.pop(write.key, None)
            return
        self._last_version += 1
        self._states[write.key] = Versioned(write.state, self._last_version)

    def forget_conversation(self, tenant: str, conversation_id: str) -> int:
        """Forget every state of ``tenant``'s ``conversation_id`` (an erasure); returns how many
        were kept. It looks at every key: erasure is rare, a turn's path stays as it is."""
        keys = [
            key
            for key in self._states
            if isinstance(key, CaptureKey)
            and key.conversation_id == conversation_id
            and key.tenant == tenant
        ]
        for key in keys:
            del self._states[key]
        return len(keys)

    def __len__(self) -> int:
        return len(self._states)

    @property
    def held_bytes(self) -> int:
        """The estimated weight of the states kept."""
        return int(self._states.currsize)


_NOTHING: Final = Versioned()
_EMPTY: Final = CaptureState()


def state_size(state: CaptureState) -> int:
    """A cheap over-estimate of the memory ``state`` holds: its strings (up to four bytes a
    character) plus a fixed overhead for the objects around them."""
    chars = len(state.partial or "") + len(state.partial_readback)
    held = state.held
    if held is not None:
        chars += len(held.value) + len(held.readback) + len(repr(held.parts))
        chars += sum(len(candidate.value) for candidate in held.candidates)
    return _STATE_OVERHEAD + 4 * chars
