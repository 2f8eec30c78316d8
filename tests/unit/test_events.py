"""The in-memory event log: sequences, replay filters, live follow, retention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from voicecore.errors import EventCursorAheadError, EventRangeEvictedError
from voicecore.events import EventFilter, InMemoryEventLog


async def _fill(log: InMemoryEventLog, count: int) -> None:
    for index in range(count):
        await log.append(
            "even" if index % 2 == 0 else "odd",
            conversation_id=f"c{index % 3}",
            trace_id="t",
            payload={"index": index},
        )


async def _replay(log: InMemoryEventLog, after: int, where: EventFilter) -> list[int]:
    return [event.sequence async for event in log.subscribe(after, where, follow=False)]


class TestAppend:
    async def test_sequences_strictly_increase_from_the_first(self) -> None:
        """Each append gets the next sequence; last_sequence tracks the newest."""
        log = InMemoryEventLog(first_sequence=10)
        assert log.last_sequence == 9
        assert (await log.append("a"), await log.append("b", payload={"x": 1})) == (10, 11)
        assert log.last_sequence == 11
        second = [e async for e in log.subscribe(10, EventFilter(), follow=False)][0]
        assert second.payload is not None and second.payload.to_dict() == {"x": 1.0}
        assert second.time is not None and second.time.tzinfo is not None

    async def test_default_first_sequence_is_above_a_previous_log(self) -> None:
        """A new log (a restarted server) never reuses the sequences of an older one."""
        old = InMemoryEventLog()
        sequence = await old.append("a")
        await asyncio.sleep(0.001)
        new = InMemoryEventLog()
        assert await new.append("b") > sequence

    def test_retention_must_be_positive(self) -> None:
        """A log that keeps nothing is a configuration error."""
        with pytest.raises(ValueError, match="retention"):
            InMemoryEventLog(0)


class TestReplay:
    async def test_replays_after_the_sequence(self) -> None:
        """Only events with a larger sequence come back, in order."""
        log = InMemoryEventLog(first_sequence=1)
        await _fill(log, 10)
        assert await _replay(log, 7, EventFilter()) == [8, 9, 10]
        assert await _replay(log, 0, EventFilter()) == list(range(1, 11))

    async def test_filters_by_conversation_and_type(self) -> None:
        """Both filters apply together; empty filters match everything."""
        log = InMemoryEventLog(first_sequence=1)
        await _fill(log, 12)
        by_conversation = await _replay(log, 0, EventFilter(conversation_id="c1"))
        assert by_conversation == [2, 5, 8, 11]
        both = await _replay(log, 0, EventFilter("c1", frozenset({"odd"})))
        assert both == [2, 8]

    async def test_evicted_range_is_an_error_not_a_gap(self) -> None:
        """Asking for events retention dropped raises, naming the oldest kept."""
        log = InMemoryEventLog(5, first_sequence=1)
        await _fill(log, 20)
        assert await _replay(log, 15, EventFilter()) == [16, 17, 18, 19, 20]
        with pytest.raises(EventRangeEvictedError) as info:
            await _replay(log, 3, EventFilter())
        assert info.value.oldest_available == 16

    async def test_memory_stays_bounded(self) -> None:
        """The log never holds much more than its retention."""
        log = InMemoryEventLog(100, first_sequence=1)
        await _fill(log, 1000)
        assert len(log._events) < 100 + 100 // 8 + 1
        assert log.last_sequence == 1000

    async def test_old_sequence_from_a_previous_process_replays_everything(self) -> None:
        """A cursor from before this log existed is not an eviction: nothing was dropped."""
        log = InMemoryEventLog(first_sequence=1000)
        await _fill(log, 3)
        assert await _replay(log, 5, EventFilter()) == [1000, 1001, 1002]


class TestFollow:
    async def test_follow_yields_live_events_in_order(self) -> None:
        """A follower sees the replay, then each new event exactly once."""
        log = InMemoryEventLog(first_sequence=1)
        await _fill(log, 3)
        seen: list[int] = []

        async def follow() -> None:
            async for event in log.subscribe(1, EventFilter()):
                seen.append(event.sequence)
                if len(seen) == 7:
                    return

        task = asyncio.create_task(follow())
        for _ in range(5):
            await asyncio.sleep(0)
            await log.append("live")
        await asyncio.wait_for(task, 2)
        assert seen == list(range(2, 9))

    async def test_slow_subscriber_does_not_block_producers(self) -> None:
        """Appends complete while a subscriber sits on an unread event."""
        log = InMemoryEventLog(first_sequence=1)
        stalled = log.subscribe(0, EventFilter())
        assert isinstance(stalled, AsyncGenerator)
        await log.append("first")
        assert (await anext(stalled)).sequence == 1
        for _ in range(500):
            await log.append("more")
        assert (await anext(stalled)).sequence == 2
        await stalled.aclose()

    async def test_subscriber_that_falls_behind_retention_gets_an_error(self) -> None:
        """A follower overtaken by eviction raises instead of skipping events."""
        log = InMemoryEventLog(8, first_sequence=1)
        stalled = log.subscribe(0, EventFilter())
        await log.append("first")
        assert (await anext(stalled)).sequence == 1
        await _fill(log, 20)
        with pytest.raises(EventRangeEvictedError):
            await anext(stalled)


class TestCursorEdges:
    async def test_zero_replays_from_the_oldest_kept(self) -> None:
        """after_sequence 0 after evictions replays what is kept, not an error."""
        log = InMemoryEventLog(5, first_sequence=1)
        await _fill(log, 20)
        assert await _replay(log, 0, EventFilter()) == [16, 17, 18, 19, 20]

    async def test_cursor_ahead_of_the_log_is_an_error(self) -> None:
        """A cursor past the newest event (another server's log) raises instead of waiting."""
        log = InMemoryEventLog(first_sequence=1)
        await _fill(log, 3)
        with pytest.raises(EventCursorAheadError) as info:
            await _replay(log, 10, EventFilter())
        assert info.value.last_sequence == 3
        assert await _replay(log, 3, EventFilter()) == []
