"""How much of a hypothesis its reading used: the share of its words the value accounts for.

A value read out of mostly unexplained words is suspect ("look at that quickly hundred women be
i'd leave" -> 100: one word of nine made the value), one that accounts for all that was said
("my number is four one five ...") is not. The primitives do not say which words they used, so
this asks the reading itself: the words of the hypothesis (split at spaces, as written) are
trimmed from the left while what remains still reads the same value, then from the right; what
is left is the shortest run of words around the value that reads it (the words it needs). The
words trimmed are **noise** unless they are hesitations, a carrier phrase before the value ("my
email is", ``strip_carrier``) or a sign-off after it ("thank you", ``strip_sign_off``)::

    used = run / (run + noise)          # words (``tokens.words``); 1.0: nothing unexplained

Each side is trimmed by a binary search (``_furthest``): about ``2 * log2(words)`` readings of
the hypothesis, so a long utterance costs a few readings, not one per word. A reading that never
gives the same value twice (a card number, sealed anew each time) keeps every word: its share is
1.0, as for nothing unexplained.
"""

from __future__ import annotations

from collections.abc import Callable

from voicecore.spoken.tokens import drop_fillers, strip_carrier, strip_sign_off, words

__all__ = ["used_share"]

#: Put before the words after the value, so ``strip_sign_off`` may strip them all (it keeps
#: one word at least); no sign-off contains it.
_ANCHOR = ""


def used_share(text: str, value: object, read: Callable[[str], object]) -> float:
    """The share of ``text``'s words that its reading of ``value`` used (see the module
    docstring); ``read`` gives the value a text reads (None for nothing)."""
    pieces = text.split()

    def reads_value(start: int, end: int) -> bool:
        return read(" ".join(pieces[start:end])) == value

    start = _furthest(0, len(pieces) - 1, lambda cut: reads_value(cut, len(pieces)))
    end = -_furthest(-len(pieces), -(start + 1), lambda cut: reads_value(start, -cut))
    run = max(1, len(words(" ".join(pieces[start:end]))))
    before = strip_carrier(drop_fillers(words(" ".join(pieces[:start]))))
    after = strip_sign_off([_ANCHOR, *drop_fillers(words(" ".join(pieces[end:])))])[1:]
    return run / (run + len(before) + len(after))


def _furthest(low: int, high: int, holds: Callable[[int], bool]) -> int:
    """The largest ``cut`` in [low, high] for which ``holds`` is true, ``holds(low)`` given:
    a binary search, so ``log2(high - low)`` readings however long the text. It takes the value
    to read from one run of words: a cut into that run loses it, as any further cut does."""
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low
