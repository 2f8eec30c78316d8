"""capture_date: caller-style dates, relative dates against the reference date, failures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests._cases import cases
from voicecore._json import JsonValue
from voicecore.primitives.date import (
    DEFAULT_TIMEZONE,
    CaptureDate,
    CaptureDateParams,
    date_readback,
)

PRIMITIVE = CaptureDate()


def first_candidate(parts: Mapping[str, JsonValue]) -> str:
    """The value of the first other reading offered in ``parts["candidates"]``."""
    candidates = parts["candidates"]
    assert isinstance(candidates, list)
    first = candidates[0]
    assert isinstance(first, dict)
    return str(first["value"])


# A Wednesday, so "this friday", "next tuesday" and "last monday" all differ.
TODAY = "2024-03-06"


def params_of(text: str, **extra: object) -> CaptureDateParams:
    """Params as the service builds them from a request's Struct."""
    return CaptureDateParams.model_validate(
        {"transcription": text, "reference_date": TODAY, **extra}
    )


def read(text: str, **extra: object) -> str | None:
    return PRIMITIVE.read(text, params_of(text, **extra), None).value


CALLER_CASES = [
    ("july twenty fifth twenty twelve", "2012-07-25"),
    ("the twenty fifth of july twenty twelve", "2012-07-25"),
    ("july twenty fifth two thousand twelve", "2012-07-25"),
    ("march fifth twenty twenty four", "2024-03-05"),
    ("march five twenty twenty four", "2024-03-05"),
    ("december twenty first twenty twenty four", "2024-12-21"),
    ("january first two thousand and nine", "2009-01-01"),
    ("october third nineteen oh five", "1905-10-03"),
    ("march 5th, 2024", "2024-03-05"),
    ("March 5 2024", "2024-03-05"),
    ("5 march 2024", "2024-03-05"),
    ("3/5/2024", "2024-03-05"),
    ("2024-03-05", "2024-03-05"),
    ("june thirty", "2024-06-30"),
    ("june thirtieth", "2024-06-30"),
    ("the fifteenth of april", "2024-04-15"),
    ("april the fifteenth", "2024-04-15"),
    ("on may the first", "2024-05-01"),
    ("january first", "2025-01-01"),
    ("the fifteenth", "2024-03-15"),
    ("on the fifth", "2024-04-05"),
    ("the first of next month", "2024-04-01"),
    ("today", "2024-03-06"),
    ("tonight", "2024-03-06"),
    ("tomorrow", "2024-03-07"),
    ("yesterday", "2024-03-05"),
    ("the day after tomorrow", "2024-03-08"),
    ("friday", "2024-03-08"),
    ("this friday", "2024-03-08"),
    ("this coming friday", "2024-03-08"),
    ("on monday", "2024-03-11"),
    ("wednesday", "2024-03-13"),
    ("next tuesday", "2024-03-12"),
    ("next friday", "2024-03-15"),
    ("friday next week", "2024-03-15"),
    ("next week on thursday", "2024-03-14"),
    ("tuesday after next", "2024-03-19"),
    ("last monday", "2024-02-26"),
    ("in three days", "2024-03-09"),
    ("in a week", "2024-03-13"),
    ("in two weeks", "2024-03-20"),
    ("two weeks from today", "2024-03-20"),
    ("a week from friday", "2024-03-15"),
    ("three days from now", "2024-03-09"),
    ("in a couple of days", "2024-03-08"),
    ("in a month", "2024-04-06"),
    ("three days ago", "2024-03-03"),
    ("uh tomorrow i guess", "2024-03-07"),
    ("monday no wait tuesday", "2024-03-12"),
    ("it's on the twentieth i mean the twenty first", "2024-03-21"),
    ("i'd like to come in next tuesday please", "2024-03-12"),
    ("tuesday march twelfth", "2024-03-12"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_date(self, text: str, expected: str) -> None:
        """Absolute, yearless and relative dates resolve against the reference date."""
        assert read(text) == expected


class TestPrefer:
    @cases(
        ("text", "future", "past"),
        [
            ("march fifth", "2025-03-05", "2024-03-05"),
            ("march tenth", "2024-03-10", "2023-03-10"),
            ("friday", "2024-03-08", "2024-03-01"),
            ("the tenth", "2024-03-10", "2024-02-10"),
            ("3/5", "2025-03-05", "2024-03-05"),
        ],
    )
    def test_incomplete_dates_point_the_preferred_way(
        self, text: str, future: str, past: str
    ) -> None:
        """A missing year, week or month is the next one for future, the last one for past."""
        assert read(text, prefer="future") == future
        assert read(text, prefer="past") == past

    def test_february_twenty_ninth_finds_a_leap_year(self) -> None:
        """A yearless Feb 29 lands in the nearest leap year on the preferred side."""
        assert read("february twenty ninth", prefer="future") == "2028-02-29"
        assert read("february twenty ninth", prefer="past") == "2024-02-29"


class TestTwoDigitYears:
    @cases(
        ("text", "past", "future"),
        [
            ("march third sixty five", "1965-03-03", "2065-03-03"),
            ("june fifth oh four", "2004-06-05", "2004-06-05"),
            ("the third of march sixty five", "1965-03-03", "2065-03-03"),
            ("march twenty third ninety nine", "1999-03-23", "1999-03-23"),
            ("july 4th 76", "1976-07-04", "1976-07-04"),
            ("3/5/65", "1965-03-05", "2065-03-05"),
            ("12/25/04", "2004-12-25", "2004-12-25"),
        ],
    )
    def test_century_follows_prefer(self, text: str, past: str, future: str) -> None:
        """A two-digit year is the latest such date for past, the nearest year for future."""
        assert read(text, prefer="past") == past
        assert read(text, prefer="future") == future

    @cases(
        ("text", "past", "future"),
        [
            ("march sixth twenty four", "2024-03-06", "2024-03-06"),
            ("march fifth twenty four", "2024-03-05", "2024-03-05"),
            ("march seventh twenty four", "1924-03-07", "2024-03-07"),
            ("3/7/24", "1924-03-07", "2024-03-07"),
        ],
    )
    def test_reference_year_splits_on_the_day(self, text: str, past: str, future: str) -> None:
        """In the reference date's own year, the day decides the century for past only."""
        assert read(text, prefer="past") == past
        assert read(text, prefer="future") == future

    @cases(
        ("text", "reason"),
        [
            ("march twenty twenty", "missing_day"),
            ("march twenty twenty one", "missing_day"),
        ],
    )
    def test_cardinal_day_then_number_is_a_four_digit_year(self, text: str, reason: str) -> None:
        """ "march twenty twenty" is March 2020 with no day, not March 20, '20."""
        reading = PRIMITIVE.read(text, params_of(text, prefer="past"), None)
        assert (reading.value, reading.reason) == (None, reason)

    @cases("text", ["march third ten", "march third six five"])
    def test_hours_and_single_digits_are_not_years(self, text: str) -> None:
        """ "ten" after a date is likelier an hour, "six five" two digits: neither is a year."""
        value = read(text, prefer="past") or ""
        assert not value.startswith(("2010", "1965", "1910"))

    @given(
        reference=st.dates(date(1901, 1, 1), date(9898, 12, 31)),
        said=st.dates(date(2000, 1, 1), date(2099, 12, 28)).filter(lambda d: d.day <= 28),
        prefer=st.sampled_from(["past", "future"]),
    )
    def test_written_two_digit_year_is_nearest_on_the_preferred_side(
        self, reference: date, said: date, prefer: str
    ) -> None:
        """ "m/d/yy" keeps yy: past is the latest such date, future the nearest year."""
        text = f"{said.month}/{said.day}/{said.year % 100:02d}"
        params = CaptureDateParams.model_validate(
            {"transcription": text, "reference_date": reference, "prefer": prefer}
        )
        value = PRIMITIVE.read(text, params, None).value
        assert value is not None
        heard = date.fromisoformat(value)
        assert (heard.year % 100, heard.month, heard.day) == (said.year % 100, said.month, said.day)
        if prefer == "past":
            assert heard <= reference < heard.replace(year=heard.year + 100)
        else:
            assert -50 < heard.year - reference.year <= 50


class TestNoValue:
    @cases(
        ("text", "reason"),
        [
            ("february thirtieth", "invalid_date"),
            ("april thirty first twenty twenty four", "invalid_date"),
            ("the thirty second", "invalid_date"),
            ("13/40/2024", "invalid_date"),
            ("july twenty twelve", "missing_day"),
            ("next week", "missing_day"),
            ("sometime next month", "missing_day"),
            ("i don't know", "no_value_heard"),
            ("", "no_value_heard"),
            ("may i ask why", "no_value_heard"),
            ("three days from", "no_value_heard"),
        ],
    )
    def test_gives_the_reason(self, text: str, reason: str) -> None:
        """An impossible, incomplete or absent date has no value and a reason code."""
        reading = PRIMITIVE.read(text, params_of(text), None)
        assert reading.value is None
        assert reading.reason == reason


class TestReading:
    def test_parts_and_readback(self) -> None:
        """A date carries its weekday, fields and a read-back with the weekday."""
        reading = PRIMITIVE.read("march fifth twenty twenty four", params_of("x"), None)
        assert reading.readback == "Tuesday, March 5, 2024"
        assert reading.parts["weekday"] == "tuesday"
        assert (reading.parts["year"], reading.parts["month"], reading.parts["day"]) == (
            2024,
            3,
            5,
        )
        assert reading.parts["relative"] is False

    def test_next_weekday_offers_the_other_reading(self) -> None:
        """ "next friday" said on a Wednesday may mean this week's: it is a candidate."""
        reading = PRIMITIVE.read("next friday", params_of("x"), None)
        assert reading.value == "2024-03-15"
        assert reading.certainty < 1.0
        assert first_candidate(reading.parts) == "2024-03-08"

    def test_weekday_that_disagrees_lowers_certainty(self) -> None:
        """ "monday march fifth" (a Tuesday) keeps the date but is less sure."""
        reading = PRIMITIVE.read("monday march fifth twenty twenty four", params_of("x"), None)
        assert reading.value == "2024-03-05"
        assert reading.certainty < 0.9

    def test_readback_names_weekday_and_month(self) -> None:
        """The read-back is what a person says: weekday, month name, day, year."""
        assert date_readback(date(2012, 7, 25)) == "Wednesday, July 25, 2012"


class TestParams:
    def test_default_timezone_is_us_eastern(self) -> None:
        """Without a timezone, today is the caller's US Eastern today."""
        params = CaptureDateParams(transcription="today")
        assert params.timezone == DEFAULT_TIMEZONE == "America/New_York"
        assert params.today() == datetime.now(ZoneInfo("America/New_York")).date()

    def test_timezone_decides_today(self) -> None:
        """The reference is today in the named zone when no reference_date is given."""
        params = CaptureDateParams(transcription="today", timezone="Pacific/Kiritimati")
        assert read_with(params) == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()

    @cases("zone", ["Mars/Olympus", "", "../etc/passwd", "EST5EDT/x"])
    def test_unknown_timezone_is_invalid(self, zone: str) -> None:
        """A zone that is not an IANA name fails validation naming the field."""
        with pytest.raises(ValidationError, match="timezone"):
            CaptureDateParams(transcription="x", timezone=zone)

    def test_prefer_is_future_or_past(self) -> None:
        """Any other prefer value is invalid."""
        with pytest.raises(ValidationError):
            CaptureDateParams.model_validate({"transcription": "x", "prefer": "soon"})


def read_with(params: CaptureDateParams) -> date:
    reading = PRIMITIVE.read(params.transcription, params, None)
    assert reading.value is not None
    return date.fromisoformat(reading.value)
