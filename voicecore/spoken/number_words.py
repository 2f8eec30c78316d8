"""The English number words, once: units, teens, tens, scales, zeros, repeats, ordinals.

Two readers use them in their own way: ``digits`` reads digit strings ("four fifteen" is
415) and ``numbers`` reads quantities ("four fifteen" is no quantity); dates, times and edits
take their zeros and ordinals from here too.
"""

from __future__ import annotations

__all__ = [
    "BIG_SCALES",
    "DIGIT_NAMES",
    "ORDINALS",
    "REPEATS",
    "SMALL_SCALES",
    "TEENS",
    "TENS",
    "TENS_AS_HEARD",
    "UNITS",
    "ZERO_DIGITS",
    "ZERO_WORDS",
]

UNITS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
"""The digit words, in digit order."""
DIGIT_NAMES = tuple(UNITS)
"""How to say each digit back ("0" is "zero": "oh" is ambiguous with the letter)."""
TEENS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
TENS_AS_HEARD = TENS | {"fourty": 40}
"""Tens words with the misspellings ASR writes; text2num (and so ``numbers``) reads only
``TENS``."""
SMALL_SCALES = ("hundred", "thousand", "million", "billion")
"""The scales text2num knows."""
BIG_SCALES: dict[str, int] = {
    "sextillion": 10**21,
    "quintillion": 10**18,
    "quadrillion": 10**15,
    "trillion": 10**12,
    "crore": 10**7,
    "lakh": 10**5,
}
"""Scales text2num does not know, largest first; each multiplies the chunk said before it."""
ZERO_DIGITS = frozenset(["oh", "o", "zero"])
"""Zero said as a digit among others ("oh nine hundred", "nineteen oh five")."""
ZERO_WORDS = ZERO_DIGITS | frozenset(["nought", "nil"])
"""Every word for zero."""
REPEATS: dict[str, int] = {"double": 2, "triple": 3}
"""Words that repeat the digit after them ("double five" is 55)."""
ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
    "hundredth": 100,
    "thousandth": 1000,
    "millionth": 1_000_000,
    "billionth": 10**9,
    "trillionth": 10**12,
}
"""Ordinal words and the number each names."""
