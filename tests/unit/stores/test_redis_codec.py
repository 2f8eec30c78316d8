"""The Redis key names read back: a held capture's key name says its ``CaptureKey``; an event
entry reads back, unless the reader's filter rejects it."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from voicecore.capture import CaptureKey
from voicecore.events import EventFilter, NewEvent
from voicecore.stores._redis_codec import Keys, capture_key, decode_event, encode_event

_IDS = st.text(max_size=12)


@given(_IDS, _IDS, st.text(min_size=1, max_size=12), st.sampled_from(["vc", "a:b", "{x}"]))
def test_a_capture_key_name_reads_back(
    conversation_id: str, tenant: str, objective_type: str, prefix: str
) -> None:
    """Whatever the ids hold (colons, braces), the lengths in the tag say where each ends."""
    key = CaptureKey(conversation_id, objective_type, tenant)
    assert capture_key(Keys(prefix).capture(key).encode(), prefix) == key


def test_other_names_are_no_capture() -> None:
    keys = Keys("vc")
    record = keys.record(("a", "c", "k")).encode()
    named = keys.capture(CaptureKey("c", "o", "a")).encode()
    for name, prefix in ((record, "vc"), (named, "other"), (b"vc:cap:{1:a", "vc"), (b"", "vc")):
        assert capture_key(name, prefix) is None
    assert capture_key(b"vc:cap:{1:a:1:c}xo", "vc") is None


def test_an_event_entry_reads_back_unless_the_filter_rejects_it() -> None:
    event = NewEvent("a", "c1", "trace", "capture_number", {"value": "43"}, "t1")
    data = encode_event(event, datetime.now(UTC))
    for rejecting in (
        EventFilter(conversation_id="c2", tenant=None),
        EventFilter(types=frozenset({"b"}), tenant=None),
        EventFilter(tenant="t2"),
    ):
        assert decode_event(b"7-0", data, rejecting) is None
    for accepting in (None, EventFilter(conversation_id="c1", types=frozenset({"a"}), tenant="t1")):
        record = decode_event(b"7-0", data, accepting)
        assert record is not None
        assert (record.sequence, record.type, record.conversation_id, record.tenant) == (
            7,
            "a",
            "c1",
            "t1",
        )
        assert record.event.payload is not None
        assert record.event.payload.to_dict() == {"value": "43"}
