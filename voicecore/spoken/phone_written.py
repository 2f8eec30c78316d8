"""Phone numbers already written in text ("+1 (415) 555-2671", "837.824.1482 x 63888").

ASR (and chat) sometimes formats numbers itself. This finds written candidates in a sentence
and rejects what only looks like a phone number: decimals, dates, formulas, card and account
numbers, SSNs, numbers glued to letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["WrittenPhone", "names_another_number", "written_phones"]

_CANDIDATE = re.compile(
    r"(?:(?<=[a-z])(?=[(+])|(?<![\w#*=/.+$,)]))"
    r"(?P<number>\(?[ ]?\+?\(?[ ]?\d(?:[ \-./()]{0,4}\d)*\)?)"
    r"(?:[ ]?(?:x|ext\.?|extension)[ ]?(?P<extension>\d{1,6}))?"
    r"(?![\w*=%/]|[.,:]\d|\+)",
    re.IGNORECASE | re.ASCII,
)
_DATE = re.compile(
    r"^\d{1,2}[/\-]\d{1,2}[/\-](?:\d{2}|\d{4})$|^\d{4}[/\-]\d{1,2}[/\-]\d{1,2}$|^\d{4}/\d{4}$"
)
# A date written right after a number is not part of it ("(914)349-8600 04/21/2020").
_TRAILING_DATE = re.compile(r"\s+\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})$")
_GLUED_CODE_AFTER = re.compile(r"\s[a-z]+\d", re.IGNORECASE)  # matched where a number ends
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DECIMAL = re.compile(r"^\d+\.\d+$")
_CARD = re.compile(r"^\d{4}([ \-])\d{4}\1\d{4}\1\d{3,4}$")
_NOT_A_PHONE_BEFORE = re.compile(
    r"(?:account|acct|card|no\.|number\s+no|#|serial|order|invoice)\s*(?:number|no\.?|#)?\s*(?:is)?\s*:?\s*$",
    re.IGNORECASE,
)
# A short number (an Italian landline "012234") counts only right after a phone cue.
_PHONE_CUE = re.compile(
    r"\b(?:phone|tel|telephone|landline|mobile|cell|fax)\b[^0-9()+]{0,30}$", re.IGNORECASE
)
_AREA_CODE = re.compile(r"\+?1?[ \-]?\d{3}")
# How much text before a candidate its checks read: the cues above match at most 40
# characters ending where the number starts. Slicing all of it for every candidate was
# quadratic in "1 1 1 ...".
_CONTEXT = 64
_MIN_DIGITS = 7
_MIN_CUED_DIGITS = 5
_MAX_DIGITS = 17
_FULL_NUMBER = 10


@dataclass(frozen=True, slots=True)
class WrittenPhone:
    """A written candidate: its text, the digits (leading "+" kept) and any extension."""

    text: str
    digits: str
    extension: str


def _digits_of(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "+" + digits if text.lstrip("( ").startswith("+") else digits


def names_another_number(before: str) -> bool:
    """Whether the text before a number introduces another kind of number ("my card number
    is", "account #", "order no.")."""
    return _NOT_A_PHONE_BEFORE.search(before[-40:]) is not None


def _looks_like_something_else(number: str, before: str) -> bool:
    """Dates, SSNs, decimals, card numbers, and numbers introduced as accounts or cards."""
    stripped = number.strip()
    return bool(
        _DATE.match(stripped)
        or _SSN.match(stripped)
        or _DECIMAL.match(stripped)
        or _CARD.match(stripped)
        or names_another_number(before)
        or "((" in stripped.replace(" ", "")
        or "))" in stripped.replace(" ", "")
    )


def _after_hyphen_without_grouping(text: str, start: int, number: str, count: int) -> bool:
    """ "E-151673398", "a91-677-0060": a hyphen glues the digits to a code, unless the number
    is a full, grouped phone number ("OFFICE-1(516)733-3989")."""
    if start == 0 or text[start - 1] != "-":
        return False
    return count < _FULL_NUMBER or not re.search(r"[ ()]", number)


def _after_unmatched_parenthesis(number: str) -> str:
    """ "19) 35831647": a ")" that closes nothing ends a fragment and the number follows it,
    unless it closes a three-digit area code whose "(" was left out ("123)456-7890").

    One pass that restarts after each such ")" (a recursion per ")" was quadratic, and
    "1)" said a thousand times exceeded the recursion limit).
    """
    start, depth, index = 0, 0, 0
    while index < len(number):
        depth += {"(": 1, ")": -1}.get(number[index], 0)
        if depth < 0 and not _AREA_CODE.fullmatch(number, start, index):
            start = index + 1
            while start < len(number) and number[start] in " -./":
                start += 1
            index, depth = start, 0
            continue
        depth = max(depth, 0)
        index += 1
    return number[start:]


def _long_enough(count: int, before: str) -> bool:
    if not _MIN_CUED_DIGITS <= count <= _MAX_DIGITS:
        return False
    return count >= _MIN_DIGITS or _PHONE_CUE.search(before) is not None


def written_phones(text: str) -> list[WrittenPhone]:
    """Every written phone-number candidate in ``text``, in order."""
    found: list[WrittenPhone] = []
    for match in _CANDIDATE.finditer(text):
        number = _TRAILING_DATE.sub("", match.group("number").strip())
        number = _after_unmatched_parenthesis(number)
        digits = _digits_of(number)
        count = len(digits.lstrip("+"))
        before = text[max(0, match.start() - _CONTEXT) : match.start()]
        if not _long_enough(count, before):
            continue
        if _looks_like_something_else(number, before):
            continue
        if _after_hyphen_without_grouping(text, match.start(), number, count):
            continue
        if _GLUED_CODE_AFTER.match(text, match.end()):
            continue
        found.append(WrittenPhone(number, digits, match.group("extension") or ""))
    return found
