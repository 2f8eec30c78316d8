"""What a date matcher reads with and returns: the reading, the context, the walk over tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeAlias

__all__ = ["Context", "DateReading", "Match", "Matcher", "Prefer", "run_end", "skip"]

Prefer: TypeAlias = Literal["future", "past"]
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
class Context:
    """What every matcher reads against: today, the side to prefer, the number words."""

    today: date
    prefer: Prefer
    #: Whether each token is a number word: asked once per token, not once per run it is in.
    number_words: tuple[bool, ...] = ()


Match: TypeAlias = tuple[DateReading, int]
Matcher: TypeAlias = Callable[[Sequence[str], int, Context], "Match | None"]


def skip(tokens: Sequence[str], index: int, optional: frozenset[str]) -> int:
    """The index after up to ``_MAX_SKIPPED`` optional words ("the", "on this coming").

    Unbounded, every start inside "the the the ..." skipped to its end: quadratic. A date
    said with more optional words in a row is still read, from the last few of them (the
    parse tries each start).
    """
    stop = min(len(tokens), index + _MAX_SKIPPED)
    while index < stop and tokens[index] in optional:
        index += 1
    return index


def run_end(tokens: Sequence[str], index: int, ctx: Context) -> int:
    """End of the run of number words starting at ``index`` ("and" inside is kept)."""
    end, stop = index, min(len(tokens), index + _MAX_RUN_WORDS)
    numbers = ctx.number_words
    while end < stop and (numbers[end] or (tokens[end] == "and" and end > index)):
        end += 1
    while end > index and tokens[end - 1] == "and":
        end -= 1
    return end
