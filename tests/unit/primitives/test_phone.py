"""capture_phone: caller-style utterances, written numbers, partial numbers, readback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voicecore.primitives.phone import CapturePhone, CapturePhoneParams

PRIMITIVE = CapturePhone()


def read(text: str, partial: str | None = None, region: str | None = None) -> str | None:
    params = CapturePhoneParams(transcription=text, region=region)
    return PRIMITIVE.read(text, params, partial).value


CALLER_CASES = [
    ("four one five five five five two six seven one", "+14155552671"),
    ("my number is four one five five five five two six seven one", "+14155552671"),
    ("it's four fifteen five five five twenty six seventy one", "+14155552671"),
    ("four one five double five five two six seven one", "+14155552671"),
    ("four one five triple five two six seven one", "+14155552671"),
    ("two oh two five five five oh one nine eight", "+12025550198"),
    ("two zero two five five five zero one nine eight", "+12025550198"),
    ("one eight hundred five five five one two one two", "+18005551212"),
    ("one eight hundred two seven three three two five five", "+18002733255"),
    ("eight hundred five five five one two one two", "+18005551212"),
    ("one eight eight eight five five five one two one two", "+18885551212"),
    ("area code four one five then five five five two six seven one", "+14155552671"),
    ("you can reach me at two one two five five five one two three four", "+12125551234"),
    ("uh four one five um five five five two six seven one", "+14155552671"),
    (
        "four one five five five five no wait six one seven five five five two six seven one",
        "+16175552671",
    ),
    ("plus one four one five five five five two six seven one", "+14155552671"),
    ("plus four four seven nine one one one two three four five six", "+447911123456"),
    ("plus forty four twenty seventy nine four six oh nine five eight", "+442079460958"),
    ("four one five dash five five five dash two six seven one", "+14155552671"),
    ("the number is (415) 555-2671", "+14155552671"),
    ("415-555-2671", "+14155552671"),
    ("4155552671", "+14155552671"),
    ("+1 415 555 2671", "+14155552671"),
    ("My phone number is +44 (0)7123 129683.", "+447123129683"),
    ("call me at 1-800-555-1212", "+18005551212"),
    ("yeah sure it's six one seven five five five oh one four two", "+16175550142"),
    ("nine one seven five five five oh one oh one", "+19175550101"),
    ("three one two five five five one nine nine nine thanks", "+13125551999"),
    ("my cell is five one zero five five five one two three four", "+15105551234"),
    ("seven one eight five five five nineteen eighty four", "+17185551984"),
    ("two one three five five five twenty twenty four", "+12135552024"),
    ("it is three oh five five five five oh one two three", "+13055550123"),
    ("my work number is six four six five five five oh one two three", "+16465550123"),
    ("two oh six five five five oh one double two", "+12065550122"),
    ("five oh three five five five oh one two three", "+15035550123"),
    ("four oh four five five five oh one two three", "+14045550123"),
    ("seven seven three five five five oh one two three", "+17735550123"),
    ("eight one eight five five five oh one two three", "+18185550123"),
    ("six one nine five five five oh one two three", "+16195550123"),
    ("three four seven five five five oh one two three", "+13475550123"),
    ("nine seven two five five five oh one two three", "+19725550123"),
    ("seven zero two five five five oh one two three", "+17025550123"),
]


class TestCallerUtterances:
    @pytest.mark.parametrize(("text", "expected"), CALLER_CASES)
    def test_reads_the_number(self, text: str, expected: str) -> None:
        """A caller's way of saying a number yields its E.164 value."""
        assert read(text) == expected


class TestParts:
    def test_toll_free_and_national(self) -> None:
        """Toll-free numbers are flagged and the national format given."""
        text = "one eight hundred five five five one two one two"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.parts["toll_free"] is True
        assert reading.parts["national"] == "(800) 555-1212"
        assert reading.parts["region"] == "US"

    def test_extension(self) -> None:
        """An extension after the number is kept apart and read back."""
        text = "four one five five five five two six seven one extension two three"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.value == "+14155552671"
        assert reading.parts["extension"] == "23"
        assert reading.readback.endswith("extension two three")

    def test_readback_in_groups(self) -> None:
        """The number is read back in its usual groups."""
        text = "415 555 2671"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.readback == "four one five, five five five, two six seven one"

    def test_invalid_number_keeps_the_digits(self) -> None:
        """A number phonenumbers rejects has no value, but the digits heard are reported."""
        text = "plus forty four one two three one two three five six seven eight"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.value is None
        assert reading.parts["digits"] == "+441231235678"

    def test_region_param(self) -> None:
        """A national number is read in the given region."""
        assert read("020 7946 0958", region="gb") == "+442079460958"

    def test_unknown_region_is_invalid(self) -> None:
        """An unknown region is a params error that names the field."""
        with pytest.raises(ValidationError, match="region"):
            CapturePhoneParams(transcription="x", region="XX")


class TestPartial:
    def test_too_few_digits_is_kept(self) -> None:
        """Six digits are too few: no value, and they are kept as partial."""
        text = "four one five five five five"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert (reading.value, reading.reason, reading.partial) == (
            None,
            "too_few_digits",
            "415555",
        )

    def test_next_turn_completes_the_partial(self) -> None:
        """The digits of the next turn follow the partial ones."""
        assert read("two six seven one", partial="415555") == "+14155552671"

    def test_a_whole_number_replaces_the_partial(self) -> None:
        """A complete number said again does not get the partial prepended."""
        assert read("four one five five five five two six seven one", partial="415") == (
            "+14155552671"
        )


class TestNothing:
    @pytest.mark.parametrize(
        "text",
        ["", "hello", "I don't know", "16/04/2010", "account number 12345678", "3.14159265"],
    )
    def test_no_value(self, text: str) -> None:
        """Text without a phone number yields no value."""
        assert read(text) is None
