"""Dates said relative to today: "tomorrow", "next tuesday", "tuesday after next", "in three
days", "a week from friday", "three days ago", and "next week" (a span, no day).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from voicecore.primitives._dates.reading import Context, DateReading, Match, run_end, skip
from voicecore.primitives._dates.resolve import (
    checked,
    days_ahead,
    in_week,
    moved,
    resolve_weekday,
    shift,
)
from voicecore.primitives._dates.spoken import day_first, month_first
from voicecore.primitives._dates.vocabulary import (
    DAY_WORDS,
    LAST,
    MODIFIERS,
    NEXT,
    THIS,
    UNIT_DAYS,
    UNIT_MONTHS,
    WEEKDAYS,
)
from voicecore.primitives._dates.written import written_date
from voicecore.spoken.numbers import spoken_number

__all__ = ["day_word", "offset_date", "vague_span", "weekday_date"]

# The largest count an offset takes ("in 3660 days", ten years): larger is no date meant.
_MAX_COUNT = 3660


def day_word(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    """ "today", "tomorrow", "the day after tomorrow", "this evening"."""
    token = tokens[index]
    if token in DAY_WORDS:
        return shift(ctx.today, DAY_WORDS[token]), index + 1
    start = skip(tokens, index, frozenset(["the"]))
    phrase = tokens[start : start + 3]
    if phrase in (["day", "after", "tomorrow"], ["day", "before", "yesterday"]):
        return shift(ctx.today, 2 if phrase[1] == "after" else -2), start + 3
    if token == "this" and tokens[index + 1 : index + 2] in (
        ["morning"],
        ["afternoon"],
        ["evening"],
    ):
        return shift(ctx.today, 0), index + 2
    return None


def weekday_date(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    """ "tuesday", "next tuesday", "this coming friday", "tuesday after next",
    "next week tuesday", "last friday", "tuesday march fifth"."""
    week = _week_phrase(tokens, index)
    if week:
        start, modifier = skip(tokens, index + 2, frozenset(["on"])), ""
    else:
        start, modifier = _weekday_modifier(tokens, index)
    if start >= len(tokens) or tokens[start] not in WEEKDAYS:
        return None
    weekday, end = WEEKDAYS[tokens[start]], start + 1
    if not week and not modifier and (week := _week_phrase(tokens, end)):
        end += 2
    if week:
        return in_week(ctx.today, weekday, week), end
    if tokens[end : end + 2] == ["after", "next"]:
        return shift(ctx.today, days_ahead(ctx.today, weekday) + 7), end + 2
    following = _explicit_date(tokens, end, ctx)
    if following is not None and not modifier:
        return checked(following[0], weekday), following[1]
    return resolve_weekday(weekday, modifier, ctx), end


def _weekday_modifier(tokens: Sequence[str], index: int) -> tuple[int, str]:
    """Skip "on", "this", "coming", "next", "last" before a weekday; say which one was said."""
    end = skip(tokens, index, MODIFIERS)
    said = frozenset(tokens[index:end])
    for modifier, words in (("next", NEXT), ("last", LAST), ("coming", {"coming"})):
        if not said.isdisjoint(words):
            return end, modifier
    return end, "this" if "this" in said else ""


def _explicit_date(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    if index >= len(tokens):
        return None
    match = written_date(tokens, index, ctx) or month_first(tokens, index, ctx)
    return match or day_first(tokens, index, ctx)


def _week_phrase(tokens: Sequence[str], index: int) -> str:
    """ "next week" -> "next", "last week" -> "last", "this week" -> "this"; else ""."""
    pair = tokens[index : index + 2]
    if len(pair) == 2 and pair[1] == "week" and pair[0] in NEXT | LAST | {"this"}:
        return "next" if pair[0] in NEXT else ("last" if pair[0] in LAST else "this")
    return ""


def offset_date(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    """ "in three days", "two weeks from today", "a week from friday", "three days ago"."""
    has_in = tokens[index] == "in"
    start = skip(tokens, index + has_in, frozenset(["about", "just"]))
    count, unit_at = _count(tokens, start, ctx)
    if count is None or unit_at >= len(tokens):
        return None
    if not _is_unit(tokens[unit_at]):
        return None
    unit = tokens[unit_at].removesuffix("s")
    anchor, end = ctx.today, unit_at + 1
    sign = 1
    if end < len(tokens) and tokens[end] == "ago":
        sign, end = -1, end + 1
    elif end < len(tokens) and tokens[end] in ("from", "after"):
        anchored = _anchor(tokens, end + 1, ctx)
        if anchored is None:
            return None
        anchor, end = anchored
    elif not has_in:
        return None
    return moved(anchor, sign * count, unit), end


def _count(tokens: Sequence[str], index: int, ctx: Context) -> tuple[int | None, int]:
    """The count before a unit: "three", "a", "a couple of", "10"."""
    if tokens[index : index + 3] == ["a", "couple", "of"]:
        return 2, index + 3
    if index < len(tokens) and tokens[index] in ("a", "an"):
        return 1, index + 1
    end = run_end(tokens, index, ctx)
    if end >= len(tokens) or not _is_unit(tokens[end]):
        return None, index  # no count without its unit: the number need not be read
    value = spoken_number(tokens[index:end]) if end > index else None
    if value is None or value != value.to_integral_value() or not 0 < value <= _MAX_COUNT:
        return None, index
    return int(value), end


def _is_unit(token: str) -> bool:
    """ "day", "weeks", "month", ...: what an offset counts."""
    unit = token.removesuffix("s")
    return unit in UNIT_DAYS or unit in UNIT_MONTHS


def _anchor(tokens: Sequence[str], index: int, ctx: Context) -> tuple[date, int] | None:
    """What an offset counts from: "now", "today", "tomorrow", "friday", "next monday"."""
    if index >= len(tokens):
        return None  # "three days from" and nothing after it
    if tokens[index] == "now":
        return ctx.today, index + 1
    match = day_word(tokens, index, ctx) or weekday_date(tokens, index, ctx)
    if match is None or match[0].value is None:
        return None
    return match[0].value, match[1]


def vague_span(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    """ "next week", "next month", "sometime in july": a time span, not a day."""
    pair = tokens[index : index + 2]
    if len(pair) == 2 and pair[0] in NEXT | THIS and pair[1] in ("week", "month", "year"):
        return DateReading(reason="missing_day"), index + 2
    return None
