"""Held captures Redis expires are counted once across replicas (stores._redis_expiry).

Captures live 200 ms here: a test waits for the TTL itself (``until`` the key is gone), never a
sleep. Stores built with a sweep an hour apart are swept by hand (``expiry.sweep()``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from typing import Any, cast

import pytest
from loguru import logger
from prometheus_client import CollectorRegistry
from redis.exceptions import TimeoutError as RedisTimeoutError

from tests._redis import RedisServer, open_redis_store
from tests._waiting import until
from voicecore import _metrics
from voicecore.capture import CaptureKey, CaptureState
from voicecore.capture._expiry import Lost
from voicecore.capture._store import CaptureWrite
from voicecore.config import Settings
from voicecore.events import NewEvent
from voicecore.registry import default_registry
from voicecore.stores import TurnWrites, _redis_expiry
from voicecore.stores._redis import RedisStore

pytestmark = pytest.mark.integration

_TTL = 0.2
_HAND = 3600.0  # a sweep interval no test reaches: swept by hand
KEY = CaptureKey("conv-1", "capture_email", "a")


async def _open(redis: RedisServer, prefix: str = "", **options: Any) -> RedisStore:
    options.setdefault("sweep_seconds", _HAND)
    return await open_redis_store(redis, prefix=prefix, capture_ttl=_TTL, **options)


@pytest.fixture
async def store(redis: RedisServer) -> AsyncIterator[RedisStore]:
    opened = await _open(redis)
    try:
        yield opened
    finally:
        await opened.aclose()


def _heard(store: RedisStore) -> list[tuple[Hashable, Lost]]:
    heard: list[tuple[Hashable, Lost]] = []
    store.on_lost.append(lambda key, why: heard.append((key, why)))
    return heard


async def _hold(store: RedisStore, key: CaptureKey = KEY, expected: int | None = None) -> None:
    write = CaptureWrite(key, CaptureState(partial="1"), expected)
    await store.commit(
        TurnWrites((NewEvent("said", key.conversation_id, tenant=key.tenant),), (write,))
    )


async def _gone(store: RedisStore, key: CaptureKey = KEY) -> None:
    name = store.keys.capture(key)
    await until(lambda: _missing(store, name))


async def _missing(store: RedisStore, name: str) -> bool:
    return not await store.client.exists(name)


async def _held(store: RedisStore) -> list[bytes]:
    return cast("list[bytes]", await store.client.zrange(store.keys.held, 0, -1))


class TestHeldSet:
    async def test_a_write_holds_the_key_until_its_expiry(self, store: RedisStore) -> None:
        """The member is the capture key, scored by when Redis expires it (its own clock)."""
        before = await _redis_ms(store)
        await _hold(store)
        after = await _redis_ms(store)
        score = await store.client.zscore(store.keys.held, store.keys.capture(KEY))
        assert score is not None and before + _TTL * 1000 <= score <= after + _TTL * 1000

    async def test_a_capture_that_ends_is_not_counted(self, store: RedisStore) -> None:
        """Forgetting the state (the capture completed or failed) takes it out of the set."""
        heard = _heard(store)
        await _hold(store)
        version = (await store.load(KEY)).version
        forget = CaptureWrite(KEY, None, version)
        await store.commit(TurnWrites((NewEvent("done", "conv-1", tenant="a"),), (forget,)))
        assert await _held(store) == []
        assert await store.expiry.sweep() == 0 and heard == []

    async def test_an_expired_capture_is_counted_with_its_key(self, store: RedisStore) -> None:
        heard = _heard(store)
        other = CaptureKey("x:}{2", "capture_date", "")
        await _hold(store)
        await _hold(store, other)
        await _gone(store)
        await _gone(store, other)
        assert await store.expiry.sweep() == 2
        assert sorted(heard, key=str) == sorted([(KEY, "expired"), (other, "expired")], key=str)
        assert await _held(store) == [] and await store.expiry.sweep() == 0

    async def test_a_burst_is_swept_within_one_tick(
        self, store: RedisStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """More expiries than one sweep takes: a tick sweeps again while sweeps come back
        full, and stops at the first short one."""
        monkeypatch.setattr(_redis_expiry, "SWEEP_BATCH", 2)
        keys = [CaptureKey(f"conv-{i}", "capture_email", "a") for i in range(5)]
        for key in keys:
            await _hold(store, key)
        for key in keys:
            await _gone(store, key)
        assert await store.expiry.sweep_due() == 5
        assert await _held(store) == [] and await store.expiry.sweep_due() == 0

    async def test_an_extended_ttl_is_not_counted(self, store: RedisStore) -> None:
        """A key due by its score but still there had its TTL extended: scored again by it."""
        heard = _heard(store)
        await _hold(store)
        name = store.keys.capture(KEY)
        await store.client.pexpire(name, 60_000)
        await until(lambda: _due(store, name))
        assert await store.expiry.sweep() == 0 and heard == []
        score = await store.client.zscore(store.keys.held, name)
        assert score is not None and score > await _redis_ms(store) + 50_000

    async def test_a_key_without_ttl_leaves_uncounted(self, store: RedisStore) -> None:
        heard = _heard(store)
        await _hold(store)
        name = store.keys.capture(KEY)
        await store.client.persist(name)
        await until(lambda: _due(store, name))
        assert await store.expiry.sweep() == 0 and heard == [] and await _held(store) == []

    async def test_a_member_of_no_capture_is_told_by_its_name(self, store: RedisStore) -> None:
        heard = _heard(store)
        await store.client.zadd(store.keys.held, {b"stranger": 1})
        assert await store.expiry.sweep() == 1 and heard == [(b"stranger", "expired")]

    async def test_erasure_takes_the_conversation_out(self, store: RedisStore) -> None:
        other = CaptureKey("conv-2", "capture_email", "a")
        await _hold(store)
        await _hold(store, other)
        await store.erase(NewEvent("conversation.deleted", "conv-1", tenant="a"))
        assert await _held(store) == [store.keys.capture(other).encode()]


async def _due(store: RedisStore, name: str) -> bool:
    score = await store.client.zscore(store.keys.held, name)
    return score is not None and score <= await _redis_ms(store)


async def _redis_ms(store: RedisStore) -> int:
    seconds, micros = await store.client.time()
    return int(seconds) * 1000 + int(micros) // 1000


class TestFleet:
    async def test_two_replicas_count_each_expiry_once(self, redis: RedisServer) -> None:
        """Two stores sweeping one Redis every 10 ms: every expired capture counted once,
        of its objective type, and the set is empty after all expired."""
        first = await _open(redis, sweep_seconds=0.01)
        second = await _open(redis, prefix=first.keys.prefix, sweep_seconds=0.01)
        registries = [CollectorRegistry(), CollectorRegistry()]
        try:
            for store, registry in zip((first, second), registries, strict=True):
                _metrics.observability(
                    Settings(), default_registry(), (), store.events, {}, registry, store
                )
                assert len(store.on_lost) == 1
            keys = [CaptureKey(f"conv-{i}", "capture_email", "a") for i in range(40)]
            for i, key in enumerate(keys):
                await _hold(first if i % 2 else second, key)
            labels = {"objective_type": "capture_email", "result": "expired"}

            def counted() -> float:
                return sum(
                    r.get_sample_value("voicecore_capture_results_total", labels) or 0
                    for r in registries
                )

            await until(lambda: counted() >= len(keys))
            assert await _held(first) == []
            assert await first.expiry.sweep() == 0 and await second.expiry.sweep() == 0
            assert counted() == len(keys)
        finally:
            await first.aclose()
            await second.aclose()

    async def test_an_outage_is_logged_once(self, redis: RedisServer) -> None:
        """Redis gone: one WARNING however many sweeps fail, one INFO when it is back."""
        store = await _open(redis, sweep_seconds=0.01, timeout=0.5)
        logs: list[str] = []
        logger.enable("voicecore")
        handler = logger.add(
            lambda m: logs.append(m.record["level"].name),
            level="INFO",
            filter=lambda record: "sweep" in record["message"],
        )
        sweeps = 0
        sweep = store.expiry.sweep

        async def counting() -> int:
            nonlocal sweeps
            sweeps += 1
            return await sweep()

        store.expiry.sweep = counting  # type: ignore[method-assign]
        try:
            redis.stop()
            await until(lambda: "WARNING" in logs)
            seen = sweeps
            await until(lambda: sweeps >= seen + 3)
            assert logs == ["WARNING"]
            redis.start()
            await until(lambda: "INFO" in logs)
            assert logs == ["WARNING", "INFO"]
        finally:
            logger.remove(handler)
            logger.disable("voicecore")
            await store.aclose()


class TestListenerFailure:
    async def test_a_listener_that_raises_costs_no_other_its_count(
        self, redis: RedisServer
    ) -> None:
        """Three captures expire in one sweep and a listener raises on the first: the error is
        logged (its type, nothing of the key), every listener hears all three, and the sweep
        goes on to a capture that expires later."""
        store = await _open(redis)
        errors: list[str] = []
        logger.enable("voicecore")
        handler = logger.add(lambda m: errors.append(m.record["message"]), level="ERROR")
        told: list[Hashable] = []

        def failing_on_the_first(key: Hashable, why: Lost) -> None:
            told.append(key)
            if len(told) == 1:
                raise KeyError("conv-0")

        store.on_lost.append(failing_on_the_first)
        heard = _heard(store)
        keys = [CaptureKey(f"conv-{i}", "capture_email", "a") for i in range(3)]
        try:
            for key in keys:
                await _hold(store, key)
            for key in keys:
                await _gone(store, key)
            assert await store.expiry.sweep() == 3
            assert sorted(told, key=str) == sorted(keys, key=str)
            assert sorted((k for k, _ in heard), key=str) == sorted(keys, key=str)
            assert errors == ["a listener of expired captures failed: KeyError"]
            later = CaptureKey("conv-later", "capture_email", "a")
            await _hold(store, later)
            await _gone(store, later)
            assert await store.expiry.sweep() == 1 and (later, "expired") in heard
        finally:
            logger.remove(handler)
            logger.disable("voicecore")
            await store.aclose()


class TestStopping:
    @pytest.mark.parametrize("swallowed_as", ["reply", "timeout"])
    async def test_a_cancel_the_client_swallows_still_stops_the_sweep(
        self, redis: RedisServer, swallowed_as: str
    ) -> None:
        """redis-py can swallow a cancel that lands in a command (a reply, or its own read
        timeout, comes back instead): the sweep stops all the same, so closing returns. Before,
        a store sweeping every few milliseconds hung its ``aclose`` within a few closes."""
        store = await _open(redis, sweep_seconds=0.001)
        script = store.expiry._script
        sweeping = asyncio.Event()
        swallowed = 0

        async def swallowing(**arguments: Any) -> Any:
            nonlocal swallowed
            sweeping.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:  # as redis-py can
                swallowed += 1
                if swallowed_as == "timeout":
                    raise RedisTimeoutError("Timeout reading from socket") from None
            return await script(**arguments)

        store.expiry._script = swallowing  # type: ignore[assignment]
        await sweeping.wait()  # the sweep is in its command: the cancel lands there
        await asyncio.wait_for(store.aclose(), 10)
        assert swallowed == 1
        assert store.expiry._task is not None and store.expiry._task.cancelled()
