"""Idempotency: a request repeated under the same key gets the recorded response, and runs once.

``IdempotencyStore.run(key, fingerprint, call)`` runs ``call`` for the first request with
``key`` and records its response; a later request with the key and the same fingerprint gets
that response back with ``replayed=True``. Requests that arrive while the first is still
running wait for it (one ``asyncio.Future`` per key in flight) and get its response too, so
the turn is applied once. If the first call raises or is cancelled nothing is recorded and
the key is released: a waiting or later retry runs the call itself. The same key with another
fingerprint is a different request: ``IdempotencyConflictError`` (``INVALID_PARAMS`` naming
``idempotency_key``). Records are bounded (least recently used go first) and expire ``ttl``
seconds after they were recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import TTLCache

from voicecore.errors import InvalidParamsError

__all__ = ["IdempotencyConflictError", "IdempotencyStore", "fingerprint"]

T = TypeVar("T")


class IdempotencyConflictError(InvalidParamsError):
    """The idempotency key was already used for a request with different content."""

    def __init__(self) -> None:
        message = "idempotency_key was already used for a different request"
        super().__init__(
            message,
            [{"loc": ["idempotency_key"], "msg": message, "type": "idempotency_conflict"}],
        )


def fingerprint(*parts: str | bytes) -> str:
    """A digest of what makes a request what it is (e.g. its objective type and params)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        # Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class _Record(Generic[T]):
    fingerprint: str
    response: T


@dataclass(frozen=True, slots=True)
class _InFlight(Generic[T]):
    """A first call still running; ``done`` gets its record, or None if it recorded nothing."""

    fingerprint: str
    done: asyncio.Future[_Record[T] | None]


class IdempotencyStore(Generic[T]):
    """Recorded responses by idempotency key: at most ``max_entries``, each for ``ttl`` seconds.

    ``clock`` is injectable for tests. Not thread-safe: use it from one event loop.
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError('"max_entries" should be positive')
        if not ttl > 0:
            raise ValueError('"ttl" should be positive')
        self._records: TTLCache[str, _Record[T], float] = TTLCache(
            maxsize=max_entries, ttl=ttl, timer=clock
        )
        self._in_flight: dict[str, _InFlight[T]] = {}

    async def run(
        self,
        key: str,
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
                return record.response, True
            in_flight = self._in_flight.get(key)
            if in_flight is None:
                return await self._run_first(key, fingerprint, call, record_if), False
            _check_same_request(in_flight.fingerprint, fingerprint)
            # Shielded: a waiter that is cancelled must not cancel the first call's future.
            outcome = await asyncio.shield(in_flight.done)
            if outcome is not None:
                return outcome.response, True
            # The first call recorded nothing: look again, and run the call if no one else does.

    async def _run_first(
        self,
        key: str,
        fingerprint: str,
        call: Callable[[], Awaitable[T]],
        record_if: Callable[[T], bool] | None,
    ) -> T:
        done: asyncio.Future[_Record[T] | None] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = _InFlight(fingerprint, done)
        recorded: _Record[T] | None = None
        try:
            response = await call()
            if record_if is None or record_if(response):
                recorded = _Record(fingerprint, response)
                self._records[key] = recorded
            return response
        finally:
            del self._in_flight[key]
            done.set_result(recorded)

    def __len__(self) -> int:
        """How many unexpired responses are recorded."""
        return len(self._records)


def _check_same_request(recorded: str, fingerprint: str) -> None:
    if recorded != fingerprint:
        raise IdempotencyConflictError()
