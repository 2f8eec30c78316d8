"""The commits of one event-loop pass go to Redis in one pipeline (``ScriptBatch``), on a
real redis-server: batched, each still its own atomic script, and bounded like one command."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from tests._redis import RedisServer, open_redis_store
from voicecore.events import EventFilter, NewEvent
from voicecore.stores import Committed, StoreUnavailableError, TurnWrites
from voicecore.stores._redis import RedisStore


def _turn(name: str, events: int = 1) -> TurnWrites:
    return TurnWrites(tuple(NewEvent(f"{name}.{n}") for n in range(events)))


async def _logged(store: RedisStore) -> list[str]:
    return [e.type async for e in store.events.subscribe(0, EventFilter(), follow=False)]


def _sequences(outcome: object) -> tuple[int, ...]:
    assert isinstance(outcome, Committed)
    return outcome.sequences


class TestBatching:
    async def test_the_commits_of_one_pass_share_one_pipeline(self, redis: RedisServer) -> None:
        """Twenty turns committed at once: one pipeline, twenty scripts, each turn's events
        together and in order, the sequences of all of them distinct."""
        store = await open_redis_store(redis)
        try:
            batch = store._commit
            before = batch.pipelines
            outcomes = await asyncio.gather(*(store.commit(_turn(f"t{i}", 3)) for i in range(20)))
            assert batch.pipelines - before == 1
            each = [_sequences(outcome) for outcome in outcomes]
            assert len({s for sequences in each for s in sequences}) == 60
            assert all(s == tuple(range(s[0], s[0] + 3)) for s in each)
            logged = await _logged(store)
            assert sorted(logged) == sorted(f"t{i}.{n}" for i in range(20) for n in range(3))
        finally:
            await store.aclose()

    async def test_a_turn_alone_is_sent_at_once(self, redis: RedisServer) -> None:
        """One turn after another: one pipeline each, nothing waits for company."""
        store = await open_redis_store(redis)
        try:
            before = store._commit.pipelines
            for i in range(3):
                assert isinstance(await store.commit(_turn(f"t{i}")), Committed)
            assert store._commit.pipelines - before == 3
        finally:
            await store.aclose()

    async def test_a_turn_given_up_before_its_pass_ends_is_not_sent(
        self, redis: RedisServer
    ) -> None:
        """Cancelled while queued: nothing of it reaches Redis; the pass's others commit."""
        store = await open_redis_store(redis)
        try:
            before = store._commit.pipelines
            given_up = asyncio.ensure_future(store.commit(_turn("given-up")))
            kept = asyncio.ensure_future(store.commit(_turn("kept")))
            await asyncio.sleep(0)  # both queue their commit; the pass's batch is not sent yet
            given_up.cancel()
            assert isinstance(await kept, Committed)
            with pytest.raises(asyncio.CancelledError):
                await given_up
            assert store._commit.pipelines - before == 1
            assert await _logged(store) == ["kept.0"]
        finally:
            await store.aclose()

    async def test_a_flushed_script_is_loaded_once_for_the_whole_pass(
        self, redis: RedisServer
    ) -> None:
        """NOSCRIPT: Redis ran none of the pass's commits; loaded again, all of them commit,
        once each."""
        store = await open_redis_store(redis)
        try:
            await store.client.script_flush()
            before = store._commit.pipelines
            outcomes = await asyncio.gather(*(store.commit(_turn(f"t{i}")) for i in range(5)))
            assert all(isinstance(o, Committed) for o in outcomes)
            assert store._commit.pipelines - before == 2  # the first, and the same again
            assert sorted(await _logged(store)) == [f"t{i}.0" for i in range(5)]
        finally:
            await store.aclose()


class TestBounded:
    async def test_a_silent_redis_is_unavailable_within_the_timeout(
        self, redis: RedisServer
    ) -> None:
        """Redis frozen: every commit of the pass answers StoreUnavailableError, none hangs;
        the batch in flight gives up by itself (nothing left running)."""
        store = await open_redis_store(redis, timeout=0.2)
        try:
            redis.pause()
            results = await asyncio.gather(
                *(store.commit(_turn(f"t{i}")) for i in range(3)), return_exceptions=True
            )
            assert all(isinstance(r, StoreUnavailableError) for r in results)
            sending = set(store._commit._sending)
            if sending:
                await asyncio.wait(sending, timeout=5)
            assert all(task.done() for task in sending)
        finally:
            redis.resume()
            await store.aclose()

    async def test_closing_the_store_ends_a_batch_in_flight(self, redis: RedisServer) -> None:
        """The store closes while Redis holds a batch: its callers are told Redis did not
        answer, and aclose returns."""
        store = await open_redis_store(redis, timeout=30.0)
        redis.pause()
        try:
            commits = [asyncio.ensure_future(store.commit(_turn(f"t{i}"))) for i in range(3)]
            while not store._commit._sending:  # the batch is sent and waits for Redis
                await asyncio.sleep(0)
            await store.aclose()
            results = await asyncio.gather(*commits, return_exceptions=True)
            assert all(isinstance(r, StoreUnavailableError) for r in results)
        finally:
            redis.resume()


class TestPartlyRun:
    async def test_commits_redis_ran_are_settled_whatever_befalls_the_rest(
        self, redis: RedisServer
    ) -> None:
        """Redis flushed its scripts between the pipeline's two commits, and the reload then
        failed: the commit Redis ran is Committed (a retry would apply it twice), only the
        other is unavailable."""
        store = await open_redis_store(redis)
        batch = store._commit
        real = batch._pipeline
        flushed = False

        async def flushing_midway(runs: Any) -> list[Any]:
            nonlocal flushed
            if flushed:
                return await real(runs)
            flushed = True
            first = await real(runs[:1])
            await store.client.script_flush()
            return first + await real(runs[1:])

        async def failing_load(script: str) -> str:
            raise RedisConnectionError("reset while loading the script")

        batch._pipeline = flushing_midway  # type: ignore[method-assign]
        store.client.script_load = failing_load  # type: ignore[method-assign,assignment]
        try:
            ran, lost = await asyncio.gather(
                store.commit(_turn("ran")), store.commit(_turn("lost")), return_exceptions=True
            )
            assert isinstance(ran, Committed)
            assert isinstance(lost, StoreUnavailableError)
            del store.client.script_load
            assert await _logged(store) == ["ran.0"]
        finally:
            await store.aclose()

    async def test_a_batch_closed_before_it_began_tells_its_callers(
        self, redis: RedisServer
    ) -> None:
        """The store closes in the pass the batch was made in, before it ran: its callers
        are told Redis did not answer at once, not at their timeout."""
        store = await open_redis_store(redis, timeout=60.0)
        commit = asyncio.ensure_future(store.commit(_turn("x")))
        await asyncio.sleep(0)  # queued; the batch is sent when the pass ends
        store._commit._send_queued()  # the pass ends: the batch's task made, not started
        await store._commit.aclose()
        done, _ = await asyncio.wait([commit], timeout=10)
        assert commit in done
        assert isinstance(commit.exception(), StoreUnavailableError)
        await store.aclose()
