"""The event log: append with a strictly increasing sequence, replay after a sequence, follow live.

Subscribers do not own queues: each keeps a cursor into the shared, bounded log and waits for the
next append. A slow subscriber therefore never blocks producers or other subscribers, and one that
never reads holds nothing but its cursor; if it falls behind retention, its next read raises
``EventRangeEvictedError`` instead of skipping events. ``after_sequence`` 0 replays from the
oldest event kept; a cursor past the newest event (from another server's log) raises
``EventCursorAheadError`` rather than waiting in silence.

Events are kept as lean records (a tuple with a datetime and a copy of the payload) and become
``Event`` messages only when a subscriber reads them: most events are never streamed, and a log
of 100,000 betterproto2 messages (about seven garbage-collected objects each) made every full
garbage collection take about 150 ms and cost about 1.5 KB per event.

Fan-out stays off the producer's path. ``append`` only records the event and schedules one
wake-up callback (unless one is pending); the waiting followers are then woken a slice at a time,
one slice per loop turn, so a call in flight gets a turn between slices instead of waiting for
every follower. A recent event becomes an ``Event`` message once, shared by every follower that
reads it, and marked so the codec encodes it once (``share_encoding``). A replay reads a slice of
the log per loop turn, so one long replay cannot hold the loop either. (A bounded queue per
follower would cost each append one put per follower and hold a copy per follower; the shared
log needs neither, and a dropped follower already resumes from its sequence.)

The log is bounded by count (``retention``) and by an estimate of the memory its records hold
(``retention_bytes``): the newest event is always kept, older ones go when either bound is passed.

``erase`` deletes one conversation's events (``DeleteConversation``): each leaves an empty place
(None) in the list, so a sequence still finds its record by position and a replay across the
place sees no gap, only fewer events; the place counts towards ``retention`` until evicted. It
looks at every kept record (a few milliseconds for 100,000): erasure is an admin's rare call,
so the append path keeps no index for it.

Sequences of an in-memory log start at its creation time in microseconds, so a restarted server
never reuses a sequence a client has already seen (the events of the old process are gone). The
clock that gives that time and each event's ``time`` is a parameter, so tests can fix both.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from voicecore._codec import share_encoding
from voicecore._json import JsonValue, json_copy, struct_from_dict
from voicecore._proto.voicecore.v1 import Event
from voicecore.errors import EventCursorAheadError, EventRangeEvictedError

__all__ = [
    "DEFAULT_RETENTION_BYTES",
    "ERASURE_EVENT",
    "EventFilter",
    "EventLog",
    "InMemoryEventLog",
    "NewEvent",
]

#: Default bound on the estimated memory of the kept records (see ``InMemoryEventLog``): the
#: records then take at most about 72 MiB, since evicted ones leave in chunks of an eighth.
DEFAULT_RETENTION_BYTES: Final = 64 * 1024 * 1024

#: The type of the event an erasure (``DeleteConversation``) appends: it holds no values, and an
#: erasure deletes the conversation's other events but keeps these, the record that it happened.
ERASURE_EVENT: Final = "conversation.deleted"

#: Records a subscriber reads per loop turn. Each event read is also built, encoded and sent
#: by the subscriber's stream (about 0.1 ms with grpclib), so a slice holds the loop ~3 ms.
REPLAY_SLICE: Final = 32
#: Followers woken per loop turn: a call waiting for its next turn waits for at most this many.
WAKE_SLICE: Final = 32
# Recent events whose Event message is kept for the followers that read them next; a follower
# further behind builds its own (a replay, which nobody else is reading at the same place).
_SHARED_EVENTS: Final = 256
_SHARED_EVENT_BYTES: Final = 8 * 1024 * 1024

# Size estimate of a record: the tuple, the datetime and the sequence; each string as
# sys.getsizeof counts it (O(1), and up to four bytes a character, as stored); each payload
# number, pair or container. tracemalloc (CPython 3.11) measures 0.5 to 0.7 of the estimate for
# the executor's small events (their keys and constant values are shared), about all of it for
# large strings.
_RECORD_OVERHEAD: Final = 256
_SCALAR_SIZE: Final = 32
_CONTAINER_OVERHEAD: Final = 64

# One kept event: (sequence, type, conversation_id, trace_id, objective_type, time, payload,
# tenant, estimated size). The tenant is never sent: it only decides who may read the event.
# A plain tuple of immutable values, because the garbage collector stops tracking exactly those
# (not a NamedTuple, not a tuple holding a dict): a full log then adds almost nothing to a full
# collection. A flat payload (the usual case) is kept as a tuple of pairs for the same reason.
_Payload = dict[str, JsonValue] | tuple[tuple[str, JsonValue], ...]
_Record = tuple[int, str, str, str, str, datetime, _Payload, str, int]
# A place in the log: a record, or None where an erased one was.
_Place = _Record | None
_TENANT: Final = 7
_SIZE: Final = 8

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _freeze(payload: Mapping[str, JsonValue] | None) -> _Payload:
    # A NewEvent's payload is already a checked copy (json_copy, which raises for what
    # Struct.from_dict refuses, so a bad payload fails the call that emitted it).
    kept = dict(payload) if payload else {}
    if any(isinstance(value, (list, dict)) for value in kept.values()):
        return kept
    return tuple(kept.items())


def _estimate(value: JsonValue) -> int:
    """A cheap estimate of the memory ``value`` holds: its strings' sizes plus fixed overheads."""
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        items = value.items()
        return _CONTAINER_OVERHEAD + sum(_estimate(k) + _estimate(v) for k, v in items)
    if isinstance(value, list):
        return _CONTAINER_OVERHEAD + sum(_estimate(item) for item in value)
    return _SCALAR_SIZE


def _to_event(record: _Record) -> Event:
    sequence, type, conversation_id, trace_id, objective_type, time, payload, _, _ = record
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
class NewEvent:
    """An event a turn emitted, not yet in the log: the turn's commit gives it its sequence.

    ``payload`` is a checked copy (``voicecore._json.json_copy``) that nothing else changes."""

    type: str
    conversation_id: str = ""
    trace_id: str = ""
    objective_type: str = ""
    payload: Mapping[str, JsonValue] | None = None
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a reader wants: empty fields match everything.

    ``tenant`` is the reader's tenant, whose events alone it sees; None (an admin) sees every
    tenant's. Without auth every event and reader has tenant "", so all match.
    """

    conversation_id: str = ""
    types: frozenset[str] = frozenset()
    tenant: str | None = ""

    def accepts(self, conversation_id: str, type: str, tenant: str = "") -> bool:
        """True if an event of this conversation, type and tenant passes the filter."""
        if self.tenant is not None and tenant != self.tenant:
            return False
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
        tenant: str = "",
    ) -> int:
        """Record one event and wake the followers; returns its sequence.

        ``tenant`` is kept for ``EventFilter``, never sent. The ``Event`` message is built only
        when a subscriber reads it.
        """

    def subscribe(
        self, after_sequence: int, where: EventFilter, *, follow: bool = True
    ) -> AsyncIterator[Event]:
        """Events after ``after_sequence`` that match ``where``; then, with ``follow``, new ones.

        The messages may be shared with other subscribers: read them, do not change them.
        """


class InMemoryEventLog:
    """A bounded in-process log: the newest events are kept for replay.

    At most ``retention`` events, and old events go once the estimated memory of the kept ones
    passes ``retention_bytes`` (the newest event is always kept). ``clock`` (aware UTC datetimes)
    stamps each event and, unless ``first_sequence`` is given, numbers the first event with its
    time in microseconds since the epoch.
    """

    def __init__(
        self,
        retention: int = 100_000,
        *,
        retention_bytes: int = DEFAULT_RETENTION_BYTES,
        first_sequence: int | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if retention < 1:
            raise ValueError('"retention" should be positive')
        if retention_bytes < 1:
            raise ValueError('"retention_bytes" should be positive')
        self._retention = retention
        self._retention_bytes = retention_bytes
        self._clock = clock
        first = first_sequence if first_sequence is not None else (clock() - _EPOCH) // _MICROSECOND
        self._first_ever = first
        # Evicted records leave the list in chunks, so that appending stays amortised O(1):
        # self._events[:self._live_from] are evicted already.
        self._events: list[_Place] = []
        self._first_listed = first  # sequence of self._events[0]
        self._live_from = 0
        self._kept_bytes = 0
        self._evicted_bytes = 0  # of the evicted records still listed
        self._shared: dict[int, tuple[Event, int]] = {}  # sequence -> (message, record size)
        self._shared_bytes = 0
        self._fanout = _Fanout()

    @property
    def last_sequence(self) -> int:
        return self._first_listed + len(self._events) - 1

    @property
    def first_sequence(self) -> int:
        """The oldest sequence still kept (or the next one, when the log is empty)."""
        return self._first_listed + self._live_from

    @property
    def followers(self) -> int:
        """Subscribers done with their replay and waiting for the next append (live ones)."""
        return self._fanout.waiting

    @property
    def retained_bytes(self) -> int:
        """The estimated memory of the kept records, which ``retention_bytes`` bounds."""
        return self._kept_bytes

    async def append(
        self,
        type: str,
        *,
        conversation_id: str = "",
        trace_id: str = "",
        objective_type: str = "",
        payload: Mapping[str, JsonValue] | None = None,
        tenant: str = "",
    ) -> int:
        kept = json_copy(dict(payload)) if payload else None
        return self.append_now(
            NewEvent(type, conversation_id, trace_id, objective_type, kept, tenant)
        )

    def append_now(self, event: NewEvent) -> int:
        """``append`` without a pause: a turn's commit appends its events in one step.

        ``event.payload`` must be the caller's own checked copy (``json_copy``), as the
        executor stages it: it is kept, not copied again."""
        type, conversation_id = event.type, event.conversation_id
        trace_id, objective_type, tenant = event.trace_id, event.objective_type, event.tenant
        sequence = self.last_sequence + 1
        kept = _freeze(event.payload)
        size = _RECORD_OVERHEAD + sum(
            map(sys.getsizeof, (type, conversation_id, trace_id, objective_type))
        )  # not the tenant: one string per token entry, shared by all its records
        size += sum(_CONTAINER_OVERHEAD + _estimate(k) + _estimate(v) for k, v in _items(kept))
        now = self._clock()
        record = (
            sequence,
            type,
            conversation_id,
            trace_id,
            objective_type,
            now,
            kept,
            tenant,
            size,
        )
        self._events.append(record)
        self._kept_bytes += size
        self._evict()
        self._fanout.announce()
        return sequence

    def _evict(self) -> None:
        events = self._events
        while len(events) - self._live_from > self._retention or (
            self._kept_bytes > self._retention_bytes and len(events) - self._live_from > 1
        ):
            place = events[self._live_from]
            size = 0 if place is None else place[_SIZE]
            self._kept_bytes -= size
            self._evicted_bytes += size
            self._live_from += 1
        # Drop the evicted records from the list once they are an eighth of either bound.
        if self._live_from >= max(1, self._retention // 8) or (
            self._evicted_bytes >= self._retention_bytes // 8
        ):
            del events[: self._live_from]
            self._first_listed += self._live_from
            self._live_from = 0
            self._evicted_bytes = 0

    async def subscribe(
        self, after_sequence: int, where: EventFilter, *, follow: bool = True
    ) -> AsyncIterator[Event]:
        if after_sequence > self.last_sequence:
            raise EventCursorAheadError(after_sequence, self.last_sequence)
        # 0 means "from the oldest event kept": a first subscriber cannot know a sequence.
        cursor = after_sequence or self.first_sequence - 1
        read_this_turn = 0
        while True:
            batch, through = self._read_after(cursor, REPLAY_SLICE - read_this_turn)
            if batch:
                cursor = through
                read_this_turn += len(batch)
                for record in batch:
                    if record is not None and where.accepts(record[2], record[1], record[_TENANT]):
                        yield self._message(record)
                if read_this_turn >= REPLAY_SLICE:
                    await asyncio.sleep(0)  # let the loop run between slices of a long replay
                    read_this_turn = 0
            elif not follow:
                return
            else:
                await self._fanout.next_append()
                read_this_turn = 0

    def _read_after(self, cursor: int, limit: int) -> tuple[list[_Place], int]:
        """Up to ``limit`` places after ``cursor``, and the sequence of the last one."""
        oldest_kept = self.first_sequence
        evicted_any = oldest_kept > self._first_ever
        if evicted_any and cursor + 1 < oldest_kept:
            raise EventRangeEvictedError(cursor, oldest_kept)
        start = max(0, cursor + 1 - self._first_listed, self._live_from)
        places = self._events[start : start + limit]
        return places, self._first_listed + start + len(places) - 1

    def erase(self, tenant: str, conversation_id: str) -> int:
        """Delete the kept events of ``tenant``'s ``conversation_id``, but for earlier erasure
        events; returns how many were deleted. Readers past them do not see them again."""
        erased = 0
        events = self._events
        for index in range(self._live_from, len(events)):
            record = events[index]
            if (
                record is not None
                and record[2] == conversation_id
                and record[_TENANT] == tenant
                and record[1] != ERASURE_EVENT
            ):
                events[index] = None
                self._kept_bytes -= record[_SIZE]
                if (shared := self._shared.pop(record[0], None)) is not None:
                    self._shared_bytes -= shared[1]
                erased += 1
        return erased

    def _message(self, record: _Record) -> Event:
        """The Event of ``record``: built once for a recent event, shared by its readers."""
        sequence = record[0]
        shared = self._shared.get(sequence)
        if shared is not None:
            return shared[0]
        event = _to_event(record)
        if sequence > self.last_sequence - _SHARED_EVENTS:
            self._share(sequence, share_encoding(event), record[_SIZE])
        return event

    def _share(self, sequence: int, event: Event, size: int) -> None:
        self._shared[sequence] = (event, size)
        self._shared_bytes += size
        # Oldest first; the newest stays even alone over the byte bound, or every follower
        # would build and encode a large event for itself.
        while len(self._shared) > 1 and (
            len(self._shared) > _SHARED_EVENTS or self._shared_bytes > _SHARED_EVENT_BYTES
        ):
            oldest = next(iter(self._shared))
            self._shared_bytes -= self._shared.pop(oldest)[1]


def _items(payload: _Payload) -> Iterable[tuple[str, JsonValue]]:
    return payload.items() if isinstance(payload, dict) else payload


class _Fanout:
    """Wakes the followers waiting for the next append, a slice per loop turn.

    ``announce`` (the append path) does O(1) work whatever the number of followers: it schedules
    one callback, at most once per round. Each round wakes the followers that waited when it
    began; an append during a round starts another round once it ends, for the followers that
    began waiting meanwhile.
    """

    def __init__(self) -> None:
        self._waiting: dict[asyncio.Future[None], None] = {}  # ordered; O(1) removal on cancel
        self._to_wake: deque[asyncio.Future[None]] = deque()
        self._announced = False  # an append not yet covered by a round
        self._scheduled = False

    @property
    def waiting(self) -> int:
        """Followers waiting for the next append, not yet woken."""
        return len(self._waiting)

    async def next_append(self) -> None:
        """Wait until an append after this call has been announced."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[waiter] = None
        try:
            await waiter
        finally:
            self._waiting.pop(waiter, None)

    def announce(self) -> None:
        """An event was appended: wake the waiting followers soon, not now."""
        self._announced = True
        if not self._scheduled and self._waiting:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._wake_slice)

    def _wake_slice(self) -> None:
        if not self._to_wake:  # a new round: everyone waiting now
            self._to_wake = deque(self._waiting)
            self._waiting = {}
            self._announced = False
        for _ in range(min(WAKE_SLICE, len(self._to_wake))):
            waiter = self._to_wake.popleft()
            if not waiter.done():  # a cancelled follower
                waiter.set_result(None)
        if self._to_wake or (self._announced and self._waiting):
            asyncio.get_running_loop().call_soon(self._wake_slice)
        else:
            self._scheduled = False
