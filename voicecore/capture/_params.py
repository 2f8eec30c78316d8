"""The params every primitive that listens to the caller takes, and those of a capture."""

from __future__ import annotations

from pydantic import Field, field_validator

from voicecore.primitive import PrimitiveParams

__all__ = ["SUPPORTED_LOCALES", "Alternative", "CaptureParams", "UtteranceParams"]

SUPPORTED_LOCALES = ("en-US",)
_MAX_TRANSCRIPTION = 2000


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
    """Params every capture primitive takes (the turn they drive: ``voicecore.capture``)."""

    require_confirmation: bool = True
    max_attempts: int = Field(default=3, ge=1, le=10)
    #: Answers to a readback that are not understood ("the last digit is three" where no
    #: such edit applies) keep the held value and ask again, without spending an attempt;
    #: one more than this many in one capture ends it FAILED (reason ``unclear_answers``,
    #: the value still unconfirmed in ``data.unconfirmed_value``). Answers without a value
    #: ("none of them", two options of a choice equally close) spend no attempt this many
    #: times too, counted apart; past that each spends an attempt. So a capture without
    #: partial values (capture_choice) ends within ``2 * max_attempts + 3 * max_unclear`` turns.
    max_unclear: int = Field(default=2, ge=0, le=10)
    #: The capture ends by its ``max_turns``-th turn: one that would leave it still waiting
    #: (a partial value, a "*" on the keypad, a readback to answer) ends it FAILED instead,
    #: reason ``too_many_turns``, the value read back last in ``data.unconfirmed_value``.
    #: Partial values and restarts spend no attempt, so without it a caller could keep a
    #: capture open for ever ("4 1 5", "*", "4 1 5", ...).
    max_turns: int = Field(default=20, ge=1, le=100)
    reset: bool = False
