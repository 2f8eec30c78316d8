"""The in-memory store: the three in-process backends behind one atomic commit.

A commit runs with no pause (no ``await`` inside), so on one event loop it is atomic: two turns
of one capture, from two tasks or two services sharing the store, cannot interleave their
writes, and the version compare sees every commit before it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

from voicecore.capture import InMemoryCaptureStore
from voicecore.capture._store import Versioned
from voicecore.events import InMemoryEventLog, NewEvent
from voicecore.idempotency import InMemoryIdempotencyStore, Record
from voicecore.stores._seam import Committed, Conflict, Erasure, Outcome, Replay, TurnWrites

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

    async def erase(self, event: NewEvent) -> Erasure | None:
        tenant, conversation_id = event.tenant, event.conversation_id
        captures = self.captures.forget_conversation(tenant, conversation_id)
        records = self.idempotency.forget_conversation(tenant, conversation_id)
        events = self._events.erase(tenant, conversation_id)
        if not captures + records + events:
            return None
        erasure = Erasure(0, events, captures, records)
        sequence = self._events.append_now(replace(event, payload=erasure.payload()))
        return replace(erasure, sequence=sequence)

    async def reachable(self) -> bool:
        return True  # it is this process

    async def aclose(self) -> None:
        """Nothing to let go of."""
