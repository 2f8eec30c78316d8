"""Letters as callers say them: single letters, letter names, the NATO alphabet, "b as in boy".

ASR writes a spelled "j o h n" as single letters, but also as words that sound like letter
names ("jay", "bee", "double u"). Words that are also ordinary English ("see", "you", "why")
count as letters only inside a spelled run, which the caller decides with ``in_spelling``.
"""

from __future__ import annotations

__all__ = [
    "NATO",
    "letter_name",
    "nato_letter",
    "spoken_letter",
    "spoken_letters",
]

NATO: dict[str, str] = {
    "alpha": "a",
    "alfa": "a",
    "bravo": "b",
    "charlie": "c",
    "delta": "d",
    "echo": "e",
    "foxtrot": "f",
    "fox": "f",
    "golf": "g",
    "hotel": "h",
    "india": "i",
    "juliet": "j",
    "juliett": "j",
    "kilo": "k",
    "lima": "l",
    "mike": "m",
    "november": "n",
    "oscar": "o",
    "papa": "p",
    "quebec": "q",
    "romeo": "r",
    "sierra": "s",
    "tango": "t",
    "uniform": "u",
    "victor": "v",
    "whiskey": "w",
    "whisky": "w",
    "x-ray": "x",
    "xray": "x",
    "yankee": "y",
    "zulu": "z",
}
"""The NATO spelling alphabet (with common ASR spellings)."""

# Letter names no one uses as an ordinary word: always letters.
_LETTER_NAMES: dict[str, str] = {
    "bee": "b",
    "cee": "c",
    "dee": "d",
    "eff": "f",
    "ef": "f",
    "gee": "g",
    "aitch": "h",
    "haitch": "h",
    "jay": "j",
    "kay": "k",
    "ell": "l",
    "el": "l",
    "em": "m",
    "en": "n",
    "pee": "p",
    "cue": "q",
    "queue": "q",
    "ar": "r",
    "arr": "r",
    "ess": "s",
    "tee": "t",
    "vee": "v",
    "doubleu": "w",
    "double-u": "w",
    "ex": "x",
    "wye": "y",
    "zee": "z",
    "zed": "z",
}
# Letter names that are also ordinary words: letters only inside a spelled run.
_AMBIGUOUS_NAMES: dict[str, str] = {
    "be": "b",
    "see": "c",
    "sea": "c",
    "pea": "p",
    "are": "r",
    "tea": "t",
    "you": "u",
    "why": "y",
    "eye": "i",
    "oh": "o",
}
_AS_IN = frozenset({"as", "for", "like", "is"})
_CASE_WORDS = frozenset({"capital", "uppercase", "upper", "lowercase", "lower", "small", "case"})
# Most case words before one letter: "capital upper case j" is three.
_MAX_CASE_WORDS = 3


def letter_name(token: str, *, in_spelling: bool = False) -> str | None:
    """The letter a single token names ("j", "jay", "double-u"), else None."""
    if len(token) == 1 and "a" <= token <= "z":
        return token
    if token in _LETTER_NAMES:
        return _LETTER_NAMES[token]
    if in_spelling:
        return _AMBIGUOUS_NAMES.get(token)
    return None


def nato_letter(token: str) -> str | None:
    """The letter a NATO code word stands for ("bravo" -> "b"), else None."""
    return NATO.get(token)


def _as_in_length(tokens: list[str], index: int) -> int:
    """Tokens taken by a "b as in boy" / "s for sam" / "m like mary" clarification."""
    letter = letter_name(tokens[index])
    if letter is None or index + 2 >= len(tokens):
        return 0
    rest = tokens[index + 1 : index + 4]
    if rest[:2] == ["as", "in"] and len(rest) == 3:
        return 4
    if rest[0] in _AS_IN and rest[1][:1] == letter and len(rest[1]) > 1:
        return 3
    return 0


def spoken_letter(tokens: list[str], index: int, *, nato: bool = True) -> tuple[str, int]:
    """The letters said at ``index`` and how many tokens they take; ("", 0) if none.

    Handles "b as in boy", "s for sam", "double l", "capital j", letter names and, with
    ``nato``, NATO code words. A "double"/"triple" letter yields two/three letters.
    """
    cased = _case_words_at(tokens, index)
    if cased:
        letters, length = _uncased_letter(tokens, index + cased, nato)
        return (letters, length + cased) if length else ("", 0)
    return _uncased_letter(tokens, index, nato)


def _case_words_at(tokens: list[str], index: int) -> int:
    """How many case words ("capital", "upper case") start at ``index`` with a token after
    them: at most ``_MAX_CASE_WORDS``, so "capital capital ..." is not re-read from every
    start inside it (quadratic, and once a recursion as deep as the run)."""
    count = 0
    while (
        count < _MAX_CASE_WORDS
        and index + count + 1 < len(tokens)
        and tokens[index + count] in _CASE_WORDS
    ):
        count += 1
    return count


def _uncased_letter(tokens: list[str], index: int, nato: bool) -> tuple[str, int]:
    """The letters said at ``index`` without case words before them."""
    token = tokens[index]
    if token == "double" and index + 1 < len(tokens) and tokens[index + 1] in ("u", "you"):
        return "w", 2  # "double u" names w; a doubled u is "u u"
    if token in ("double", "triple") and index + 1 < len(tokens):
        letter = letter_name(tokens[index + 1], in_spelling=True)
        if letter is not None and tokens[index + 1] != "oh":
            return letter * (2 if token == "double" else 3), 2
        return "", 0
    length = _as_in_length(tokens, index)
    if length:
        return letter_name(token) or "", length
    letter = letter_name(token) or (nato_letter(token) if nato else None)
    return (letter, 1) if letter else ("", 0)


def spoken_letters(tokens: list[str], *, nato: bool = True) -> str | None:
    """All tokens read as spelled letters ("j o h n", "jay oh aitch en"), else None."""
    letters: list[str] = []
    index = 0
    while index < len(tokens):
        letter, length = spoken_letter(tokens, index, nato=nato)
        if not length:
            ambiguous = letter_name(tokens[index], in_spelling=True)
            if ambiguous is None:
                return None
            letter, length = ambiguous, 1
        letters.append(letter)
        index += length
    return "".join(letters) or None
