"""``capture_date``: a calendar date, said outright or relative to the caller's today."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from voicecore._json import JsonValue
from voicecore.capture import CaptureParams, CapturePrimitive, Reading
from voicecore.primitives._dates import DateReading, Prefer, parse_date
from voicecore.spoken.tokens import after_correction, drop_fillers, words

__all__ = ["DEFAULT_TIMEZONE", "CaptureDate", "CaptureDateParams", "date_readback"]

#: The caller's zone when the request names none. US Eastern, not UTC: "today" and
#: "tomorrow" follow the caller's calendar, and UTC's midnight falls in the US afternoon
#: (7-8 p.m. Eastern, 4-5 p.m. Pacific), where it would move every relative date a day
#: ahead; Eastern is the most populous US zone and is off only late at night further west.
#: Set ``timezone`` per call when the caller's zone is known.
DEFAULT_TIMEZONE = "America/New_York"

# English names whatever the process locale (strftime's %A and %B follow it).
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class CaptureDateParams(CaptureParams):
    """Params of ``capture_date``.

    ``reference_date`` is the caller's today (default: today in ``timezone``); ``prefer``
    says which way an incomplete date points ("march fifth", "friday"): ``future`` for
    appointments and deliveries, ``past`` for birth dates and incidents. A two-digit year
    ("sixty five", "3/5/65") is the latest such date with ``past``, else the nearest year.
    """

    reference_date: date | None = None
    timezone: str = DEFAULT_TIMEZONE
    prefer: Prefer = "future"

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, a long name
            raise ValueError(
                "timezone must be an IANA time zone name such as America/New_York"
            ) from None
        return value

    def today(self) -> date:
        """The reference date, or today's date in ``timezone``."""
        if self.reference_date is not None:
            return self.reference_date
        return datetime.now(ZoneInfo(self.timezone)).date()


class CaptureDate(CapturePrimitive[CaptureDateParams]):
    """Capture a date ("july twenty fifth", "next tuesday", "in three days", "3/5/2024").

    ``value`` is ISO ``YYYY-MM-DD``; parts give ``weekday``, ``year``, ``month``, ``day`` and
    ``relative``; a second plausible reading ("next tuesday": this week's or next week's)
    is in ``candidates``. Reasons: ``invalid_date``, ``missing_day``, ``no_value_heard``.
    """

    name: ClassVar[str] = "capture_date"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Capture a calendar date, absolute or relative to the caller's today."
    )
    noun: ClassVar[str] = "date"
    params_model = CaptureDateParams

    def read(self, text: str, params: CaptureDateParams, partial: str | None) -> Reading:
        """Read the date in ``text``; ``partial`` is unused (a date is said whole)."""
        tokens = after_correction(drop_fillers(words(text)))
        heard = parse_date(tokens, params.today(), params.prefer)
        if heard.value is None:
            return Reading(value=None, reason=heard.reason or "no_value_heard")
        return Reading(
            value=heard.value.isoformat(),
            readback=date_readback(heard.value),
            parts=_parts(heard, heard.value),
            certainty=heard.certainty,
        )


def _parts(heard: DateReading, value: date) -> dict[str, JsonValue]:
    parts: dict[str, JsonValue] = {
        "weekday": _WEEKDAY_NAMES[value.weekday()].lower(),
        "year": value.year,
        "month": value.month,
        "day": value.day,
        "relative": heard.relative,
    }
    if heard.alternative is not None:
        parts["candidates"] = [
            {
                "value": heard.alternative.isoformat(),
                "readback": date_readback(heard.alternative),
                "confidence": round(1.0 - heard.certainty, 2),
            }
        ]
    return parts


def date_readback(value: date) -> str:
    """The date as a person says it back: "Tuesday, March 12, 2024"."""
    weekday, month = _WEEKDAY_NAMES[value.weekday()], _MONTH_NAMES[value.month - 1]
    return f"{weekday}, {month} {value.day}, {value.year}"
