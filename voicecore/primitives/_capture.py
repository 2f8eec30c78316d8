"""The shared shape of capture primitives: common params, one reading per hypothesis, n-best.

A capture primitive only says how to read one ASR hypothesis (``read``) and, optionally, how an
answer edits a held value (``correct``). Choosing among hypotheses and moving the capture
through its states is shared, so every primitive behaves the same across turns.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from pydantic import Field, field_validator

from voicecore.capture import run_turn
from voicecore.primitives.base import (
    JsonValue,
    Primitive,
    PrimitiveContext,
    PrimitiveParams,
    PrimitiveResult,
    PrimitiveState,
)

__all__ = [
    "SUPPORTED_LOCALES",
    "Alternative",
    "CaptureParams",
    "CapturePrimitive",
    "Reading",
]

SUPPORTED_LOCALES = ("en-US",)
_MAX_TRANSCRIPTION = 2000


class Alternative(PrimitiveParams):
    """One n-best hypothesis from the ASR."""

    transcription: str = Field(max_length=_MAX_TRANSCRIPTION)
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class CaptureParams(PrimitiveParams):
    """Params every capture primitive takes (DESIGN.md section 3)."""

    transcription: str = Field(max_length=_MAX_TRANSCRIPTION)
    alternatives: tuple[Alternative, ...] = Field(default=(), max_length=10)
    asr_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    require_confirmation: bool = True
    max_attempts: int = Field(default=3, ge=1, le=10)
    locale: str = "en-US"
    reset: bool = False

    @field_validator("locale")
    @classmethod
    def _locale_is_supported(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value


@dataclass(frozen=True, slots=True)
class Reading:
    """What one hypothesis says.

    ``value`` is canonical (or None when nothing usable was heard, with a ``reason`` code);
    ``parts`` are the type-specific fields of ``data``; ``certainty`` (0..1) is how sure the
    parse is, independent of the ASR; ``partial`` is an incomplete value worth keeping for the
    next turn (six digits of a phone number).
    """

    value: str | None
    readback: str = ""
    parts: Mapping[str, JsonValue] = field(default_factory=dict)
    certainty: float = 1.0
    reason: str | None = None
    partial: str | None = None


CaptureParamsT = TypeVar("CaptureParamsT", bound=CaptureParams)


class CapturePrimitive(Primitive[CaptureParamsT], abc.ABC):
    """A primitive that captures one value over one or more turns."""

    params_model: ClassVar[type[PrimitiveParams]] = CaptureParams
    #: What the prompt calls the value, e.g. "email address".
    noun: ClassVar[str] = "value"

    @abc.abstractmethod
    def read(self, text: str, params: CaptureParamsT, partial: str | None) -> Reading:
        """Read one hypothesis; ``partial`` is what earlier turns kept, if anything."""

    def correct(self, held: str, text: str, params: CaptureParamsT) -> Reading | None:
        """Apply an answer that edits ``held`` in part ("s as in sam"); None if it does not."""
        return None

    async def execute(self, params: CaptureParamsT, ctx: PrimitiveContext) -> PrimitiveResult:
        return await run_turn(self, params, ctx)
