"""What formatting ASRs write, read back as what the caller said: general rules, one each.

The readers were built on spoken text ("six one seven", "j o h n"); modern ASRs hand over
formatted text instead, and mishear in predictable ways. Each rule below undoes one habit, in
the reader where a value of that kind is expected, so no rule fires in ordinary talk:

- "6, 1, 7.", "Sarah.", "JOHN": case and sentence punctuation (``tokens.words``);
- "C-H-E-N", "B, R-O-W-N": letters spelled with hyphens (``hyphen_spelled``, in
  ``tokens.words``);
- "8-hundred", "1.5-million": a figure hyphenated to its scale word (``figure_scale``, in
  ``tokens.words``);
- "double 5", "8 hundred" in a digit string: a figure is a digit word (``digits``);
- "1 million 200 thousand", "12 hundred and fifty", "1.5 million": figures among scale words
  combine as number words do (``numbers.cardinal`` and ``numbers.spoken_number``);
- "1230 in the afternoon", "830 am", "3.30 pm": a clock without its colon (``clock_figures``,
  in the time reader);
- "54,000, 500": a figure ending in "000" leaves room after it as "thousand" does
  (``numbers.cardinal``); "June 24, 20, 26", "August 1, 20, 20, 7", "May 24, 25": a year in
  two or three figures, a figure day (``numbers.year``, the date reader);
- "10 10", "5 15pm": an hour and its minutes as two figures (``clock_figures``);
- "140 mm", "for 50 mm": "a m" said quickly written "mm" after the figures
  (``meridiem_homophones``, in the time reader);
- "for", "to", "won", "ate" among digits: homophones of digits (``digit_homophones``, in the
  phone, code and number readers); before a scale word ("for hundred",
  ``scale_homophones``); as the hour before minutes that cannot be one ("for 15pm",
  ``hour_homophones``); just before the digits of a phone number when only that makes it
  valid ("is to 127424904", the phone reader);
- "or", "of", "all" between digits: the zero "oh" heard alike (``zero_homophones``, in the
  code, phone and card readers);
- "double 919216": the digits said after "double nine" joined into one figure (``digits``);
- "see", "are", "why", "you", "bee", "tea" in a spelled run: letter names (``letters``);
- "jenny and yahoo dot com": "and" for "at" before a domain (the email reader).
- "515205767o40": a zero said "oh" written as the letter among a figure's digits
  (``zero_letters``, in the card reader); "CVV237", "CV-985", "the CV is 474": a CVV label glued
  to its code or written with one "v", and "Valed through 09 28": "through" alone labels the
  expiry (the card reader).

Not guessed: "dot" merged into a word ("David Dotley"), since ordinary names start with "dot"
too ("Dotson", "Dottie"), and misheard months ("second of me"): no general rule covers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from voicecore.spoken.number_words import BIG_SCALES, SMALL_SCALES

__all__ = [
    "DIGIT_HOMOPHONES",
    "clock_figures",
    "digit_homophones",
    "figure_pairs",
    "figure_scale",
    "hour_homophones",
    "hyphen_spelled",
    "meridiem_homophones",
    "scale_homophones",
    "zero_homophones",
    "zero_letters",
]

_HYPHEN_SPELLED = re.compile(r"[a-z](?:-[a-z])+")


def hyphen_spelled(token: str) -> list[str] | None:
    """The letters of a token spelled with hyphens ("c-h-e-n" -> c, h, e, n), else None.

    Only single letters joined by hyphens: "x-ray", "e-mail" and "kl-358" stay whole.
    """
    return token.split("-") if _HYPHEN_SPELLED.fullmatch(token) else None


_FIGURE_SCALE = re.compile(r"([0-9]+(?:\.[0-9]+)?)-([a-z]+)")
_SCALE_NAMES = frozenset(SMALL_SCALES) | frozenset(BIG_SCALES)


def figure_scale(token: str) -> list[str] | None:
    """A figure hyphenated to its scale word ("8-hundred", "1.5-million"), as the two words
    said ("8", "hundred"), else None: "8-hundred 11" is 811, never 11. Other hyphens stay
    ("1-800", "kl-358", "x-ray")."""
    joined = _FIGURE_SCALE.fullmatch(token)
    if joined is None or joined[2] not in _SCALE_NAMES:
        return None
    return [joined[1], joined[2]]


# A figure with the letter "o" among its digits: "oh" said for a zero, written as the letter.
# Checked by its characters, not a regex: overlapping starred groups backtracked cubically on a
# long near-figure ("1o1o...1ox": seconds at 2,000 characters).
_FIGURE_CHARACTERS = frozenset("0123456789o")
#: Digits a figure needs to be one: a lone "5o" or "o5" is too little to be sure of.
_FIGURE_WITH_O_DIGITS = 2


def zero_letters(token: str) -> str:
    """A figure whose zeros a formatting ASR wrote as the letter "o" ("515205767o40", "2o19")
    with its zeros; any other token ("oak", "o", "5os") as it is. Only readers of digit
    strings call it (a card number): elsewhere "2o" may be a code of its own."""
    if (
        "o" not in token
        or not _FIGURE_CHARACTERS.issuperset(token)
        or sum(c.isdigit() for c in token) < _FIGURE_WITH_O_DIGITS
    ):
        return token
    return token.replace("o", "0")


# -- times: a clock written without its colon ----------------------------------------------------

_DOTTED_CLOCK = re.compile(r"([0-9]{1,2})\.([0-5][0-9])((?:[ap])\.?m\.?)?")
_RUN_CLOCK = re.compile(r"([0-9]{1,2})([0-5][0-9])((?:[ap])\.?m\.?)?")
_MERIDIEM = frozenset(["am", "pm", "a.m", "p.m", "a.m.", "p.m."])
_PERIODS = frozenset(["morning", "afternoon", "evening", "night", "tonight", "o'clock", "hours"])
#: How far after a figure a period word still says it is a time ("830 in the morning").
_PERIOD_REACH = 3


def _said_as_time(tokens: Sequence[str], index: int) -> bool:
    """Whether a.m./p.m. or a period of the day follows the figure at ``index``."""
    after = tokens[index + 1 : index + 1 + _PERIOD_REACH]
    if after[:1] and after[0] in _MERIDIEM:
        return True
    if len(after) >= 2 and after[0] in ("a", "p") and after[1] == "m":
        return True
    return any(token in _PERIODS for token in after)


def _clock(hour: str, minutes: str, meridiem: str | None) -> str | None:
    if int(hour) > 23:
        return None
    return f"{int(hour)}:{minutes}{meridiem or ''}"


_HOUR_FIGURE = re.compile(r"[1-9]|1[0-2]")
_MINUTE_FIGURE = re.compile(r"[0-5][0-9]((?:[ap])\.?m\.?)?")


def figure_pairs(tokens: Sequence[str]) -> list[str]:
    """An hour and its minutes written as two figures ("10 10", "5 15pm": "ten ten", "five
    fifteen p m") joined as a clock, as the words would be read."""
    result: list[str] = []
    index = 0
    while index < len(tokens):
        pair = tokens[index : index + 2]
        if len(pair) == 2 and _HOUR_FIGURE.fullmatch(pair[0]) and _MINUTE_FIGURE.fullmatch(pair[1]):
            result.append(f"{pair[0]}:{pair[1]}")
            index += 2
        else:
            result.append(tokens[index])
            index += 1
    return result


def clock_figures(tokens: Sequence[str]) -> list[str]:
    """Clock times written without a colon, with one: "3.30" -> "3:30" always (a time is
    expected), "1230" / "830" -> "12:30" / "8:30" when a.m., p.m. or a period of the day
    follows ("830 in the morning"), so a bare "2024" is never read as a time; "10 10" ->
    "10:10"."""
    result = figure_pairs(tokens)
    for index, token in enumerate(list(result)):
        dotted = _DOTTED_CLOCK.fullmatch(token)
        run = _RUN_CLOCK.fullmatch(token) if dotted is None else None
        if run is not None and len(token) > 2 and (run[3] or _said_as_time(tokens, index)):
            result[index] = _clock(run[1], run[2], run[3]) or token
        elif dotted is not None:
            result[index] = _clock(dotted[1], dotted[2], dotted[3]) or token
    return result


#: What an ASR writes for "a m" said quickly after a time ("for 50 mm", "140 mm").
_AM_HEARD_AS = frozenset({"mm"})


def meridiem_homophones(tokens: Sequence[str]) -> list[str]:
    """ "mm" straight after a figure read as "am" ("140 mm" -> "140 am"), where a time is
    expected; elsewhere (an opening "mm") it stays the hesitation it is."""
    return [
        "am" if token in _AM_HEARD_AS and index and _HAS_FIGURE.search(tokens[index - 1]) else token
        for index, token in enumerate(tokens)
    ]


_HAS_FIGURE = re.compile(r"[0-9]")


# -- digits: words that sound like one -----------------------------------------------------------

DIGIT_HOMOPHONES: dict[str, str] = {
    "for": "four",
    "fore": "four",
    "to": "two",
    "too": "two",
    "won": "one",
    "ate": "eight",
}
"""Words an ASR writes for a digit said alone; read as the digit only among digits."""


def digit_homophones(tokens: Sequence[str], is_digit: Callable[[str], bool]) -> list[str]:
    """Homophones of digits read as the digit where a digit string is said ("six one seven ate
    six seven won two three for" -> ... eight ... one ... four).

    A homophone is a digit inside a run of digits and homophones that holds a real digit or is
    the whole answer, when each side of it is that run or the end of the utterance: "send it to
    415" keeps its "to" (a word before it), "for one five ..." and "... three for" read a four,
    "to won to" is 212: the caller was asked for digits.
    """
    result = list(tokens)
    start = 0
    while start < len(tokens):
        end = start
        while end < len(tokens) and (tokens[end] in DIGIT_HOMOPHONES or is_digit(tokens[end])):
            end += 1
        if end == start:
            start += 1
            continue
        _read_run(tokens, start, end, result, is_digit)
        start = end
    return result


def _read_run(
    tokens: Sequence[str], start: int, end: int, result: list[str], is_digit: Callable[[str], bool]
) -> None:
    """Read the homophones of the run ``tokens[start:end]`` into ``result``, as the rule says."""
    has_digit = any(token not in DIGIT_HOMOPHONES for token in tokens[start:end])
    if not has_digit and (start, end) != (0, len(tokens)):
        return  # "for to" in talk; an answer of homophones only is digits ("to won to")
    for index in range(start, end):
        if tokens[index] not in DIGIT_HOMOPHONES:
            continue
        open_left = index > start or start == 0
        open_right = index < end - 1 or end == len(tokens)
        if open_left and open_right:
            result[index] = DIGIT_HOMOPHONES[tokens[index]]


#: What ASRs write for a zero said "oh" between digits ("two six or one eight").
ZERO_HOMOPHONES = frozenset({"or", "of", "all"})


def zero_homophones(tokens: Sequence[str], is_digit: Callable[[str], bool]) -> list[str]:
    """ "or", "of", "all" between two digits read as the zero "oh" ("three three or six" ->
    "three three oh six"), for readers of digit strings only: a caller asked for a code says
    its digits, not "two or three" (a quantity reader keeps "or"). Both neighbours must be
    digits, so "four or more" and "one of them" stay words."""
    result = list(tokens)
    for index in range(1, len(tokens) - 1):
        if (
            tokens[index] in ZERO_HOMOPHONES
            and is_digit(tokens[index - 1])
            and is_digit(tokens[index + 1])
        ):
            result[index] = "oh"
    return result


#: Scale words that need a number before them: "for hundred" is "four hundred", as no
#: ordinary phrase puts "for" or "to" straight before a singular scale ("for a hundred").
_SCALES = frozenset(["hundred", "thousand", "million", "billion"])


def scale_homophones(tokens: Sequence[str]) -> list[str]:
    """Homophones of digits straight before a scale word read as the digit ("for hundred
    seventy-one" -> "four hundred ..."), where a number is expected."""
    following = [*tokens[1:], ""][: len(tokens)]
    return [
        DIGIT_HOMOPHONES[token] if token in DIGIT_HOMOPHONES and after in _SCALES else token
        for token, after in zip(tokens, following, strict=True)
    ]


_MINUTES_FIGURE = re.compile(r"([1-5][0-9])((?:[ap])\.?m\.?)?")
_DIGIT_VALUES = {"one": 1, "two": 2, "four": 4, "eight": 8}


def hour_homophones(tokens: Sequence[str], is_number: Callable[[str], bool]) -> list[str]:
    """An hour heard as a homophone before its minutes ("for 15pm", "to 45 in the morning":
    "four fifteen p m", "two forty five"), read as the clock: only when the figure cannot be
    the hour itself (13 to 59 with a.m., p.m. or a period of the day said), and no number
    comes before the homophone ("from 9 to 17 in the evening" stays a range)."""
    result = list(tokens)
    for index, token in enumerate(tokens[:-1]):
        minutes = _MINUTES_FIGURE.fullmatch(tokens[index + 1])
        if token not in DIGIT_HOMOPHONES or minutes is None or int(minutes[1]) < 13:
            continue
        if index and is_number(tokens[index - 1]):
            continue
        if minutes[2] or _said_as_time(tokens, index + 1):
            hour = _DIGIT_VALUES[DIGIT_HOMOPHONES[token]]
            result[index] = ""
            result[index + 1] = f"{hour}:{minutes[1]}{minutes[2] or ''}"
    return [token for token in result if token]
