"""Two-digit years ("sixty five", "oh four", "3/5/65") and the century they fall in.

A caller saying a birth date says "march third sixty five"; one booking says "june fifth oh
four" rarely, but a written "6/5/27" is common. The century follows ``prefer``: for ``past``
the most recent such date not after the reference date, for ``future`` the first one not
before it, so the same rule serves birth dates and appointments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from voicecore.spoken.number_words import ZERO_DIGITS
from voicecore.spoken.numbers import cardinal, digit_string

__all__ = ["century_year", "two_digit_year"]


def two_digit_year(tokens: Sequence[str]) -> int | None:
    """The two-digit year ``tokens`` say, 0 to 99, or None.

    "sixty five" -> 65, "oh four" -> 4, "65" -> 65. Digits said one by one ("six five") are
    not a year: callers say years as a number or as "oh" and a digit. Ten to nineteen are
    not either: "march third ten" is more likely a date and an hour than 2010.
    """
    said = digit_string(tokens)
    if said is None or len(said) != 2:
        return None
    if tokens[0] in ZERO_DIGITS:
        return int(said)
    value = cardinal(tokens)
    return value if value is not None and 20 <= value <= 99 else None


def century_year(
    two_digits: int, month: int, day: int, today: date, prefer: Literal["future", "past"]
) -> int:
    """The full year of ``month``/``day``/``two_digits``: for ``past`` the latest such date
    not after ``today`` (a birth date); for ``future`` the nearest such year.

    Dates compare as (year, month, day), so an impossible day (Feb 30) still gets a year and
    is refused later, when the date is built.
    """
    year = today.year - today.year % 100 + two_digits
    said, reference = (year, month, day), (today.year, today.month, today.day)
    if prefer == "past":
        return year if said <= reference else year - 100
    # "future" leans forward only within reach: a caller's two-digit year is the nearest one
    # ("3/5/20" said in 2026 is 2020, not 2120; "sixty five" is 2065), later on a tie.
    return min((year - 100, year, year + 100), key=lambda y: (abs(y - today.year), -y))
