"""The shared shape of capture primitives: common params, one reading per hypothesis.

A capture primitive only says how to read one ASR hypothesis (``read``) and, optionally, how an
answer edits a held value (``correct``). Choosing among the n-best hypotheses
(``voicecore.primitives._nbest``) and moving the capture through its states
(``voicecore.capture``) is shared, so every primitive behaves the same across turns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import Field, field_validator

from voicecore.primitives.base import (
    JsonValue,
    PrimitiveParams,
)

__all__ = [
    "CAPTURE_EVENT_TYPES",
    "CONFIRMED",
    "CORRECTED",
    "FAILED",
    "REJECTED",
    "SUPPORTED_LOCALES",
    "VALUE_CAPTURED",
    "Alternative",
    "CaptureParams",
    "Reading",
    "UtteranceParams",
]

SUPPORTED_LOCALES = ("en-US",)
_MAX_TRANSCRIPTION = 2000

VALUE_CAPTURED = "capture.value_captured"
CONFIRMED = "capture.confirmed"
CORRECTED = "capture.corrected"
REJECTED = "capture.rejected"
FAILED = "capture.failed"
#: The events every capture primitive may emit (payloads carry the value redacted).
CAPTURE_EVENT_TYPES = (VALUE_CAPTURED, CONFIRMED, CORRECTED, REJECTED, FAILED)


class Alternative(PrimitiveParams):
    """One n-best hypothesis from the ASR; a confidence of 0 means the ASR gave none."""

    transcription: str = Field(max_length=_MAX_TRANSCRIPTION)
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class UtteranceParams(PrimitiveParams):
    """What the ASR heard this turn: the params of every primitive that listens to the caller."""

    transcription: str = Field(max_length=_MAX_TRANSCRIPTION)
    alternatives: tuple[Alternative, ...] = Field(default=(), max_length=10)
    asr_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    locale: str = "en-US"

    @field_validator("locale")
    @classmethod
    def _locale_is_supported(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value


class CaptureParams(UtteranceParams):
    """Params every capture primitive takes (DESIGN.md section 3)."""

    require_confirmation: bool = True
    max_attempts: int = Field(default=3, ge=1, le=10)
    reset: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    """What one hypothesis says.

    ``value`` is canonical (or None when nothing usable was heard, with a ``reason`` code);
    ``parts`` are the type-specific fields of ``data``; ``certainty`` (0..1) is how sure the
    parse is, independent of the ASR; ``partial`` is an incomplete value worth keeping for the
    next turn (six digits of a phone number), and ``readback`` then says that partial aloud.
    """

    value: str | None
    readback: str = ""
    parts: Mapping[str, JsonValue] = field(default_factory=dict)
    certainty: float = 1.0
    reason: str | None = None
    partial: str | None = None
