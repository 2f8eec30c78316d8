"""Spoken dates to calendar dates, against a reference date ("today" for the caller).

Absolute forms: "july twenty fifth twenty twelve", "the fifth of march", "march 5th, 2024",
"3/5/2024", "2024-03-05", two-digit years ("march third sixty five", "3/5/65"). Relative
forms: "today", "tomorrow", "the day after tomorrow", "next tuesday", "this friday", "tuesday
after next", "in three days", "two weeks from today", "a week from friday", "three days ago",
"the fifteenth". A year left out is the next (``prefer="future"``) or last
(``prefer="past"``) time that month and day come round; a two-digit year is resolved the same
way (see ``_two_digit_years``).

"next tuesday" is the Tuesday of next calendar week (weeks start on Monday); when the first
Tuesday after today is a different day, that is returned as the alternative, since callers
split about evenly between the two readings and the read-back settles it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, TypeAlias

from voicecore.primitives._two_digit_years import century_year, two_digit_year
from voicecore.spoken.numbers import cardinal, is_number_word, ordinal, spoken_number, year

__all__ = ["MONTH_WORDS", "DateReading", "Prefer", "parse_date"]

Prefer: TypeAlias = Literal["future", "past"]

_MONTHS: dict[str, int] = {
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
MONTH_WORDS = frozenset(_MONTHS)
"""Month names and their abbreviations ("sept", "dec")."""
_WEEKDAYS = {
    name: index for index, name in enumerate(calendar.day_name[i].lower() for i in range(7))
}
_DAY_WORDS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}
_PARTS_OF_TODAY = (["morning"], ["afternoon"], ["evening"])
_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14}
_UNIT_MONTHS = {"month": 1, "year": 12}
_NEXT = frozenset(["next", "following"])
_LAST = frozenset(["last", "past", "previous"])
_THIS = frozenset(["this", "coming"])
_MODIFIERS = frozenset(["on", "this", "coming"]) | _NEXT | _LAST
_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_SLASHED = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})(?:[/.-]([0-9]{2}|[0-9]{4}))?$")
_MAX_COUNT = 3660
# Longest number run a date holds ("twenty fifth two thousand and twelve" is 6); longer runs
# are cut there, which bounds the work on pathological input.
_MAX_RUN_WORDS = 10
# Most optional words skipped in a row: "on this coming" is three.
_MAX_SKIPPED = 4


@dataclass(frozen=True, slots=True)
class DateReading:
    """A date heard (``value``), or why none was (``reason``), and a second reading if any."""

    value: date | None = None
    reason: str | None = None
    alternative: date | None = None
    relative: bool = False
    certainty: float = 1.0


@dataclass(frozen=True, slots=True)
class _Context:
    today: date
    prefer: Prefer
    #: Whether each token is a number word: asked once per token, not once per run it is in.
    number_words: tuple[bool, ...] = ()


@dataclass(frozen=True, slots=True)
class _DaySaid:
    """The month and day before a year, and whether the day was an ordinal ("third")."""

    month: int
    day: int
    ordinal: bool


_Match: TypeAlias = tuple[DateReading, int]
_Matcher: TypeAlias = Callable[[Sequence[str], int, _Context], "_Match | None"]


def parse_date(tokens: Sequence[str], today: date, prefer: Prefer = "future") -> DateReading:
    """The date ``tokens`` say, resolved against ``today``; the last one said wins.

    Reasons when there is no value: ``invalid_date`` ("february thirtieth"), ``missing_day``
    ("july twenty twelve", "next week"), ``no_value_heard``.
    """
    ctx = _Context(today, prefer, tuple(is_number_word(token) for token in tokens))
    found: list[DateReading] = []
    index = 0
    while index < len(tokens):
        starts = ctx.number_words[index] or _may_start_a_date(tokens[index])
        match = _match_at(tokens, index, ctx) if starts else None
        if match is None:
            index += 1
            continue
        found.append(match[0])
        index = max(match[1], index + 1)
    with_value = [reading for reading in found if reading.value is not None]
    if with_value:
        return with_value[-1]
    return found[-1] if found else DateReading(reason="no_value_heard")


def _may_start_a_date(token: str) -> bool:
    """Whether a matcher can match from ``token`` that is not a number word: a word one of
    them starts with, or a written date. Other words (most of a long utterance) skip all seven
    matchers."""
    return token in _STARTING_WORDS or token[:1] in _ASCII_DIGITS


def _match_at(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    for matcher in _MATCHERS:
        try:
            match = matcher(tokens, index, ctx)
        except OverflowError:  # "in ten million days", or next monday from 9999-12-31
            return DateReading(reason="invalid_date"), index + 1
        if match is not None:
            return match
    return None


def _skip(tokens: Sequence[str], index: int, optional: frozenset[str]) -> int:
    """The index after up to ``_MAX_SKIPPED`` optional words ("the", "on this coming").

    Unbounded, every start inside "the the the ..." skipped to its end: quadratic. A date
    said with more optional words in a row is still read, from the last few of them (the
    parse tries each start).
    """
    stop = min(len(tokens), index + _MAX_SKIPPED)
    while index < stop and tokens[index] in optional:
        index += 1
    return index


def _run_end(tokens: Sequence[str], index: int, ctx: _Context) -> int:
    """End of the run of number words starting at ``index`` ("and" inside is kept)."""
    end, stop = index, min(len(tokens), index + _MAX_RUN_WORDS)
    numbers = ctx.number_words
    while end < stop and (numbers[end] or (tokens[end] == "and" and end > index)):
        end += 1
    while end > index and tokens[end - 1] == "and":
        end -= 1
    return end


def _build(year_: int, month: int, day: int, relative: bool = False) -> DateReading:
    try:
        return DateReading(value=date(year_, month, day), relative=relative)
    except (ValueError, OverflowError):
        return DateReading(reason="invalid_date")


def _shift(today: date, days: int) -> DateReading:
    try:
        return DateReading(value=today + timedelta(days=days), relative=True)
    except OverflowError:
        return DateReading(reason="invalid_date")


def _day_number(tokens: Sequence[str]) -> int | None:
    """A day of the month: an ordinal (any, checked later) or a cardinal from 1 to 31."""
    value = ordinal(tokens)
    if value is not None:
        return value if 1 <= value <= 99 else None
    value = cardinal(tokens)
    return value if value is not None and 1 <= value <= 31 else None


def _without_year(month: int, day: int, ctx: _Context) -> DateReading:
    """Month and day in the nearest year ``prefer`` points to (Feb 29: the nearest leap year)."""
    if not 1 <= day <= calendar.monthrange(2000, month)[1]:
        return DateReading(reason="invalid_date")
    step = 1 if ctx.prefer == "future" else -1
    for offset in range(9):
        candidate = _build(ctx.today.year + step * offset, month, day)
        value = candidate.value
        if value is not None and (value >= ctx.today if step > 0 else value <= ctx.today):
            return DateReading(value=value, certainty=0.95)
    return DateReading(reason="invalid_date")


def _with_day(month: int, day: int, year_: int | None, ctx: _Context) -> DateReading:
    return _build(year_, month, day) if year_ is not None else _without_year(month, day, ctx)


def _trailing_year(
    tokens: Sequence[str], index: int, said: _DaySaid, ctx: _Context
) -> tuple[int | None, int]:
    """A year said after the day ("..., twenty twelve", "of two thousand nine")."""
    start = _skip(tokens, index, frozenset(["of", "in"]))
    end = _run_end(tokens, start, ctx)
    value = _year_after(tokens[start:end], said, ctx) if end > start else None
    return (value, end) if value is not None else (None, index)


def _year_after(run: Sequence[str], said: _DaySaid, ctx: _Context) -> int | None:
    """The year in ``run``: four digits, or two after an ordinal day ("march third sixty
    five"). After a cardinal day ("march twenty twenty") the run more likely says a
    four-digit year with the day left out, so two digits are not read there."""
    full = year(run)
    if full is not None or not said.ordinal:
        return full
    short = two_digit_year(run)
    if short is None:
        return None
    return century_year(short, said.month, said.day, ctx.today, ctx.prefer)


def _month_first(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    """ "july twenty fifth twenty twelve", "march 5th, 2024", "june thirty", "may the first"."""
    month = _MONTHS.get(tokens[index])
    if month is None:
        return None
    start = _skip(tokens, index + 1, frozenset(["the"]))
    end = _run_end(tokens, start, ctx)
    run = tokens[start:end]
    for split in range(1, len(run) + 1):
        day = _day_number(run[:split])
        if day is None:
            continue
        said, rest = _DaySaid(month, day, ordinal(run[:split]) is not None), run[split:]
        year_ = _year_after(rest, said, ctx) if rest else None
        if rest and year_ is None:
            continue
        if not rest:
            year_, end = _trailing_year(tokens, end, said, ctx)
        return _with_day(month, day, year_, ctx), end
    if run and year(run) is not None and tokens[index] != "may":
        return DateReading(reason="missing_day"), end
    return None


def _day_first(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    """ "the twenty fifth of july twenty twelve", "5 march 2024", "the fifteenth"."""
    start = _skip(tokens, index, frozenset(["the"]))
    end = _run_end(tokens, start, ctx)
    inside_a_run = start == index and index > 0 and ctx.number_words[index - 1]
    if end == start or inside_a_run:
        return None
    after = _skip(tokens, end, frozenset(["of"]))
    month = _MONTHS.get(tokens[after]) if after < len(tokens) else None
    alone = start > index or (index == 0 and end == len(tokens))
    if month is None and not alone:
        return None  # neither "fifth of march" nor "the fifth": the run need not be read
    day = _day_number(tokens[start:end])
    if day is None:
        return None
    is_ordinal = ordinal(tokens[start:end]) is not None
    if month is not None:
        year_, stop = _trailing_year(tokens, after + 1, _DaySaid(month, day, is_ordinal), ctx)
        return _with_day(month, day, year_, ctx), stop
    if not is_ordinal:
        return None
    return _day_of_month(day, tokens, end, ctx)


def _day_of_month(day: int, tokens: Sequence[str], end: int, ctx: _Context) -> _Match:
    """ "the fifteenth" [of this/next month]: the next (or last) month that has that day."""
    stop = _skip(tokens, end, frozenset(["of"]))
    month_shift = 0
    if tokens[stop : stop + 2] in (["next", "month"], ["the", "month"], ["this", "month"]):
        month_shift = 1 if tokens[stop] == "next" else 0
        end = stop + 2
    step = -1 if ctx.prefer == "past" and not month_shift else 1
    first = _add_months(ctx.today.replace(day=1), month_shift)
    for offset in range(13):
        month_start = _add_months(first, step * offset)
        reading = _build(month_start.year, month_start.month, day)
        value = reading.value
        if value is None:
            continue
        if month_shift or (value >= ctx.today if step > 0 else value <= ctx.today):
            return DateReading(value=value, certainty=0.9), end
    return DateReading(reason="invalid_date"), end


def _add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, the day clamped to the month's length."""
    index = start.year * 12 + start.month - 1 + months
    year_, month = divmod(index, 12)
    year_ = min(max(year_, 1), 9999)
    return date(year_, month + 1, min(start.day, calendar.monthrange(year_, month + 1)[1]))


def _written(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    """ "2024-03-05", "3/5/2024" (month first, as in the US), "3/5"."""
    token = tokens[index]
    if match := _ISO.match(token):
        year_, month, day = (int(part) for part in match.groups())
        return _build(year_, month, day), index + 1
    match = _SLASHED.match(token)
    if match is None or (match.group(3) is None and "/" not in token):
        return None
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return DateReading(reason="invalid_date"), index + 1
    text_year = match.group(3)
    if text_year is None:
        return _without_year(month, day, ctx), index + 1
    if len(text_year) == 4:
        return _build(int(text_year), month, day), index + 1
    year_ = century_year(int(text_year), month, day, ctx.today, ctx.prefer)
    return _build(year_, month, day), index + 1


def _day_word(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    """ "today", "tomorrow", "the day after tomorrow", "this evening"."""
    token = tokens[index]
    if token in _DAY_WORDS:
        return _shift(ctx.today, _DAY_WORDS[token]), index + 1
    start = _skip(tokens, index, frozenset(["the"]))
    phrase = tokens[start : start + 3]
    if phrase in (["day", "after", "tomorrow"], ["day", "before", "yesterday"]):
        return _shift(ctx.today, 2 if phrase[1] == "after" else -2), start + 3
    if token == "this" and tokens[index + 1 : index + 2] in (
        ["morning"],
        ["afternoon"],
        ["evening"],
    ):
        return _shift(ctx.today, 0), index + 2
    return None


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    """ "tuesday", "next tuesday", "this coming friday", "tuesday after next",
    "next week tuesday", "last friday", "tuesday march fifth"."""
    week = _week_phrase(tokens, index)
    if week:
        start, modifier = _skip(tokens, index + 2, frozenset(["on"])), ""
    else:
        start, modifier = _weekday_modifier(tokens, index)
    if start >= len(tokens) or tokens[start] not in _WEEKDAYS:
        return None
    weekday, end = _WEEKDAYS[tokens[start]], start + 1
    if not week and not modifier and (week := _week_phrase(tokens, end)):
        end += 2
    if week:
        return _in_week(ctx.today, weekday, week), end
    if tokens[end : end + 2] == ["after", "next"]:
        return _shift(ctx.today, _days_ahead(ctx.today, weekday) + 7), end + 2
    following = _explicit_date(tokens, end, ctx)
    if following is not None and not modifier:
        return _checked(following[0], weekday), following[1]
    return _resolve_weekday(weekday, modifier, ctx), end


def _weekday_modifier(tokens: Sequence[str], index: int) -> tuple[int, str]:
    """Skip "on", "this", "coming", "next", "last" before a weekday; say which one was said."""
    end = _skip(tokens, index, _MODIFIERS)
    said = frozenset(tokens[index:end])
    for modifier, words in (("next", _NEXT), ("last", _LAST), ("coming", {"coming"})):
        if not said.isdisjoint(words):
            return end, modifier
    return end, "this" if "this" in said else ""


def _explicit_date(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    if index >= len(tokens):
        return None
    match = _written(tokens, index, ctx) or _month_first(tokens, index, ctx)
    return match or _day_first(tokens, index, ctx)


def _in_week(today: date, weekday: int, week: str) -> DateReading:
    """ "tuesday next week": that weekday in the calendar week named."""
    shift = {"next": 7, "last": -7}.get(week, 0)
    return _shift(_week_start(today), weekday + shift)


def _week_phrase(tokens: Sequence[str], index: int) -> str:
    """ "next week" -> "next", "last week" -> "last", "this week" -> "this"; else ""."""
    pair = tokens[index : index + 2]
    if len(pair) == 2 and pair[1] == "week" and pair[0] in _NEXT | _LAST | {"this"}:
        return "next" if pair[0] in _NEXT else ("last" if pair[0] in _LAST else "this")
    return ""


def _days_ahead(today: date, weekday: int) -> int:
    """Days to the first ``weekday`` strictly after ``today`` (1..7)."""
    return (weekday - today.weekday() - 1) % 7 + 1


def _resolve_weekday(weekday: int, modifier: str, ctx: _Context) -> DateReading:
    """A weekday with "next"/"last"/"this"/"coming" or alone, on the preferred side."""
    today = ctx.today
    ahead = _days_ahead(today, weekday)
    back = (today.weekday() - weekday - 1) % 7 + 1
    this_week = _week_start(today) + timedelta(days=weekday)
    if modifier == "next":
        return _with_alternative(this_week + timedelta(days=7), today + timedelta(days=ahead))
    if modifier == "last":
        return _with_alternative(this_week - timedelta(days=7), today - timedelta(days=back))
    future = modifier == "coming" or ctx.prefer == "future"
    if modifier == "this":  # "this friday" may be today
        ahead, back = ahead % 7, back % 7
    return _shift(today, ahead if future else -back)


def _with_alternative(chosen: date, other: date) -> DateReading:
    if chosen == other:
        return DateReading(value=chosen, relative=True)
    return DateReading(value=chosen, alternative=other, relative=True, certainty=0.7)


def _checked(reading: DateReading, weekday: int) -> DateReading:
    """A date said with its weekday ("tuesday march fifth"): less sure when they disagree."""
    if reading.value is None or reading.value.weekday() == weekday:
        return reading
    return DateReading(value=reading.value, relative=reading.relative, certainty=0.5)


def _offset(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    """ "in three days", "two weeks from today", "a week from friday", "three days ago"."""
    has_in = tokens[index] == "in"
    start = _skip(tokens, index + has_in, frozenset(["about", "just"]))
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
    return _moved(anchor, sign * count, unit), end


def _count(tokens: Sequence[str], index: int, ctx: _Context) -> tuple[int | None, int]:
    """The count before a unit: "three", "a", "a couple of", "10"."""
    if tokens[index : index + 3] == ["a", "couple", "of"]:
        return 2, index + 3
    if index < len(tokens) and tokens[index] in ("a", "an"):
        return 1, index + 1
    end = _run_end(tokens, index, ctx)
    if end >= len(tokens) or not _is_unit(tokens[end]):
        return None, index  # no count without its unit: the number need not be read
    value = spoken_number(tokens[index:end]) if end > index else None
    if value is None or value != value.to_integral_value() or not 0 < value <= _MAX_COUNT:
        return None, index
    return int(value), end


def _is_unit(token: str) -> bool:
    """ "day", "weeks", "month", ...: what an offset counts."""
    unit = token.removesuffix("s")
    return unit in _UNIT_DAYS or unit in _UNIT_MONTHS


def _anchor(tokens: Sequence[str], index: int, ctx: _Context) -> tuple[date, int] | None:
    """What an offset counts from: "now", "today", "tomorrow", "friday", "next monday"."""
    if index >= len(tokens):
        return None  # "three days from" and nothing after it
    if tokens[index] == "now":
        return ctx.today, index + 1
    match = _day_word(tokens, index, ctx) or _weekday(tokens, index, ctx)
    if match is None or match[0].value is None:
        return None
    return match[0].value, match[1]


def _moved(anchor: date, count: int, unit: str) -> DateReading:
    if unit in _UNIT_DAYS:
        return _shift(anchor, count * _UNIT_DAYS[unit])
    try:
        return DateReading(value=_add_months(anchor, count * _UNIT_MONTHS[unit]), relative=True)
    except ValueError:
        return DateReading(reason="invalid_date")


def _vague(tokens: Sequence[str], index: int, ctx: _Context) -> _Match | None:
    """ "next week", "next month", "sometime in july": a time span, not a day."""
    pair = tokens[index : index + 2]
    if len(pair) == 2 and pair[0] in _NEXT | _THIS and pair[1] in ("week", "month", "year"):
        return DateReading(reason="missing_day"), index + 2
    return None


# The first word of each matcher's phrases, besides number words and written dates: "today",
# "the day after tomorrow", "this evening", "in/about/just three days", "a week", "next",
# "last", "on this coming" and weekday names, month names, "the fifth", "next week".
_STARTING_WORDS = (
    frozenset(_DAY_WORDS)
    | frozenset(["the", "day", "this", "in", "about", "just", "a", "an"])
    | _MODIFIERS
    | _THIS
    | frozenset(_WEEKDAYS)
    | MONTH_WORDS
)
_ASCII_DIGITS = frozenset("0123456789")

_MATCHERS: tuple[_Matcher, ...] = (
    _written,
    _day_word,
    _offset,
    _weekday,
    _month_first,
    _day_first,
    _vague,
)
