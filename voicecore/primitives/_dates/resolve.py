"""Dates resolved against today: built or refused, shifted, the nearest year, the weekday of
a week, whole months added.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from voicecore.primitives._dates.reading import Context, DateReading
from voicecore.primitives._dates.vocabulary import UNIT_DAYS, UNIT_MONTHS

__all__ = [
    "add_months",
    "build",
    "checked",
    "days_ahead",
    "in_week",
    "moved",
    "resolve_weekday",
    "shift",
    "week_start",
    "with_day",
    "without_year",
]


def build(year_: int, month: int, day: int, relative: bool = False) -> DateReading:
    try:
        return DateReading(value=date(year_, month, day), relative=relative)
    except (ValueError, OverflowError):
        return DateReading(reason="invalid_date")


def shift(today: date, days: int) -> DateReading:
    try:
        return DateReading(value=today + timedelta(days=days), relative=True)
    except OverflowError:
        return DateReading(reason="invalid_date")


def without_year(month: int, day: int, ctx: Context) -> DateReading:
    """Month and day in the nearest year ``prefer`` points to (Feb 29: the nearest leap year)."""
    if not 1 <= day <= calendar.monthrange(2000, month)[1]:
        return DateReading(reason="invalid_date")
    step = 1 if ctx.prefer == "future" else -1
    for offset in range(9):
        candidate = build(ctx.today.year + step * offset, month, day)
        value = candidate.value
        if value is not None and (value >= ctx.today if step > 0 else value <= ctx.today):
            return DateReading(value=value, certainty=0.95)
    return DateReading(reason="invalid_date")


def with_day(month: int, day: int, year_: int | None, ctx: Context) -> DateReading:
    return build(year_, month, day) if year_ is not None else without_year(month, day, ctx)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, the day clamped to the month's length."""
    index = start.year * 12 + start.month - 1 + months
    year_, month = divmod(index, 12)
    year_ = min(max(year_, 1), 9999)
    return date(year_, month + 1, min(start.day, calendar.monthrange(year_, month + 1)[1]))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def days_ahead(today: date, weekday: int) -> int:
    """Days to the first ``weekday`` strictly after ``today`` (1..7)."""
    return (weekday - today.weekday() - 1) % 7 + 1


def in_week(today: date, weekday: int, week: str) -> DateReading:
    """ "tuesday next week": that weekday in the calendar week named."""
    days = {"next": 7, "last": -7}.get(week, 0)
    return shift(week_start(today), weekday + days)


def resolve_weekday(weekday: int, modifier: str, ctx: Context) -> DateReading:
    """A weekday with "next"/"last"/"this"/"coming" or alone, on the preferred side."""
    today = ctx.today
    ahead = days_ahead(today, weekday)
    back = (today.weekday() - weekday - 1) % 7 + 1
    this_week = week_start(today) + timedelta(days=weekday)
    if modifier == "next":
        return _with_alternative(this_week + timedelta(days=7), today + timedelta(days=ahead))
    if modifier == "last":
        return _with_alternative(this_week - timedelta(days=7), today - timedelta(days=back))
    future = modifier == "coming" or ctx.prefer == "future"
    if modifier == "this":  # "this friday" may be today
        ahead, back = ahead % 7, back % 7
    return shift(today, ahead if future else -back)


def _with_alternative(chosen: date, other: date) -> DateReading:
    if chosen == other:
        return DateReading(value=chosen, relative=True)
    return DateReading(value=chosen, alternative=other, relative=True, certainty=0.7)


def checked(reading: DateReading, weekday: int) -> DateReading:
    """A date said with its weekday ("tuesday march fifth"): less sure when they disagree."""
    if reading.value is None or reading.value.weekday() == weekday:
        return reading
    return DateReading(value=reading.value, relative=reading.relative, certainty=0.5)


def moved(anchor: date, count: int, unit: str) -> DateReading:
    if unit in UNIT_DAYS:
        return shift(anchor, count * UNIT_DAYS[unit])
    try:
        return DateReading(value=add_months(anchor, count * UNIT_MONTHS[unit]), relative=True)
    except ValueError:
        return DateReading(reason="invalid_date")
