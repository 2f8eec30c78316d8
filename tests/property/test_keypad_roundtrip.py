"""Round trips through the keypad: a value typed as a caller types it ("#" or not, keys after
it, a false start before "*") is captured back exactly with confidence 1; and no entry of
keypad characters makes a capture raise, as a value or as an answer to a readback."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import phonenumbers
from hypothesis import assume, given
from hypothesis import strategies as st

from tests._replies import held_value
from voicecore._json import JsonValue
from voicecore.capture import CapturePrimitive, CaptureState, InMemoryCaptureStore
from voicecore.capture._machine import advance
from voicecore.primitive import PrimitiveContext, PrimitiveState
from voicecore.primitives.amount import CaptureAmount, CaptureAmountParams
from voicecore.primitives.confirm import Confirm, ConfirmParams
from voicecore.primitives.digits import CaptureDigits, CaptureDigitsParams
from voicecore.primitives.number import CaptureNumber, CaptureNumberParams
from voicecore.primitives.phone import CapturePhone, CapturePhoneParams

KEYS = "0123456789*#ABCD"
_DIGITS = "0123456789"


@st.composite
def typed(draw: st.DrawFn, entry: str, restart: bool = True) -> str:
    """``entry`` as a caller types it: maybe a false start ended by "*", maybe "#" and keys
    after it."""
    start = draw(st.text(_DIGITS, max_size=8)) + "*" if restart and draw(st.booleans()) else ""
    end = "#" + draw(st.text(KEYS, max_size=4)) if draw(st.booleans()) else ""
    return (start + entry + end)[:64] if len(start + entry) <= 64 else entry


def _value_typed(primitive: CapturePrimitive[Any], params: Any) -> tuple[str | None, float]:
    turn = advance(primitive, params, CaptureState())
    assert turn.state is PrimitiveState.NEEDS_CONFIRMATION, turn.reason
    assert turn.value is not None
    return turn.value.value, turn.value.confidence


@given(st.data(), st.text(_DIGITS, min_size=1, max_size=40))
def test_digits_typed_come_back_exactly(data: st.DataObject, code: str) -> None:
    dtmf = data.draw(typed(code))
    params = CaptureDigitsParams(dtmf=dtmf)
    assert _value_typed(CaptureDigits(), params) == (code, 1.0)


# Up to 28 significant digits: past that a number is no value (``spoken.numbers.MAX_DIGITS``).
@given(st.data(), st.integers(0, 10**28 - 1))
def test_numbers_typed_come_back_exactly(data: st.DataObject, number: int) -> None:
    zeros = data.draw(st.text("0", max_size=3))
    dtmf = data.draw(typed(zeros + str(number)))
    assert _value_typed(CaptureNumber(), CaptureNumberParams(dtmf=dtmf)) == (str(number), 1.0)


@given(st.data(), st.integers(0, 10**12), st.integers(0, 99), st.booleans())
def test_amounts_typed_come_back_exactly(
    data: st.DataObject, whole: int, cents: int, typed_cents: bool
) -> None:
    """Digits, "*" as the point, the cents: the decimal string with two places."""
    entry = f"{whole}*{cents:02d}" if typed_cents else str(whole)
    dtmf = data.draw(typed(entry, restart=False))
    expected = f"{whole}.{cents:02d}" if typed_cents else f"{whole}.00"
    assert _value_typed(CaptureAmount(), CaptureAmountParams(dtmf=dtmf)) == (expected, 1.0)


@given(
    st.data(),
    st.sampled_from(["212", "415", "617", "312", "650", "713", "206", "303"]),
    st.integers(200, 999),
    st.integers(0, 9999),
    st.booleans(),
)
def test_phone_numbers_typed_come_back_exactly(
    data: st.DataObject, area: str, exchange: int, line: int, country: bool
) -> None:
    national = f"{area}{exchange}{line:04d}"
    assume(phonenumbers.is_valid_number(phonenumbers.parse(national, "US")))
    dtmf = data.draw(typed(("1" if country else "") + national))
    params = CapturePhoneParams(dtmf=dtmf)
    assert _value_typed(CapturePhone(), params) == (f"+1{national}", 1.0)


PRIMITIVES: list[tuple[CapturePrimitive[Any], Any, str]] = [
    (CaptureDigits(), CaptureDigitsParams, "90210"),
    (CaptureNumber(), CaptureNumberParams, "42"),
    (CaptureAmount(), CaptureAmountParams, "12.50"),
    (CapturePhone(), CapturePhoneParams, "+14155550182"),
]


@given(st.sampled_from(PRIMITIVES), st.text(KEYS, max_size=64))
def test_no_entry_makes_a_capture_raise(
    case: tuple[CapturePrimitive[Any], Any, str], dtmf: str
) -> None:
    """Any keys, as a value or as the answer to a readback: a turn, never an exception; a
    value only with confidence 1."""
    primitive, params_model, held = case
    params = params_model(dtmf=dtmf)
    for state in (CaptureState(), CaptureState(held=held_value(held))):
        turn = advance(primitive, params, state)
        assert turn.value is None or turn.value.confidence == 1.0


@given(st.text(KEYS, max_size=64))
def test_confirm_reads_one_and_two_only(dtmf: str) -> None:
    """The entry "1" is yes, "2" no, both with confidence 1; any other entry is unclear."""
    entry = dtmf.partition("#")[0]
    assume(entry)
    result = asyncio.run(Confirm().execute(ConfirmParams(dtmf=dtmf), _context()))
    expected = {"1": "yes", "2": "no"}.get(entry)
    assert (result.data.get("value"), result.confidence) == (expected, 1.0 if expected else 0.0)


async def _emit(event_type: str, payload: Mapping[str, JsonValue]) -> int:
    raise AssertionError("confirm emits no events")


def _context() -> PrimitiveContext:
    return PrimitiveContext(
        objective_type="confirm", trace_id="0" * 32, emit=_emit, captures=InMemoryCaptureStore()
    )
