"""The event log: append with a strictly increasing sequence, replay after a sequence, follow live.

Subscribers do not own queues: each keeps a cursor into the shared, bounded log and waits for the
next append. A slow subscriber therefore never blocks producers or other subscribers; if it falls
behind retention, its next read raises ``EventRangeEvictedError`` instead of skipping events.
``after_sequence`` 0 replays from the oldest event kept; a cursor past the newest event (from
another server's log) raises ``EventCursorAheadError`` rather than waiting in silence.

Events are kept as lean records (a tuple with a datetime and a copy of the payload) and become
``Event`` messages only when a subscriber reads them: most events are never streamed, and a log
of 100,000 betterproto2 messages (about seven garbage-collected objects each) made every full
garbage collection take about 150 ms and cost about 1.5 KB per event.

Sequences of an in-memory log start at its creation time in microseconds, so a restarted server
never reuses a sequence a client has already seen (the events of the old process are gone).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from voicecore._codec import json_copy, struct_from_dict
from voicecore._proto.voicecore.v1 import Event
from voicecore.errors import EventCursorAheadError, EventRangeEvictedError
from voicecore.primitives.base import JsonValue

__all__ = ["EventFilter", "EventLog", "InMemoryEventLog"]


# One kept event: (sequence, type, conversation_id, trace_id, objective_type, time, payload).
# A plain tuple of immutable values, because the garbage collector stops tracking exactly those
# (not a NamedTuple, not a tuple holding a dict): a full log then adds almost nothing to a full
# collection. A flat payload (the usual case) is kept as a tuple of pairs for the same reason.
_Payload = dict[str, JsonValue] | tuple[tuple[str, JsonValue], ...]
_Record = tuple[int, str, str, str, str, datetime, _Payload]


def _freeze(payload: Mapping[str, JsonValue] | None) -> _Payload:
    # json_copy raises for what Struct.from_dict refuses, so a bad payload still fails the
    # append (and so the call that emitted it), not a later subscriber.
    kept = json_copy(dict(payload)) if payload else {}
    if any(isinstance(value, (list, dict)) for value in kept.values()):
        return kept
    return tuple(kept.items())


def _to_event(record: _Record) -> Event:
    sequence, type, conversation_id, trace_id, objective_type, time, payload = record
    return Event(
        sequence=sequence,
        type=type,
        conversation_id=conversation_id,
        trace_id=trace_id,
        objective_type=objective_type,
        time=time,
        payload=struct_from_dict(payload if isinstance(payload, dict) else dict(payload)),
    )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader wants: empty fields match everything."""

    conversation_id: str = ""
    types: frozenset[str] = frozenset()

    def accepts(self, conversation_id: str, type: str) -> bool:
        """True if an event of this conversation and type passes the filter."""
        if self.conversation_id and conversation_id != self.conversation_id:
            return False
        return not self.types or type in self.types


class EventLog(Protocol):
    """What the service needs from an event log; durable backends implement the same."""

    @property
    def last_sequence(self) -> int:
        """The sequence of the newest event, or one less than the first one to come."""

    async def append(
        self,
        type: str,
        *,
        conversation_id: str = "",
        trace_id: str = "",
        objective_type: str = "",
        payload: Mapping[str, JsonValue] | None = None,
    ) -> int:
        """Record one event and wake the followers; returns its sequence.

        The ``Event`` message is built only when a subscriber reads it.
        """

    def subscribe(
        self, after_sequence: int, where: EventFilter, *, follow: bool = True
    ) -> AsyncIterator[Event]:
        """Events after ``after_sequence`` that match ``where``; then, with ``follow``, new ones."""


class InMemoryEventLog:
    """A bounded in-process log: the newest ``retention`` events are kept for replay."""

    def __init__(self, retention: int = 100_000, *, first_sequence: int | None = None) -> None:
        if retention < 1:
            raise ValueError('"retention" should be positive')
        self._retention = retention
        first = first_sequence if first_sequence is not None else time.time_ns() // 1000
        self._first_ever = first
        self._events: list[_Record] = []
        self._first_kept = first  # sequence of self._events[0]
        self._appended = asyncio.Event()

    @property
    def last_sequence(self) -> int:
        return self._first_kept + len(self._events) - 1

    @property
    def first_sequence(self) -> int:
        """The oldest sequence still kept (or the next one, when the log is empty)."""
        return self._first_kept

    async def append(
        self,
        type: str,
        *,
        conversation_id: str = "",
        trace_id: str = "",
        objective_type: str = "",
        payload: Mapping[str, JsonValue] | None = None,
    ) -> int:
        sequence = self.last_sequence + 1
        kept = _freeze(payload)
        now = datetime.now(UTC)
        self._events.append((sequence, type, conversation_id, trace_id, objective_type, now, kept))
        self._evict()
        self._appended.set()
        self._appended = asyncio.Event()
        return sequence

    def _evict(self) -> None:
        # Trim in chunks so that appending stays amortised O(1) at the retention limit.
        excess = len(self._events) - self._retention
        if excess >= max(1, self._retention // 8):
            del self._events[:excess]
            self._first_kept += excess

    async def subscribe(
        self, after_sequence: int, where: EventFilter, *, follow: bool = True
    ) -> AsyncIterator[Event]:
        if after_sequence > self.last_sequence:
            raise EventCursorAheadError(after_sequence, self.last_sequence)
        # 0 means "from the oldest event kept": a first subscriber cannot know a sequence.
        cursor = after_sequence or self._oldest_kept() - 1
        while True:
            batch = self._read_after(cursor)
            for record in batch:
                if where.accepts(record[2], record[1]):
                    yield _to_event(record)
            if batch:
                cursor = batch[-1][0]
                continue
            if not follow:
                return
            await self._appended.wait()

    def _oldest_kept(self) -> int:
        # Trimming is done in chunks: events past retention may still sit in the list.
        return self._first_kept + max(0, len(self._events) - self._retention)

    def _read_after(self, cursor: int) -> list[_Record]:
        oldest_kept = self._oldest_kept()
        evicted_any = oldest_kept > self._first_ever
        if evicted_any and cursor + 1 < oldest_kept:
            raise EventRangeEvictedError(cursor, oldest_kept)
        start = max(0, cursor + 1 - self._first_kept, oldest_kept - self._first_kept)
        return self._events[start : start + 256]
