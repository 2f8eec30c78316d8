"""The walk over an utterance's tokens that tries each date matcher where a date may start;
the last date said wins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from voicecore.primitives._dates.reading import Context, DateReading, Match, Matcher, Prefer
from voicecore.primitives._dates.relative import day_word, offset_date, vague_span, weekday_date
from voicecore.primitives._dates.spoken import day_first, month_first
from voicecore.primitives._dates.vocabulary import DAY_WORDS, MODIFIERS, MONTH_WORDS, THIS, WEEKDAYS
from voicecore.primitives._dates.written import written_date
from voicecore.spoken.numbers import is_number_word

__all__ = ["parse_date"]


def parse_date(tokens: Sequence[str], today: date, prefer: Prefer = "future") -> DateReading:
    """The date ``tokens`` say, resolved against ``today``; the last one said wins.

    Reasons when there is no value: ``invalid_date`` ("february thirtieth"), ``missing_day``
    ("july twenty twelve", "next week"), ``no_value_heard``.
    """
    ctx = Context(today, prefer, tuple(is_number_word(token) for token in tokens))
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


def _match_at(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    for matcher in _MATCHERS:
        try:
            match = matcher(tokens, index, ctx)
        except OverflowError:  # "in ten million days", or next monday from 9999-12-31
            return DateReading(reason="invalid_date"), index + 1
        if match is not None:
            return match
    return None


# The first word of each matcher's phrases, besides number words and written dates: "today",
# "the day after tomorrow", "this evening", "in/about/just three days", "a week", "next",
# "last", "on this coming" and weekday names, month names, "the fifth", "next week".
_STARTING_WORDS = (
    frozenset(DAY_WORDS)
    | frozenset(["the", "day", "this", "in", "about", "just", "a", "an"])
    | MODIFIERS
    | THIS
    | frozenset(WEEKDAYS)
    | MONTH_WORDS
)
_ASCII_DIGITS = frozenset("0123456789")
_MATCHERS: tuple[Matcher, ...] = (
    written_date,
    day_word,
    offset_date,
    weekday_date,
    month_first,
    day_first,
    vague_span,
)
