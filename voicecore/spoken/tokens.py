"""Tokens of an ASR hypothesis, and the talk around a value: fillers, carriers, corrections.

Everything here works on lower-case word lists so the primitives can chain the steps:
``strip_carrier(after_correction(drop_fillers(words(text))))``.
"""

from __future__ import annotations

import re

from voicecore.spoken.formatted import figure_scale, hyphen_spelled
from voicecore.spoken.numbers import is_number_word

__all__ = [
    "after_correction",
    "NAME_CARRIER",
    "NAMING_CARRIER",
    "after_last_carrier",
    "drop_fillers",
    "has_correction",
    "replaced_by_correction",
    "strip_carrier",
    "strip_sign_off",
    "without_opening_oh",
    "words",
]

# Sentence punctuation around a token; inner punctuation ("john.smith@gmail.com",
# "415-555-2671", "it's") stays so the primitives can split it their own way.
_EDGE_PUNCTUATION = "\"'`.,!?;:()[]{}<>*~"
_APOSTROPHES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2014": " ", "\u2013": "-"}
)
_SPACE = re.compile(r"\s+")

_FILLERS = frozenset(
    [
        "uh",
        "uhh",
        "uhm",
        "um",
        "umm",
        "er",
        "erm",
        "err",
        "ah",
        "ahh",
        "eh",
        "hmm",
        "hm",
        "hmmm",
        "mm",
        "mmm",
        "mhm",
        "uh-huh",
    ]
)

# "oh" is a zero among digits and an interjection opening an utterance (see ``words`` and
# ``drop_fillers``); the pauses an ASR writes after an interjection; words a zero may open.
_OH = "oh"
_PAUSES = (",", ".", "!", "?", ";", ":")
_AFTER_ZERO = frozenset(["point"])

# What a caller says to correct themself, the one list (phone numbers ask ``has_correction``).
# Longest first: "no wait" must win over "wait". "no" alone is an answer, never a marker.
_CORRECTION_MARKERS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(phrase.split())
            for phrase in (
                "no wait",
                "no no",
                "wait",
                "wait wait",
                "sorry",
                "i'm sorry",
                "im sorry",
                "i mean",
                "i meant",
                "actually",
                "scratch that",
                "strike that",
                "let me correct that",
                "let me rephrase",
                "let me start over",
                "let me try again",
                "start over",
                "correction",
                "oops",
                "my mistake",
                "my bad",
                "make that",
                "rather",
                "or rather",
                "hold on",
            )
        ),
        key=len,
        reverse=True,
    )
)

# Words that open an answer without being part of it ("and my email is ...", "but my address
# is ...": ASRs keep the "and" or "but" a caller starts with).
_YES_WORDS = r"(?:yes|yeah|yep|yup|sure|ok|okay|alright|all right|right|so|well|hi|hello|and|but)"
_PRONOUN = r"(?:my|the|our|his|her|their|your|a|it's|its)"
_COPULA = r"(?:is|was|are|'s|would be|will be|should be|it's|it is)"
# Matched at a position (``match(text, pos)``), so no "^": it would only match at 0.
_CARRIER = re.compile(
    r"(?:"
    + rf"{_YES_WORDS}\b|"
    # "my (work) email (address) is", "the number is", "the code you want is"
    + rf"{_PRONOUN}(?: [a-z'-]+){{1,4}}? {_COPULA}\b|"
    + r"(?:[a-z-]+ )?(?:email|e-mail|number|name|code|zip|phone|cell)'s\b|"
    + r"(?:[a-z-]+ )?(?:name|number|code|address|email|e-mail|zip) (?:is|was)\b|"
    + r"(?:it|that|this|which|that one|this one) (?:is|was|would be|will be|should be)\b|"
    + r"(?:it's|its|that's|thats|this is|here it is|here's|here you go|it'll be|that'll be)\b|"
    + r"(?:i'm|im|i am|call me|they call me|you can call me)\b|"
    + r"(?:(?:you|u) can )?(?:reach|email|e-mail|call|text|contact|find|get) "
    + r"(?:me|us|him|her) (?:at|on|by)\b|"
    + r"(?:(?:you can |please )?send (?:it|that|them|the \w+) to)\b|"
    + r"(?:it's |that's |its )?spelled(?: as| like)?\b|"
    + r"(?:i think|i believe|let me see|let's see|let me think)\b"
    # a carrier is whole words: "yep" of the code "YEP-00" is none
    + r")(?: |$)"
)

# Said after a value and no part of it: a hedge, thanks, or the caller naming themself
# ("nancy harris speaking", "john here"). Longest first, so "i think so" goes whole.
_SIGN_OFFS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(phrase.split())
            for phrase in (
                "i think",
                "i think so",
                "i believe",
                "i guess",
                "i suppose",
                "thanks",
                "thank you",
                "please",
                "okay",
                "ok",
                "bye",
                "goodbye",
                "speaking",
                "calling",
                "here",
            )
        ),
        key=len,
        reverse=True,
    )
)


def words(text: str) -> list[str]:
    """Split ASR text into lower-case tokens without sentence punctuation.

    Punctuation inside a token is kept ("john.smith@gmail.com", "415-555-2671", "it's") so
    a primitive can split such tokens by its own rules; a leading "+" is kept ("+44"). Letters
    spelled with hyphens are split ("C-H-E-N" -> c, h, e, n), and so is a figure from its
    scale word ("8-hundred" -> 8, hundred). An "oh" that opens the text with
    a pause written after it ("Oh, it's 4 1 5", "uh, oh. four ...") is an interjection, not a
    zero, and is no token.
    """
    tokens: list[str] = []
    raws = _SPACE.split(text.translate(_APOSTROPHES).lower())
    opening = True  # nothing but fillers said yet: an "oh" here may be an interjection
    for index, raw in enumerate(raws):
        token = raw.strip(_EDGE_PUNCTUATION)
        if opening and token == _OH and raw.endswith(_PAUSES) and index < len(raws) - 1:
            opening = False  # one interjection: a second "oh," ("Oh, oh, i believe") is a zero
            continue
        if token:
            opening = opening and token in _FILLERS
            tokens.extend(hyphen_spelled(token) or figure_scale(token) or (token,))
    return tokens


def drop_fillers(tokens: list[str]) -> list[str]:
    """Remove hesitation sounds ("uh", "um", "er", "hmm", ...), and an "oh" that opens the
    utterance before a word that is no digit, number or letter ("oh my number is ...", "oh
    yeah"): "oh" among digits ("oh four one five", "one oh five") stays a zero."""
    kept = [token for token in tokens if token not in _FILLERS]
    if len(kept) > 1 and kept[0] == _OH and not _may_follow_zero(kept[1]):
        return kept[1:]
    return kept


def without_opening_oh(text: str) -> str | None:
    """``text``'s words without the "oh" that opens it (after fillers), or None when no "oh"
    opens it. "oh four one five ..." may be a zero or an interjection: a primitive reads it
    as a zero, and as an interjection when only that reading makes a valid value."""
    tokens = words(text)
    opening = next((index for index, token in enumerate(tokens) if token not in _FILLERS), None)
    if opening is None or tokens[opening] != _OH or opening == len(tokens) - 1:
        return None
    return " ".join(tokens[:opening] + tokens[opening + 1 :])


def _may_follow_zero(token: str) -> bool:
    """Whether ``token`` may go on a value that a zero opens: a number, a digit, "point" or a
    letter (a spelled "o" said "oh")."""
    return (
        is_number_word(token)
        or token in _AFTER_ZERO
        or len(token) == 1
        or any(char.isdigit() for char in token)
    )


def _by_first_word(
    markers: tuple[tuple[str, ...], ...],
) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Markers grouped by their first word, order kept (longest first)."""
    grouped: dict[str, tuple[tuple[str, ...], ...]] = {}
    for marker in markers:
        grouped[marker[0]] = (*grouped.get(marker[0], ()), marker)
    return grouped


# One dict lookup per token instead of a scan of every marker.
_MARKERS_BY_FIRST = _by_first_word(_CORRECTION_MARKERS)


def _marker_at(tokens: list[str], index: int) -> int:
    """Length of the correction marker starting at ``index``, 0 if none."""
    for marker in _MARKERS_BY_FIRST.get(tokens[index], ()):
        if tuple(tokens[index : index + len(marker)]) == marker:
            return len(marker)
    return 0


def has_correction(tokens: list[str]) -> bool:
    """Whether a self-correction marker is said anywhere in ``tokens``."""
    return any(_marker_at(tokens, index) for index in range(len(tokens)))


def after_correction(tokens: list[str]) -> list[str]:
    """Keep what follows the last self-correction marker ("no wait", "i mean", "sorry", ...).

    A marker with nothing after it ("... dot com, sorry") is dropped and what came before is
    kept; "no" alone is a confirmation answer and is not a marker.
    """
    start, end = 0, len(tokens)  # what is kept; sliced once (a slice per marker: quadratic)
    index = 0
    while index < len(tokens):
        length = _marker_at(tokens, index)
        if length == 0:
            index += 1
            continue
        if index + length < len(tokens):
            start, end = index + length, len(tokens)
        else:
            start, end = 0, index
        index += length
    return tokens[start:end]


def replaced_by_correction(tokens: list[str]) -> list[str]:
    """What the last self-correction replaced: the tokens before its marker, themselves
    corrected ("two six seven one, sorry, two six seven two" -> "two six seven one"); [] when
    nothing was corrected. Lets a primitive read a short correction as a fix of the end.
    """
    start = -1
    index = 0
    while index < len(tokens):
        length = _marker_at(tokens, index)
        if length and index + length < len(tokens):
            start = index
        index += length or 1
    return after_correction(tokens[:start]) if start > 0 else []


def strip_carrier(tokens: list[str]) -> list[str]:
    """Drop leading carrier phrases ("my email is", "it's", "you can reach me at", "yeah")."""
    text = " ".join(tokens)
    start = 0  # matched in place: cutting the text after each carrier was quadratic
    while start < len(text):
        match = _CARRIER.match(text, start)
        if match is None or match.end() == start:
            break
        start = match.end()
    return text[start:].split()


_OPENING_WORD = re.compile(rf"{_YES_WORDS}(?: |$)")

#: Carriers that say a name follows ("my name is", "the name's").
NAMING_CARRIER = re.compile(
    r"(?:(?:my|the|his|her) )?(?:(?:full|first|last) )?name(?:'s| is| was)(?: |$)"
)
#: Carriers that may introduce a name ("it's karen", "this is susan", "call me ann") as
#: they introduce anything else ("it's great", "call me back"), and those that say a name
#: follows.
NAME_CARRIER = re.compile(
    rf"(?:it's|its|it is|this is|here's|i'm|im|i am|(?:you can |they )?call me)(?: |$)|"
    rf"{NAMING_CARRIER.pattern}"
)


def after_last_carrier(tokens: list[str], carrier: re.Pattern[str] | None = None) -> list[str]:
    """What follows the last carrier phrase said after other words ("but you at it's karen",
    "you have this is susan carter": an ASR misheard the opening, the carrier still marks
    where the value starts); [] when no such carrier is followed by words. An opening word
    alone ("yeah", "so", "and") is no carrier here: it says nothing about what follows.
    ``carrier`` narrows which phrases may mark the start (default: any carrier phrase).

    One pass from the end: where the carriers chained from each word end is kept, so the
    words after a carrier are never re-read (re-stripping the rest at each word was quadratic).
    """
    text = " ".join(tokens)
    starts = [0, *(match.end() for match in re.finditer(" ", text))]
    chain_end = {len(text): len(text)}  # where strip_carrier would stop, from each word start
    for start in reversed(starts):
        match = _CARRIER.match(text, start)
        chain_end[start] = chain_end[match.end()] if match and match.end() > start else start
        marker = (carrier or _CARRIER).match(text, start) if start > 0 else None
        if marker is None or _OPENING_WORD.fullmatch(marker.group()):
            continue
        rest = chain_end[marker.end()]  # a carrier ends where a word starts, or at the end
        if rest < len(text):
            return text[rest:].split()
    return []


def strip_sign_off(tokens: list[str]) -> list[str]:
    """Drop what a caller says after the value: "i think", "thank you", "okay bye" and the
    "speaking" / "here" of a caller naming themself, however many, keeping one token at least
    (the letter "i" of a code stays unless "think" or "believe" follows it)."""
    end = len(tokens)
    while True:
        size = next(
            (
                len(off)
                for off in _SIGN_OFFS
                if end > len(off) and tuple(tokens[end - len(off) : end]) == off
            ),
            0,
        )
        if not size:
            return tokens[:end]
        end -= size
