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

Trimming stops at the first word whose loss changes the value ("john at gmail dot com": "john
at gmail" reads the same address, "john at gmail dot" does not, so "dot com" stays): a search
that jumped over that word could cut the value short. So it costs one reading per word trimmed.
The words that are no noise whatever they do to the reading (hesitations and carrier phrases
opening the text, sign-offs and hesitations closing it) are first cut in one go, checked by one
reading of what is left (if that reads another value, trimming starts from the whole text):
"uh my email is jenny at yahoo dot com thank you" costs three readings, not eight. A
hypothesis of more than ``MOST_WORDS`` words is not trimmed: its share is the least any
trimming could give, one word of all (so more words never raise it). A reading that never gives
the same value twice (a card number, sealed anew each time) keeps every word: its share is 1.0,
as for nothing unexplained.
"""

from __future__ import annotations

from collections.abc import Callable

from voicecore.spoken.tokens import drop_fillers, strip_carrier, strip_sign_off, words

__all__ = ["MOST_WORDS", "trimming_readings", "used_share"]

#: The most words (at spaces) a hypothesis is trimmed in: each word trimmed is one reading.
MOST_WORDS = 48

#: Put before the words after the value, so ``strip_sign_off`` may strip them all (it keeps
#: one word at least); no sign-off contains it.
_ANCHOR = ""


def trimming_readings(text: str) -> int:
    """At most how many readings ``used_share`` makes trimming ``text``, each of fewer
    characters than ``text``: the check of the cut, one per word trimmed and one that stops
    each side."""
    count = len(text.split())
    return count + 2 if 1 < count <= MOST_WORDS else 0


def used_share(text: str, value: object, read: Callable[[str], object]) -> float:
    """The share of ``text``'s words that its reading of ``value`` used (see the module
    docstring); ``read`` gives the value a text reads (None for nothing)."""
    pieces = text.split()
    if len(pieces) > MOST_WORDS:
        return 1.0 / len(words(text))
    start, end = _no_noise_cut(pieces)
    if (start, end) != (0, len(pieces)) and read(" ".join(pieces[start:end])) != value:
        start, end = 0, len(pieces)
    while end - start > 1 and read(" ".join(pieces[start + 1 : end])) == value:
        start += 1
    while end - start > 1 and read(" ".join(pieces[start : end - 1])) == value:
        end -= 1
    run = max(1, len(words(" ".join(pieces[start:end]))))
    return run / (run + _noise_before(pieces[:start]) + _noise_after(pieces[end:]))


def _noise_before(pieces: list[str]) -> int:
    """The words of ``pieces`` (before the value) other than hesitations and carriers."""
    return len(strip_carrier(_heard(pieces)))


def _noise_after(pieces: list[str]) -> int:
    """The words of ``pieces`` (after the value) other than hesitations and sign-offs."""
    return len(_unsigned(_heard(pieces)))


def _heard(pieces: list[str]) -> list[str]:
    """The words of ``pieces`` without hesitations."""
    return drop_fillers(words(" ".join(pieces)))


def _unsigned(tokens: list[str]) -> list[str]:
    """``tokens`` without the sign-offs that close them, all of them if need be."""
    return strip_sign_off([_ANCHOR, *tokens])[1:]


def _no_noise_cut(pieces: list[str]) -> tuple[int, int]:
    """Where trimming may start without reading: after the longest opening of ``pieces`` with
    no noise (hesitations and carriers only), before the longest such closing (sign-offs and
    hesitations). No reading here, only the token rules; each scan stops once its piece of
    text has more words than the whole text's carriers (or sign-offs), so a text with none
    costs a few token passes."""
    if len(pieces) < 2:
        return 0, len(pieces)
    said = _heard(pieces)
    carried = len(said) - len(strip_carrier(said))
    signed = len(said) - len(_unsigned(said))
    start = 0
    for k in range(1, len(pieces)):
        opening = _heard(pieces[:k])
        if len(opening) > carried:
            break
        if not strip_carrier(opening):
            start = k
    end = len(pieces)
    for k in range(len(pieces) - 1, start, -1):
        closing = _heard(pieces[k:])
        if len(closing) > signed:
            break
        if not _unsigned(closing):
            end = k
    return start, end
