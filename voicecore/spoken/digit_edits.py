"""Partial corrections of a digit string read back to the caller (a phone number).

"the last digit is two", "the last four are one two one two", "the area code is four one
five", "it's five five four not five five five", "not five five five, five five four",
"change the seven to a nine". The held digits come in the groups they were read back in
("415", "555", "2671"), so "the area code" has a place and a "five five five" that occurs
twice is placed on the group it is. The words of these shapes are ``edit_grammar``'s, the
same as for spelled letters. Anything else is not a partial edit (None), and the
caller's answer is read as a whole new value instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from voicecore.spoken.digits import digit_run
from voicecore.spoken.edit_grammar import (
    ARTICLES,
    POSITIONS,
    after_verb,
    not_first_pair,
    replacement_sides,
    trimmed,
)
from voicecore.spoken.number_words import DIGIT_NAMES
from voicecore.spoken.tokens import strip_carrier

__all__ = ["edit_digits"]

# How many digits an edit names ("the last four are ..."): one to ten.
_COUNTS = {name: count for count, name in enumerate(DIGIT_NAMES) if count} | {"ten": 10}
_SINGULAR = frozenset({"digit", "number", "one", "numeral"})
_PLURAL = frozenset({"digits", "numbers", "ones", "numerals"})
# Which read-back group a name points at; the last group is -1.
_GROUP_NAMES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("area", "code"), 0),
    (("prefix",), 1),
    (("exchange",), 1),
    (("middle", "part"), 1),
    (("middle", "bit"), 1),
    (("middle",), 1),
    (("last", "part"), -1),
    (("last", "bit"), -1),
    (("last", "group"), -1),
    (("ending",), -1),
)


def _digits(tokens: list[str]) -> str | None:
    """The digits ``tokens`` say, None if anything else is said there."""
    tokens = [token for token in tokens if token not in ARTICLES]
    digits, end = digit_run(tokens, 0, o_is_zero=True)
    return digits if digits and end == len(tokens) else None


def _position_edit(held: str, tokens: list[str]) -> str | None:
    """ "last digit is two", "last four are one two one two", "second digit should be five"."""
    if not tokens or tokens[0] not in POSITIONS:
        return None
    ordinal, index, count = tokens[0], 1, None
    if ordinal in ("first", "last") and index < len(tokens) and tokens[index] in _COUNTS:
        count, index = _COUNTS[tokens[index]], index + 1
    noun = tokens[index] if index < len(tokens) else ""
    if noun in _SINGULAR or noun in _PLURAL:
        index += 1
    elif count is None:
        return None
    new = _digits(tokens[after_verb(tokens, index) :])
    if new is None:
        return None
    count = count or (1 if noun in _SINGULAR else len(new))
    start = len(held) - count if ordinal == "last" else POSITIONS[ordinal]
    if len(new) != count or start < 0 or start + count > len(held):
        return None
    return held[:start] + new + held[start + count :]


def _group_edit(groups: Sequence[str], tokens: list[str]) -> str | None:
    """ "the area code is four one five": the named group, said in full, replaced."""
    for name, which in _GROUP_NAMES:
        if tuple(tokens[: len(name)]) != name or len(groups) < 2:
            continue
        new = _digits(tokens[after_verb(tokens, len(name)) :])
        position = which % len(groups)
        if new is None or len(new) != len(groups[position]):
            return None
        return "".join(new if i == position else group for i, group in enumerate(groups))
    return None


def _old_and_new(tokens: list[str]) -> tuple[str, str] | None:
    """The run to replace and its replacement, each said as digits only."""
    for old_tokens, new_tokens in replacement_sides(tokens):
        old, new = _digits(old_tokens), _digits(new_tokens)
        if old and new:
            return old, new
    return None


def _place(groups: Sequence[str], old: str) -> int | None:
    """Where ``old`` is in the held digits: its only place, else the only group it is."""
    held = "".join(groups)
    places = [i for i in range(len(held)) if held.startswith(old, i)]
    if len(places) == 1:
        return places[0]
    whole = [sum(map(len, groups[:i])) for i, group in enumerate(groups) if group == old]
    return whole[0] if len(whole) == 1 else None


def _replacement_edit(groups: Sequence[str], tokens: list[str]) -> str | None:
    """ "five five four not five five five", "not five five five, five five four"."""
    pair = not_first_pair(tokens, _digits, "".join(groups)) or _old_and_new(
        strip_carrier(trimmed(tokens))
    )
    if pair is None:
        return None
    old, new = pair
    place = _place(groups, old)
    if place is None:
        return None
    held = "".join(groups)
    return held[:place] + new + held[place + len(old) :]


def edit_digits(groups: Sequence[str], tokens: Sequence[str]) -> str | None:
    """The held digits (given in their read-back ``groups``) edited by a partial correction
    said in ``tokens``, or None if the tokens are not one."""
    said = trimmed(tokens)
    if said[:1] == ["the"]:
        said = said[1:]
    held = "".join(groups)
    return (
        _group_edit(groups, said)
        or _position_edit(held, said)
        or _replacement_edit(groups, list(tokens))
    )
