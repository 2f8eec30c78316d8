"""Spoken dates to calendar dates, against a reference date ("today" for the caller).

Absolute forms: "july twenty fifth twenty twelve", "the fifth of march", "march 5th, 2024",
"3/5/2024", "2024-03-05", two-digit years ("march third sixty five", "3/5/65"). Relative
forms: "today", "tomorrow", "the day after tomorrow", "next tuesday", "this friday", "tuesday
after next", "in three days", "two weeks from today", "a week from friday", "three days ago",
"the fifteenth". A year left out is the next (``prefer="future"``) or last
(``prefer="past"``) time that month and day come round; a two-digit year is resolved the same
way (see ``two_digit_years``).

"next tuesday" is the Tuesday of next calendar week (weeks start on Monday); when the first
Tuesday after today is a different day, that is returned as the alternative, since callers
split about evenly between the two readings and the read-back settles it.

One module a role: ``vocabulary`` (the words), ``reading`` (what a matcher reads with and
returns), ``written``, ``spoken`` and ``relative`` (the matchers), ``resolve`` (resolution
against today) and ``parse`` (the walk over the tokens that tries the matchers).
"""

from __future__ import annotations

from voicecore.primitives._dates.parse import parse_date
from voicecore.primitives._dates.reading import DateReading, Prefer
from voicecore.primitives._dates.vocabulary import MONTH_WORDS

__all__ = ["MONTH_WORDS", "DateReading", "Prefer", "parse_date"]
