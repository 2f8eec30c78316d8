"""The Redis store against a real redis-server (tests/_redis.py): the commit, events, outages.

The turn-atomicity tests of tests/unit/stores/test_turns.py run here again on Redis (the
``store`` fixture below replaces the in-memory one for the classes that subclass them).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, cast

import pytest
from grpclib import GRPCError
from grpclib.const import Status
from loguru import logger
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from tests._redis import RedisServer, open_redis_store, running_redis
from tests._waiting import until
from tests.unit.stores.test_turns import CONVERSATION, KEY, LoadBarrier, _service, _turn
from tests.unit.stores.test_turns import TestConcurrentTurns as _ConcurrentTurns
from tests.unit.stores.test_turns import TestStagedWrites as _StagedWrites
from voicecore._json import struct_from_dict
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    HealthCheckRequest,
    StreamEventsRequest,
)
from voicecore.capture import Candidate, CaptureKey, CaptureState, HeldValue
from voicecore.capture._store import CaptureWrite
from voicecore.config import Settings
from voicecore.errors import EventCursorAheadError, EventRangeEvictedError
from voicecore.events import EventFilter, NewEvent
from voicecore.idempotency import Claim
from voicecore.registry import default_registry
from voicecore.service import VoiceCoreService
from voicecore.stores import (
    Committed,
    Conflict,
    Replay,
    Store,
    StoreOpenError,
    StoreUnavailableError,
    TurnWrites,
    _redis_events,
)
from voicecore.stores._open import open_store, shown_url
from voicecore.stores._redis import RedisStore
from voicecore.stores._redis_codec import Keys, decode_state, encode_state

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(redis: RedisServer) -> AsyncIterator[Store]:
    opened = await open_redis_store(redis)
    try:
        yield opened
    finally:
        await opened.aclose()


class TestConcurrentTurnsOnRedis(_ConcurrentTurns):
    """Four turns at once, two replicas, repeats, refusals: as in memory, on Redis."""


class TestStagedWritesOnRedis(_StagedWrites):
    """Cancelled turns, resets, staged reads: as in memory, on Redis."""


class ReplicaBarrier(LoadBarrier):
    """One replica's store in a ``LoadBarrier`` shared by several replicas."""

    def __init__(self, inner: Store, shared: LoadBarrier) -> None:
        super().__init__(inner, parties=0)
        self.outcomes = shared.outcomes
        self.shared = shared

    async def arrive(self) -> None:
        await self.shared.arrive()


class TestTwoReplicas:
    async def test_two_replicas_lose_no_digit(self, redis: RedisServer) -> None:
        """Two stores (two replicas, two connection pools) on one Redis, four turns of one
        capture computed on the same state: all four digits count, each turn written once."""
        first = await open_redis_store(redis)
        second = await open_redis_store(redis, prefix=first.keys.prefix)
        try:
            shared = LoadBarrier(first, parties=4)
            replicas = [_service(ReplicaBarrier(store, shared)) for store in (first, second)]
            turns = [replicas[i % 2].execute_primitive(_turn(d)) for i, d in enumerate("1234")]
            assert all(r.success for r in await asyncio.gather(*turns))
            kept = (await second.load(KEY)).state
            assert kept is not None and kept.held is not None
            assert sorted(kept.held.value) == list("1234")
            assert shared.outcomes["Committed"] == 4 and shared.outcomes["Conflict"] >= 3
            where = EventFilter(conversation_id=CONVERSATION)
            types = [e.type async for e in first.events.subscribe(0, where, follow=False)]
            assert types.count("primitive.started") == 4
        finally:
            await first.aclose()
            await second.aclose()


class CountingClient:
    """Counts the commands sent through a client, pipelined ones (the commits) included."""

    def __init__(self, client: Redis) -> None:
        self.commands: list[str] = []
        original = cast("Callable[..., Awaitable[Any]]", client.execute_command)
        original_pipeline = client.pipeline

        async def counted(*args: Any, **options: Any) -> Any:
            self.commands.append(str(args[0]))
            return await original(*args, **options)

        def counted_pipeline(*args: Any, **options: Any) -> Any:
            pipeline = original_pipeline(*args, **options)
            original_execute = pipeline.execute

            async def execute(*args: Any, **options: Any) -> Any:
                self.commands += [str(command[0][0]) for command in pipeline.command_stack]
                return await original_execute(*args, **options)

            pipeline.execute = execute  # type: ignore[method-assign]
            return pipeline

        client.execute_command = counted  # type: ignore[method-assign]
        client.pipeline = counted_pipeline  # type: ignore[method-assign]


def _email(said: str, key: str) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="capture_email",
        params=struct_from_dict({"transcription": said}),
        conversation_id=CONVERSATION,
        idempotency_key=key,
    )


class TestRoundTrips:
    async def test_a_capture_turn_costs_two(self, store: RedisStore) -> None:
        """A held capture's turn with an idempotency key: GET its state, EVALSHA the commit."""
        service = VoiceCoreService(default_registry(), settings=Settings(), store=store)
        await service.execute_primitive(_email("john at gmail dot com", "t1"))
        counting = CountingClient(store.client)
        response = await service.execute_primitive(_email("yes", "t2"))
        assert response.success and response.data is not None
        assert response.data.to_dict()["value"] == "john@gmail.com"
        assert counting.commands == ["GET", "EVALSHA"]

    async def test_a_turn_without_conversation_costs_one(self, store: RedisStore) -> None:
        """No capture to read: the commit alone."""
        service = VoiceCoreService(
            default_registry(debug_primitives=True), settings=Settings(), store=store
        )
        counting = CountingClient(store.client)
        await service.execute_primitive(ExecutePrimitiveRequest(objective_type="debug_echo"))
        assert counting.commands == ["EVALSHA"]

    async def test_a_flushed_script_is_loaded_again(self, store: RedisStore) -> None:
        """NOSCRIPT (Redis restarted or flushed) costs a load, not the turn."""
        await store.client.script_flush()
        outcome = await store.commit(TurnWrites((NewEvent("test.event"),)))
        assert isinstance(outcome, Committed)


class TestCommit:
    async def test_states_keep_their_values_and_ttl(self, store: RedisStore) -> None:
        """A state round-trips whole (held value, parts, candidates) and expires."""
        held = HeldValue("1234", "1 2 3 4", {"length": 4, "nested": [1, "a"]}, 0.5)
        state = CaptureState(2, held, "12", "1 2")
        await store.commit(TurnWrites((NewEvent("x"),), (CaptureWrite(KEY, state, 0),)))
        kept = await store.load(KEY)
        assert kept.state == state and kept.version > 0
        ttl = await store.client.pttl(store.keys.capture(KEY))
        assert 0 < ttl <= 3_600_000
        assert decode_state(encode_state(CaptureState())) == CaptureState()

    def test_every_field_of_a_state_is_kept(self) -> None:
        """A field added to CaptureState or HeldValue is written and read back, by name."""
        held = HeldValue("1234", "1 2 3 4", {"length": 4}, 0.5, (Candidate("1243", 0.2),))
        state = CaptureState(3, held, "12", "1 2")
        written = json.loads(encode_state(state))
        assert set(written) == {field.name for field in fields(CaptureState)}
        assert set(written["held"]) == {field.name for field in fields(HeldValue)}
        assert decode_state(encode_state(state)) == state

    def test_a_field_from_a_newer_version_is_ignored(self) -> None:
        """A rolling deploy: a state written with fields this version does not know reads."""
        held = HeldValue("1234", "1 2 3 4", {"length": 4}, 0.5, (Candidate("1243", 0.2),))
        state = CaptureState(3, held, "12", "1 2")
        written = json.loads(encode_state(state))
        written["added_later"] = 1
        written["held"]["added_later"] = [2]
        written["held"]["candidates"][0]["added_later"] = "3"
        assert decode_state(json.dumps(written).encode()) == state

    async def test_a_moved_version_is_a_conflict(self, store: RedisStore) -> None:
        """A write that read an older version writes nothing, its events neither."""
        write = CaptureWrite(KEY, CaptureState(partial="1"), 0)
        assert isinstance(await store.commit(TurnWrites((NewEvent("a"),), (write,))), Committed)
        before = store.events.last_sequence
        assert isinstance(await store.commit(TurnWrites((NewEvent("b"),), (write,))), Conflict)
        assert store.events.last_sequence == before
        events = [e.type async for e in store.events.subscribe(0, EventFilter(), follow=False)]
        assert events == ["a"]

    async def test_a_record_is_replayed_with_its_sequence(self, store: RedisStore) -> None:
        """The record comes back with the fingerprint, bytes and its turn's last sequence."""
        key = ("tenant", CONVERSATION, "k")
        claim = Claim(key, "f" * 64, b"\x00:response:")
        done = await store.commit(TurnWrites((NewEvent("a"), NewEvent("b")), claim=claim))
        assert isinstance(done, Committed)
        again = await store.commit(TurnWrites((NewEvent("c"),), claim=claim))
        assert isinstance(again, Replay)
        assert again.record.response == b"\x00:response:"
        assert again.record.last_sequence == done.sequences[-1]
        assert 0 < await store.client.pttl(store.keys.record(key)) <= 600_000

    async def test_an_unrecorded_claim_records_nothing(self, store: RedisStore) -> None:
        """A retryable outcome (no response) leaves the key free for the retry."""
        claim = Claim(("", CONVERSATION, "k"), "f", None)
        await store.commit(TurnWrites((NewEvent("a"),), claim=claim))
        assert isinstance(await store.commit(TurnWrites((NewEvent("b"),), claim=claim)), Committed)

    async def test_tenants_and_ids_never_share_a_key(self) -> None:
        """The same conversation in two tenants, or ids that join alike, are different keys;
        one conversation's keys share one hash tag (one Cluster slot)."""
        keys = Keys("vc")
        a, b = CaptureKey("x:1", "o", "t"), CaptureKey("1", "o", "t:x")
        assert keys.capture(a) != keys.capture(b)
        assert keys.capture(CaptureKey("c", "o", "t1")) != keys.capture(CaptureKey("c", "o", "t2"))
        tag = keys.capture(CaptureKey("c", "o", "t")).split("{")[1].split("}")[0]
        assert f"{{{tag}}}" in keys.record(("t", "c", "k"))
        with pytest.raises(TypeError):
            keys.capture("not a capture key")
        with pytest.raises(TypeError):
            keys.record("not a record key")

    async def test_two_replicas_number_events_strictly_increasing(self, redis: RedisServer) -> None:
        """Two stores (replicas) on one prefix: every sequence once, in commit order."""
        first = await open_redis_store(redis)
        second = await open_redis_store(redis, prefix=first.keys.prefix)
        try:
            sequences: list[int] = []
            for store in (first, second) * 5:
                outcome = await store.commit(TurnWrites((NewEvent("a"), NewEvent("b"))))
                assert isinstance(outcome, Committed)
                sequences += outcome.sequences
            assert sequences == list(range(sequences[0], sequences[0] + 20))
        finally:
            await first.aclose()
            await second.aclose()


class TestEvents:
    async def test_replay_then_follow_with_no_gap(self, store: RedisStore) -> None:
        """Replay after a sequence, then live events from another replica, in order, once."""
        done = await store.commit(TurnWrites(tuple(NewEvent(f"e{i}") for i in range(40))))
        assert isinstance(done, Committed)
        seen: list[int] = []

        async def follow() -> None:
            async for event in store.events.subscribe(done.sequences[4], EventFilter()):
                seen.append(event.sequence)
                if len(seen) == 45:
                    return

        task = asyncio.create_task(follow())
        while store.events.followers == 0:
            await asyncio.sleep(0.005)
        later = await store.commit(TurnWrites(tuple(NewEvent("live") for _ in range(10))))
        assert isinstance(later, Committed)
        await asyncio.wait_for(task, 10)
        assert seen == [*done.sequences[5:], *later.sequences]

    async def test_filters_and_tenants(self, store: RedisStore) -> None:
        """A reader sees its tenant's events of its conversation, as in memory."""
        events = (
            NewEvent("a", conversation_id="c1", tenant="t1"),
            NewEvent("b", conversation_id="c2", tenant="t1"),
            NewEvent("c", conversation_id="c1", tenant="t2"),
        )
        await store.commit(TurnWrites(events))
        where = EventFilter(conversation_id="c1", tenant="t1")
        seen = [e.type async for e in store.events.subscribe(0, where, follow=False)]
        assert seen == ["a"]

    async def test_an_evicted_range_is_out_of_range(self, redis: RedisServer) -> None:
        """Past retention the stream is trimmed: replaying the trimmed part raises."""
        store = await open_redis_store(redis, retention=10)
        try:
            for _ in range(30):
                await store.commit(TurnWrites(tuple(NewEvent("x") for _ in range(10))))
            first: Any = await store.client.xrange(store.keys.stream, count=1)
            oldest = int(first[0][0].split(b"-")[0])
            with pytest.raises(EventRangeEvictedError):
                async for _ in store.events.subscribe(oldest - 5, EventFilter(), follow=False):
                    pass
            kept = [
                e async for e in store.events.subscribe(oldest - 1, EventFilter(), follow=False)
            ]
            assert kept[0].sequence == oldest
        finally:
            await store.aclose()

    async def test_a_range_evicted_while_reading_is_out_of_range(self, redis: RedisServer) -> None:
        """Trimmed past a subscriber's cursor while it reads: the next read raises, as the
        in-memory log does, instead of skipping the evicted events."""
        store = await open_redis_store(redis, retention=200)
        try:
            done = await store.commit(TurnWrites(tuple(NewEvent("x") for _ in range(150))))
            assert isinstance(done, Committed)
            replay = store.events.subscribe(done.sequences[0], EventFilter(), follow=False)
            read = [await anext(replay) for _ in range(32)]
            assert read[-1].sequence == done.sequences[32]
            for _ in range(20):
                await store.commit(TurnWrites(tuple(NewEvent("y") for _ in range(100))))
            with pytest.raises(EventRangeEvictedError):
                async for _ in replay:
                    pass
        finally:
            await store.aclose()

    async def test_a_cursor_ahead_is_out_of_range(self, store: RedisStore) -> None:
        """A sequence the deployment never issued is refused, not waited on."""
        done = await store.commit(TurnWrites((NewEvent("a"),)))
        assert isinstance(done, Committed)
        with pytest.raises(EventCursorAheadError):
            async for _ in store.events.subscribe(done.sequences[0] + 1, EventFilter()):
                pass

    async def test_append_numbers_one_event(self, store: RedisStore) -> None:
        """The EventLog's append goes through the commit."""
        sequence = await store.events.append("a", payload={"k": 1})
        assert store.events.last_sequence == sequence


class TestFollowers:
    async def test_no_stream_yet_is_an_empty_replay(self, store: RedisStore) -> None:
        """Before the first event there is nothing to replay, and that is no error."""
        assert [e async for e in store.events.subscribe(0, EventFilter(), follow=False)] == []

    async def test_followers_share_one_reader(self, redis: RedisServer) -> None:
        """Three followers, one XREAD loop: each sees every live event once; an idle XREAD
        that times out is simply asked again."""
        store = await open_redis_store(redis, block_seconds=0.05)
        try:
            start = await store.commit(TurnWrites((NewEvent("first"),)))
            assert isinstance(start, Committed)
            counting = CountingClient(store.events._tail._client)
            seen: list[list[int]] = [[], [], []]

            async def follow(into: list[int]) -> None:
                async for event in store.events.subscribe(start.sequences[0], EventFilter()):
                    into.append(event.sequence)
                    if len(into) == 3:
                        return

            tasks = [asyncio.create_task(follow(into)) for into in seen]
            await until(
                lambda: store.events.followers == 3 and counting.commands.count("XREAD") >= 2
            )
            later = await store.commit(TurnWrites(tuple(NewEvent("live") for _ in range(3))))
            assert isinstance(later, Committed)
            await asyncio.wait_for(asyncio.gather(*tasks), 10)
            assert seen == [list(later.sequences)] * 3
            assert set(counting.commands) == {"XREAD"}
        finally:
            await store.aclose()

    async def test_a_follower_behind_the_window_reads_the_gap(
        self, store: RedisStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The tail keeps only the newest entries; a follower further behind reads the rest
        from the stream: every event once, in order, for both."""
        monkeypatch.setattr(_redis_events, "_WINDOW", 4)
        start = await store.commit(TurnWrites((NewEvent("first"),)))
        assert isinstance(start, Committed)

        async def follow(into: list[int]) -> None:
            async for event in store.events.subscribe(start.sequences[0], EventFilter()):
                into.append(event.sequence)
                if len(into) == 20:
                    return

        live: list[int] = []
        task = asyncio.create_task(follow(live))
        await until(lambda: store.events.followers == 1)
        sequences: list[int] = []
        for _ in range(10):
            done = await store.commit(TurnWrites((NewEvent("a"), NewEvent("b"))))
            assert isinstance(done, Committed)
            sequences += done.sequences
        await asyncio.wait_for(task, 10)
        behind: list[int] = []
        await asyncio.wait_for(follow(behind), 10)
        assert live == behind == sequences

    async def test_a_follower_reads_the_window_a_slice_at_a_time(self, store: RedisStore) -> None:
        """More new entries than one slice: the follower gets every one, in order."""
        start = await store.commit(TurnWrites((NewEvent("first"),)))
        assert isinstance(start, Committed)
        seen: list[int] = []

        async def follow() -> None:
            async for event in store.events.subscribe(start.sequences[0], EventFilter()):
                seen.append(event.sequence)
                if len(seen) == 40:
                    return

        task = asyncio.create_task(follow())
        await until(lambda: store.events.followers == 1)
        done = await store.commit(TurnWrites(tuple(NewEvent("a") for _ in range(40))))
        assert isinstance(done, Committed)
        await asyncio.wait_for(task, 10)
        assert seen == list(done.sequences)

    async def test_an_entry_that_does_not_decode_is_skipped(self, store: RedisStore) -> None:
        """One bad entry in the stream: replay and followers skip it and read on."""
        start = await store.commit(TurnWrites((NewEvent("first"),)))
        assert isinstance(start, Committed)
        seen: list[str] = []

        async def follow() -> None:
            async for event in store.events.subscribe(start.sequences[0], EventFilter()):
                seen.append(event.type)
                if event.type == "after":
                    return

        task = asyncio.create_task(follow())
        await until(lambda: store.events.followers == 1)
        bad = await store.client.incr(store.keys.sequence)
        await store.client.xadd(store.keys.stream, {"e": b"not json"}, id=f"{bad}-0")
        await store.commit(TurnWrites((NewEvent("after"),)))
        await asyncio.wait_for(task, 10)
        assert seen == ["after"]
        replayed = [e async for e in store.events.subscribe(0, EventFilter(), follow=False)]
        assert [e.type for e in replayed] == ["first", "after"]

    async def test_a_refused_read_does_not_stop_the_followers(
        self, store: RedisStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A non-connection error (NOPERM, WRONGTYPE) in the tail: it asks again."""
        monkeypatch.setattr(_redis_events, "_RETRY_SECONDS", 0.01)
        tail = store.events._tail
        xread = tail._client.xread
        refusals: list[str] = []

        async def refused_once(*args: Any, **options: Any) -> Any:
            if not refusals:
                refusals.append("NOPERM")
                raise ResponseError("NOPERM this user has no permissions to run 'xread'")
            return await xread(*args, **options)

        monkeypatch.setattr(tail._client, "xread", refused_once)
        start = await store.commit(TurnWrites((NewEvent("first"),)))
        assert isinstance(start, Committed)

        async def next_type(after: int) -> str:
            async for event in store.events.subscribe(after, EventFilter()):
                return event.type
            raise AssertionError("the subscription ended")  # pragma: no cover

        task = asyncio.create_task(next_type(start.sequences[0]))
        await until(lambda: refusals == ["NOPERM"] and store.events.followers == 1)
        later = await store.commit(TurnWrites((NewEvent("second"),)))
        assert isinstance(later, Committed)
        assert await asyncio.wait_for(task, 10) == "second"

    async def test_a_cancel_the_client_swallows_still_stops_the_tail(
        self, store: RedisStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """redis-py's read timeout can swallow a cancel that lands as it fires (and retry the
        read): the tail stops all the same, so closing the store returns."""
        tail = store.events._tail
        xread = tail._client.xread
        reading = asyncio.Event()

        async def swallowing(*args: Any, **options: Any) -> Any:
            reading.set()
            try:
                return await xread(*args, **options)
            except asyncio.CancelledError:  # as redis-py's read timeout can
                return []

        monkeypatch.setattr(tail._client, "xread", swallowing)
        start = await store.commit(TurnWrites((NewEvent("first"),)))
        assert isinstance(start, Committed)

        async def follow() -> None:
            async for _ in store.events.subscribe(start.sequences[0], EventFilter()):
                pass  # pragma: no cover (nothing is appended)

        follower = asyncio.create_task(follow())
        await until(lambda: store.events.followers == 1)
        await reading.wait()  # the tail is in XREAD: the cancel lands there
        follower.cancel()
        await asyncio.wait_for(store.events.aclose(), 10)
        assert store.events._tail._task is not None and store.events._tail._task.done()

    async def test_a_follower_outlives_a_redis_restart(self, redis: RedisServer) -> None:
        """Redis stopped under a follower: it waits, and goes on once Redis is back."""
        store = await open_redis_store(redis, block_seconds=0.05, timeout=1.0)
        try:
            start = await store.commit(TurnWrites((NewEvent("first"),)))
            assert isinstance(start, Committed)
            seen: list[str] = []

            async def follow() -> None:
                async for event in store.events.subscribe(start.sequences[0], EventFilter()):
                    seen.append(event.type)
                    return

            task = asyncio.create_task(follow())
            await until(lambda: store.events.followers == 1)
            redis.stop()
            counting = CountingClient(store.events._tail._client)
            await until(lambda: len(counting.commands) >= 2)  # it asked, failed, asked again
            redis.start()
            await until(store.reachable)
            await store.commit(TurnWrites((NewEvent("after the restart"),)))
            await asyncio.wait_for(task, 10)
            assert seen == ["after the restart"]
        finally:
            await store.aclose()


class TestOutage:
    async def test_redis_not_answering_is_unavailable_and_writes_nothing(
        self, redis: RedisServer
    ) -> None:
        """Frozen: calls answer UNAVAILABLE (retryable), health NOT_SERVING, nothing of the
        turn is written; back: SERVING, and the retry applies the turn once."""
        store = await open_redis_store(redis, timeout=1.0)
        service = _service(store)
        try:
            assert (await service.execute_primitive(_turn("12", "k1"))).success
            redis.pause()
            try:
                for request in (_turn("3", "k2"), ExecutePrimitiveRequest(objective_type="x")):
                    await _assert_unavailable(service, request)
                health = await service.health_check(HealthCheckRequest())
                assert (health.status, health.components["store"]) == (
                    "NOT_SERVING",
                    "NOT_SERVING",
                )
            finally:
                redis.resume()
            assert (await service.health_check(HealthCheckRequest())).status == "SERVING"
            again = await service.execute_primitive(_turn("3", "k2"))
            assert again.success and again.data is not None
            assert again.data.to_dict()["partial"] == "123"  # the failed turn wrote nothing
            events = [e.type async for e in store.events.subscribe(0, EventFilter(), follow=False)]
            assert events.count("primitive.started") == 2
        finally:
            await store.aclose()

    async def test_a_frozen_redis_at_start_is_refused_within_the_timeout(
        self, redis: RedisServer
    ) -> None:
        """Connected but never answering when the store opens (the command client has no
        socket timeout of its own): the open fails with StoreUnavailableError, it does not
        hang."""
        redis.pause()
        try:
            opening = asyncio.ensure_future(open_redis_store(redis, timeout=0.3))
            done, _ = await asyncio.wait([opening], timeout=10)
            assert opening in done
            with pytest.raises(StoreUnavailableError):
                opening.result()
        finally:
            redis.resume()

    async def test_a_hung_redis_is_given_up_on_within_the_deadline(
        self, redis: RedisServer
    ) -> None:
        """The store would wait a minute; the call's deadline does not: the answer is
        UNAVAILABLE (retryable), not a hang."""
        store = await open_redis_store(redis, timeout=60.0)
        executor = _service(store)._executor
        try:
            redis.pause()
            try:
                call = executor.execute(_turn("12", "k1"), trace_id="t", time_left=0.3)
                response = await asyncio.wait_for(call, 10)
            finally:
                redis.resume()
            assert response.error is not None
            assert (response.error.code, response.error.retryable) == (ErrorCode.UNAVAILABLE, True)
        finally:
            await store.aclose()

    async def test_redis_down_is_unavailable_until_it_is_back(self, redis: RedisServer) -> None:
        """Stopped (connection refused): UNAVAILABLE; started again: calls succeed."""
        store = await open_redis_store(redis, timeout=1.0)
        service = _service(store)
        try:
            redis.stop()
            await _assert_unavailable(service, _turn("12", "k1"))
            assert not await store.reachable()
            redis.start()
            assert (await service.execute_primitive(_turn("12", "k1"))).success
        finally:
            await store.aclose()

    async def test_an_event_stream_without_redis_is_unavailable(self, redis: RedisServer) -> None:
        """StreamEvents while Redis is down: gRPC UNAVAILABLE (clients reconnect), not UNKNOWN."""
        store = await open_redis_store(redis, timeout=1.0)
        service = _service(store)
        try:
            redis.stop()
            with pytest.raises(GRPCError) as raised:
                async for _ in service.stream_events(StreamEventsRequest(after_sequence=0)):
                    pass  # pragma: no cover
            assert raised.value.status is Status.UNAVAILABLE
        finally:
            await store.aclose()

    async def test_a_store_refusing_writes_is_unavailable_and_not_serving(
        self, redis: RedisServer
    ) -> None:
        """A read-only replica, or Redis out of memory, answers PING: turns are UNAVAILABLE
        (retryable) and the health check says so."""
        store = await open_redis_store(redis, timeout=1.0)
        service = _service(store)
        try:
            assert await store.reachable()
            command = cast("Callable[..., Awaitable[Any]]", store.client.execute_command)
            await command("REPLICAOF", "127.0.0.1", "1")
            await _assert_unavailable(service, _turn("12", "k1"))
            assert not await store.reachable()
            await command("REPLICAOF", "NO", "ONE")
            await store.client.config_set("maxmemory", "1")
            await _assert_unavailable(service, _turn("12", "k1"))
            await store.client.config_set("maxmemory", "0")
            assert (await service.execute_primitive(_turn("12", "k1"))).success
        finally:
            await store.aclose()

    async def test_busy_is_unavailable_and_other_errors_pass(self) -> None:
        """BUSY (a script running too long) is retryable; any other error is the caller's."""

        async def fail(error: Exception) -> None:
            raise error

        with pytest.raises(StoreUnavailableError):
            await _redis_events.bounded(fail(ResponseError("BUSY Redis is busy")), 1.0)
        with pytest.raises(ResponseError):
            await _redis_events.bounded(fail(ResponseError("WRONGTYPE a wrong kind")), 1.0)


async def _assert_unavailable(service: VoiceCoreService, request: ExecutePrimitiveRequest) -> None:
    response = await service.execute_primitive(request)
    assert response.error is not None
    assert (response.error.code, response.error.retryable) == (ErrorCode.UNAVAILABLE, True)


class TestOpening:
    async def test_memory_is_the_default(self) -> None:
        """Settings() opens the in-memory store."""
        store = await open_store(Settings())
        assert await store.reachable()
        await store.aclose()

    async def test_a_wrong_password_is_one_clear_error(self, tmp_path: Path) -> None:
        """The password is checked at start; the message shows the URL without it."""
        with running_redis(tmp_path, password="right") as redis:
            wrong = redis.url.replace("right", "wrong")
            with pytest.raises(StoreOpenError) as caught:
                await open_store(Settings(store=wrong))
            assert "wrong" not in str(caught.value) and ":***@" in str(caught.value)
            store = await open_store(
                Settings(store=redis.url.replace(":right@", ""), store_password=SecretStr("right"))
            )
            assert await store.reachable()
            await store.aclose()

    async def test_an_evicting_redis_is_warned_about(
        self, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """maxmemory-policy other than noeviction: one WARNING at open; noeviction, or CONFIG
        disabled (a managed Redis), none."""
        warnings: list[str] = []
        logger.enable("voicecore")
        handler = logger.add(lambda m: warnings.append(str(m)), level="WARNING")
        try:
            admin = Redis.from_url(redis.url)
            await admin.config_set("maxmemory-policy", "allkeys-lru")
            await (await open_redis_store(redis)).aclose()
            assert len(warnings) == 1 and "allkeys-lru" in warnings[0]
            await admin.config_set("maxmemory-policy", "noeviction")
            await (await open_redis_store(redis)).aclose()

            async def disabled(*args: Any) -> Any:
                raise ResponseError("ERR unknown command 'CONFIG'")

            monkeypatch.setattr(Redis, "config_get", disabled)
            await (await open_redis_store(redis)).aclose()
            assert len(warnings) == 1
            await admin.aclose()
        finally:
            logger.remove(handler)
            logger.disable("voicecore")

    def test_shown_url_hides_only_the_password(self) -> None:
        """user:secret@ becomes user:***@; a URL without one is unchanged."""
        assert shown_url("redis://u:secret@h:1/0") == "redis://u:***@h:1/0"
        assert shown_url("redis://h:1/0") == "redis://h:1/0"
        assert shown_url("redis://h/0?password=s3cret") == "redis://h/0?password=***"
        shown = shown_url("redis://h/0?db=1&Password=s3cret&timeout=2")
        assert shown == "redis://h/0?db=1&Password=***&timeout=2"
        assert shown_url("redis://:s3cret@[::1/0") == "<unparseable URL>"

    @pytest.mark.parametrize("store", ["redis://127.0.0.1:1/0", "postgres://x"])
    def test_serve_exits_at_start_with_one_line(self, store: str) -> None:
        """An unreachable Redis or a URL that is no store: exit 2, one line on stderr."""
        done = subprocess.run(
            [sys.executable, "-m", "voicecore", "serve", "--port", "0", "--store", store],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("voicecore serve: ")
        assert "store" in lines[0]
