"""The in-memory event log: sequences, replay filters, live follow, retention, fan-out."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Iterator, Sized
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tests._waiting import until
from voicecore import _codec, events
from voicecore._proto.voicecore.v1 import Event
from voicecore.errors import EventCursorAheadError, EventRangeEvictedError
from voicecore.events import REPLAY_SLICE, WAKE_SLICE, EventFilter, InMemoryEventLog

NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


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

    async def test_default_first_sequence_is_the_clock_in_microseconds(self) -> None:
        """Numbered from its creation time, a new log (a restarted server) reuses no sequence."""
        old = InMemoryEventLog(clock=lambda: NEW_YEAR)
        sequence = await old.append("a")
        assert sequence == 1_767_225_600_000_000
        new = InMemoryEventLog(clock=lambda: NEW_YEAR + timedelta(microseconds=1))
        assert await new.append("b") == sequence + 1

    async def test_events_are_stamped_by_the_clock(self) -> None:
        """Each event's time is the clock's reading when it was appended."""
        times = iter([NEW_YEAR, NEW_YEAR + timedelta(seconds=3)])
        log = InMemoryEventLog(first_sequence=1, clock=lambda: next(times))
        await log.append("a")
        await log.append("b")
        replayed = [e.time async for e in log.subscribe(0, EventFilter(), follow=False)]
        assert replayed == [NEW_YEAR, NEW_YEAR + timedelta(seconds=3)]

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
            await until(lambda: log.followers == 1)  # replayed and waiting: the next one is live
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


class _Ticker:
    """Counts loop turns: a task that bumps ``turns`` once per turn of the event loop."""

    def __init__(self) -> None:
        self.turns = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            self.turns += 1
            await asyncio.sleep(0)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@contextmanager
def _counting(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> Iterator[list[int]]:
    """Replaces ``module.name`` by a wrapper that counts its calls in the yielded list."""
    calls = [0]
    original: Callable[..., object] = getattr(module, name)

    def counted(*args: object) -> object:
        calls[0] += 1
        return original(*args)

    monkeypatch.setattr(module, name, counted)
    yield calls


class TestReplaySlices:
    async def test_a_long_replay_yields_to_the_loop_every_slice(self) -> None:
        """A replay reads at most REPLAY_SLICE records per loop turn, however fast it is read."""
        log = InMemoryEventLog(first_sequence=1)
        await _fill(log, 10 * REPLAY_SLICE)
        ticker = _Ticker()
        turn_of_each = [ticker.turns async for _ in log.subscribe(0, EventFilter(), follow=False)]
        await ticker.stop()
        assert len(turn_of_each) == 10 * REPLAY_SLICE
        assert max(Counter(turn_of_each).values()) <= REPLAY_SLICE
        assert turn_of_each[-1] - turn_of_each[0] >= 9

    async def test_a_replay_that_matches_nothing_yields_too(self) -> None:
        """Scanning records the filter drops also yields to the loop every slice."""
        log = InMemoryEventLog(first_sequence=1)
        await _fill(log, 10 * REPLAY_SLICE)
        ticker = _Ticker()
        nothing = EventFilter(conversation_id="nobody")
        assert await _replay(log, 0, nothing) == []
        turns = ticker.turns
        await ticker.stop()
        assert turns >= 9


async def _follower(log: InMemoryEventLog, count: int, into: list[Event]) -> None:
    async for event in log.subscribe(log.last_sequence, EventFilter()):
        into.append(event)
        if len(into) == count:
            return


async def _start_followers(
    log: InMemoryEventLog, followers: int, count: int
) -> tuple[list[list[Event]], list[asyncio.Task[None]]]:
    """``followers`` tasks each waiting for ``count`` events; returns once all of them wait."""
    received: list[list[Event]] = [[] for _ in range(followers)]
    tasks = [asyncio.create_task(_follower(log, count, into)) for into in received]
    await until(lambda: log.followers == followers)
    return received, tasks


class TestFanout:
    async def test_each_event_becomes_one_message_whatever_the_followers(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """100 followers of 3 events share 3 Event messages, built once each."""
        log = InMemoryEventLog(first_sequence=1)
        received, tasks = await _start_followers(log, 100, 3)
        with _counting(monkeypatch, events, "_to_event") as built:
            for _ in range(3):
                await log.append("a", payload={"k": "v"})
            await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert built == [3]
        assert all(len(seen) == 3 for seen in received)
        assert len({id(event) for seen in received for event in seen}) == 3

    async def test_a_shared_event_is_encoded_once_for_every_follower(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The codec encodes the message followers share once, and sends the same bytes."""
        log = InMemoryEventLog(first_sequence=1)
        received, tasks = await _start_followers(log, 20, 1)
        await log.append("a", payload={"k": "v"})
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        codec = _codec.UpbCodec(1 << 20)
        with _counting(monkeypatch, _codec, "encode_message") as encoded:
            sent = {codec.encode(seen[0], Event) for seen in received}
        assert encoded == [1]
        assert sent == {bytes(received[0][0])}

    async def test_append_itself_wakes_no_follower(self) -> None:
        """The append path does no work per follower: it schedules one callback for 50."""
        log = InMemoryEventLog(first_sequence=1)
        received, tasks = await _start_followers(log, 50, 1)
        ready: Sized = asyncio.get_running_loop()._ready  # type: ignore[attr-defined]
        before = len(ready)
        await log.append("a")
        assert len(ready) - before <= 1
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert all(len(seen) == 1 for seen in received)

    async def test_followers_are_woken_a_slice_per_loop_turn(self) -> None:
        """Between two turns of a ticker, at most two slices of followers run."""
        log = InMemoryEventLog(first_sequence=1)
        turn_of: list[int] = []

        async def follow() -> None:
            async for _ in log.subscribe(log.last_sequence, EventFilter()):
                turn_of.append(ticker.turns)
                return

        tasks = [asyncio.create_task(follow()) for _ in range(6 * WAKE_SLICE)]
        await until(lambda: log.followers == 6 * WAKE_SLICE)
        ticker = _Ticker()
        await log.append("a")
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        await ticker.stop()
        assert len(turn_of) == 6 * WAKE_SLICE
        assert max(Counter(turn_of).values()) <= 2 * WAKE_SLICE

    @pytest.mark.parametrize("turns_between", range(8))
    async def test_an_append_during_a_wake_round_reaches_every_follower(
        self, turns_between: int
    ) -> None:
        """A second append while followers are still being woken is seen by all of them."""
        log = InMemoryEventLog(first_sequence=1)
        received, tasks = await _start_followers(log, 4 * WAKE_SLICE, 2)
        await log.append("first")
        for _ in range(turns_between):
            await asyncio.sleep(0)
        await log.append("second")
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        assert all([e.type for e in seen] == ["first", "second"] for seen in received)

    async def test_cancelled_followers_leave_nothing_waiting(self) -> None:
        """A follower that goes away while waiting is forgotten at once, without an append."""
        log = InMemoryEventLog(first_sequence=1)
        _, tasks = await _start_followers(log, 50, 1)
        assert len(log._fanout._waiting) == 50
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert log._fanout._waiting == {}

    async def test_followers_cancelled_before_their_wake_are_skipped(self) -> None:
        """Followers that go away between an append and their wake-up do not stop the others."""
        log = InMemoryEventLog(first_sequence=1)
        received, tasks = await _start_followers(log, 2 * WAKE_SLICE, 1)
        await log.append("a")
        for task in tasks[::2]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert [len(seen) for seen in received] == [0, 1] * WAKE_SLICE
        assert log._fanout._waiting == {}

    async def test_a_follower_that_never_reads_costs_bounded_memory(self) -> None:
        """A stalled subscriber holds no events: the log and shared messages stay bounded."""
        log = InMemoryEventLog(1000, first_sequence=1)
        stalled = log.subscribe(0, EventFilter())
        assert isinstance(stalled, AsyncGenerator)
        await log.append("first")
        await anext(stalled)
        _, tasks = await _start_followers(log, 3, 5_000)
        for index in range(5_000):
            await log.append("more")
            if index % 10 == 0:
                await asyncio.sleep(0)  # the other followers read (and share) as they go
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert len(log._events) <= 1000 + 1000 // 8
        assert len(log._shared) <= events._SHARED_EVENTS
        with pytest.raises(EventRangeEvictedError):
            await anext(stalled)


class TestRetentionBytes:
    async def test_large_payloads_keep_the_estimate_under_the_bound(self) -> None:
        """Each append evicts old events until the kept estimate fits retention_bytes."""
        log = InMemoryEventLog(retention_bytes=1_000_000, first_sequence=1)
        for _ in range(100):
            await log.append("big", payload={"text": "x" * 100_000})
            assert log.retained_bytes <= 1_000_000
        assert 8 <= log.last_sequence - log.first_sequence + 1 <= 9
        listed = sum(record[-1] for record in log._events if record is not None)
        assert listed <= 1_000_000 * 9 // 8 + 100_500  # evicted ones leave in chunks

    async def test_a_cursor_evicted_by_size_is_an_error_not_a_gap(self) -> None:
        """A replay from before the oldest event kept raises, naming the oldest kept."""
        log = InMemoryEventLog(retention_bytes=1_000_000, first_sequence=1)
        for _ in range(30):
            await log.append("big", payload={"text": "x" * 100_000})
        with pytest.raises(EventRangeEvictedError) as info:
            await _replay(log, 5, EventFilter())
        assert info.value.oldest_available == log.first_sequence
        kept = await _replay(log, 0, EventFilter())
        assert kept == list(range(log.first_sequence, 31))

    async def test_an_event_larger_than_the_bound_is_kept_alone(self) -> None:
        """The newest event is always kept, so a follower never loses the one just appended."""
        log = InMemoryEventLog(retention_bytes=1_000, first_sequence=1)
        await log.append("small")
        await log.append("big", payload={"text": "x" * 5_000})
        assert await _replay(log, 0, EventFilter()) == [2]
        assert log.retained_bytes > 5_000

    async def test_the_estimate_counts_every_string(self) -> None:
        """Identity fields, payload keys and nested values all add their length."""
        log = InMemoryEventLog(first_sequence=1)
        await log.append("t")
        small = log.retained_bytes
        await log.append(
            "t" * 100,
            conversation_id="c" * 100,
            trace_id="x" * 100,
            objective_type="o" * 100,
            payload={"k" * 100: [{"n": "v" * 100}]},
        )
        assert log.retained_bytes - small >= small + 600

    def test_retention_bytes_must_be_positive(self) -> None:
        """A byte bound that keeps nothing is a configuration error."""
        with pytest.raises(ValueError, match="retention_bytes"):
            InMemoryEventLog(retention_bytes=0)
