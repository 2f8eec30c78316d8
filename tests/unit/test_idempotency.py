"""voicecore.idempotency: recorded responses, one run per key, conflicts, bounds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests._fakes import FakeClock
from voicecore.errors import InvalidParamsError
from voicecore.idempotency import IdempotencyConflictError, InMemoryIdempotencyStore, fingerprint


def _strings(**bounds: Any) -> InMemoryIdempotencyStore[str]:
    """A store of str responses, recorded as their UTF-8 bytes."""
    return InMemoryIdempotencyStore(encode=str.encode, decode=bytes.decode, **bounds)


class Counter:
    """A call that counts its runs and answers with the run number."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self) -> str:
        self.runs += 1
        return f"response {self.runs}"


class Gate:
    """A call that blocks until the test opens it, then answers or raises."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.started = asyncio.Event()
        self.opened = asyncio.Event()
        self.error = error
        self.runs = 0

    async def __call__(self) -> str:
        self.runs += 1
        self.started.set()
        await self.opened.wait()
        if self.error is not None and self.runs == 1:
            raise self.error
        return f"response {self.runs}"


class TestReplay:
    async def test_repeat_gets_recorded_response(self) -> None:
        """The same key and fingerprint replay the first response without running again."""
        store = _strings()
        call = Counter()
        assert await store.run("k", "f", call) == ("response 1", False)
        assert await store.run("k", "f", call) == ("response 1", True)
        assert call.runs == 1

    async def test_keys_are_independent(self) -> None:
        """Another key runs the call again."""
        store = _strings()
        call = Counter()
        await store.run("a", "f", call)
        assert await store.run("b", "f", call) == ("response 2", False)

    async def test_different_request_under_same_key_is_a_conflict(self) -> None:
        """The same key with another fingerprint is INVALID_PARAMS naming idempotency_key."""
        store = _strings()
        await store.run("k", "f1", Counter())
        with pytest.raises(IdempotencyConflictError) as caught:
            await store.run("k", "f2", Counter())
        assert isinstance(caught.value, InvalidParamsError)
        assert caught.value.code == "INVALID_PARAMS"
        errors = caught.value.details["errors"]
        assert isinstance(errors, list) and errors[0]["loc"] == ["idempotency_key"]

    async def test_unrecorded_response_runs_again(self) -> None:
        """A response refused by record_if is returned but not replayed."""
        store = _strings()
        call = Counter()
        first = await store.run("k", "f", call, record_if=lambda r: False)
        assert first == ("response 1", False)
        assert await store.run("k", "f", call) == ("response 2", False)


class TestConcurrency:
    async def test_concurrent_duplicates_wait_for_the_first(self) -> None:
        """Duplicates arriving while the first runs get its response; the call runs once."""
        store = _strings()
        gate = Gate()
        first = asyncio.create_task(store.run("k", "f", gate))
        await gate.started.wait()
        duplicates = [asyncio.create_task(store.run("k", "f", gate)) for _ in range(3)]
        await asyncio.sleep(0)
        gate.opened.set()
        assert await first == ("response 1", False)
        assert [await d for d in duplicates] == [("response 1", True)] * 3
        assert gate.runs == 1

    async def test_concurrent_conflict_is_refused_at_once(self) -> None:
        """A different request under an in-flight key fails without waiting."""
        store = _strings()
        gate = Gate()
        first = asyncio.create_task(store.run("k", "f", gate))
        await gate.started.wait()
        with pytest.raises(IdempotencyConflictError):
            await store.run("k", "other", gate)
        gate.opened.set()
        await first

    async def test_failed_first_call_releases_the_key(self) -> None:
        """If the first call raises, nothing is recorded and a waiting retry runs the call."""
        store = _strings()
        gate = Gate(error=RuntimeError("boom"))
        first = asyncio.create_task(store.run("k", "f", gate))
        await gate.started.wait()
        retry = asyncio.create_task(store.run("k", "f", gate))
        await asyncio.sleep(0)
        gate.opened.set()
        with pytest.raises(RuntimeError, match="boom"):
            await first
        assert await retry == ("response 2", False)
        assert await store.run("k", "f", gate) == ("response 2", True)

    async def test_cancelled_first_call_releases_the_key(self) -> None:
        """A cancelled first call records nothing; the next request runs the call."""
        store = _strings()
        gate = Gate()
        first = asyncio.create_task(store.run("k", "f", gate))
        await gate.started.wait()
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        gate.opened.set()
        assert await store.run("k", "f", gate) == ("response 2", False)

    async def test_cancelled_waiter_does_not_cancel_the_first(self) -> None:
        """A duplicate that gives up waiting leaves the first call running."""
        store = _strings()
        gate = Gate()
        first = asyncio.create_task(store.run("k", "f", gate))
        await gate.started.wait()
        waiter = asyncio.create_task(store.run("k", "f", gate))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        gate.opened.set()
        assert await first == ("response 1", False)


class TestBounds:
    async def test_records_expire_after_ttl(self) -> None:
        """After ttl seconds the key runs the call again."""
        clock = FakeClock()
        store = _strings(ttl=60.0, clock=clock)
        call = Counter()
        await store.run("k", "f", call)
        clock.now = 59.0
        assert (await store.run("k", "f", call))[1] is True
        clock.now = 61.0
        assert await store.run("k", "f", call) == ("response 2", False)

    async def test_entries_are_bounded(self) -> None:
        """Beyond max_entries the least recently used record is dropped."""
        store = _strings(max_entries=2)
        call = Counter()
        for key in ("a", "b", "c"):
            await store.run(key, "f", call)
        assert len(store) == 2
        assert await store.run("a", "f", call) == ("response 4", False)

    async def test_bytes_are_bounded(self) -> None:
        """Large responses evict older ones by their encoded size, whatever the count."""
        store = _strings(max_entries=1000, max_bytes=1_000_000)

        async def large() -> str:
            return "x" * 300_000

        for key in range(10):
            await store.run(key, "f", large)
        assert len(store) == 3
        assert store.recorded_bytes <= 1_000_000

    async def test_a_response_larger_than_the_bound_is_not_recorded(self) -> None:
        """It is answered, not recorded: a repeat runs again instead of failing."""
        store = _strings(max_entries=10, max_bytes=100)

        async def huge() -> str:
            return "x" * 1000

        assert await store.run("k", "f", huge) == ("x" * 1000, False)
        assert len(store) == 0

    async def test_tuple_keys_do_not_collide(self) -> None:
        """("a\nb", "c") and ("a", "b\nc") are two keys (a joined string was one)."""
        store = _strings()
        call = Counter()
        await store.run(("a\nb", "c"), "f", call)
        assert await store.run(("a", "b\nc"), "f", call) == ("response 2", False)

    @pytest.mark.parametrize(("max_entries", "ttl"), [(0, 1.0), (1, 0.0)])
    def test_rejects_non_positive_limits(self, max_entries: int, ttl: float) -> None:
        """max_entries and ttl must be positive."""
        with pytest.raises(ValueError, match="should be positive"):
            _strings(max_entries=max_entries, ttl=ttl)


class TestFingerprint:
    def test_same_parts_same_digest(self) -> None:
        """Equal parts give equal fingerprints, str and bytes alike."""
        assert fingerprint("capture_email", b"\x01") == fingerprint(b"capture_email", b"\x01")

    def test_part_boundaries_matter(self) -> None:
        """("ab", "c") and ("a", "bc") are different requests."""
        assert fingerprint("ab", "c") != fingerprint("a", "bc")
