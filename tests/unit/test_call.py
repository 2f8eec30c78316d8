"""Trace id resolution: field, trace-id metadata, W3C traceparent, generated."""

from __future__ import annotations

import re

from voicecore._call import CallInfo, resolve_trace_id, trace_id_from_metadata
from voicecore._trace import new_trace_id

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class TestTraceIdFromMetadata:
    def test_trace_id_key_first(self) -> None:
        """trace-id wins over traceparent."""
        assert trace_id_from_metadata({"trace-id": "abc", "traceparent": TRACEPARENT}) == "abc"

    def test_traceparent(self) -> None:
        """The second field of a valid traceparent is the trace id."""
        assert trace_id_from_metadata({"traceparent": TRACEPARENT}) == TRACEPARENT[3:35]

    def test_invalid_traceparents(self) -> None:
        """Malformed, all-zero or binary values give nothing."""
        zero = "00-" + "0" * 32 + "-00f067aa0ba902b7-01"
        for value in ("x", zero, TRACEPARENT[:-1], b"bytes"):
            assert trace_id_from_metadata({"traceparent": value}) == ""


class TestResolve:
    def test_precedence(self) -> None:
        """Field, then metadata, then generated."""
        call = CallInfo(metadata_trace_id="meta")
        assert resolve_trace_id("field", call) == "field"
        assert resolve_trace_id("", call) == "meta"
        generated = resolve_trace_id("", None)
        assert re.fullmatch("[0-9a-f]{32}", generated)

    def test_new_ids_are_unique(self) -> None:
        """Two generated ids differ."""
        assert new_trace_id() != new_trace_id()
