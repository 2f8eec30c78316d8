"""voicecore.idempotency: records, conflicts, bounds (tests/unit/stores: the commit)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._fakes import FakeClock
from voicecore.errors import InvalidParamsError
from voicecore.idempotency import (
    IdempotencyConflictError,
    InMemoryIdempotencyStore,
    Record,
    fingerprint,
)


def _record(response: bytes = b"response", fingerprint: str = "f") -> Record:
    return Record(fingerprint, response, last_sequence=7)


class TestRecord:
    def test_same_fingerprint_passes(self) -> None:
        """The request the record was made for may replay it."""
        _record().check("f")

    def test_other_fingerprint_is_a_conflict(self) -> None:
        """The same key with another fingerprint is INVALID_PARAMS naming idempotency_key."""
        with pytest.raises(IdempotencyConflictError) as caught:
            _record().check("other")
        assert isinstance(caught.value, InvalidParamsError)
        assert caught.value.code == "INVALID_PARAMS"
        errors = caught.value.details["errors"]
        assert isinstance(errors, list) and errors[0]["loc"] == ["idempotency_key"]


class TestBounds:
    def test_kept_record_is_found(self) -> None:
        """A record kept under a key is found under it, and only under it."""
        store = InMemoryIdempotencyStore()
        store.keep("k", _record())
        assert store.get("k") == _record()
        assert store.get("other") is None

    def test_records_expire_after_ttl(self) -> None:
        """After ttl seconds the record is gone."""
        clock = FakeClock()
        store = InMemoryIdempotencyStore(ttl=60.0, clock=clock)
        store.keep("k", _record())
        clock.now = 59.0
        assert store.get("k") is not None
        clock.now = 61.0
        assert store.get("k") is None

    def test_entries_are_bounded(self) -> None:
        """Beyond max_entries the least recently used record is dropped."""
        store = InMemoryIdempotencyStore(max_entries=2)
        for key in ("a", "b", "c"):
            store.keep(key, _record())
        assert len(store) == 2
        assert store.get("a") is None

    def test_bytes_are_bounded(self) -> None:
        """Large responses evict older ones by their encoded size, whatever the count."""
        store = InMemoryIdempotencyStore(max_entries=1000, max_bytes=1_000_000)
        for key in range(10):
            store.keep(key, _record(b"x" * 300_000))
        assert len(store) == 3
        assert store.recorded_bytes <= 1_000_000

    def test_a_response_larger_than_the_bound_is_not_recorded(self) -> None:
        """It is not recorded (a repeat runs again) rather than failing."""
        store = InMemoryIdempotencyStore(max_entries=10, max_bytes=100)
        store.keep("k", _record(b"x" * 1000))
        assert len(store) == 0

    def test_tuple_keys_do_not_collide(self) -> None:
        """("a\nb", "c") and ("a", "b\nc") are two keys (a joined string was one)."""
        store = InMemoryIdempotencyStore()
        store.keep(("a\nb", "c"), _record())
        assert store.get(("a", "b\nc")) is None

    @pytest.mark.parametrize(("max_entries", "ttl"), [(0, 1.0), (1, 0.0)])
    def test_rejects_non_positive_limits(self, max_entries: int, ttl: float) -> None:
        """max_entries and ttl must be positive."""
        bounds: dict[str, Any] = {"max_entries": max_entries, "ttl": ttl}
        with pytest.raises(ValueError, match="should be positive"):
            InMemoryIdempotencyStore(**bounds)


class TestFingerprint:
    def test_same_parts_same_digest(self) -> None:
        """Equal parts give equal fingerprints, str and bytes alike."""
        assert fingerprint("capture_email", b"\x01") == fingerprint(b"capture_email", b"\x01")

    def test_part_boundaries_matter(self) -> None:
        """("ab", "c") and ("a", "bc") are different requests."""
        assert fingerprint("ab", "c") != fingerprint("a", "bc")
