"""Digit strings as callers say them: "five five five", "oh", "double five", "four fifteen".

A digit string is not a quantity: "one eight hundred five five five" is 1 800 555, not
1 805 55 (text2num's reading, right for amounts and wrong here), and "twenty twenty four" is
2024. So digit runs get their own small reader; ``voicecore.spoken.numbers`` reads quantities.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from voicecore.spoken.number_words import DIGIT_NAMES, REPEATS, TEENS, TENS_AS_HEARD, UNITS

__all__ = ["digit_run", "is_digit_word", "mergeable_tens", "say_digits"]

# In a digit run zero is also "oh" ("four oh five"); the letter "o" only with ``o_is_zero``.
_UNITS = UNITS | {"oh": 0}
_WRITTEN = re.compile(r"^\+?\d+$", re.ASCII)
# Digits written as one figure, or grouped by hyphens or dots ("919", "3-2", "9.1").
_FIGURE_RUN = re.compile(r"^\d(?:[-.]?\d)+$", re.ASCII)


def is_digit_word(token: str, *, o_is_zero: bool = False) -> bool:
    """Whether ``token`` can start a digit run ("five", "oh", "twenty", "415", "double")."""
    return (
        token in _UNITS
        or token in TEENS
        or token in TENS_AS_HEARD
        or token in ("hundred", "thousand")
        or (o_is_zero and token == "o")
        or _WRITTEN.match(token) is not None
        or token in REPEATS
    )


def _unit(token: str | None, o_is_zero: bool) -> int | None:
    """The digit a single token says: a digit word, or a figure ("double 5", "8 hundred")."""
    if token is None:
        return None
    if o_is_zero and token == "o":
        return 0
    if len(token) == 1 and "0" <= token <= "9":
        return int(token)
    return _UNITS.get(token)


class _Reader:
    """Walks tokens from a start index, appending digits; one method per spoken habit."""

    def __init__(
        self, tokens: list[str], index: int, o_is_zero: bool, unmerged: Collection[int]
    ) -> None:
        self.tokens = tokens
        self.index = index
        self.o_is_zero = o_is_zero
        self.unmerged = unmerged
        self.digits: list[str] = []

    def peek(self, offset: int = 0) -> str | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def step(self) -> bool:
        """Read one spoken group; False when the token at the cursor is not part of the run.

        A group always moves the cursor on: a reader that claimed a group but read no token
        would have the run's loop read the same token forever, so it ends the run instead.
        """
        token = self.peek()
        if token is None:
            return False
        start = self.index
        for reader in (self._repeat, self._hundred, self._tens, self._single):
            if reader(token):
                return self.index > start
        return False

    def _single(self, token: str) -> bool:
        if token in ("o", "oh") and self.peek(1) in ("as", "for", "like"):
            return False  # "o as in oscar" is the letter
        unit = _unit(token, self.o_is_zero)
        if unit is not None:
            self.digits.append(str(unit))
        elif token in TEENS:
            self.digits.append(str(TEENS[token]))
        elif _WRITTEN.match(token):
            self.digits.append(token)
        else:
            return False
        self.index += 1
        return True

    def _repeat(self, token: str) -> bool:
        """ "double five" -> 55, "triple seven" -> 777; "double 919" or "double 9-1-9"
        -> 9919: a formatting ASR joins the digits said after "double nine" into one figure,
        so the repeat is of the figure's first digit."""
        following = self.peek(1) or ""
        unit = _unit(following, self.o_is_zero)
        if token not in REPEATS:
            return False
        if unit is not None:
            self.digits.append(str(unit) * REPEATS[token])
        elif _FIGURE_RUN.match(following):
            figure = re.sub(r"\D", "", following)
            self.digits.append(figure[0] * REPEATS[token] + figure[1:])
        else:
            return False
        self.index += 2
        return True

    def _tens(self, token: str) -> bool:
        """ "twenty four" -> 24, "forty" -> 40 ("oh" after tens is its own digit: 4 0 0)."""
        if token not in TENS_AS_HEARD:
            return False
        unit = _UNITS.get(self.peek(1) or "")
        if unit and self.peek(1) != "oh" and self.index not in self.unmerged:
            self.digits.append(str(TENS_AS_HEARD[token] + unit))
            self.index += 2
        else:
            self.digits.append(str(TENS_AS_HEARD[token]))
            self.index += 1
        return True

    def _hundred(self, token: str) -> bool:
        """ "eight hundred" -> 800, "a hundred" -> 100, "a thousand" -> 1000."""
        unit = _unit(token, self.o_is_zero)
        if token == "a" and self.peek(1) in ("hundred", "thousand"):
            unit = 1
        if self.peek(1) == "thousand" and unit is not None:
            self.index += 2
            self.digits.append(str(unit) + self._below_thousand())
            return True
        if self.peek(1) != "hundred" or unit is None:
            return False
        self.index += 2
        self.digits.append(str(unit) + self._below_hundred())
        return True

    def _below_thousand(self) -> str:
        """The three digits after "thousand": "two thousand twenty four" -> 2024."""
        if self.peek(1) == "hundred" and _UNITS.get(self.peek() or ""):
            unit = _UNITS[self.peek() or ""]
            self.index += 2
            return str(unit) + self._below_hundred()
        return "0" + self._below_hundred()

    def _below_hundred(self) -> str:
        """The two digits after "hundred": filled by "fifteen", "twenty four", "and five"."""
        if self.peek() == "and" and self.peek(1) in _UNITS:
            self.index += 1
        token = self.peek() or ""
        if token in TEENS:
            self.index += 1
            return str(TEENS[token])
        if token in TENS_AS_HEARD:
            unit = _UNITS.get(self.peek(1) or "", 0)
            self.index += 2 if unit and self.peek(1) != "oh" else 1
            return str(TENS_AS_HEARD[token] + unit)
        next_is_digit = self.peek(1) is not None and is_digit_word(self.peek(1) or "")
        if token in _UNITS and token != "oh" and not next_is_digit:
            self.index += 1
            return f"0{_UNITS[token]}"
        return "00"


def mergeable_tens(tokens: list[str]) -> list[int]:
    """Where a tens word is followed by a unit ("fifty five"): places a caller may mean either
    55 or a group boundary, 50 then 5 ("six fifty, five five five")."""
    return [
        index
        for index, token in enumerate(tokens[:-1])
        if token in TENS_AS_HEARD
        and tokens[index + 1] in _UNITS
        and tokens[index + 1] not in ("oh", "zero")
    ]


def digit_run(
    tokens: list[str],
    index: int = 0,
    *,
    o_is_zero: bool = False,
    unmerged: Collection[int] = (),
    max_digits: int | None = None,
) -> tuple[str, int]:
    """Read the digit string spoken from ``index``; returns (digits, index after the run).

    Reads "five five five", "oh", "double five", "triple seven", "twenty twenty four", "four
    fifteen", "eight hundred", "a hundred", and written digits ("415"). With ``o_is_zero`` the
    letter "o" is a zero too. A tens word at an index in ``unmerged`` stands alone ("fifty"
    then "five": 505, not 55). ("", index) when no digit run starts at ``index``. With
    ``max_digits`` the run stops as soon as it has more digits than that (a caller that only
    needs to know the run is too long need not read all of it).
    """
    # A run opened by "hundred" is read as "a hundred": with an "a" put in, which the index
    # returned leaves out again (it counts the caller's tokens).
    put_in = int(index < len(tokens) and tokens[index] == "hundred")
    if put_in:
        tokens = [*tokens[:index], "a", *tokens[index:]]
        unmerged = {at + 1 if at >= index else at for at in unmerged}
    reader = _Reader(tokens, index, o_is_zero, unmerged)
    count = 0  # every step appends one group of digits
    while (max_digits is None or count <= max_digits) and reader.step():
        count += len(reader.digits[-1])
    return "".join(reader.digits), reader.index - put_in


def say_digits(digits: str) -> str:
    """Say a digit string back one digit at a time ("415" -> "four one five")."""
    return " ".join(DIGIT_NAMES[int(char)] if "0" <= char <= "9" else char for char in digits)
