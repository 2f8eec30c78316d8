"""``capture_number``: a quantity, amount or count said in words or digits, within bounds."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

from pydantic import Field, model_validator

from voicecore._json import JsonValue
from voicecore.capture import CapturePrimitive, KeypadCaptureParams, Reading
from voicecore.spoken.formatted import digit_homophones, scale_homophones
from voicecore.spoken.numbers import (
    NumberSpan,
    decimal_string,
    find_numbers,
    is_number_word,
    joins_at_pause,
)
from voicecore.spoken.tokens import after_correction, drop_fillers, strip_sign_off, words

__all__ = ["CaptureNumber", "CaptureNumberParams"]

# "five, no, six": a bare "no" between two numbers corrects the first (tokens.py leaves
# "no" alone because on its own it answers a confirmation).
_CORRECTING_WORDS = frozenset(["no", "not"])
#: A number whose figures were joined as one said across a pause ("54,000, 500"): the two
#: may be two numbers, so the value is read back.
_JOINED_CERTAINTY = 0.7


class CaptureNumberParams(KeypadCaptureParams):
    """Params of ``capture_number``: the common capture params plus inclusive bounds."""

    min_value: Decimal | None = Field(default=None, allow_inf_nan=False)
    max_value: Decimal | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounds_are_ordered(self) -> CaptureNumberParams:
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValueError("min_value must not be greater than max_value")
        return self


class CaptureNumber(CapturePrimitive[CaptureNumberParams]):
    """Capture one number ("forty two", "three and a half", "minus seven", "1,250").

    ``value`` is a plain decimal string ("42", "3.5", "-7"). A number outside
    ``min_value``..``max_value`` gives reason ``out_of_range``; two different numbers in one
    turn give ``several_values``; none gives ``no_value_heard``.
    """

    name: ClassVar[str] = "capture_number"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Capture a number (count, amount, quantity) said in words or digits."
    )
    noun: ClassVar[str] = "number"
    params_model = CaptureNumberParams

    def read(self, text: str, params: CaptureNumberParams, partial: str | None) -> Reading:
        """Read the number in ``text``; ``partial`` is unused (a number is said whole)."""
        said = scale_homophones(drop_fillers(words(text)))  # "for hundred": four hundred
        tokens = _last_correction(after_correction(said))
        if len(tokens) == 1:  # "For.": a number was asked for, so a homophone says it
            tokens = digit_homophones(tokens, is_number_word)
        pieces = _split_at_pauses(tokens)
        values = _distinct_values([span for piece in pieces for span in find_numbers(piece)])
        if not values:
            return Reading(value=None, reason="no_value_heard")
        if len(values) > 1:
            candidates: list[JsonValue] = [decimal_string(value) for value in values]
            return Reading(value=None, reason="several_values", parts={"candidates": candidates})
        value = values[0]
        if not _within(value, params):
            return Reading(
                value=None, reason="out_of_range", parts={"heard": decimal_string(value)}
            )
        return Reading(
            value=decimal_string(value),
            readback=readback(value),
            parts={"integer": value == value.to_integral_value()},
            certainty=_JOINED_CERTAINTY if any(map(_joined, pieces)) else 1.0,
        )


def _split_at_pauses(tokens: list[str]) -> list[list[str]]:
    """``tokens`` cut between two figures a cardinal would join as one number said across a
    pause ("54,000, 500"), wherever more than a sign-off follows the second: "Room 1000, 2
    guests" says two numbers. At the end the join stands ("I think it's 54,000, 500.")."""
    sign_off = len(strip_sign_off(["", *tokens])) - 1  # where the sign-offs after all start
    pieces: list[list[str]] = []
    start = 0
    for index in range(len(tokens) - 1):
        if index + 2 < sign_off and joins_at_pause(tokens[index], tokens[index + 1]):
            pieces.append(tokens[start : index + 1])
            start = index + 1
    return [*pieces, tokens[start:]]


def _joined(tokens: list[str]) -> bool:
    """Whether two figures in ``tokens`` are joined as one number said across a pause."""
    return any(joins_at_pause(a, b) for a, b in zip(tokens, tokens[1:], strict=False))


def _last_correction(tokens: list[str]) -> list[str]:
    """What follows the last "no"/"not", if a number is said there; else all of ``tokens``."""
    for index in range(len(tokens) - 1, -1, -1):
        if tokens[index] in _CORRECTING_WORDS:
            rest = tokens[index + 1 :]
            return rest if find_numbers(rest) else tokens
    return tokens


def _distinct_values(spans: Sequence[NumberSpan]) -> list[Decimal]:
    """The values in order, a repeated value once ("forty two, forty two")."""
    values: list[Decimal] = []
    for span in spans:
        if span.value not in values:
            values.append(span.value)
    return values


def _within(value: Decimal, params: CaptureNumberParams) -> bool:
    if params.min_value is not None and value < params.min_value:
        return False
    return params.max_value is None or value <= params.max_value


def readback(value: Decimal) -> str:
    """How to say the number back: thousands grouped, the sign as a word ("minus 1,250.5")."""
    text = decimal_string(abs(value))
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
    return f"minus {grouped}" if value < 0 else grouped
