"""The events a capture emits; their payloads carry the value only redacted."""

from __future__ import annotations

__all__ = [
    "CAPTURE_EVENT_TYPES",
    "CONFIRMED",
    "CORRECTED",
    "FAILED",
    "REJECTED",
    "VALUE_CAPTURED",
]

VALUE_CAPTURED = "capture.value_captured"
CONFIRMED = "capture.confirmed"
CORRECTED = "capture.corrected"
REJECTED = "capture.rejected"
FAILED = "capture.failed"
#: The events every capture primitive may emit (payloads carry the value redacted).
CAPTURE_EVENT_TYPES = (VALUE_CAPTURED, CONFIRMED, CORRECTED, REJECTED, FAILED)
