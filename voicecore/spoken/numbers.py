"""Number words to values: cardinals, ordinals, years, digit strings and decimals.

Callers say numbers the way people talk, not the way grammars are written: "a hundred",
"twenty twenty four" (2024), "four fifteen" (415), "one oh five" (105), "double seven" (77),
"three and a half", "minus seven". text2num does the core (sub-trillion cardinals, ordinals and
the chunking of word runs); this module adds what it does not: scales above a billion, lakh
and crore, "a" for one, "oh" and "double"/"triple" digits, grouped readings, years, decimals
spoken digit by digit, signs, and ASR output that is already written ("1,250", "25th"), also
when a formatting ASR writes figures among the scale words ("1 million 200 thousand", "12
hundred and fifty", "3.5 million": ``cardinal``, ``spoken_number``).

A value has at most ``MAX_DIGITS`` significant digits (the decimal context's precision), so no
arithmetic on it rounds; a longer digit string is no quantity a caller says, and reads as none.

Every function takes lower-case tokens (see ``voicecore.spoken.tokens.words``) and returns
``None`` when the tokens are not that kind of number; none of them raises on any input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

from text_to_num import alpha2digit, text2num

from voicecore.spoken.number_words import (
    BIG_SCALES,
    ORDINALS,
    REPEATS,
    SMALL_SCALES,
    TEENS,
    TENS,
    UNITS,
    ZERO_WORDS,
)

__all__ = [
    "MAX_DIGITS",
    "NumberSpan",
    "cardinal",
    "decimal_string",
    "digit_string",
    "find_numbers",
    "is_number_word",
    "joins_at_pause",
    "ordinal",
    "spoken_number",
    "year",
]

_CARDINAL_WORDS = frozenset([*UNITS, *TEENS, *TENS, *SMALL_SCALES, *BIG_SCALES])
_NUMBER_WORDS = _CARDINAL_WORDS | frozenset(ORDINALS) | ZERO_WORDS | frozenset(REPEATS)
_JOINERS = frozenset(["and", "a", "an", "point", "minus", "negative", "half", "quarter"])
_FRACTION_ENDS = frozenset(["half", "quarter"])
_SIGNS = frozenset(["minus", "negative"])
_FRACTIONS: dict[tuple[str, ...], Decimal] = {
    ("and", "a", "half"): Decimal("0.5"),
    ("and", "a", "quarter"): Decimal("0.25"),
}
# "one" shortly after these is a pronoun ("the blue one", "that one"), not a number.
_DETERMINERS = frozenset(
    ["the", "that", "this", "which", "each", "every", "another", "other", "no", "any", "some"]
)
# Joiners that may open a run: "minus seven", "point five".
_RUN_OPENERS = frozenset(["minus", "negative", "point"])

_WRITTEN_NUMBER = re.compile(r"^[-+]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$")
_WRITTEN_ORDINAL = re.compile(r"^([0-9]+)(?:st|nd|rd|th)$")
_DIGITS = re.compile(r"^[0-9]+$")
# A year said in two pairs ("twenty twenty six") that a formatting ASR wrote as two figures.
_YEAR_HALVES = (re.compile(r"^[1-9][0-9]$"), re.compile(r"^[0-9]{2}$"))
# ... and with its second pair's tens and unit as two figures too ("20 20 7": "twenty twenty
# seven"), as Whisper writes the words one by one.
_YEAR_THIRDS = (re.compile(r"^[1-9][0-9]$"), re.compile(r"^[2-9]0$"), re.compile(r"^[1-9]$"))
# Runs longer than this are not one number a caller says; bounding them bounds the work.
_MAX_RUN = 48
#: Significant digits a value may have: the default decimal precision, so nothing rounds it.
MAX_DIGITS = 28
# Working precision: a value of MAX_DIGITS digits plus a fraction or a sign stays exact.
_WORK_PRECISION = 2 * MAX_DIGITS
#: A figure ending in this many zeros or more leaves room after it, as "thousand" does.
_THOUSANDS_ZEROS = 3
_FIGURE = re.compile(r"^(?:[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]*)$")
_SCALE_VALUES: dict[str, int] = {
    "hundred": 100,
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    **BIG_SCALES,
}
_SCALE_EXPONENTS = {word: len(str(value)) - 1 for word, value in _SCALE_VALUES.items()}
_COUNTING_WORDS = {**UNITS, **TEENS, **TENS}
# Each ordinal word as the cardinal word it stands for at the end of a number ("sixtieth" ->
# "sixty", "hundredth" -> "hundred"), so ordinals are read by the same rules as cardinals.
_ORDINAL_AS_CARDINAL = {
    word: next(name for name, value in {**_COUNTING_WORDS, **_SCALE_VALUES}.items() if value == n)
    for word, n in ORDINALS.items()
}
_ORDINAL_JOINERS = frozenset(["and", "a", "an"])  # "one hundred and first", "a thousandth"


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """One number found in a token list: tokens ``[start, end)`` and its value."""

    start: int
    end: int
    value: Decimal


def is_number_word(token: str) -> bool:
    """Whether ``token`` is a number word or a written number ("seven", "25th", "1,250")."""
    return (
        token in _NUMBER_WORDS
        or _WRITTEN_NUMBER.match(token) is not None
        or _WRITTEN_ORDINAL.match(token) is not None
        or ("-" in token and all(part in _NUMBER_WORDS for part in token.split("-")))
    )


def _split_hyphens(tokens: Sequence[str]) -> list[str]:
    """ "twenty-five" -> "twenty", "five"; other hyphenated tokens stay whole."""
    result: list[str] = []
    for token in tokens:
        parts = token.split("-")
        if len(parts) > 1 and all(part in _NUMBER_WORDS for part in parts):
            result.extend(parts)
        else:
            result.append(token)
    return result


def _a_as_one(tokens: Sequence[str]) -> list[str]:
    """ "a hundred" / "a thousand" -> "one hundred": the caller's way to say one of a scale."""
    result = list(tokens)
    for index, token in enumerate(result[:-1]):
        nxt = result[index + 1]
        if token in ("a", "an") and (nxt in SMALL_SCALES or nxt in BIG_SCALES):
            result[index] = "one"
    return result


def _small_cardinal(tokens: Sequence[str]) -> int | None:
    """A cardinal below a trillion, by text2num ("eleven hundred", "two hundred and five")."""
    if not tokens or not all(token in _CARDINAL_WORDS or token == "and" for token in tokens):
        return None
    if tokens[0] == "and" or tokens[-1] == "and":
        return None
    try:
        value = text2num(" ".join(tokens), "en")
    except ValueError:
        return None
    return value if isinstance(value, int) else None


def cardinal(tokens: Sequence[str]) -> int | None:
    """The non-negative integer that all of ``tokens`` spell, or None.

    Handles scales to sextillion, lakh and crore, "a hundred", "eleven hundred", "and", a
    single written number ("1,250"), and figures among the words as formatting ASRs write
    them ("1 million 200 thousand", "12 hundred and fifty", "twelve hundred thousand").
    """
    words = _a_as_one(_split_hyphens(tokens))
    if not words or len(words) > _MAX_RUN:
        return None
    if len(words) == 1 and _DIGITS.match(words[0]):
        significant = words[0].lstrip("0")
        value: int | None = int(words[0]) if len(significant) <= MAX_DIGITS else None
    elif any(_FIGURE.match(word) for word in words):
        value = _mixed_cardinal(words)
    else:
        value = _word_cardinal(words)
        value = _mixed_cardinal(words) if value is None else value
    return value if value is not None and value < 10**MAX_DIGITS else None


def _word_cardinal(words: Sequence[str]) -> int | None:
    """A cardinal in number words: text2num for each chunk below a trillion, big scales here."""
    total, chunk, last_scale = 0, [], 0
    for word in words:
        scale = BIG_SCALES.get(word)
        if scale is None:
            chunk.append(word)
            continue
        multiplier = _small_cardinal(chunk) if chunk else 1
        if multiplier is None or multiplier >= 1000 or (last_scale and scale >= last_scale):
            return None
        total, chunk, last_scale = total + multiplier * scale, [], scale
    if not chunk:
        return total
    rest = _small_cardinal(chunk)
    if rest is None or (last_scale and rest >= last_scale):
        return None
    return total + rest


def _mixed_cardinal(words: Sequence[str]) -> int | None:
    """A cardinal in figures and words, combined as number words are.

    A number adds to the group said since the last scale, if it is below what may still be
    added there (anything at first; below 100 after "hundred", below the scale after a
    bigger one, a unit after a tens word, below its thousands after a figure ending in
    "000", nothing after another figure, a unit or teen); "hundred"
    multiplies a group from 1 to 999 that has no hundred yet ("12 hundred", "250 hundred");
    a bigger scale multiplies the group; a group must stay below the scale said before it;
    "and" may follow a scale only. So "12 hundred and fifty"
    is 1250 and "1 million 200 thousand" 1,200,000, while "20 24" and "5 hundred 3 hundred"
    are no cardinal.
    """
    total, group, last_scale = 0, 0, 0
    room: float = math.inf  # what the next number must be below (0: none may follow)
    after_tens = has_hundred = after_scale = False
    for index, word in enumerate(words):
        if word == "and":
            if not after_scale or index == len(words) - 1:
                return None
            after_scale = False
            continue
        after_scale = word in _SCALE_VALUES
        if word == "hundred":
            group *= 100
            if has_hundred or not 100 <= group < (last_scale or 10**5):
                return None
            has_hundred, room, after_tens = True, 100, False
        elif word in _SCALE_VALUES:
            scale = _SCALE_VALUES[word]
            if group < 1 or (last_scale and group * scale >= last_scale):
                return None
            total, group, last_scale = total + group * scale, 0, scale
            has_hundred, room, after_tens = False, scale, False
        else:
            number = _counting_number(word, after_tens)
            if number is None or not 0 < number < room:
                return None
            group += number
            after_tens = word in TENS
            room = 10 if after_tens else _room_after(word)
    return total + group if total + group > 0 else None


def _room_after(word: str) -> int:
    """What may still be added after ``word`` in a cardinal: below its thousands for a figure
    that ends in three zeros or more ("54,000, 500": "fifty four thousand, five hundred"
    as a formatting ASR splits it at the pause), nothing after any other figure or word."""
    figure = word.replace(",", "")
    zeros = len(figure) - len(figure.rstrip("0"))
    return 10**zeros if _FIGURE.match(word) and zeros >= _THOUSANDS_ZEROS else 0


def joins_at_pause(first: str, second: str) -> bool:
    """Whether a cardinal adds figure ``second`` to figure ``first`` as the rest said after
    its thousands ("54,000" then "500": "fifty four thousand, five hundred")."""
    return _FIGURE.match(second) is not None and int(second.replace(",", "")) < _room_after(first)


def _counting_number(word: str, after_tens: bool) -> int | None:
    """The value of a number word or figure in a cardinal; after a tens word, units only."""
    if after_tens:
        return UNITS.get(word)
    if word in _COUNTING_WORDS:
        return _COUNTING_WORDS[word]
    return int(word.replace(",", "")) if _FIGURE.match(word) else None


def ordinal(tokens: Sequence[str]) -> int | None:
    """The number an ordinal spells ("twenty fifth", "sixtieth", "a hundred and first",
    "25th"), or None: a cardinal whose last word is said as an ordinal."""
    words = _split_hyphens(tokens)
    if len(words) == 1 and (match := _WRITTEN_ORDINAL.match(words[0])):
        return int(match.group(1))
    if not words or words[-1] not in ORDINALS:
        return None
    if not all(word in _CARDINAL_WORDS or word in _ORDINAL_JOINERS for word in words[:-1]):
        return None
    return cardinal([*words[:-1], _ORDINAL_AS_CARDINAL[words[-1]]])


def _pair(tokens: Sequence[str]) -> int | None:
    """A two-digit group of a year or grouped number: "ninety four", "oh five", "twelve"."""
    if len(tokens) == 2 and tokens[0] in ZERO_WORDS and UNITS.get(tokens[1], 0) > 0:
        return UNITS[tokens[1]]
    value = _small_cardinal(tokens)
    return value if value is not None and 10 <= value <= 99 else None


def year(tokens: Sequence[str]) -> int | None:
    """A year from 1000 to 2999 as callers say it, or None.

    "twenty twelve", "nineteen oh five", "nineteen hundred", "two thousand and nine", "2012",
    and "20 26" (the two pairs of "twenty twenty six" as a formatting ASR writes them; "20 20
    7" when it writes "twenty seven" as two figures too).
    """
    words = _split_hyphens(tokens)
    if len(words) == 1 and _DIGITS.match(words[0]) and len(words[0]) == 4:
        value: int | None = int(words[0])
    elif len(words) == 2 and all(h.match(w) for h, w in zip(_YEAR_HALVES, words, strict=True)):
        value = int(words[0]) * 100 + int(words[1])
    elif len(words) == 3 and all(h.match(w) for h, w in zip(_YEAR_THIRDS, words, strict=True)):
        value = int(words[0]) * 100 + int(words[1]) + int(words[2])
    elif (
        len(words) >= 2 and (words[0] in TEENS or words[0] in TENS) and words[1] not in SMALL_SCALES
    ):
        value = _grouped_year(words)
    elif words and words[0] not in SMALL_SCALES:  # "thousand twelve" is no year
        value = cardinal(words)
    else:
        value = None
    return value if value is not None and 1000 <= value <= 2999 else None


def _grouped_year(words: Sequence[str]) -> int | None:
    """ "nineteen ninety four", "twenty oh five", "nineteen hundred" (century then pair)."""
    for split in (1, 2):
        century = _small_cardinal(words[:split])
        rest = words[split:]
        if century is None or not 10 <= century <= 99 or not rest:
            continue
        if list(rest) == ["hundred"]:
            return century * 100
        low = _pair(rest)
        if low is not None:
            return century * 100 + low
    return None


def digit_string(tokens: Sequence[str]) -> str | None:
    """Digits said one group at a time: "one oh five" -> "105", "double seven" -> "77".

    Groups may be any cardinal ("four fifteen" -> "415", "twenty twenty four" -> "2024").
    """
    words = _a_as_one(_split_hyphens(tokens))
    if not words or len(words) > _MAX_RUN:
        return None
    digits: list[str] = []
    repeat = 1
    for group in _groups(words):
        if group in REPEATS:
            repeat = REPEATS[group]
            continue
        text = "0" if group in ZERO_WORDS else group
        if not _DIGITS.match(text):
            return None
        digits.append(text[0] * repeat + text[1:])  # "triple 01": the first digit repeats
        repeat = 1
    return "".join(digits) if digits and repeat == 1 else None


def _groups(words: Sequence[str]) -> list[str]:
    """Cardinal chunks of a word run, by text2num's greedy chunking; other words stay."""
    converted: str = alpha2digit(" ".join(words), "en", threshold=0)
    return converted.replace(",", "").split()


def _unsigned(tokens: Sequence[str]) -> Decimal | None:
    """An unsigned value: written, cardinal, grouped digits, "point" decimals, "and a half"."""
    words = list(tokens)
    fraction = _FRACTIONS.get(tuple(words[-3:]), Decimal(0))
    if fraction:
        words = words[:-3]
    if len(words) >= 2 and words[-1] in _SCALE_VALUES and not fraction:
        scaled = _scaled_decimal(words[:-1], words[-1])
        if scaled is not None:
            return scaled
    if "point" in words:
        return _point_decimal(words, fraction)
    if len(words) == 1 and _WRITTEN_NUMBER.match(words[0]):
        return _to_decimal(words[0].replace(",", ""), fraction)
    whole = cardinal([word.replace(",", "") if _FIGURE.match(word) else word for word in words])
    if whole is not None:
        return Decimal(whole) + fraction
    if any(_FIGURE.match(word) for word in words) and not _SCALE_VALUES.keys().isdisjoint(words):
        return None  # figures and scales that are no cardinal: "5 hundred 3 hundred"
    grouped = digit_string(words)
    return None if grouped is None or fraction else _to_decimal(grouped, fraction)


def _scaled_decimal(head: Sequence[str], scale: str) -> Decimal | None:
    """A decimal times a scale word: "3.5 million", "3 point 5 million", "one point two
    billion" (a whole number times a scale is a ``cardinal``)."""
    if len(head) == 1 and _WRITTEN_NUMBER.match(head[0]) and "." in head[0]:
        value = _to_decimal(head[0].replace(",", ""), Decimal(0))
    elif "point" in head:
        value = _point_decimal(head, Decimal(0))
    else:
        return None
    return None if value is None else value.scaleb(_SCALE_EXPONENTS[scale])


def _point_decimal(words: Sequence[str], fraction: Decimal) -> Decimal | None:
    """ "three point one four" / "point five": whole part, then digits one by one."""
    index = words.index("point")
    head, tail = words[:index], words[index + 1 :]
    whole = cardinal(head) if head else 0
    decimals = digit_string(tail)
    if whole is None or decimals is None or fraction:
        return None
    return _to_decimal(f"{whole}.{decimals}", Decimal(0))


def _to_decimal(text: str, fraction: Decimal) -> Decimal | None:
    if sum(char.isdigit() for char in text.lstrip("0")) > MAX_DIGITS:
        return None
    try:
        return Decimal(text) + fraction
    except InvalidOperation:
        return None


def spoken_number(tokens: Sequence[str]) -> Decimal | None:
    """The value all of ``tokens`` say, signed and possibly decimal, or None.

    "minus seven" -> -7, "three point five" -> 3.5, "three and a half" -> 3.5, "a hundred" ->
    100, "twenty twenty four" -> 2024, "one oh five" -> 105, "1,250" -> 1250.
    """
    words = _split_hyphens(tokens)
    if not words:
        return None
    negative = words[0] in _SIGNS
    with localcontext() as context:
        context.prec = _WORK_PRECISION
        value = _unsigned(words[1:] if negative else words)
    if value is None or len(value.as_tuple().digits) > MAX_DIGITS:
        return None
    return value.copy_negate() if negative else value


def decimal_string(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros: "42", "3.5", "-7"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _is_pronoun_one(tokens: Sequence[str], start: int, end: int) -> bool:
    before = tokens[max(0, start - 2) : start]
    return end - start == 1 and tokens[start] == "one" and not _DETERMINERS.isdisjoint(before)


def _runs(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of number vocabulary with at least one real number word in them."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for index, token in enumerate([*tokens, ""]):
        inside = is_number_word(token) or token in _JOINERS
        if start is None and token in _JOINERS - _RUN_OPENERS:
            inside = False
        if inside and start is None:
            start = index
        elif not inside and start is not None:
            spans.append(_trim(tokens, start, index))
            start = None
    return [(s, e) for s, e in spans if e > s and _has_value_word(tokens[s:e])]


def _trim(tokens: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """Drop joiners ("and", "a", "point") hanging at the end of a run."""
    while end > start and tokens[end - 1] in _JOINERS - _FRACTION_ENDS:
        end -= 1
    return start, end


def _has_value_word(tokens: Sequence[str]) -> bool:
    return any(is_number_word(t) and t not in ZERO_WORDS - {"zero"} for t in tokens) or (
        len(tokens) > 1 and all(t in ZERO_WORDS for t in tokens)
    )


def find_numbers(tokens: Sequence[str]) -> list[NumberSpan]:
    """Every number said in ``tokens``, in order.

    A run that is not one number as a whole is split at "and" ("five and six" is two numbers);
    "one" right after a determiner ("the blue one") is a pronoun and is skipped.
    """
    found: list[NumberSpan] = []
    for start, end in _runs(tokens):
        if _is_pronoun_one(tokens, start, end):
            continue
        found.extend(_read_run(tokens, start, end))
    return found


def _repeated(run: Sequence[str]) -> bool:
    """ "forty two forty two": a caller saying a cardinal twice, not one long number."""
    half = len(run) // 2
    if half < 2 or len(run) != 2 * half or run[:half] != run[half:]:
        return False
    return cardinal(run[:half]) is not None


def _read_run(tokens: Sequence[str], start: int, end: int) -> list[NumberSpan]:
    if _repeated(tokens[start:end]):
        end = start + (end - start) // 2
    value = spoken_number(tokens[start:end])
    if value is not None:
        return [NumberSpan(start, end, value)]
    pieces: list[NumberSpan] = []
    piece_start = start
    for index in range(start, end + 1):
        if index == end or tokens[index] == "and":
            piece = spoken_number(tokens[piece_start:index])
            if piece is not None:
                pieces.append(NumberSpan(piece_start, index, piece))
            piece_start = index + 1
    return pieces
