"""The keypad rule of voicecore.capture: the ``dtmf`` param, the entry, and the default
``read_keys`` a custom capture gets when its params take keys."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import ValidationError

from tests._cases import cases
from tests._fakes import FourDigits
from tests._replies import held_value, reply_of
from voicecore.capture import (
    CaptureParams,
    CaptureState,
    KeypadCaptureParams,
    keypad_entry,
)
from voicecore.capture._keypad import after_restart, readback_key
from voicecore.capture._machine import _Keyed, advance
from voicecore.primitive import PrimitiveState

NC = PrimitiveState.NEEDS_CONFIRMATION


class KeyedFourDigits(FourDigits):
    """The fake capture, taking keys: it keeps the default ``read_keys``."""

    params_model: ClassVar[type[CaptureParams]] = KeypadCaptureParams


ENTRIES = [
    ("1234#", "1234"),
    ("1234", "1234"),
    ("12#34", "12"),
    ("*1#", "*1"),
    ("#", None),
    ("", None),
    ("#1234", None),
]  # fmt: skip


@cases(("dtmf", "entry"), ENTRIES)
def test_the_entry_ends_at_the_first_hash(dtmf: str, entry: str | None) -> None:
    assert keypad_entry(KeypadCaptureParams(dtmf=dtmf)) == entry


def test_no_entry_without_the_param() -> None:
    assert keypad_entry(KeypadCaptureParams(transcription="1234")) is None
    assert keypad_entry(CaptureParams(transcription="1234")) is None


@cases(("keys", "after"), [("415*650", ("650", True)), ("415", ("415", False)),
                           ("*", ("", True)), ("1*2*3", ("3", True))])  # fmt: skip
def test_star_starts_over(keys: str, after: tuple[str, bool]) -> None:
    assert after_restart(keys) == after


@cases("params", [{}, {"alternatives": []}, {"dtmf": "1x"}, {"dtmf": "1" * 65}, {"dtmf": "a"}])
def test_params_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        KeypadCaptureParams.model_validate(params)


@cases("params", [{"dtmf": "0123456789*#ABCD"}, {"transcription": ""}, {"dtmf": "1" * 64}])
def test_params_accepted(params: dict[str, object]) -> None:
    assert KeypadCaptureParams.model_validate(params).model_dump(exclude_unset=True) == params


# Keys typed to the default ``read_keys`` -> state, value (or partial), reason.
DEFAULT_READING = [
    ("1234#", NC, "1234", None),
    ("99*1234#", NC, "1234", None),
    ("12#", PrimitiveState.INCOMPLETE, "12", "too_few_digits"),
    ("12A4#", PrimitiveState.INCOMPLETE, None, "invalid_keys"),
    ("12*", PrimitiveState.INCOMPLETE, None, "started_over"),
]  # fmt: skip


@cases(("dtmf", "state", "value", "reason"), DEFAULT_READING)
def test_default_read_keys(
    dtmf: str, state: PrimitiveState, value: str | None, reason: str | None
) -> None:
    """Digits after the last "*", read as written digits, exact (confidence 1)."""
    turn = advance(KeyedFourDigits(), KeypadCaptureParams(dtmf=dtmf), CaptureState())
    heard = turn.value.value if turn.value is not None else turn.partial
    assert (turn.state, heard, turn.reason) == (state, value, reason)
    assert turn.confidence == (1.0 if turn.value is not None else 0.0)


def test_keys_complete_a_partial_unless_started_over() -> None:
    primitive = KeyedFourDigits()
    first = advance(primitive, KeypadCaptureParams(dtmf="12"), CaptureState())
    assert first.kept is not None and first.kept.partial == "12"
    done = advance(primitive, KeypadCaptureParams(dtmf="34#"), first.kept)
    assert done.value is not None and done.value.value == "1234"
    over = advance(primitive, KeypadCaptureParams(dtmf="*34#"), first.kept)
    assert (over.value, over.partial) == (None, "34")


def test_keys_win_over_the_transcription() -> None:
    """With keys, the transcription is not read at all, even when it reads a value."""
    params = KeypadCaptureParams(dtmf="1234", transcription="5678", asr_confidence=0.99)
    turn = advance(KeyedFourDigits(), params, CaptureState())
    assert turn.value is not None
    assert (turn.value.value, turn.value.confidence, turn.value.candidates) == ("1234", 1.0, ())


def test_a_keyed_reader_edits_nothing() -> None:
    """Keys at the readback are 1, 2 or a whole new value, never a partial edit."""
    keyed = _Keyed(KeyedFourDigits())
    params = KeypadCaptureParams(dtmf="9")
    assert keyed.correct(held_value("1234"), reply_of("the last digit is 9"), params) is None


@cases(("dtmf", "key"), [("1", "1"), ("2", "2"), ("1#", None), ("2#", None), ("12", None),
                         ("*2", None), ("2*", None), ("", None), (None, None)])  # fmt: skip
def test_only_a_bare_1_or_2_answers_yes_or_no(dtmf: str | None, key: str | None) -> None:
    params = (
        KeypadCaptureParams(dtmf=dtmf) if dtmf is not None else CaptureParams(transcription="1")
    )
    assert readback_key(params) == key


# Keys typed at the readback of "1234" (attempt 1 of 3) -> state, value, reason, the attempt
# the capture is in next.
AT_THE_READBACK = [
    ("1", PrimitiveState.COMPLETED, "1234", None, 1),
    ("2", PrimitiveState.INCOMPLETE, None, "rejected", 2),
    ("*", PrimitiveState.INCOMPLETE, None, "rejected", 2),
    ("12*", PrimitiveState.INCOMPLETE, None, "rejected", 2),
    ("5678*#9", PrimitiveState.INCOMPLETE, None, "rejected", 2),
    ("1234#", PrimitiveState.COMPLETED, "1234", None, 1),
    ("*5678#", NC, "5678", None, 2),
    ("1#", NC, "1234", "unclear_answer", 1),
    ("2#", NC, "1234", "unclear_answer", 1),
    ("12A4#", NC, "1234", "unclear_answer", 1),
]  # fmt: skip


@cases(("dtmf", "state", "value", "reason", "attempts"), AT_THE_READBACK)
def test_keys_at_the_readback(
    dtmf: str, state: PrimitiveState, value: str | None, reason: str | None, attempts: int
) -> None:
    """A bare 1 is yes; a bare 2 and an entry ending in "*" are a no (an attempt spent, not
    an unclear answer); anything else is a value: the held one (yes), a new one, or none
    (unclear: "1#" and "2#" are values, here too short to be one)."""
    held = CaptureState(attempt=1, held=held_value("1234"))
    params = KeypadCaptureParams(dtmf=dtmf, require_confirmation=True)
    turn = advance(KeyedFourDigits(), params, held)
    shown = turn.value.value if turn.value is not None else None
    attempt = turn.kept.attempt if turn.kept is not None else turn.attempt
    assert (turn.state, shown, turn.reason, attempt) == (state, value, reason, attempts)


def test_star_at_the_readback_never_fails_as_unclear() -> None:
    """Past ``max_unclear``, "*" still rejects (reason ``rejected``), never ``unclear_answers``."""
    state = CaptureState(attempt=3, held=held_value("1234"), unclear=5)
    params = KeypadCaptureParams(dtmf="*", max_unclear=0)
    turn = advance(KeyedFourDigits(), params, state)
    assert (turn.state, turn.reason) == (PrimitiveState.FAILED, "rejected")
