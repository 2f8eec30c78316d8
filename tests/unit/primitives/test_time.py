"""capture_time: caller-style times, a.m./p.m. left out, time zones, failures."""

from __future__ import annotations

from collections.abc import Mapping

from tests._cases import cases
from voicecore._json import JsonValue
from voicecore.primitives.time import CaptureTime, CaptureTimeParams, time_readback

PRIMITIVE = CaptureTime()


def first_candidate(parts: Mapping[str, JsonValue]) -> str:
    """The value of the first other reading offered in ``parts["candidates"]``."""
    candidates = parts["candidates"]
    assert isinstance(candidates, list)
    first = candidates[0]
    assert isinstance(first, dict)
    return str(first["value"])


def read(text: str) -> str | None:
    return PRIMITIVE.read(text, CaptureTimeParams(transcription=text), None).value


CALLER_CASES = [
    ("half past two in the afternoon", "14:30"),
    ("quarter to five", "16:45"),
    ("quarter past nine", "09:15"),
    ("a quarter after six in the evening", "18:15"),
    ("quarter of five", "16:45"),
    ("noon", "12:00"),
    ("twelve noon", "12:00"),
    ("midnight", "00:00"),
    ("at noon please", "12:00"),
    ("two p m", "14:00"),
    ("two pm", "14:00"),
    ("2 p.m.", "14:00"),
    ("2pm", "14:00"),
    ("2:30 PM", "14:30"),
    ("10:15 a.m.", "10:15"),
    ("14:30", "14:30"),
    ("seven a m", "07:00"),
    ("seven in the morning", "07:00"),
    ("eight o'clock", "08:00"),
    ("three o clock", "15:00"),
    ("three oclock in the afternoon", "15:00"),
    ("ten thirty", "10:30"),
    ("ten thirty at night", "22:30"),
    ("eight o six", "08:06"),
    ("nine oh five a m", "09:05"),
    ("eleven fifty five p m", "23:55"),
    ("four fifteen", "16:15"),
    ("six forty five", "18:45"),
    ("five after three", "15:05"),
    ("twenty past four", "16:20"),
    ("ten to eleven pm", "22:50"),
    ("twenty five to seven in the morning", "06:35"),
    ("one minute to midnight", "23:59"),
    ("fourteen hundred hours", "14:00"),
    ("oh nine hundred", "09:00"),
    ("twenty one hundred", "21:00"),
    ("at eight tonight", "20:00"),
    ("tonight at nine", "21:00"),
    ("this afternoon at three thirty", "15:30"),
    ("um around ten", "10:00"),
    ("let's say three", "15:00"),
    ("three no wait four", "16:00"),
    ("two thirty i mean three thirty", "15:30"),
    ("sometime around eleven a m", "11:00"),
    ("twelve fifteen", "12:15"),
    ("twelve thirty a m", "00:30"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_time(self, text: str, expected: str) -> None:
        """Clock, "quarter to", "half past", named and military times give HH:MM."""
        assert read(text) == expected


class TestAmbiguity:
    @cases(
        ("text", "chosen", "other"),
        [
            ("two thirty", "14:30", "02:30"),
            ("eight", "08:00", "20:00"),
            ("eleven fifteen", "11:15", "23:15"),
            ("twelve thirty", "12:30", "00:30"),
            ("six", "18:00", "06:00"),
            ("seven", "07:00", "19:00"),
        ],
    )
    def test_business_hours_reading_with_the_other_as_candidate(
        self, text: str, chosen: str, other: str
    ) -> None:
        """Without a.m./p.m. 7-11 is morning and 12-6 afternoon; the other half is offered."""
        reading = PRIMITIVE.read(text, CaptureTimeParams(transcription=text), None)
        assert reading.value == chosen
        assert reading.parts["ambiguous"] is True
        assert first_candidate(reading.parts) == other
        assert reading.certainty < 1.0

    @cases("text", ["two p m", "fourteen thirty", "noon", "seven in the morning"])
    def test_stated_half_of_day_is_not_ambiguous(self, text: str) -> None:
        """a.m./p.m., a 24-hour hour, a named time or a period word settle it."""
        reading = PRIMITIVE.read(text, CaptureTimeParams(transcription=text), None)
        assert reading.parts["ambiguous"] is False
        assert "candidates" not in reading.parts


class TestTimezone:
    @cases(
        ("text", "zone"),
        [("seven a m e s t", "EST"), ("eight oclock g m t", "GMT"), ("three pm pacific", "PT")],
    )
    def test_zone_said_after_the_time_is_a_part(self, text: str, zone: str) -> None:
        """A zone after the time goes to parts, not into the value."""
        reading = PRIMITIVE.read(text, CaptureTimeParams(transcription=text), None)
        assert reading.parts["timezone"] == zone


class TestNoValue:
    @cases(
        ("text", "reason"),
        [
            ("", "no_value_heard"),
            ("whenever works", "no_value_heard"),
            ("one two three four five six", "no_value_heard"),
            ("july twenty twelve", "no_value_heard"),
            ("twenty four fifteen", "invalid_time"),
        ],
    )
    def test_gives_the_reason(self, text: str, reason: str) -> None:
        """No time, a long digit string, a date or an impossible time give no value."""
        reading = PRIMITIVE.read(text, CaptureTimeParams(transcription=text), None)
        assert reading.value is None
        assert reading.reason == reason


class TestReadback:
    @cases(
        ("minutes", "expected"),
        [(0, "midnight"), (720, "noon"), (870, "2:30 PM"), (65, "1:05 AM"), (735, "12:15 PM")],
    )
    def test_says_twelve_hour_time(self, minutes: int, expected: str) -> None:
        """The read-back is a 12-hour time with AM/PM, or noon and midnight by name."""
        assert time_readback(minutes) == expected
