"""capture_number: caller-style utterances, bounds, several values and no value."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from tests._cases import cases
from voicecore.primitives.number import CaptureNumber, CaptureNumberParams, readback

PRIMITIVE = CaptureNumber()


def params_of(text: str, **bounds: object) -> CaptureNumberParams:
    """Params as the service builds them from a request's Struct."""
    return CaptureNumberParams.model_validate({"transcription": text, **bounds})


def read(text: str, **bounds: object) -> str | None:
    return PRIMITIVE.read(text, params_of(text, **bounds), None).value


CALLER_CASES = [
    ("forty two", "42"),
    ("it's forty two", "42"),
    ("uh forty two", "42"),
    ("about forty two i think", "42"),
    ("forty-two", "42"),
    ("42", "42"),
    ("a hundred", "100"),
    ("a hundred and twenty", "120"),
    ("one hundred and twenty five", "125"),
    ("twelve hundred", "1200"),
    ("fifteen hundred dollars", "1500"),
    ("two thousand five hundred", "2500"),
    ("twenty five hundred", "2500"),
    ("a thousand", "1000"),
    ("three million", "3000000"),
    ("1,250,000", "1250000"),
    ("zero", "0"),
    ("none zero", "0"),
    ("just one", "1"),
    ("only one please", "1"),
    ("i need two", "2"),
    ("we'll have six people", "6"),
    ("three and a half", "3.5"),
    ("two and a quarter pounds", "2.25"),
    ("three point five", "3.5"),
    ("point seven five", "0.75"),
    ("ninety nine point nine", "99.9"),
    ("3.5", "3.5"),
    ("minus seven", "-7"),
    ("negative twelve", "-12"),
    ("minus two point five degrees", "-2.5"),
    ("twenty twenty four", "2024"),
    ("one oh five", "105"),
    ("four fifteen", "415"),
    ("double seven", "77"),
    ("five no six", "6"),
    ("seven sorry eight", "8"),
    ("forty no wait fifty", "50"),
    ("i mean thirty", "30"),
    ("forty two forty two", "42"),
    ("um let me see uh twenty", "20"),
    ("the number is seventeen", "17"),
    ("my account has eleven", "11"),
    ("sixty five years old", "65"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_number(self, text: str, expected: str) -> None:
        """Caller phrasing around a number gives the number as a decimal string."""
        assert read(text) == expected


class TestNoValue:
    @cases("text", ["", "i don't know", "the blue one", "hmm", "oh"])
    def test_no_number_is_no_value_heard(self, text: str) -> None:
        """Without a number word the reading has no value and says why."""
        reading = PRIMITIVE.read(text, CaptureNumberParams(transcription=text), None)
        assert reading.value is None
        assert reading.reason == "no_value_heard"

    def test_two_different_numbers_are_several_values(self) -> None:
        """ "five or six" is not one answer; both are offered as candidates."""
        text = "maybe five and six"
        reading = PRIMITIVE.read(text, CaptureNumberParams(transcription=text), None)
        assert reading.value is None
        assert reading.reason == "several_values"
        assert reading.parts["candidates"] == ["5", "6"]


class TestBounds:
    def test_inside_bounds_is_captured(self) -> None:
        """A value between min_value and max_value (inclusive) is kept."""
        assert read("ten", min_value=10, max_value=20) == "10"
        assert read("twenty", min_value=10, max_value=20) == "20"

    @cases("text", ["nine", "twenty one", "minus one"])
    def test_outside_bounds_is_out_of_range(self, text: str) -> None:
        """A value outside the bounds is no value, with reason out_of_range and what was heard."""
        params = params_of(text, min_value=10, max_value=20)
        reading = PRIMITIVE.read(text, params, None)
        assert reading.value is None
        assert reading.reason == "out_of_range"
        assert reading.parts["heard"]

    def test_min_above_max_is_invalid(self) -> None:
        """Bounds in the wrong order fail validation with a message naming them."""
        with pytest.raises(ValidationError, match="min_value"):
            params_of("x", min_value=5, max_value=1)

    def test_non_finite_bound_is_invalid(self) -> None:
        """NaN or infinity is no bound."""
        with pytest.raises(ValidationError):
            params_of("x", max_value=float("inf"))

    def test_bounds_accept_struct_floats(self) -> None:
        """Struct numbers arrive as floats and are kept as decimals."""
        params = params_of("x", min_value=0.5, max_value=2.5)
        assert params.min_value == Decimal("0.5")


class TestReadback:
    @cases(
        ("value", "expected"),
        [("42", "42"), ("1250000", "1,250,000"), ("-7", "minus 7"), ("1234.5", "1,234.5")],
    )
    def test_groups_thousands_and_says_the_sign(self, value: str, expected: str) -> None:
        """The read-back is easy to say: thousands grouped, "minus" spelled out."""
        assert readback(Decimal(value)) == expected

    def test_reading_carries_readback_and_integer_flag(self) -> None:
        """A captured number comes with its read-back and whether it is whole."""
        text = "three and a half"
        reading = PRIMITIVE.read(text, CaptureNumberParams(transcription=text), None)
        assert reading.readback == "3.5"
        assert reading.parts["integer"] is False


class TestNemoCardinals:
    @cases(
        ("text", "expected"),
        [
            ("minus twenty five thousand thirty seven", "-25037"),
            ("One Billion five hundred ninety three Million seventy two thousand", "1593072000"),
            ("seventeen sextillion eight hundred fifty five quintillion", "17855" + "0" * 18),
            ("twenty one hundred and eleven", "2111"),
        ],
    )
    def test_reads_long_and_cased_cardinals(self, text: str, expected: str) -> None:
        """NeMo-style long cardinals, any casing, read whole."""
        assert read(text) == expected


class TestFiguresAmongScaleWords:
    """What formatting ASRs write: figures among the scale words combine as words do."""

    @cases(
        "text, expected",
        [
            ("12 hundred and fifty", "1250"),
            ("1 million 200 thousand", "1200000"),
            ("about 1 thousand 5 hundred", "1500"),
            ("3 point 5 million", "3500000"),
            ("three point five million", "3500000"),
            ("It's 3.5 million.", "3500000"),
            ("twelve hundred thousand", "1200000"),
            ("12 hundred thousand", "1200000"),
            ("2 thousand twenty four", "2024"),
            ("1 million and 5", "1000005"),
            ("minus 2 point 5 thousand", "-2500"),
            ("1,000 million", "1000000000"),
            ("9" * 28, "9" * 28),
        ],
    )
    def test_reads_the_whole_number(self, text: str, expected: str) -> None:
        assert read(text) == expected

    @cases("text", ["9" * 40, "minus " + "9" * 29, "1" * 20 + " billion", "0." + "1" * 29])
    def test_a_number_longer_than_the_precision_is_none(self, text: str) -> None:
        """More digits than a decimal keeps exactly: no value, never a rounded one."""
        reading = PRIMITIVE.read(text, params_of(text), None)
        assert reading.value is None
        assert reading.reason == "no_value_heard"
