"""Partial corrections of a spelled value read back to the caller.

"s as in sam" fixes the one letter that sounds like s; "it's j o n not j o h n" and "change
h to n" replace a run; "the last letter is n" sets one position. Anything else is not a
partial edit (None), and the caller's answer is read as a whole new value instead.
"""

from __future__ import annotations

from voicecore.spoken.compose import compose, joined
from voicecore.spoken.letters import spoken_letter
from voicecore.spoken.tokens import strip_carrier

__all__ = ["ORDINALS", "edit_spelled"]

# Letters that sound alike on a phone line: "s as in sam" fixes an f or an x, not an m.
_SOUNDS_ALIKE = ("bcdegptvz", "fsx", "mn", "ahjk", "iry", "quw", "lo")
#: Position words of a partial correction: "the last letter", "the second digit".
ORDINALS = {
    "first": 0,
    "second": 1,
    "third": 2,
    "fourth": 3,
    "fifth": 4,
    "sixth": 5,
    "seventh": 6,
    "eighth": 7,
    "ninth": 8,
    "tenth": 9,
    "last": -1,
}
_ANSWER_WORDS = frozenset({"no", "nope", "nah", "not", "quite", "close", "almost", "but"})
_ARTICLES = frozenset({"an", "the", "letter"})


def _spelled(tokens: list[str]) -> str:
    return joined(compose([token for token in tokens if token not in _ARTICLES]))


def _split_at(tokens: list[str], marker: tuple[str, ...]) -> tuple[list[str], list[str]] | None:
    for index in range(1, len(tokens) - len(marker)):
        if tuple(tokens[index : index + len(marker)]) == marker:
            return tokens[:index], tokens[index + len(marker) :]
    return None


def _old_and_new(tokens: list[str]) -> tuple[str, str] | None:
    """The run to replace and its replacement, from "X not Y", "Y should be X", "change Y to X"."""
    for marker in (("not",), ("instead", "of"), ("rather", "than")):
        sides = _split_at(tokens, marker)
        if sides is not None:
            return _spelled(sides[1]), _spelled(sides[0])
    sides = _split_at(tokens, ("should", "be"))
    if sides is not None:
        return _spelled(sides[0]), _spelled(sides[1])
    if tokens and tokens[0] in ("change", "replace"):
        for marker in (("to",), ("with",), ("for",)):
            sides = _split_at(tokens[1:], marker)
            if sides is not None:
                return _spelled(sides[0]), _spelled(sides[1])
    return None


def _set_position(held: str, tokens: list[str]) -> str | None:
    """ "the last letter is n", "the second letter should be o"."""
    if len(tokens) < 3 or tokens[0] not in ORDINALS or tokens[1] not in ("letter", "character"):
        return None
    rest = tokens[2:]
    rest = rest[2:] if rest[:2] == ["should", "be"] else rest[1:] if rest[0] == "is" else rest
    letter = _spelled(rest)
    if len(letter) != 1 and rest[:1] in (["a"], ["an"]):
        letter = _spelled(rest[1:])  # "the last digit is a five"
    position = ORDINALS[tokens[0]]
    if len(letter) != 1 or position >= len(held):
        return None
    position %= len(held)
    return held[:position] + letter + held[position + 1 :]


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
    """``held`` edited by a partial correction in ``tokens``, or None if it is not one."""
    start = 0  # answer words dropped by index: a slice per word was quadratic in "no no no"
    while (
        start < len(tokens)
        and tokens[start] in _ANSWER_WORDS
        and tokens[start + 1 : start + 2] != ["not"]
    ):
        start += 1
    tokens = tokens[start:]
    if tokens[:1] == ["the"]:
        edited = _set_position(held, tokens[1:])
        if edited is not None:
            return edited
    tokens = strip_carrier(tokens)
    pair = _old_and_new(tokens)
    if pair is not None:
        old, new = pair
        return held.replace(old, new, 1) if old and new and old in held else None
    return _sound_alike_fix(held, tokens)
