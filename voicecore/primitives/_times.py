"""Spoken times of day to minutes after midnight.

Forms: "two thirty", "eight o six", "three o'clock", "two p m", "2:30 PM", "14:30", "fourteen
hundred hours", "quarter past one", "half past two in the afternoon", "quarter to five",
"ten to eleven pm", "five after three", "noon", "midnight", "tonight at eight".

A time said without a.m./p.m. on a 12-hour clock is read in business hours: 7 to 11 as
morning, 12 as noon, 1 to 6 as afternoon; the other half of the day is the alternative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from voicecore.primitives._dates import MONTH_WORDS
from voicecore.spoken.formatted import clock_figures, figure_pairs, hour_homophones
from voicecore.spoken.number_words import ZERO_DIGITS
from voicecore.spoken.numbers import cardinal, is_number_word

__all__ = ["TimeReading", "parse_time"]

_MINUTES_PER_DAY = 24 * 60
_MAX_TIME_WORDS = 4  # "twelve fifty five", "oh nine hundred": longer runs are not times
_WRITTEN = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?(?:([ap])\.?m\.?)?$")
_AM = frozenset(["am", "a.m", "a.m."])
_PM = frozenset(["pm", "p.m", "p.m."])
_MORNING = ("morning",)
_AFTERNOON = ("afternoon", "evening", "night", "tonight")
_OCLOCK = (["o'clock"], ["oclock"], ["o", "clock"])
_PAST = frozenset(["past", "after"])
_TO = frozenset(["to", "till", "til", "before", "of"])
_MINUTE_WORDS = frozenset(["minute", "minutes", "min", "mins"])
_ZONES = {
    "gmt": "GMT",
    "utc": "UTC",
    "est": "EST",
    "edt": "EDT",
    "cst": "CST",
    "cdt": "CDT",
    "mst": "MST",
    "mdt": "MDT",
    "pst": "PST",
    "pdt": "PDT",
    "eastern": "ET",
    "central": "CT",
    "mountain": "MT",
    "pacific": "PT",
}
_NAMED = {"noon": 12 * 60, "midday": 12 * 60, "midnight": 0}


@dataclass(frozen=True, slots=True)
class TimeReading:
    """Minutes after midnight (``value``), the other half-day reading if any, the zone said;
    ``guessed`` when figures or a homophone were read as a clock by how an ASR writes one
    ("10 10", "to 30 in the afternoon"), which ordinary talk may also be ("8 30 hours")."""

    value: int | None = None
    reason: str | None = None
    alternative: int | None = None
    timezone: str | None = None
    guessed: bool = False


@dataclass(frozen=True, slots=True)
class _Clock:
    """A clock time as said: the hour named, minutes added (negative: "to"), end index."""

    hour: int
    offset: int
    end: int
    meridiem: str = ""


def parse_time(tokens: Sequence[str]) -> TimeReading:
    """The time of day ``tokens`` say; the last one said wins.

    A caller's period words ("in the afternoon", "tonight") decide a.m. or p.m. when no
    a.m./p.m. is said; reason ``no_value_heard`` when there is no time, ``invalid_time``
    for "twenty four fifteen".
    """
    homophoned = hour_homophones(tokens, is_number_word)  # "for 15pm"
    guessed = len(homophoned) != len(tokens) or figure_pairs(homophoned) != homophoned
    tokens = clock_figures(homophoned)  # "3.30 pm", "10 10"
    found: _Clock | None = None
    index = 0
    while index < len(tokens):
        clock = _named(tokens, index) or _relative(tokens, index) or _hour_first(tokens, index)
        if clock is None:
            index += 1
            continue
        found = _with_meridiem(tokens, clock)
        index = max(found.end, index + 1)
    if found is None:
        return TimeReading(reason="no_value_heard")
    reading = _resolve(found, _period(tokens), _zone(tokens, found.end))
    return replace(reading, guessed=guessed) if reading.value is not None else reading


def _named(tokens: Sequence[str], index: int) -> _Clock | None:
    """ "noon", "midnight", "twelve noon"."""
    start = index + 1 if tokens[index] == "twelve" else index
    if start < len(tokens) and tokens[start] in _NAMED:
        minutes = _NAMED[tokens[start]]
        return _Clock(minutes // 60, 0, start + 1, meridiem="24h")
    return None


def _minutes_word(tokens: Sequence[str], index: int) -> tuple[int, int] | None:
    """Minutes before "past"/"to": "quarter", "a quarter", "half", "ten", "ten minutes"."""
    start = index + 1 if tokens[index] == "a" else index
    if start < len(tokens) and tokens[start] in ("quarter", "half"):
        return (15 if tokens[start] == "quarter" else 30), start + 1
    end = _run_end(tokens, start)
    value = cardinal(tokens[start:end]) if end > start else None
    if value is None or not 1 <= value <= 59:
        return None
    if end < len(tokens) and tokens[end] in _MINUTE_WORDS:
        end += 1
    return value, end


def _relative(tokens: Sequence[str], index: int) -> _Clock | None:
    """ "quarter past one", "half past three", "ten to eleven", "one min to one"."""
    minutes = _minutes_word(tokens, index)
    if minutes is None or minutes[1] >= len(tokens):
        return None
    value, at = minutes
    direction = tokens[at]
    if direction not in _PAST and direction not in _TO:
        return None
    if direction in _TO and value == 30:
        return None
    hour, end = _hour(tokens, at + 1)
    if hour is None:
        return None
    return _Clock(hour, value if direction in _PAST else -value, end)


def _hour(tokens: Sequence[str], index: int) -> tuple[int | None, int]:
    """An hour of a 12-hour clock said alone ("one", "12", "noon")."""
    if index < len(tokens) and tokens[index] in _NAMED:
        return _NAMED[tokens[index]] // 60, index + 1
    end = _run_end(tokens, index)
    value = cardinal(tokens[index:end]) if end > index else None
    if value is None or not 1 <= value <= 12:
        return None, index
    return value, end


def _run_end(tokens: Sequence[str], index: int) -> int:
    """End of the number words from ``index``, looking no further than a time can be long."""
    end, stop = index, min(len(tokens), index + _MAX_TIME_WORDS + 1)
    while end < stop and is_number_word(tokens[end]):
        end += 1
    return end


def _hour_first(tokens: Sequence[str], index: int) -> _Clock | None:
    """ "two thirty", "eight o six", "three o'clock", "fourteen hundred", "2:30pm", "7"."""
    written = _WRITTEN.match(tokens[index])
    if written is not None:
        hour, minute = int(written.group(1)), int(written.group(2) or 0)
        meridiem = (written.group(3) or "") + ("m" if written.group(3) else "")
        if hour > 24 or minute > 59:
            return None
        return _after_hour(tokens, _Clock(hour, minute, index + 1, meridiem), written.group(2))
    if index > 0 and (is_number_word(tokens[index - 1]) or tokens[index - 1] in MONTH_WORDS):
        return None  # inside a run of numbers, or a day or year after a month: no time
    end = _run_end(tokens, index)
    if end - index > _MAX_TIME_WORDS:
        return None  # a phone number or a count, not a time
    if tokens[end - 1 : end + 1] == ["o", "clock"]:
        end -= 1
    for split in range(end - index, 0, -1):
        clock = _split_clock(tokens, index, index + split, end)
        if clock is not None:
            return _after_hour(tokens, clock, "minutes" if split < end - index else None)
    return None


def _split_clock(tokens: Sequence[str], start: int, split: int, end: int) -> _Clock | None:
    """Hour ``tokens[start:split]``, minutes ``tokens[split:end]`` ("thirty", "oh six")."""
    leading_zero = split - start > 1 and tokens[start] in ZERO_DIGITS  # "oh nine hundred"
    hour = cardinal(tokens[start + leading_zero : split])
    if hour is None or hour > 24:
        return None
    minute_words = tokens[split:end]
    if not minute_words:
        return _Clock(hour, 0, end)
    if minute_words == ["hundred"] and hour <= 23:
        return _Clock(hour, 0, end, meridiem="24h")  # "fourteen hundred (hours)"
    minute = _minute(minute_words)
    return None if minute is None else _Clock(hour, minute, end)


def _minute(words: Sequence[str]) -> int | None:
    """Minutes after the hour: "thirty", "fifty five", "oh six", "o five", "05"."""
    if len(words) == 2 and words[0] in ZERO_DIGITS:
        value = cardinal(words[1:])
        return value if value is not None and value <= 9 else None
    if len(words) == 1 and words[0].isascii() and words[0].isdigit() and len(words[0]) == 2:
        return int(words[0]) if int(words[0]) <= 59 else None
    value = cardinal(words)
    return value if value is not None and 10 <= value <= 59 else None


def _after_hour(tokens: Sequence[str], clock: _Clock, minutes_said: str | None) -> _Clock:
    """Take "o'clock" and "hours" after the time ("three o'clock", "fourteen hundred hours")."""
    end = clock.end
    for phrase in _OCLOCK:
        if minutes_said is None and list(tokens[end : end + len(phrase)]) == phrase:
            end += len(phrase)
            break
    if end < len(tokens) and tokens[end] == "hours":
        return _Clock(clock.hour, clock.offset, end + 1, meridiem="24h")
    return _Clock(clock.hour, clock.offset, end, clock.meridiem)


def _with_meridiem(tokens: Sequence[str], clock: _Clock) -> _Clock:
    """Take "a m", "pm", "p.m." after the time."""
    end = clock.end
    pair = "".join(tokens[end : end + 2])
    if pair in ("am", "pm") and len(tokens[end]) == 1:
        return _Clock(clock.hour, clock.offset, end + 2, pair)
    word = tokens[end] if end < len(tokens) else ""
    if word in _AM or word in _PM:
        return _Clock(clock.hour, clock.offset, end + 1, "am" if word in _AM else "pm")
    return clock


def _period(tokens: Sequence[str]) -> str:
    """ "in the morning" -> "am", "this afternoon" / "at night" / "tonight" -> "pm"."""
    if any(token in _MORNING for token in tokens):
        return "am"
    return "pm" if any(token in _AFTERNOON for token in tokens) else ""


def _zone(tokens: Sequence[str], index: int) -> str | None:
    """A time zone said right after the time: "g m t", "est", "eastern time"."""
    letters = "".join(tokens[index : index + 3])
    if len(tokens[index : index + 3]) == 3 and all(len(t) == 1 for t in tokens[index : index + 3]):
        return _ZONES.get(letters)
    word = tokens[index] if index < len(tokens) else ""
    return _ZONES.get(word)


def _resolve(clock: _Clock, period: str, zone: str | None) -> TimeReading:
    meridiem = clock.meridiem or period
    hour = clock.hour
    if meridiem == "24h" or hour == 0 or hour > 12:
        if hour == 24 and clock.offset > 0:
            return TimeReading(reason="invalid_time")
        return TimeReading(value=(hour * 60 + clock.offset) % _MINUTES_PER_DAY, timezone=zone)
    if meridiem in ("am", "pm"):
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
        return TimeReading(value=_minutes(hour, clock.offset), timezone=zone)
    daytime = hour % 12 + (12 if hour <= 6 or hour == 12 else 0)
    other = (daytime + 12) % 24
    return TimeReading(
        value=_minutes(daytime, clock.offset),
        alternative=_minutes(other, clock.offset),
        timezone=zone,
    )


def _minutes(hour: int, offset: int) -> int:
    return (hour * 60 + offset) % _MINUTES_PER_DAY
