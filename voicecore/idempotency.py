"""Idempotency: a request repeated under the same key gets the recorded response, and runs once.

A turn with an idempotency key commits a ``Claim`` with its other writes (``voicecore.stores``):
the commit first looks for a ``Record`` under the key, and if there is one the turn's own
writes are dropped and the record is replayed (``replayed=True``); otherwise the record is
written in the same atomic commit as the turn's state and events. So a turn is applied once
per key however many replicas or tasks run it at once: the first to commit wins, the others
replay its record. The same key with another fingerprint is a different request:
``IdempotencyConflictError`` (``INVALID_PARAMS`` naming ``idempotency_key``). A claim whose
response is None (a retryable failure) records nothing, so a retry runs again.

Records hold the response in its wire form without ``last_event_sequence``: the commit assigns
the sequences, so each record keeps the sequence of its turn's last event beside the bytes.
``InMemoryIdempotencyStore`` keeps them bounded by count and by bytes (least recently used go
first), each for ``ttl`` seconds after it was recorded. Keys are any hashable value: a tuple of
tenant, conversation id and idempotency key cannot collide the way a joined string can.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from cachetools import TTLCache
from loguru import logger

from voicecore.errors import IdempotencyConflictError

__all__ = [
    "Claim",
    "IdempotencyConflictError",
    "InMemoryIdempotencyStore",
    "Record",
    "fingerprint",
]


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
class Record:
    """A recorded response: the request's fingerprint, the encoded response and the sequence of
    the last event its turn wrote."""

    fingerprint: str
    response: bytes
    last_sequence: int

    def check(self, fingerprint: str) -> None:
        """Raise ``IdempotencyConflictError`` unless ``fingerprint`` is this record's request."""
        if fingerprint != self.fingerprint:
            raise IdempotencyConflictError()


@dataclass(frozen=True, slots=True)
class Claim:
    """A turn's idempotency key: replay what is recorded under it, or record ``response``
    (None: a retryable outcome, not recorded)."""

    key: Hashable
    fingerprint: str
    response: bytes | None


class InMemoryIdempotencyStore:
    """Records by idempotency key: at most ``max_entries`` and ``max_bytes`` of encoded
    responses, each for ``ttl`` seconds.

    Each record weighs its encoded size but at least ``max_bytes / max_entries``, so one
    weighed bound keeps both. A response larger than ``max_bytes`` is not recorded (a repeat
    runs again); keep ``max_bytes`` well above the largest response. ``clock`` is injectable
    for tests. Not thread-safe: use it from one event loop.
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        max_bytes: int = 128 * 1024 * 1024,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError('"max_entries" should be positive')
        if not ttl > 0:
            raise ValueError('"ttl" should be positive')
        floor = max(1, max_bytes // max_entries)
        self._records: TTLCache[Hashable, Record, float] = TTLCache(
            maxsize=max_bytes,
            ttl=ttl,
            timer=clock,
            getsizeof=lambda record: max(floor, len(record.response)),
        )

    def get(self, key: Hashable) -> Record | None:
        """The record kept under ``key``, or None."""
        return self._records.get(key)

    def keep(self, key: Hashable, record: Record) -> None:
        """Record ``record`` under ``key`` (unless it is larger than the whole bound)."""
        try:
            self._records[key] = record
        except ValueError:  # cachetools: larger than the whole bound
            logger.warning("response too large to record", size=len(record.response))

    def forget_conversation(self, tenant: str, conversation_id: str) -> int:
        """Forget the records of ``tenant``'s ``conversation_id`` (keys ``(tenant,
        conversation_id, key)``, as the executor makes them); returns how many were kept."""
        keys = [
            key
            for key in self._records
            if isinstance(key, tuple) and key[:2] == (tenant, conversation_id)
        ]
        for key in keys:
            del self._records[key]
        return len(keys)

    def __len__(self) -> int:
        """How many unexpired responses are recorded."""
        return len(self._records)

    @property
    def recorded_bytes(self) -> int:
        """The weight of the records kept: their encoded sizes, each at least the floor."""
        return int(self._records.currsize)
