"""Calendar dates said in words: "july twenty fifth twenty twelve", "the fifth of march",
"march third sixty five", "the fifteenth" (of this or next month).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from voicecore.primitives._dates.reading import Context, DateReading, Match, run_end, skip
from voicecore.primitives._dates.resolve import add_months, build, with_day
from voicecore.primitives._dates.two_digit_years import century_year, two_digit_year
from voicecore.primitives._dates.vocabulary import MONTHS
from voicecore.spoken.numbers import cardinal, ordinal, year

__all__ = ["day_first", "month_first"]


@dataclass(frozen=True, slots=True)
class _DaySaid:
    """The month and day before a year, and whether the day was an ordinal ("third")."""

    month: int
    day: int
    ordinal: bool


def _day_number(tokens: Sequence[str]) -> int | None:
    """A day of the month: an ordinal (any, checked later) or a cardinal from 1 to 31."""
    value = ordinal(tokens)
    if value is not None:
        return value if 1 <= value <= 99 else None
    value = cardinal(tokens)
    return value if value is not None and 1 <= value <= 31 else None


# "of" between a day and its month; ASRs write "on" for it ("the fifth on March"), which
# says nothing else there: a month follows it only in such a date.
_OF = frozenset(["of", "on"])


def _ordinal_or_figure(tokens: Sequence[str]) -> bool:
    """Whether a day is said as an ordinal ("twenty fourth", "24th") or written as a figure
    ("May 24"): formatting ASRs drop the ordinal's suffix, so a figure may be one."""
    return ordinal(tokens) is not None or (len(tokens) == 1 and tokens[0].isdigit())


def _trailing_year(
    tokens: Sequence[str], index: int, said: _DaySaid, ctx: Context
) -> tuple[int | None, int]:
    """A year said after the day ("..., twenty twelve", "of two thousand nine")."""
    start = skip(tokens, index, frozenset(["of", "in"]))
    end = run_end(tokens, start, ctx)
    value = _year_after(tokens[start:end], said, ctx) if end > start else None
    return (value, end) if value is not None else (None, index)


def _year_after(run: Sequence[str], said: _DaySaid, ctx: Context) -> int | None:
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


def month_first(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    """ "july twenty fifth twenty twelve", "march 5th, 2024", "june thirty", "may the first"."""
    month = MONTHS.get(tokens[index])
    if month is None:
        return None
    start = skip(tokens, index + 1, frozenset(["the"]))
    end = run_end(tokens, start, ctx)
    run = tokens[start:end]
    for split in range(1, len(run) + 1):
        day = _day_number(run[:split])
        if day is None:
            continue
        said, rest = _DaySaid(month, day, _ordinal_or_figure(run[:split])), run[split:]
        year_ = _year_after(rest, said, ctx) if rest else None
        if rest and year_ is None:
            continue
        if not rest:
            year_, end = _trailing_year(tokens, end, said, ctx)
        return with_day(month, day, year_, ctx), end
    if run and year(run) is not None and tokens[index] != "may":
        return DateReading(reason="missing_day"), end
    return None


def day_first(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    """ "the twenty fifth of july twenty twelve", "5 march 2024", "the fifteenth"."""
    start = skip(tokens, index, frozenset(["the"]))
    end = run_end(tokens, start, ctx)
    inside_a_run = start == index and index > 0 and ctx.number_words[index - 1]
    if end == start or inside_a_run:
        return None
    after = skip(tokens, end, _OF)
    month = MONTHS.get(tokens[after]) if after < len(tokens) else None
    alone = start > index or (index == 0 and end == len(tokens))
    if month is None and not alone:
        return None  # neither "fifth of march" nor "the fifth": the run need not be read
    day = _day_number(tokens[start:end])
    if day is None:
        return None
    is_ordinal = ordinal(tokens[start:end]) is not None
    if month is not None:
        said = _DaySaid(month, day, _ordinal_or_figure(tokens[start:end]))
        year_, stop = _trailing_year(tokens, after + 1, said, ctx)
        return with_day(month, day, year_, ctx), stop
    if not is_ordinal:
        return None
    return _day_of_month(day, tokens, end, ctx)


def _day_of_month(day: int, tokens: Sequence[str], end: int, ctx: Context) -> Match:
    """ "the fifteenth" [of this/next month]: the next (or last) month that has that day."""
    stop = skip(tokens, end, frozenset(["of"]))
    month_shift = 0
    if tokens[stop : stop + 2] in (["next", "month"], ["the", "month"], ["this", "month"]):
        month_shift = 1 if tokens[stop] == "next" else 0
        end = stop + 2
    step = -1 if ctx.prefer == "past" and not month_shift else 1
    first = add_months(ctx.today.replace(day=1), month_shift)
    for offset in range(13):
        month_start = add_months(first, step * offset)
        reading = build(month_start.year, month_start.month, day)
        value = reading.value
        if value is None:
            continue
        if month_shift or (value >= ctx.today if step > 0 else value <= ctx.today):
            return DateReading(value=value, certainty=0.9), end
    return DateReading(reason="invalid_date"), end
