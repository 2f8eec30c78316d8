"""The words of a partial correction, once for spelled letters (``edits``) and digits
(``digit_edits``).

A correction replaces a run: "change X to Y" (or replace, make, switch, swap; to, with, for,
into, by), "X should be Y", "X is supposed to be Y", "Y not X", "Y instead of X", "Y rather
than X", "not X, Y"; or sets a place: "the last letter is Y", "the second digit must be Y".
This module finds the runs and the place; each edit module reads the runs its own way (as
letters, as digits) and checks them against the value it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from voicecore.spoken.number_words import ORDINALS

__all__ = [
    "ARTICLES",
    "POSITIONS",
    "Sides",
    "after_verb",
    "not_first_pair",
    "replacement_sides",
    "trimmed",
]

#: Position words of a partial correction ("the last letter", "the second digit"), 0-based.
POSITIONS = {word: number - 1 for word, number in ORDINALS.items() if number <= 10} | {"last": -1}

Sides = tuple[list[str], list[str]]
"""The words of the old run and of the new one, in that order."""

#: Words before a run that are not part of it ("change the seven to a nine"). "a" is also the
#: letter a, which a spelled run keeps.
ARTICLES = frozenset({"a", "an", "the"})

# Words an answer opens or closes with that do not change the edit.
_OPENERS = frozenset(
    {"no", "nope", "nah", "sorry", "actually", "well", "but", "and", "so", "yes", "yeah", "ok"}
    | {"okay", "not", "quite", "almost", "close", "except", "wait"}
)
_CLOSERS = frozenset({"please", "thanks", "thank", "you", "sorry", "instead"})
# In a spelled run "you" is the letter u ("change the h to you"), so "thank you" may end one.
_SPELLED_CLOSERS = _CLOSERS - {"thank", "you"}
# What sets a place or names the new run; longest first: "should be" before "is".
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
_CHANGE_VERBS = frozenset({"change", "replace", "make", "switch", "swap"})
_CHANGE_TO: tuple[tuple[str, ...], ...] = (("to",), ("with",), ("for",), ("into",), ("by",))
# "Y should be X": the old run comes first; "X not Y", "X instead of Y": the new one.
_OLD_FIRST: tuple[tuple[str, ...], ...] = (("should", "be"), ("is", "supposed", "to", "be"))
_NEW_FIRST: tuple[tuple[str, ...], ...] = (("not",), ("instead", "of"), ("rather", "than"))
# Between the runs of "not five five five, it's five five four" (the comma is not in the words).
_NOT_FIRST_GAP = frozenset({"but", "it's", "its", "it", "is", "should", "be", "i", "mean"})
# What may come before that "not" ("no, it's not ...").
_NOT_FIRST_LEAD = _OPENERS | {"it's", "its", "it", "is", "that's", "thats", "that"}
# "not" then two runs said back to back is split by trying each place: a bound on the work.
_MAX_NOT_FIRST_TOKENS = 30


def trimmed(tokens: Sequence[str], *, spelled: bool = False) -> list[str]:
    """Without the answer words around the edit ("no, ...", "... please"). The opening words
    are the same for every edit; ``spelled`` runs end in letters, so keep a closing "you"."""
    closers = _SPELLED_CLOSERS if spelled else _CLOSERS
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _OPENERS:
        start += 1
    while end > start and tokens[end - 1] in closers:
        end -= 1
    return list(tokens[start:end])


def after_verb(tokens: Sequence[str], index: int) -> int:
    """The index after the verb said at ``index`` ("is", "should be", "is supposed to be"),
    ``index`` itself when none is."""
    for verb in _VERBS:
        if tuple(tokens[index : index + len(verb)]) == verb:
            return index + len(verb)
    return index


def _split(tokens: list[str], marker: tuple[str, ...]) -> Sides | None:
    """The words before and after the first ``marker`` with words on both sides."""
    for index in range(1, len(tokens) - len(marker)):
        if tuple(tokens[index : index + len(marker)]) == marker:
            return tokens[:index], tokens[index + len(marker) :]
    return None


def replacement_sides(tokens: list[str]) -> list[Sides]:
    """Every way ``tokens`` split into an old run and a new one, in the order to try them:
    "change X to Y" first, then "X should be Y", then "Y not X"."""
    sides: list[Sides] = []
    if tokens and tokens[0] in _CHANGE_VERBS:
        for marker in _CHANGE_TO:
            split = _split(tokens[1:], marker)
            sides += [split] if split else []
    for marker in _OLD_FIRST:
        split = _split(tokens, marker)
        sides += [split] if split else []
    for marker in _NEW_FIRST:
        split = _split(tokens, marker)
        sides += [(split[1], split[0])] if split else []
    return sides


def not_first_pair(
    tokens: Sequence[str],
    read: Callable[[list[str]], str | None],
    held: str,
    *,
    spelled: bool = False,
) -> tuple[str, str] | None:
    """ "not five five five, five five four": after an opening "not", the old run, then the new
    one, each as ``read`` reads it, apart ("but it's ...") or back to back. Back to back (the
    comma is not in the words), they must be as long as each other and together shorter than
    the value ``held``, else it is the value said again; or the old run is all of ``held``
    ("not j o h n, j o n" of "john": the whole value rejected, the new run after it).
    ``spelled``: the runs are letters (see ``trimmed``)."""
    start = 0
    while start < len(tokens) and tokens[start] in _NOT_FIRST_LEAD:
        start += 1
    if start == 0 or tokens[start - 1] != "not" or len(tokens) > _MAX_NOT_FIRST_TOKENS:
        return None
    rest = trimmed(tokens[start:], spelled=spelled)
    gap = next((i for i, token in enumerate(rest) if token in _NOT_FIRST_GAP), None)
    if gap is not None:
        old, new = read(rest[:gap]), read(rest[_skip_gap(rest, gap) :])
        return (old, new) if old and new else None
    for split in range(1, len(rest)):
        old, new = read(rest[:split]), read(rest[split:])
        if not old or not new:
            continue
        if (len(old) == len(new) and len(old + new) < len(held)) or old == held != new:
            return old, new
    return None


def _skip_gap(tokens: list[str], index: int) -> int:
    while index < len(tokens) and tokens[index] in _NOT_FIRST_GAP:
        index += 1
    return index
