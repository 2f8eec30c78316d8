"""The Redis key names read back: a held capture's key name says its ``CaptureKey``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voicecore.capture import CaptureKey
from voicecore.stores._redis_codec import Keys, capture_key

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
