"""The words of a date: months, weekdays, "today" and its neighbours, units, "next"/"last"."""

from __future__ import annotations

import calendar

__all__ = [
    "DAY_WORDS",
    "LAST",
    "MODIFIERS",
    "MONTHS",
    "MONTH_WORDS",
    "NEXT",
    "THIS",
    "UNIT_DAYS",
    "UNIT_MONTHS",
    "WEEKDAYS",
]

MONTHS: dict[str, int] = {
    name: index
    for index, names in enumerate(
        [
            (),
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]  # fmt: skip
    )
    for name in names
}
MONTH_WORDS = frozenset(MONTHS)
"""Month names and their abbreviations ("sept", "dec")."""
WEEKDAYS = {
    name: index for index, name in enumerate(calendar.day_name[i].lower() for i in range(7))
}
DAY_WORDS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14}
UNIT_MONTHS = {"month": 1, "year": 12}
NEXT = frozenset(["next", "following"])
LAST = frozenset(["last", "past", "previous"])
THIS = frozenset(["this", "coming"])
MODIFIERS = frozenset(["on", "this", "coming"]) | NEXT | LAST
