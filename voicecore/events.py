"""The event log: append with a strictly increasing sequence, replay after a sequence, follow live.

Subscribers do not own queues: each keeps a cursor into the shared, bounded log and waits for the
next append. A slow subscriber therefore never blocks producers or other subscribers; if it falls
behind retention, its next read raises ``EventRangeEvictedError`` instead of skipping events.

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

from voicecore._codec import struct_from_dict
from voicecore._proto.voicecore.v1 import Event
from voicecore.errors import EventRangeEvictedError
from voicecore.primitives.base import JsonValue

__all__ = ["EventFilter", "EventLog", "InMemoryEventLog"]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader wants: empty fields match everything."""

    conversation_id: str = ""
    types: frozenset[str] = frozenset()

    def matches(self, event: Event) -> bool:
        """True if ``event`` passes both the conversation and the type filter."""
        if self.conversation_id and event.conversation_id != self.conversation_id:
            return False
        return not self.types or event.type in self.types


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
    ) -> Event:
        """Record one event and wake the followers; returns it with its sequence."""

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
        self._events: list[Event] = []
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
    ) -> Event:
        event = Event(
            sequence=self.last_sequence + 1,
            type=type,
            conversation_id=conversation_id,
            trace_id=trace_id,
            objective_type=objective_type,
            time=datetime.now(UTC),
            payload=struct_from_dict(dict(payload or {})),
        )
        self._events.append(event)
        self._evict()
        self._appended.set()
        self._appended = asyncio.Event()
        return event

    def _evict(self) -> None:
        # Trim in chunks so that appending stays amortised O(1) at the retention limit.
        excess = len(self._events) - self._retention
        if excess >= max(1, self._retention // 8):
            del self._events[:excess]
            self._first_kept += excess

    async def subscribe(
        self, after_sequence: int, where: EventFilter, *, follow: bool = True
    ) -> AsyncIterator[Event]:
        cursor = after_sequence
        while True:
            batch = self._read_after(cursor)
            for event in batch:
                if where.matches(event):
                    yield event
            if batch:
                cursor = batch[-1].sequence
                continue
            if not follow:
                return
            await self._appended.wait()

    def _read_after(self, cursor: int) -> list[Event]:
        oldest_kept = self._first_kept + max(0, len(self._events) - self._retention)
        evicted_any = oldest_kept > self._first_ever
        if evicted_any and cursor + 1 < oldest_kept:
            raise EventRangeEvictedError(cursor, oldest_kept)
        start = max(0, cursor + 1 - self._first_kept, oldest_kept - self._first_kept)
        return self._events[start : start + 256]
