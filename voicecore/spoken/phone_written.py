"""Phone numbers already written in text ("+1 (415) 555-2671", "837.824.1482 x 63888").

ASR (and chat) sometimes formats numbers itself. This finds written candidates in a sentence
and rejects what only looks like a phone number: decimals, dates, formulas, card and account
numbers, SSNs, numbers glued to letters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["WrittenPhone", "written_phones"]

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
_GLUED_CODE_AFTER = re.compile(r"^\s[a-z]+\d", re.IGNORECASE)
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DECIMAL = re.compile(r"^\d+\.\d+$")
_CARD = re.compile(r"^\d{4}([ \-])\d{4}\1\d{4}\1\d{3,4}$")
_NOT_A_PHONE_BEFORE = re.compile(
    r"(?:account|acct|card|no\.|number\s+no|#|serial|order|invoice)\s*(?:number|no\.?|#)?\s*(?:is)?\s*:?\s*$",
    re.IGNORECASE,
)
_MIN_DIGITS = 7
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


def _looks_like_something_else(number: str, before: str) -> bool:
    """Dates, SSNs, decimals, card numbers, and numbers introduced as accounts or cards."""
    stripped = number.strip()
    return bool(
        _DATE.match(stripped)
        or _SSN.match(stripped)
        or _DECIMAL.match(stripped)
        or _CARD.match(stripped)
        or _NOT_A_PHONE_BEFORE.search(before[-40:])
        or "((" in stripped.replace(" ", "")
        or "))" in stripped.replace(" ", "")
    )


def _after_hyphen_without_grouping(text: str, start: int, number: str, count: int) -> bool:
    """ "E-151673398", "a91-677-0060": a hyphen glues the digits to a code, unless the number
    is a full, grouped phone number ("OFFICE-1(516)733-3989")."""
    if start == 0 or text[start - 1] != "-":
        return False
    return count < _FULL_NUMBER or not re.search(r"[ ()]", number)


def written_phones(text: str) -> list[WrittenPhone]:
    """Every written phone-number candidate in ``text``, in order."""
    found: list[WrittenPhone] = []
    for match in _CANDIDATE.finditer(text):
        number = match.group("number").strip()
        digits = _digits_of(number)
        count = len(digits.lstrip("+"))
        if not _MIN_DIGITS <= count <= _MAX_DIGITS:
            continue
        if _looks_like_something_else(number, text[: match.start()]):
            continue
        if _after_hyphen_without_grouping(text, match.start(), number, count):
            continue
        if _GLUED_CODE_AFTER.match(text[match.end() :]):
            continue
        found.append(WrittenPhone(number, digits, match.group("extension") or ""))
    return found
