"""Spelled strings from spoken tokens: letters, digits, symbols and whole words in one pass.

Emails, names and codes are all said as a mix: "j smith twenty three at g mail dot com",
"a b c one two three", "s as in sam". ``compose`` reads such a mix into typed pieces so each
primitive can join them and say them back its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from voicecore.spoken.digits import digit_run, is_digit_word
from voicecore.spoken.letters import letter_name, nato_letter, spoken_letter
from voicecore.spoken.number_words import UNITS
from voicecore.spoken.symbols import spoken_symbol

__all__ = ["Piece", "PieceKind", "compose", "joined", "says_characters"]

PieceKind = Literal["letters", "digits", "symbol", "word", "written"]
_WRITTEN_SYMBOLS = re.compile(r"([.@_+\-/:])")


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of the spoken string: spelled letters, digits, one symbol, a whole word, or a
    part of a formatted token ("AB" of "AB-1234")."""

    kind: PieceKind
    text: str


def _neighbours(tokens: list[str], index: int) -> tuple[str | None, str | None]:
    before = tokens[index - 1] if index > 0 else None
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    return before, after


def _in_spelling(tokens: list[str], index: int) -> bool:
    """Whether the token sits in a spelled run (a letter, letter name or NATO word by it)."""
    return any(
        token is not None and (letter_name(token) is not None or nato_letter(token) is not None)
        for token in _neighbours(tokens, index)
    )


def _written(token: str) -> list[Piece]:
    """A formatted token ("john.smith", "gmail.com", "a_b-1") split at its symbols."""
    pieces: list[Piece] = []
    for part in _WRITTEN_SYMBOLS.split(token):
        if not part:
            continue
        if _WRITTEN_SYMBOLS.fullmatch(part):
            pieces.append(Piece("symbol", part))
        else:
            pieces.append(Piece("digits" if part.isdigit() else "written", part))
    return pieces


def _letter_at(tokens: list[str], index: int, nato: bool) -> tuple[str, int]:
    """Letters spelled at ``index``; NATO words count inside a spelled run or with ``nato``."""
    token = tokens[index]
    spelled = nato or _in_spelling(tokens, index)
    if token == "oh" and spelled:
        return "o", 1
    letters, length = spoken_letter(tokens, index, nato=spelled)
    if length:
        return letters, length
    ambiguous = letter_name(token, in_spelling=spelled)
    return (ambiguous, 1) if ambiguous else ("", 0)


def _piece_at(tokens: list[str], index: int, o_is_zero: bool, nato: bool) -> tuple[Piece, int]:
    """The piece that starts at ``index`` and the index after it (always past ``index``)."""
    symbol, length = spoken_symbol(tokens, index)
    if length:
        return Piece("symbol", symbol), index + length
    # "a hundred", "a thousand" are numbers, not the letter a.
    a_number = tokens[index] == "a" and tokens[index + 1 : index + 2] in (["hundred"], ["thousand"])
    letters, length = ("", 0) if a_number else _letter_at(tokens, index, nato)
    # "o as in oscar" is a letter even where a bare "o" is a zero.
    if length > 1 or (length and not (tokens[index] in ("o", "oh") and o_is_zero)):
        return Piece("letters", letters), index + length
    if a_number or is_digit_word(tokens[index], o_is_zero=o_is_zero):
        digits, end = digit_run(tokens, index, o_is_zero=o_is_zero)
        if digits:
            return Piece("digits", digits), end
    # Nothing read here: the token is a word of its own, so the reading always moves on.
    return Piece("word", tokens[index]), index + 1


def compose(tokens: list[str], *, o_is_zero: bool = False, nato: bool = False) -> list[Piece]:
    """Read spoken tokens as a spelled string, piece by piece.

    "j o h n dot smith one two" -> letters "john", symbol ".", word "smith", digits "12".
    Formatted tokens ("john.smith") are split at their symbols. NATO words are letters next
    to other letters, or always with ``nato``; with ``o_is_zero`` "o" and "oh" are zeros.
    """
    pieces: list[Piece] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if (
            len(token) > 1
            and _WRITTEN_SYMBOLS.search(token)
            and not _letter_at(tokens, index, True)[1]
        ):
            pieces.extend(_written(token))
            index += 1
            continue
        piece, index = _piece_at(tokens, index, o_is_zero, nato)
        pieces.append(piece)
    return pieces


def joined(pieces: list[Piece]) -> str:
    """The pieces written as one string ("john.smith12")."""
    return "".join(piece.text for piece in pieces)


# Letters that are words too often to count as spelling on their own.
_WORD_LETTERS = frozenset({"a", "i"})


def says_characters(tokens: list[str]) -> bool:
    """Whether ``tokens`` say characters of a value: a letter spelled (not the words "a",
    "i"), a digit word or a figure ("p e t e r dash one three" does; "that's not my email"
    does not). Token by token, stopping at the first: a cheap test before a long reading."""
    return any(
        token in UNITS
        or any("0" <= char <= "9" for char in token)
        or (letter_name(token) is not None and token not in _WORD_LETTERS)
        for token in tokens
    )
