"""Idempotency: a request repeated under the same key gets the recorded response, and runs once.

``IdempotencyStore`` is the seam the executor receives; ``InMemoryIdempotencyStore`` is its
in-memory backend (a shared one is one more module). ``run(key, fingerprint, call)`` runs
``call`` for the first request with ``key`` and records its response; a later request with the
key and the same fingerprint gets that response back with ``replayed=True``. Requests that
arrive while the first is still running wait for it (one ``asyncio.Future`` per key in flight)
and get its response too, so the turn is applied once. If the first call raises or is cancelled
nothing is recorded and the key is released: a waiting or later retry runs the call itself. The
same key with another fingerprint is a different request: ``IdempotencyConflictError``
(``INVALID_PARAMS`` naming ``idempotency_key``). Records are kept encoded
(``encode``/``decode``), so what they cost is their size on the wire, and are bounded by count
and by bytes (least recently used go first); they expire ``ttl`` seconds after they were
recorded. Keys are any hashable value: a tuple of conversation id and idempotency key cannot
collide the way a joined string can.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from cachetools import TTLCache
from loguru import logger

from voicecore.errors import IdempotencyConflictError

__all__ = [
    "IdempotencyConflictError",
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "fingerprint",
]

T = TypeVar("T")


def fingerprint(*parts: str | bytes) -> str:
    """A digest of what makes a request what it is (e.g. its objective type and params)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        # Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class IdempotencyStore(Protocol[T]):
    """Where responses are recorded by idempotency key (see the module docstring)."""

    async def run(
        self,
        key: Hashable,
        fingerprint: str,
        call: Callable[[], Awaitable[T]],
        *,
        record_if: Callable[[T], bool] | None = None,
    ) -> tuple[T, bool]:
        """``(response, replayed)``: the recorded response for ``key``, or ``call()``'s.

        ``record_if`` may refuse to record a response (a retryable failure), so that a retry
        runs the call again. Raises ``IdempotencyConflictError`` when ``key`` belongs to a
        request with another ``fingerprint``; re-raises what ``call`` raises, recording nothing.
        """
        ...


@dataclass(frozen=True, slots=True)
class _Record:
    fingerprint: str
    response: bytes


@dataclass(frozen=True, slots=True)
class _InFlight:
    """A first call still running; ``done`` gets its record, or None if it recorded nothing."""

    fingerprint: str
    done: asyncio.Future[_Record | None]


class InMemoryIdempotencyStore(Generic[T]):
    """Recorded responses by idempotency key: at most ``max_entries`` and ``max_bytes`` of
    encoded responses, each for ``ttl`` seconds.

    Each record weighs its encoded size but at least ``max_bytes / max_entries``, so one
    weighed bound keeps both. A response larger than ``max_bytes`` is not recorded (a repeat
    runs again); keep ``max_bytes`` well above the largest response. ``clock`` is injectable
    for tests. Not thread-safe: use it from one event loop.
    """

    def __init__(
        self,
        *,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        max_entries: int = 100_000,
        max_bytes: int = 128 * 1024 * 1024,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError('"max_entries" should be positive')
        if not ttl > 0:
            raise ValueError('"ttl" should be positive')
        self._encode = encode
        self._decode = decode
        floor = max(1, max_bytes // max_entries)
        self._records: TTLCache[Hashable, _Record, float] = TTLCache(
            maxsize=max_bytes,
            ttl=ttl,
            timer=clock,
            getsizeof=lambda record: max(floor, len(record.response)),
        )
        self._in_flight: dict[Hashable, _InFlight] = {}

    async def run(
        self,
        key: Hashable,
        fingerprint: str,
        call: Callable[[], Awaitable[T]],
        *,
        record_if: Callable[[T], bool] | None = None,
    ) -> tuple[T, bool]:
        """``(response, replayed)``: the recorded response for ``key``, or ``call()``'s.

        ``record_if`` may refuse to record a response (a retryable failure), so that a retry
        runs the call again. Raises ``IdempotencyConflictError`` when ``key`` belongs to a
        request with another ``fingerprint``; re-raises what ``call`` raises, recording nothing.
        """
        while True:
            record = self._records.get(key)
            if record is not None:
                _check_same_request(record.fingerprint, fingerprint)
                return self._decode(record.response), True
            in_flight = self._in_flight.get(key)
            if in_flight is None:
                return await self._run_first(key, fingerprint, call, record_if), False
            _check_same_request(in_flight.fingerprint, fingerprint)
            # Shielded: a waiter that is cancelled must not cancel the first call's future.
            outcome = await asyncio.shield(in_flight.done)
            if outcome is not None:
                return self._decode(outcome.response), True
            # The first call recorded nothing: look again, and run the call if no one else does.

    async def _run_first(
        self,
        key: Hashable,
        fingerprint: str,
        call: Callable[[], Awaitable[T]],
        record_if: Callable[[T], bool] | None,
    ) -> T:
        done: asyncio.Future[_Record | None] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = _InFlight(fingerprint, done)
        recorded: _Record | None = None
        try:
            response = await call()
            if record_if is None or record_if(response):
                recorded = self._record(key, _Record(fingerprint, self._encode(response)))
            return response
        finally:
            del self._in_flight[key]
            done.set_result(recorded)

    def _record(self, key: Hashable, record: _Record) -> _Record | None:
        try:
            self._records[key] = record
        except ValueError:  # cachetools: larger than the whole bound
            logger.warning("response too large to record", size=len(record.response))
            return None
        return record

    def __len__(self) -> int:
        """How many unexpired responses are recorded."""
        return len(self._records)

    @property
    def recorded_bytes(self) -> int:
        """The weight of the records kept: their encoded sizes, each at least the floor."""
        return int(self._records.currsize)


def _check_same_request(recorded: str, fingerprint: str) -> None:
    if recorded != fingerprint:
        raise IdempotencyConflictError()
