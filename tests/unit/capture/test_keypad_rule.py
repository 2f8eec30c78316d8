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
from voicecore.capture._keypad import after_restart
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
