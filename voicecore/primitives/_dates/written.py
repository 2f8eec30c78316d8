"""Dates written out by ASR: "2024-03-05", "3/5/2024" (month first, as in the US), "3/5"."""

from __future__ import annotations

import re
from collections.abc import Sequence

from voicecore.primitives._dates.reading import Context, DateReading, Match
from voicecore.primitives._dates.resolve import build, without_year
from voicecore.primitives._dates.two_digit_years import century_year

__all__ = ["written_date"]

_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_SLASHED = re.compile(r"^([0-9]{1,2})[/.-]([0-9]{1,2})(?:[/.-]([0-9]{2}|[0-9]{4}))?$")


def written_date(tokens: Sequence[str], index: int, ctx: Context) -> Match | None:
    """ "2024-03-05", "3/5/2024" (month first, as in the US), "3/5"."""
    token = tokens[index]
    if match := _ISO.match(token):
        year_, month, day = (int(part) for part in match.groups())
        return build(year_, month, day), index + 1
    match = _SLASHED.match(token)
    if match is None or (match.group(3) is None and "/" not in token):
        return None
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return DateReading(reason="invalid_date"), index + 1
    text_year = match.group(3)
    if text_year is None:
        return without_year(month, day, ctx), index + 1
    if len(text_year) == 4:
        return build(int(text_year), month, day), index + 1
    year_ = century_year(int(text_year), month, day, ctx.today, ctx.prefer)
    return build(year_, month, day), index + 1
