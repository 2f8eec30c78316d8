"""``capture_digits``: codes, ZIP codes, account and order numbers: letters and digits."""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from pydantic import Field, model_validator

from voicecore.capture import CapturePrimitive, HeldValue, KeypadCaptureParams, Reading, Reply
from voicecore.capture._reading import read_past_opening_oh
from voicecore.spoken.compose import compose
from voicecore.spoken.digit_edits import edit_digits
from voicecore.spoken.digits import is_digit_word
from voicecore.spoken.edits import edit_spelled
from voicecore.spoken.formatted import digit_homophones, zero_homophones
from voicecore.spoken.letters import letter_name, nato_letter
from voicecore.spoken.readback import say_grouped
from voicecore.spoken.tokens import (
    after_correction,
    after_last_carrier,
    drop_fillers,
    strip_carrier,
    strip_sign_off,
    words,
)

__all__ = ["CaptureDigits", "CaptureDigitsParams"]

_MAX_CODE = 64
_NOT_CODE = re.compile(r"[^A-Z0-9]")
_CERTAIN = 0.95
# A code with a zero read from a word heard alike ("or"): less sure than one heard as said.
_HEARD_ALIKE = 0.8
_GROUP = 3


class CaptureDigitsParams(KeypadCaptureParams):
    """Params of ``capture_digits``: the accepted length of the code, in characters."""

    min_length: int = Field(default=1, ge=1, le=_MAX_CODE)
    max_length: int = Field(default=_MAX_CODE, ge=1, le=_MAX_CODE)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> CaptureDigitsParams:
        if self.min_length > self.max_length:
            raise ValueError("min_length must not be greater than max_length")
        return self


def _mostly_digits(tokens: list[str]) -> bool:
    """Whether "o"/"oh" are zeros here: more digit words than letters around them."""
    digit_words = sum(is_digit_word(token) for token in tokens)
    letters = sum(letter_name(token) is not None for token in tokens if token not in ("o", "oh"))
    return digit_words > letters


def spoken_code(text: str) -> str:
    """The letters and digits said in ``text``, upper-case; other words and symbols dropped.

    Words before a carrier phrase said later ("you have the order number is 26018": Whisper
    hears "yeah" as "you have") are talk, not code, when they hold no digit and spell no
    letter, and the carrier is followed by digits: "you" would otherwise be the letter U.
    Letters spelled before it ("X Y Z and the number is 42", "B as in boy, ...") are code.
    """
    tokens = strip_sign_off(strip_carrier(after_correction(drop_fillers(words(text)))))
    after = after_last_carrier(tokens)
    before = tokens[: len(tokens) - len(after)]
    talk = not any(map(_has_digit, before)) and not _spells_letters(before)
    if after and talk and any(map(_has_digit, after)):
        tokens = after
    return _code_of(tokens)


# Letters that are English words too: "a" and "i" said alone are talk as often as letters.
_WORD_LETTERS = frozenset(["a", "i"])


def _spells_letters(tokens: list[str]) -> bool:
    """Whether ``tokens`` spell a letter surely: a letter written alone ("X Y Z", "K-L-M"),
    a NATO word, or an "as in" clarification. A letter's homophone ("you", "see") is not
    sure: it is the word as often."""
    return any(
        (len(token) == 1 and token.isalpha() and token not in _WORD_LETTERS)
        or nato_letter(token) is not None
        or tokens[index : index + 2] == ["as", "in"]
        for index, token in enumerate(tokens)
    )


def _has_digit(token: str) -> bool:
    """Whether ``token`` says a digit surely: a digit word ("oh" may be a letter) or figure."""
    return any(char.isdigit() for char in token) or (
        is_digit_word(token) and token not in ("oh", "o")
    )


def _code_of(tokens: list[str]) -> str:
    o_is_zero = _mostly_digits(tokens)
    is_digit = functools.partial(is_digit_word, o_is_zero=o_is_zero)
    tokens = digit_homophones(zero_homophones(tokens, is_digit), is_digit)
    pieces = compose(tokens, o_is_zero=o_is_zero, nato=True)
    kept = [
        piece.text
        for piece in pieces
        if piece.kind in ("letters", "digits", "written") or any(c.isdigit() for c in piece.text)
    ]
    return _NOT_CODE.sub("", "".join(kept).upper())


def code_reading(code: str, params: CaptureDigitsParams) -> Reading:
    """The reading of ``code`` checked against the params' lengths."""
    if not code:
        return Reading(value=None, reason="no_value_heard", certainty=0.0)
    if len(code) < params.min_length:
        return Reading(value=None, reason="too_few_digits", certainty=0.0, partial=code)
    if len(code) > params.max_length:
        return Reading(value=None, reason="too_many_digits", certainty=0.0)
    size = 4 if len(code) % 4 == 0 and len(code) > 4 else _GROUP
    return Reading(
        value=code,
        readback=say_grouped(code.lower(), size),
        parts={"length": len(code), "digits_only": code.isdigit()},
        certainty=_CERTAIN,
    )


def _code_said(text: str, params: CaptureDigitsParams, partial: str | None) -> Reading:
    code = spoken_code(text)
    if partial and code and len(code) < params.min_length:
        code = partial + code
    reading = code_reading(code, params)
    if reading.value is not None and _zero_heard_alike(text):
        return replace(reading, certainty=_HEARD_ALIKE)
    return reading


def _zero_heard_alike(text: str) -> bool:
    """Whether a zero was read from a word that sounds like "oh" ("two six or one")."""
    tokens = words(text)
    return zero_homophones(tokens, functools.partial(is_digit_word, o_is_zero=True)) != tokens


class CaptureDigits(CapturePrimitive[CaptureDigitsParams]):
    """Captures a code of letters and digits: ZIP codes, account, order, confirmation numbers.

    Reads digit habits ("oh", "double five", "four fifteen"), spelled letters ("b as in boy",
    NATO) and written codes ("AB-1234"); separators are dropped and the value is upper-case.
    A code shorter than ``min_length`` is kept as partial for the next turn to complete.
    """

    name = "capture_digits"
    version = "1.0.0"
    description = "Capture a code of digits and letters (ZIP, account, order, confirmation)."
    noun = "code"
    params_model = CaptureDigitsParams

    def read(self, text: str, params: CaptureDigitsParams, partial: str | None) -> Reading:
        """Read one hypothesis as a code, after ``partial`` characters if any; an opening "oh"
        is a zero unless only the code without it has a length the params accept."""
        return read_past_opening_oh(text, lambda said: _code_said(said, params, partial))

    def correct(
        self,
        held: HeldValue,
        reply: Reply,
        params: CaptureDigitsParams,
    ) -> Reading | None:
        """Edit the held code in part ("the last digit is five", "the last four are one two
        three four", "b as in boy")."""
        tokens = drop_fillers(words(reply.edit_text))
        if held.value.isdigit() and (digits := edit_digits([held.value], tokens)) is not None:
            return code_reading(digits, params)
        tokens = ["letter" if token in ("digit", "number") else token for token in tokens]
        edited = edit_spelled(held.value.lower(), tokens)
        return code_reading(edited.upper(), params) if edited else None
