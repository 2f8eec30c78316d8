"""Partial corrections of a digit string read back to the caller (a phone number).

"the last digit is two", "the last four are one two one two", "the area code is four one
five", "it's five five four not five five five", "not five five five, five five four",
"change the seven to a nine". The held digits come in the groups they were read back in
("415", "555", "2671"), so "the area code" has a place and a "five five five" that occurs
twice is placed on the group it is. Anything else is not a partial edit (None), and the
caller's answer is read as a whole new value instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from voicecore.spoken.digits import digit_run
from voicecore.spoken.edits import ORDINALS
from voicecore.spoken.number_words import DIGIT_NAMES
from voicecore.spoken.tokens import strip_carrier

__all__ = ["edit_digits"]

# How many digits an edit names ("the last four are ..."): one to ten.
_COUNTS = {name: count for count, name in enumerate(DIGIT_NAMES) if count} | {"ten": 10}
_SINGULAR = frozenset({"digit", "number", "one", "numeral"})
_PLURAL = frozenset({"digits", "numbers", "ones", "numerals"})
# Longest first: "should be" before "is".
_VERBS: tuple[tuple[str, ...], ...] = (
    ("is", "supposed", "to", "be"),
    ("are", "supposed", "to", "be"),
    ("should", "be"),
    ("must", "be"),
    ("needs", "to", "be"),
    ("need", "to", "be"),
    ("is", "actually"),
    ("are", "actually"),
    ("is",),
    ("are",),
    ("was",),
    ("were",),
    ("'s",),
)
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
# Words an answer opens or closes with that do not change the edit.
_OPENERS = frozenset(
    {"no", "nope", "nah", "sorry", "actually", "well", "but", "and", "so", "yes", "yeah", "ok"}
    | {"okay", "not", "quite", "almost", "close", "except", "wait"}
)
_CLOSERS = frozenset({"please", "thanks", "thank", "you", "sorry", "instead"})
_ARTICLES = frozenset({"a", "an", "the"})
# "X not Y", "X instead of Y": the new run comes first; "Y should be X": the old one.
_NEW_FIRST: tuple[tuple[str, ...], ...] = (("not",), ("instead", "of"), ("rather", "than"))
_OLD_FIRST: tuple[tuple[str, ...], ...] = (("should", "be"), ("is", "supposed", "to", "be"))
# Between the runs of "not five five five, it's five five four" (the comma is not in the words).
_NOT_FIRST_GAP = frozenset({"but", "it's", "its", "it", "is", "should", "be", "i", "mean"})
# What may come before that "not" ("no, it's not ...").
_NOT_FIRST_LEAD = _OPENERS | {"it's", "its", "it", "is", "that's", "thats", "that"}
# "not" then two runs said back to back is split by trying each place: a bound on the work.
_MAX_NOT_FIRST_TOKENS = 30
_CHANGE_VERBS = frozenset({"change", "replace", "make", "switch", "swap"})
_CHANGE_TO: tuple[tuple[str, ...], ...] = (("to",), ("with",), ("for",), ("into",), ("by",))


def _trimmed(tokens: Sequence[str]) -> list[str]:
    """Without the answer words around the edit ("no, ...", "... please")."""
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _OPENERS:
        start += 1
    while end > start and tokens[end - 1] in _CLOSERS:
        end -= 1
    return list(tokens[start:end])


def _after_verb(tokens: list[str], index: int) -> int:
    for verb in _VERBS:
        if tuple(tokens[index : index + len(verb)]) == verb:
            return index + len(verb)
    return index


def _digits_to_end(tokens: list[str], index: int) -> str | None:
    """The digits said from ``index`` to the end, None if anything else is said there."""
    tokens = [token for token in tokens[index:] if token not in _ARTICLES]
    digits, end = digit_run(tokens, 0, o_is_zero=True)
    return digits if digits and end == len(tokens) else None


def _position_edit(held: str, tokens: list[str]) -> str | None:
    """ "last digit is two", "last four are one two one two", "second digit should be five"."""
    if not tokens or tokens[0] not in ORDINALS:
        return None
    ordinal, index, count = tokens[0], 1, None
    if ordinal in ("first", "last") and index < len(tokens) and tokens[index] in _COUNTS:
        count, index = _COUNTS[tokens[index]], index + 1
    noun = tokens[index] if index < len(tokens) else ""
    if noun in _SINGULAR or noun in _PLURAL:
        index += 1
    elif count is None:
        return None
    new = _digits_to_end(tokens, _after_verb(tokens, index))
    if new is None:
        return None
    count = count or (1 if noun in _SINGULAR else len(new))
    start = len(held) - count if ordinal == "last" else ORDINALS[ordinal]
    if len(new) != count or start < 0 or start + count > len(held):
        return None
    return held[:start] + new + held[start + count :]


def _group_edit(groups: Sequence[str], tokens: list[str]) -> str | None:
    """ "the area code is four one five": the named group, said in full, replaced."""
    for name, which in _GROUP_NAMES:
        if tuple(tokens[: len(name)]) != name or len(groups) < 2:
            continue
        new = _digits_to_end(tokens, _after_verb(tokens, len(name)))
        position = which % len(groups)
        if new is None or len(new) != len(groups[position]):
            return None
        return "".join(new if i == position else group for i, group in enumerate(groups))
    return None


def _split(tokens: list[str], marker: tuple[str, ...]) -> tuple[list[str], list[str]] | None:
    for index in range(1, len(tokens) - len(marker)):
        if tuple(tokens[index : index + len(marker)]) == marker:
            return tokens[:index], tokens[index + len(marker) :]
    return None


def _old_and_new(tokens: list[str]) -> tuple[str, str] | None:
    """The run to replace and its replacement, each said as digits only."""
    pairs: list[tuple[list[str], list[str]]] = []
    if tokens and tokens[0] in _CHANGE_VERBS:
        for marker in _CHANGE_TO:
            sides = _split(tokens[1:], marker)
            pairs += [sides] if sides else []
    for marker in _OLD_FIRST:
        sides = _split(tokens, marker)
        pairs += [sides] if sides else []
    for marker in _NEW_FIRST:
        sides = _split(tokens, marker)
        pairs += [(sides[1], sides[0])] if sides else []
    for old_tokens, new_tokens in pairs:
        old, new = _digits_to_end(old_tokens, 0), _digits_to_end(new_tokens, 0)
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


def _not_first_pair(tokens: list[str], held_length: int) -> tuple[str, str] | None:
    """ "not five five five, five five four": after an opening "not", the old run, then the new
    one, apart ("but it's ...") or back to back. Back to back, they must be as long as each
    other and together shorter than the number (else it is the number said again)."""
    start = 0
    while start < len(tokens) and tokens[start] in _NOT_FIRST_LEAD:
        start += 1
    if start == 0 or tokens[start - 1] != "not" or len(tokens) > _MAX_NOT_FIRST_TOKENS:
        return None
    rest = _trimmed(tokens[start:])
    gap = next((i for i, token in enumerate(rest) if token in _NOT_FIRST_GAP), None)
    if gap is not None:
        after = _skip_gap(rest, gap)
        old, new = _digits_to_end(rest[:gap], 0), _digits_to_end(rest, after)
        return (old, new) if old and new else None
    for split in range(1, len(rest)):
        old, new = _digits_to_end(rest[:split], 0), _digits_to_end(rest, split)
        if old and new and len(old) == len(new) and len(old + new) < held_length:
            return old, new
    return None


def _skip_gap(tokens: list[str], index: int) -> int:
    while index < len(tokens) and tokens[index] in _NOT_FIRST_GAP:
        index += 1
    return index


def _replacement_edit(groups: Sequence[str], tokens: list[str]) -> str | None:
    """ "five five four not five five five", "not five five five, five five four"."""
    held_length = sum(map(len, groups))
    pair = _not_first_pair(tokens, held_length) or _old_and_new(strip_carrier(_trimmed(tokens)))
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
    trimmed = _trimmed(tokens)
    if trimmed[:1] == ["the"]:
        trimmed = trimmed[1:]
    held = "".join(groups)
    return (
        _group_edit(groups, trimmed)
        or _position_edit(held, trimmed)
        or _replacement_edit(groups, list(tokens))
    )
