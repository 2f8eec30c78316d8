"""``capture_time``: a time of day, on a 12- or 24-hour clock, as callers say it."""

from __future__ import annotations

from typing import ClassVar

from voicecore._json import JsonValue
from voicecore.capture import CaptureParams, CapturePrimitive, Reading
from voicecore.primitives._times import TimeReading, parse_time
from voicecore.spoken.formatted import meridiem_homophones
from voicecore.spoken.tokens import after_correction, drop_fillers, words

__all__ = ["CaptureTime", "CaptureTimeParams", "time_readback"]

# How sure a reading is when a.m./p.m. was left out and business hours chose it.
_AMBIGUOUS_CERTAINTY = 0.8
# How sure a reading is when figures or a homophone were read as a clock ("8 30", "to 30
# in the afternoon"): such words are often no time ("I sleep 8 30 hours"), so read back.
_GUESSED_CERTAINTY = 0.6


class CaptureTimeParams(CaptureParams):
    """Params of ``capture_time``: the common capture params."""


class CaptureTime(CapturePrimitive[CaptureTimeParams]):
    """Capture a time of day ("half past two in the afternoon", "quarter to five", "noon").

    ``value`` is ``HH:MM`` on a 24-hour clock. Without a.m./p.m. (or "morning", "tonight")
    an hour from 1 to 12 is read in business hours (7-11 morning, 12 noon, 1-6 afternoon);
    parts then say ``ambiguous: true`` and ``candidates`` hold the other half of the day.
    A time zone said with the time ("seven a m e s t") is in parts ``timezone``.
    """

    name: ClassVar[str] = "capture_time"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = "Capture a time of day as HH:MM on a 24-hour clock."
    noun: ClassVar[str] = "time"
    params_model = CaptureTimeParams

    def read(self, text: str, params: CaptureTimeParams, partial: str | None) -> Reading:
        """Read the time in ``text``; ``partial`` is unused (a time is said whole)."""
        said = words(text)
        heard_alike = meridiem_homophones(said)  # "140 mm": before "mm" goes as a filler
        heard = parse_time(after_correction(drop_fillers(heard_alike)))
        if heard.value is None:
            return Reading(value=None, reason=heard.reason or "no_value_heard")
        ambiguous = heard.alternative is not None
        certainty = _AMBIGUOUS_CERTAINTY if ambiguous else 1.0
        return Reading(
            value=_clock(heard.value),
            readback=time_readback(heard.value),
            parts=_parts(heard, heard.value),
            certainty=(
                min(certainty, _GUESSED_CERTAINTY)
                if heard.guessed or heard_alike != said
                else certainty
            ),
        )


def _parts(heard: TimeReading, minutes: int) -> dict[str, JsonValue]:
    parts: dict[str, JsonValue] = {
        "hour": minutes // 60,
        "minute": minutes % 60,
        "ambiguous": heard.alternative is not None,
    }
    if heard.alternative is not None:
        parts["candidates"] = [
            {
                "value": _clock(heard.alternative),
                "readback": time_readback(heard.alternative),
                "confidence": round(1.0 - _AMBIGUOUS_CERTAINTY, 2),
            }
        ]
    if heard.timezone is not None:
        parts["timezone"] = heard.timezone
    return parts


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def time_readback(minutes: int) -> str:
    """The time as a person says it back: "2:30 PM", "noon", "midnight"."""
    if minutes == 12 * 60:
        return "noon"
    if minutes == 0:
        return "midnight"
    hour, minute = divmod(minutes, 60)
    half = "AM" if hour < 12 else "PM"
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {half}"
