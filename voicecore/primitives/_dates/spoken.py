"""Calendar dates said in words: "july twenty fifth twenty twelve", "the fifth of march",
"march third sixty five", "the fifteenth" (of this or next month).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from voicecore.primitives._dates.reading import Context, DateReading, Match, run_end, skip
from voicecore.primitives._dates.resolve import add_months, build, with_day
from voicecore.primitives._dates.two_digit_years import century_year, two_digit_year
from voicecore.primitives._dates.vocabulary import MONTHS
from voicecore.spoken.numbers import cardinal, ordinal, year
from voicecore.spoken.tokens import strip_sign_off

__all__ = ["day_first", "month_first"]


@dataclass(frozen=True, slots=True)
class _DaySaid:
    """The month and day before a year, whether the day was an ordinal ("third") or may be
    one, and whether it was written as a bare figure ("May 24", which may be "24th")."""

    month: int
    day: int
    ordinal: bool
    figure: bool = False


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


def _day_said(month: int, day: int, tokens: Sequence[str]) -> _DaySaid:
    """The day ``tokens`` say in ``month``: an ordinal ("twenty fourth", "24th"), or a figure
    ("May 24") that may be one, since formatting ASRs drop the ordinal's suffix."""
    figure = ordinal(tokens) is None and len(tokens) == 1 and tokens[0].isdigit()
    return _DaySaid(month, day, ordinal(tokens) is not None or figure, figure)


#: A date whose year is read from figures as a formatting ASR writes them: the figures may
#: be something else said after the date ("June 12, 30 minutes long"), so it is read back.
_FIGURES_YEAR_CERTAINTY = 0.7
_SPLIT_PAIR_YEAR = 3  # figures of "20, 20, 7"


def _figures_year(run: Sequence[str], said: _DaySaid) -> bool:
    """Whether the year in ``run`` is read only from how a formatting ASR writes figures:
    two pairs ("20 26" for "twenty twenty six"), the second split in two ("20, 20, 7" for
    "twenty twenty seven"), or two digits after a figure day ("May 24, 25", where the figure
    day stands for an ordinal)."""
    if not all(token.isdigit() for token in run):
        return False
    pairs = all(len(token) == 2 for token in run)
    split_pair = len(run) == _SPLIT_PAIR_YEAR and len(run[-1]) == 1  # "20, 20, 7"
    return split_pair or (pairs and (len(run) == 2 or (len(run) == 1 and said.figure)))


def _ends_the_text(tokens: Sequence[str], end: int) -> bool:
    """Whether nothing but a sign-off ("please", "thank you") follows ``end``."""
    return strip_sign_off(["", *tokens[end:]]) == [""]


def _dated(
    said: _DaySaid,
    year_: int | None,
    run: Sequence[str],
    tokens: Sequence[str],
    end: int,
    ctx: Context,
) -> Match | None:
    """The date with ``year_`` read from ``run`` (ending at ``end``): a year read from figures
    only where the text ends after it, and then less certain; None where it does not end."""
    if year_ is None or not _figures_year(run, said):
        return with_day(said.month, said.day, year_, ctx), end
    if not _ends_the_text(tokens, end):
        return None
    reading = with_day(said.month, said.day, year_, ctx)
    return replace(reading, certainty=min(reading.certainty, _FIGURES_YEAR_CERTAINTY)), end


def _trailing_year(
    tokens: Sequence[str], index: int, said: _DaySaid, ctx: Context
) -> tuple[int | None, int]:
    """A year said after the day ("..., twenty twelve", "of two thousand nine")."""
    start = skip(tokens, index, frozenset(["of", "in"]))
    end = run_end(tokens, start, ctx)
    value = _year_after(tokens[start:end], said, ctx) if end > start else None
    return (value, end) if value is not None else (None, index)


def _with_trailing_year(tokens: Sequence[str], index: int, said: _DaySaid, ctx: Context) -> Match:
    """The date with any year said after the day, from ``index``; none read from figures
    that go on into other talk ("June 12, 30 minutes long" is June 12)."""
    year_, end = _trailing_year(tokens, index, said, ctx)
    start = skip(tokens, index, frozenset(["of", "in"]))
    dated = _dated(said, year_, tokens[start:end], tokens, end, ctx)
    return dated if dated is not None else (with_day(said.month, said.day, None, ctx), index)


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
        said, rest = _day_said(month, day, run[:split]), run[split:]
        if not rest:
            return _with_trailing_year(tokens, end, said, ctx)
        year_ = _year_after(rest, said, ctx)
        if year_ is None:
            continue
        dated = _dated(said, year_, rest, tokens, end, ctx)
        return dated if dated is not None else (with_day(month, day, None, ctx), start + split)
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
        return _with_trailing_year(tokens, after + 1, _day_said(month, day, tokens[start:end]), ctx)
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
