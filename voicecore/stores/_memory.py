"""The in-memory store: the three in-process backends behind one atomic commit.

A commit runs with no pause (no ``await`` inside), so on one event loop it is atomic: two turns
of one capture, from two tasks or two services sharing the store, cannot interleave their
writes, and the version compare sees every commit before it.
"""

from __future__ import annotations

from collections.abc import Hashable

from voicecore.capture import InMemoryCaptureStore
from voicecore.capture._store import Versioned
from voicecore.events import InMemoryEventLog
from voicecore.idempotency import InMemoryIdempotencyStore, Record
from voicecore.stores._seam import Committed, Conflict, Outcome, Replay, TurnWrites

__all__ = ["MemoryStore"]


class MemoryStore:
    """Capture states, idempotency records and events in this process."""

    def __init__(
        self,
        events: InMemoryEventLog,
        captures: InMemoryCaptureStore,
        idempotency: InMemoryIdempotencyStore,
    ) -> None:
        self._events = events
        self.captures = captures
        self.idempotency = idempotency

    @property
    def events(self) -> InMemoryEventLog:
        return self._events

    async def load(self, key: Hashable) -> Versioned:
        return await self.captures.load(key)

    async def commit(self, turn: TurnWrites) -> Outcome:
        claim = turn.claim
        if claim is not None and (record := self.idempotency.get(claim.key)) is not None:
            return Replay(record)
        if any(map(self.captures.conflicts, turn.captures)):
            return Conflict()
        sequences = tuple(map(self._events.append_now, turn.events))
        for write in turn.captures:
            self.captures.write(write)
        if claim is not None and claim.response is not None:
            record = Record(claim.fingerprint, claim.response, sequences[-1])
            self.idempotency.keep(claim.key, record)
        return Committed(sequences)

    async def reachable(self) -> bool:
        return True  # it is this process

    async def aclose(self) -> None:
        """Nothing to let go of."""
