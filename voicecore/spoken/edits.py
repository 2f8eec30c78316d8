"""Partial corrections of a spelled value read back to the caller.

"s as in sam" fixes the one letter that sounds like s; "it's j o n not j o h n", "not j o h n,
j o n" and "change h to n" replace a run; "the last letter is n" sets one position. The words
of these shapes are ``edit_grammar``'s, the same as for digits. Anything else is not a
partial edit (None), and the caller's answer is read as a whole new value instead.
"""

from __future__ import annotations

from voicecore.spoken.compose import compose, joined
from voicecore.spoken.edit_grammar import (
    ARTICLES,
    POSITIONS,
    after_verb,
    not_first_pair,
    replacement_sides,
    trimmed,
)
from voicecore.spoken.letters import spoken_letter
from voicecore.spoken.tokens import strip_carrier

__all__ = ["edit_spelled", "spelled_edit"]

# Letters that sound alike on a phone line: "s as in sam" fixes an f or an x, not an m.
_SOUNDS_ALIKE = ("bcdegptvz", "fsx", "mn", "ahjk", "iry", "quw", "lo")
# Not part of a spelled run: the articles but "a" (a letter), and the noun ("the letter b").
_NOT_SPELLED = (ARTICLES - {"a"}) | {"letter"}
# What a place names: any character, or (a digit, a number) one of the digits.
_DIGIT_NOUNS = frozenset({"digit", "number"})
_PLACE_NOUNS = frozenset({"letter", "character"}) | _DIGIT_NOUNS


def _spelled(tokens: list[str]) -> str:
    return joined(compose([token for token in tokens if token not in _NOT_SPELLED]))


def _spelled_or_none(tokens: list[str]) -> str | None:
    return _spelled(tokens) or None


def _replaced(held: str, tokens: list[str]) -> str | None:
    """``held`` with a run said as wrong replaced by the run said as right: the first split
    of ``tokens`` whose wrong run ``held`` has; None if none has."""
    for old_tokens, new_tokens in replacement_sides(tokens):
        old, new = _spelled(old_tokens), _spelled(new_tokens)
        if old and new and old in held:
            return held.replace(old, new, 1)
    return None


def _set_position(held: str, tokens: list[str]) -> str | None:
    """ "the last letter is n", "the second letter should be o"; "the last digit is three"
    counts the digits of ``held`` only ("peter-12" -> "peter-13")."""
    if len(tokens) < 3 or tokens[0] not in POSITIONS or tokens[1] not in _PLACE_NOUNS:
        return None
    rest = tokens[after_verb(tokens, 2) :]
    letter = _spelled(rest)
    if len(letter) != 1 and rest[:1] in (["a"], ["an"]):
        letter = _spelled(rest[1:])  # "the last digit is a five"
    digits_only = tokens[1] in _DIGIT_NOUNS
    places = [i for i, char in enumerate(held) if char.isdigit() or not digits_only]
    position = POSITIONS[tokens[0]]
    if len(letter) != 1 or not -len(places) <= position < len(places):
        return None
    if digits_only and not letter.isdigit():
        return None
    index = places[position]
    return held[:index] + letter + held[index + 1 :]


def _sound_alike_fix(held: str, tokens: list[str]) -> str | None:
    """ "s as in sam": replace the single held letter that sounds like s."""
    letter, length = spoken_letter(tokens, 0) if tokens else ("", 0)
    if length != len(tokens) or length < 3 or len(letter) != 1:
        return None
    group = next((sounds for sounds in _SOUNDS_ALIKE if letter in sounds), "")
    positions = [i for i, char in enumerate(held) if char in group and char != letter]
    if len(positions) != 1:
        return None
    return held[: positions[0]] + letter + held[positions[0] + 1 :]


def edit_spelled(held: str, tokens: list[str]) -> str | None:
    """``held`` edited by a partial correction in ``tokens``, or None if it is not one.

    An "edit" that leaves ``held`` as it was ("the last letter was n" of "john") is none: it
    would be taken for the value said again, a yes the caller did not say.
    """
    edited = spelled_edit(held, tokens)
    return edited if edited != held else None


def spelled_edit(held: str, tokens: list[str]) -> str | None:
    """``held`` as a partial correction in ``tokens`` leaves it, even unchanged; None if the
    tokens are not one. For a value edited in parts (an address): an edit of one part that
    changes nothing is still that part's edit, not one to try on the others."""
    pair = not_first_pair(tokens, _spelled_or_none, held, spelled=True)
    if pair is not None:
        old, new = pair
        return held.replace(old, new, 1) if old in held else None
    tokens = trimmed(tokens, spelled=True)
    if tokens[:1] == ["the"]:
        edited = _set_position(held, tokens[1:])
        if edited is not None:
            return edited
    tokens = strip_carrier(tokens)
    if replacement_sides(tokens):
        return _replaced(held, tokens)
    return _sound_alike_fix(held, tokens)
