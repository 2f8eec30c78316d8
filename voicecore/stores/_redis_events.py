"""The event log on a Redis Stream: replay with ``XRANGE``, follow with one ``XREAD`` per process.

Entry ids are ``<sequence>-0``, so ``after_sequence`` is an exclusive ``XRANGE`` start. Replay
refuses what it cannot give in full, as the in-memory log does: a cursor past the newest
sequence ever issued is ``EventCursorAheadError``; a cursor before the last sequence retention
trimmed (the commit keeps it) is ``EventRangeEvictedError`` (never a silent gap). An erasure
(``DeleteConversation``) deletes entries anywhere in the stream: those holes are not a gap, the
erased events are simply not there. A subscriber from 0 starts before the oldest entry, read
in one ``MULTI`` with the counters (read apart, an entry committed between them was skipped).

Followers do not hold a Redis connection each: the first one starts the process's ``_Tail``, one
task on its own connection doing ``XREAD BLOCK`` from where it last read, which keeps the newest
entries (each built into an ``Event`` once, shared by every follower) and wakes the followers.
A follower behind the tail's window reads the gap with ``XRANGE`` first, building only the
events its filter accepts. While Redis does not answer, the tail waits and tries again;
followers simply wait.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoPermissionError, OutOfMemoryError, ReadOnlyError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from voicecore._codec import share_encoding
from voicecore._json import JsonValue
from voicecore._proto.voicecore.v1 import Event
from voicecore.errors import EventCursorAheadError, EventRangeEvictedError
from voicecore.events import ERASURE_EVENT, REPLAY_SLICE, EventFilter, NewEvent
from voicecore.stores._redis_codec import Keys, StreamRecord, decode_event
from voicecore.stores._seam import Committed, Outcome, StoreUnavailableError, TurnWrites

__all__ = ["BLOCK_SECONDS", "UNREACHABLE", "RedisEventLog", "bounded", "raise_if_cancelling"]

T = TypeVar("T")

#: What redis-py raises when Redis does not answer: a connection refused, reset or timed out.
UNREACHABLE: Final = (RedisConnectionError, RedisTimeoutError, OSError)


#: What Redis answers when it will not write now (out of memory, a read-only replica, an ACL
#: that forbids it); ``BUSY`` (a script running too long) is a plain ``ResponseError``.
REFUSING: Final = (OutOfMemoryError, ReadOnlyError, NoPermissionError)


async def bounded(command: Awaitable[T], timeout: float) -> T:
    """Await one Redis command within ``timeout``; no answer, or a refusal that says the store
    cannot serve now, is ``StoreUnavailableError`` (retryable)."""
    try:
        async with asyncio.timeout(timeout):
            return await command
    except (*UNREACHABLE, TimeoutError) as exc:
        raise StoreUnavailableError(f"the store did not answer: {type(exc).__name__}") from None
    except ResponseError as exc:
        if not isinstance(exc, REFUSING) and not str(exc).startswith("BUSY"):
            raise
        raise StoreUnavailableError(f"the store refused: {type(exc).__name__}") from None


def raise_if_cancelling() -> None:
    """Raise again a cancel redis-py swallowed; every loop of Redis commands calls it each turn.

    A cancel that lands as a command's socket timeout fires, or while redis-py tidies a
    connection up, can end as a ``TimeoutError``, a ``ConnectionError`` or even a reply, with the
    task still cancelling: a loop that went on would run for ever and its ``aclose``, which
    waits for it, never return (the tail's reader and the expiry sweep both did).
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


#: Entries the tail keeps for followers that are a little behind.
_WINDOW: Final = 4096
#: Seconds the tail waits before it asks again after Redis did not answer.
_RETRY_SECONDS: Final = 0.5


#: Seconds one XREAD blocks for by default: the tail then asks again.
BLOCK_SECONDS: Final = 5.0


class RedisEventLog:
    """The ``EventLog`` of a ``RedisStore``: appends go through the store's commit."""

    def __init__(
        self,
        client: Redis,
        follower: Redis,
        keys: Keys,
        commit: Callable[[TurnWrites], Awaitable[Outcome]],
        *,
        timeout: float,
        block_seconds: float = BLOCK_SECONDS,
    ) -> None:
        self._client = client
        self._keys = keys
        self._commit = commit
        self._timeout = timeout
        self._last_sequence = 0
        self._tail = _Tail(follower, keys.stream, block_seconds)

    @property
    def last_sequence(self) -> int:
        """The newest sequence this process wrote or read (Redis knows the true one)."""
        return max(self._last_sequence, self._tail.last)

    def committed(self, sequence: int) -> None:
        self._last_sequence = max(self._last_sequence, sequence)

    @property
    def followers(self) -> int:
        """Subscribers waiting for the next entry (live ones)."""
        return self._tail.waiting

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
        event = NewEvent(type, conversation_id, trace_id, objective_type, payload, tenant)
        outcome = await self._commit(TurnWrites((event,)))
        assert isinstance(outcome, Committed)  # no capture, no claim: nothing to lose to
        return outcome.sequences[0]

    async def subscribe(
        self, after_sequence: int, where: EventFilter, *, follow: bool = True
    ) -> AsyncIterator[Event]:
        cursor = await self._start(after_sequence)
        while True:
            raise_if_cancelling()
            read = self._tail.after(cursor)
            if read is None:  # behind the tail's window, or no tail: read from Redis
                read = await self._range_after(cursor, where)
            batch, through = read
            if through > cursor:
                cursor = through
                for record in batch:
                    if where.accepts(record.conversation_id, record.type, record.tenant):
                        yield record.event
                await asyncio.sleep(0)  # let the loop run between slices of a long replay
            elif not follow:
                return
            else:
                await self._tail.next_after(cursor)

    async def aclose(self) -> None:
        await self._tail.aclose()

    async def _call(self, command: Awaitable[T]) -> T:
        return await bounded(command, self._timeout)

    async def _start(self, after_sequence: int) -> int:
        """The cursor to read after, once ``after_sequence`` is known to be replayable.

        The counters and the oldest entry are read in one ``MULTI``: read apart, a commit
        landing between them (another replica's) was counted as issued but not yet seen in
        the stream, so a subscriber from 0 on a log with no entry yet started after it and
        never saw it (the follower of the chaos test, issue 11, missed a first turn so)."""
        async with self._client.pipeline(transaction=True) as snapshot:
            snapshot.mget(self._keys.sequence, self._keys.trimmed)
            snapshot.xrange(self._keys.stream, "-", "+", count=1)
            counters, oldest_entries = await self._call(snapshot.execute())
        issued, trimmed = (int(n or 0) for n in counters)
        if after_sequence > issued:
            raise EventCursorAheadError(after_sequence, issued)
        if after_sequence:
            if after_sequence < trimmed:
                raise EventRangeEvictedError(after_sequence, trimmed + 1)
            return after_sequence
        oldest = _sequence(oldest_entries[0][0]) if oldest_entries else issued + 1
        return oldest - 1

    async def _refuse_a_gap(self, cursor: int) -> None:
        """Raise ``EventRangeEvictedError`` if retention trimmed events after ``cursor`` while
        this subscriber read. Other holes are erasures, or sequences that never had an entry (a
        Redis that lost its data numbers from a later start)."""
        trimmed = int(await self._call(self._client.get(self._keys.trimmed)) or 0)
        if cursor < trimmed:
            raise EventRangeEvictedError(cursor, trimmed + 1)

    async def _range_after(self, cursor: int, where: EventFilter) -> _Read:
        """Entries after ``cursor`` from the stream: those ``where`` accepts, and the sequence
        read through."""
        entries: Any = await self._call(
            self._client.xrange(self._keys.stream, f"({cursor}-0", "+", count=REPLAY_SLICE)
        )
        if not entries:
            return [], cursor
        if _sequence(entries[0][0]) != cursor + 1:
            await self._refuse_a_gap(cursor)
        records = [_decode(entry_id, fields, where) for entry_id, fields in entries]
        return [r for r in records if r is not None], _sequence(entries[-1][0])


#: Records read after a cursor, and the sequence read through (past any entry skipped).
_Read = tuple[list[StreamRecord], int]


def _decode(
    entry_id: bytes, fields: dict[bytes, bytes], where: EventFilter | None = None
) -> StreamRecord | None:
    """The record of one entry, or None if ``where`` rejects it or (logged, without its
    content) if it does not decode: one bad entry must not stop every reader of the stream."""
    try:
        return decode_event(entry_id, fields[b"e"], where)
    except Exception as exc:
        logger.error(
            "skipped an event entry that does not decode",
            entry=entry_id.decode(),
            error=type(exc).__name__,
        )
        return None


def _sequence_of(record: StreamRecord) -> int:
    return record.sequence


def _sequence(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


class _Tail:
    """One blocking reader of the stream per process, fanned out to its followers."""

    def __init__(self, client: Redis, stream: str, block_seconds: float) -> None:
        self._client = client
        self._stream = stream
        self._block_ms = int(block_seconds * 1000)
        # Oldest first, sequences increasing; trimmed to _WINDOW once twice that long.
        self._records: list[StreamRecord] = []
        self._from = -1  # the sequence after which the window is complete; -1: not started
        self.last = 0
        self._task: asyncio.Task[None] | None = None
        self._appended = asyncio.Event()
        self.waiting = 0

    def after(self, cursor: int) -> _Read | None:
        """Records after ``cursor`` from the window (up to a slice), or None if it cannot say."""
        if self._from < 0 or cursor < self._from:
            return None
        index = bisect_right(self._records, cursor, key=_sequence_of)
        records = self._records[index : index + REPLAY_SLICE]
        if index + REPLAY_SLICE < len(self._records):
            return records, records[-1].sequence
        return records, max(cursor, self.last)

    async def next_after(self, cursor: int) -> None:
        """Wait until the tail has read past ``cursor``."""
        if self._task is None or self._task.done():  # not started, or (never expected) ended
            if self._task is None:
                self._from = self.last = cursor
            self._task = asyncio.create_task(self._read(f"{self.last}-0"), name="voicecore-tail")
        self.waiting += 1
        try:
            while self.last <= cursor:
                appended = self._appended
                await appended.wait()
        finally:
            self.waiting -= 1

    async def _read(self, last_id: str) -> None:
        while True:
            raise_if_cancelling()
            try:
                reply: Any = await self._client.xread(
                    {self._stream: last_id}, block=self._block_ms, count=REPLAY_SLICE * 16
                )
            except Exception as exc:  # unreachable, or refused (NOPERM, WRONGTYPE): ask again
                logger.warning("event follower cannot read the store", error=type(exc).__name__)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            for _, entries in reply:
                for entry_id, fields in entries:
                    if _sequence(entry_id) != self.last + 1:
                        # Entries the tail never saw (trimmed while it lagged, or a Redis that
                        # restarted empty): the window starts afresh, so a follower before it
                        # reads from the stream, which says whether they were evicted.
                        self._records.clear()
                        self._from = _sequence(entry_id) - 1
                    self.last = _sequence(entry_id)
                    record = _decode(entry_id, fields)
                    if record is not None:
                        if record.type == ERASURE_EVENT:
                            self._forget(record)
                        share_encoding(record.event)
                        self._records.append(record)
                    if len(self._records) >= 2 * _WINDOW:
                        self._from = self._records[_WINDOW - 1].sequence
                        del self._records[:_WINDOW]
                    last_id = entry_id.decode()
            if reply:
                appended, self._appended = self._appended, asyncio.Event()
                appended.set()

    def _forget(self, erasure: StreamRecord) -> None:
        """Drop the window's events of the conversation ``erasure`` erased (but erasures): a
        follower that reads them from the window next must not see them."""
        self._records = [
            record
            for record in self._records
            if record.type == ERASURE_EVENT
            or (record.conversation_id, record.tenant) != (erasure.conversation_id, erasure.tenant)
        ]

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._client.aclose()
