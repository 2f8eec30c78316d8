"""How ``capture_address`` reads each part of an address: the house number, the street, the
unit, and the city, state and ZIP code said after them (``voicecore.primitives.address``).

Each reader takes the caller's lower-case tokens (commas kept as ``COMMA``) and a position, and
returns the part in its postal form and where it ends, or "" when the part is not said there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from voicecore.primitives._usps import DIRECTIONS, HIGHWAYS, STATES, SUFFIXES, UNITS, zip_states
from voicecore.spoken.digits import digit_run
from voicecore.spoken.letters import letter_name
from voicecore.spoken.number_words import SMALL_SCALES, TENS, ZERO_WORDS
from voicecore.spoken.numbers import cardinal, is_number_word, ordinal

__all__ = [
    "COMMA",
    "city_of",
    "designator_at",
    "form_at",
    "house_number",
    "is_designator",
    "place_of",
    "po_box_at",
    "street_at",
    "unit_at",
    "zip_of",
]

COMMA = "|"  # a comma the caller's ASR wrote: it ends a street without a suffix
_WRITTEN_NUMBER = re.compile(r"^[1-9][0-9]{0,5}[a-z]?$")
_MAX_NUMBER_DIGITS = 6
_WRITTEN_UNIT = re.compile(
    r"^#?(?P<unit>[0-9]{1,5}[a-z]?|[a-z][0-9]{0,4}|[0-9]{1,3}-[0-9a-z]{1,3})$"
)
_WRITTEN_ZIP = re.compile(r"^(?P<five>[0-9]{5})(?:-(?P<four>[0-9]{4}))?$")
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}
# Said before a city and no part of its name: "in brooklyn", "i think it's san francisco"
# (longest first: "i think it's" before "i think").
_CITY_LEAD_INS = tuple(
    tuple(lead.split())
    for lead in (
        "i think it's",
        "i think it is",
        "i believe it's",
        "i believe it is",
        "i think",
        "i believe",
        "maybe",
        "probably",
        "it's",
        "it is",
        "that's",
        "that is",
        "which is",
        "in",
        "uh",
        "um",
    )
)
_LONGEST_FORM = max(len(form.split()) for form in [*STATES, *DIRECTIONS])
_LONGEST_HIGHWAY = max(len(form.split()) for form in HIGHWAYS)
_ROUTE_NUMBER = re.compile(r"^[1-9][0-9]{0,3}[a-z]?$")
_ROUTE_NUMBER_WORDS = 4  # "one oh one", "nineteen sixty": a route's number is said in few
# How a caller says or an ASR writes "PO Box" ("P.O. Box", "p o box", "post office box").
_PO_BOX = tuple(
    tuple(form.split())
    for form in ("po box", "p.o box", "p o box", "p.o. box", "post office box", "pob", "pobox")
)


# -- the house number ----------------------------------------------------------------------


def house_number(tokens: Sequence[str]) -> tuple[str, int]:
    """The house number at the start of ``tokens`` and where it ends; ("", 0) if none."""
    if tokens and _WRITTEN_NUMBER.match(tokens[0]):
        return tokens[0].upper(), 1
    end = 0
    while end < len(tokens) and _is_number_word(tokens[end]):
        end += 1
    # "one two three forty second street": the tens belong to the street's name; after one
    # word they are the number's ("three fifty fifth avenue" is 350 5th Ave)
    if end > 2 and tokens[end - 1] in TENS and ordinal(tokens[end - 1 : end + 1]) is not None:
        end -= 1
    run = list(tokens[:end])
    if any(word in SMALL_SCALES for word in run):
        whole = cardinal(run)
        digits, used = (str(whole), end) if whole else ("", 0)
    else:
        digits, used = digit_run(run)
    if not digits or used != end or digits[0] == "0" or len(digits) > _MAX_NUMBER_DIGITS:
        return "", 0
    return digits, end


def _is_number_word(token: str) -> bool:
    return (token in ZERO_WORDS or is_number_word(token)) and ordinal([token]) is None


# -- a PO box ------------------------------------------------------------------------------


def po_box_at(tokens: Sequence[str]) -> tuple[str, int]:
    """The number of a PO box said at the start of ``tokens`` ("P.O. Box 123", "post office
    box one twenty three") and where it ends; ("", 0) if no PO box is said."""
    for form in _PO_BOX:
        if tuple(tokens[: len(form)]) == form:
            box, used = house_number(tokens[len(form) :])
            return (box, len(form) + used) if box else ("", 0)
    return "", 0


# -- the street ----------------------------------------------------------------------------


def street_at(tokens: Sequence[str], at: int) -> tuple[str, int]:
    """The street from ``at`` in its postal form ("N Main St", "42nd St", "State Route 9"),
    and where it ends."""
    highway, end = _highway_at(tokens, at)
    if highway:
        return highway, end
    words_: list[str] = []
    index = at
    direction, used = form_at(tokens, index, DIRECTIONS)
    if (
        direction
        and index + used < len(tokens)
        and not _ends_street(tokens, index + used)
        and not _is_last_suffix(tokens, index + used)  # "North Street" is named North
    ):
        words_.append(direction)
        index += used
    name_start = len(words_)
    while index < len(tokens):
        if _ends_street(tokens, index) and (len(words_) > name_start or tokens[index] == COMMA):
            break  # a designator first is the street's name: "2 Pier Ln", "5 Lot Rd"
        word, used = _street_word(tokens, index)
        if not used:
            break
        suffix = SUFFIXES.get(tokens[index])
        if suffix and len(words_) > name_start:
            return _suffixed(tokens, index, words_)
        words_.append(word)
        index += used
    return (" ".join(words_), index) if len(words_) > name_start else ("", at)


def _highway_at(tokens: Sequence[str], at: int) -> tuple[str, int]:
    """A highway-style street from ``at``: the kind of route in full ("State Route", "County
    Road"), its number ("9", "101", "one oh one", "66a"), and a direction where the street
    ends after it ("US Highway 101 N"); ("", at) if none is said. "Highway" with no number
    after it is a suffix ("Pacific Coast Highway") or a name, read as any street."""
    for length in range(min(_LONGEST_HIGHWAY, len(tokens) - at), 0, -1):
        kind = HIGHWAYS.get(" ".join(tokens[at : at + length]))
        if kind is None:
            continue
        number, index = _route_number(tokens, at + length)
        if not number:
            return "", at
        words_ = [kind, number]
        direction, used = form_at(tokens, index, DIRECTIONS)
        if direction and (index + used == len(tokens) or _ends_street(tokens, index + used)):
            words_.append(direction)
            index += used
        return " ".join(words_), index
    return "", at


def _route_number(tokens: Sequence[str], index: int) -> tuple[str, int]:
    """A route's number at ``index``, written ("101", "9a") or said digit by digit or in
    groups ("one oh one", "sixty six"), and where it ends; ("", index) if none."""
    if index < len(tokens) and _ROUTE_NUMBER.match(tokens[index]):
        return tokens[index].upper(), index + 1
    digits, end = digit_run(list(tokens[: index + _ROUTE_NUMBER_WORDS]), index)
    if not digits or digits[0] == "0":
        return "", index
    return digits, end


def _suffixed(tokens: Sequence[str], index: int, words_: list[str]) -> tuple[str, int]:
    """The street whose suffix starts at ``index``: the last of a run of suffix words ("lake
    shore drive"), then a direction if the street ends after it."""
    while index + 1 < len(tokens) and tokens[index + 1] in SUFFIXES:
        words_.append(tokens[index].capitalize())
        index += 1
    words_.append(SUFFIXES[tokens[index]].capitalize())
    index += 1
    direction, used = form_at(tokens, index, DIRECTIONS)
    if direction and (index + used == len(tokens) or _ends_street(tokens, index + used)):
        words_.append(direction)
        index += used
    return " ".join(words_), index


def _is_last_suffix(tokens: Sequence[str], index: int) -> bool:
    """Whether a suffix is said at ``index`` and no other after it ("street"; not "park" in
    "park avenue", a name before its suffix)."""
    following = index + 1
    return tokens[index] in SUFFIXES and (
        following == len(tokens) or tokens[following] not in SUFFIXES
    )


def _ends_street(tokens: Sequence[str], index: int) -> bool:
    return tokens[index] == COMMA or is_designator(tokens[index])


def is_designator(token: str) -> bool:
    return token in UNITS or (token.startswith("#") and token != "#" and token[1:].isalnum())


def _street_word(tokens: Sequence[str], index: int) -> tuple[str, int]:
    """One word of a street's name and how many tokens it took: an ordinal as figures
    ("forty second" -> "42nd"), else the word capitalised; ("", 0) for a number."""
    for length in (2, 1):
        value = ordinal(tokens[index : index + length])
        if value is not None and index + length <= len(tokens):
            return f"{value}{_ordinal_suffix(value)}", length
    if _has_digits(tokens[index : index + 1]):
        return "", 0  # a number is no street's name, and names no street here
    return tokens[index].capitalize(), 1


def _ordinal_suffix(value: int) -> str:
    if 11 <= value % 100 <= 13:
        return "th"
    return _ORDINAL_SUFFIX.get(value % 10, "th")


def form_at(tokens: Sequence[str], index: int, table: dict[str, str]) -> tuple[str, int]:
    """The abbreviation of the longest form of ``table`` said at ``index``, and its length."""
    for length in range(_LONGEST_FORM, 0, -1):
        form = " ".join(tokens[index : index + length])
        if index + length <= len(tokens) and form in table:
            return table[form], length
    return "", 0


# -- the unit ------------------------------------------------------------------------------


def unit_at(tokens: Sequence[str], at: int) -> tuple[str, int]:
    """The unit at ``at`` ("Apt 4B", "# 12") and where it ends; ("", at) if none is said."""
    index = designator_at(tokens, at)
    if index is None:
        return "", at
    if tokens[index].startswith("#") and tokens[index] != "#":
        designator, index = "#", index  # "#4b": the designator and the unit in one token
        tokens = [*tokens[:index], tokens[index][1:], *tokens[index + 1 :]]
    else:
        designator, index = UNITS[tokens[index]].capitalize(), index + 1
    if index < len(tokens) and tokens[index] in ("number", "#"):
        index += 1  # "apartment number four"
    identifier, index = _unit_identifier(tokens, index)
    return (f"{designator} {identifier}", index) if identifier else ("", at)


def designator_at(tokens: Sequence[str], at: int) -> int | None:
    """Where a unit's designator is said at ``at`` (after a comma, maybe); None if none is."""
    index = at + (at < len(tokens) and tokens[at] == COMMA)
    return index if index < len(tokens) and is_designator(tokens[index]) else None


def _unit_identifier(tokens: Sequence[str], index: int) -> tuple[str, int]:
    """ "4b", "four b", "b", "twelve" -> "4B", "4B", "B", "12"; ("", index) if none."""
    if index >= len(tokens):
        return "", index
    written = _WRITTEN_UNIT.match(tokens[index])
    if written and not (len(tokens[index]) == 1 and tokens[index].isalpha()):
        identifier, end = written["unit"].upper(), index + 1
    else:
        identifier, end = digit_run(list(tokens[: index + 4]), index)
    if identifier[-1:].isalpha():
        return identifier, end
    letter = letter_name(tokens[end]) if end < len(tokens) else None
    if letter:  # "4 b", "four b", "c": no city starts with a word of one letter
        return (identifier + letter).upper(), end + 1
    return identifier, end


# -- city, state and ZIP -------------------------------------------------------------------


def place_of(tokens: Sequence[str], default_state: str | None) -> tuple[str, str, str]:
    """City, state and ZIP in what follows the street and unit, read from the end: the state
    is the last one said before the ZIP (or the end), the city the words before it. With no
    state said, the ZIP's state (when its prefix is one state's) wins over ``default_state``."""
    tokens = [token for token in tokens if token != COMMA]
    zip_start = _zip_start(tokens)
    zip_code = zip_of(tokens[zip_start:])
    head = tokens[:zip_start]
    while not zip_code and head and _has_digits(head[-1:]):
        head = head[:-1]  # a ZIP misheard ("0210"): the state and city are still before it
    state, state_start = _state_at_end(head)
    return (
        city_of(head[:state_start]),
        state or _state_of(zip_code) or default_state or "",
        zip_code,
    )


def _state_of(zip_code: str) -> str:
    """The one state whose ZIPs start as ``zip_code`` does; "" if none or two do."""
    states = zip_states(zip_code)
    return next(iter(states)) if len(states) == 1 else ""


def _state_at_end(tokens: Sequence[str]) -> tuple[str, int]:
    """The state said last in ``tokens`` (its longest name: "west virginia", not "virginia")
    and where it starts, after one word of city at least; ("", len(tokens)) if none."""
    for start in range(max(1, len(tokens) - _LONGEST_FORM), len(tokens)):
        state, used = form_at(tokens, start, STATES)
        if state and start + used == len(tokens):
            return state, start
    return "", len(tokens)


def _has_digits(tokens: Sequence[str]) -> bool:
    return any(is_number_word(token) or any(char.isdigit() for char in token) for token in tokens)


def _zip_start(tokens: Sequence[str]) -> int:
    """Where a ZIP said at the end of ``tokens`` starts; ``len(tokens)`` if none is."""
    for start in range(max(0, len(tokens) - 12), len(tokens)):
        if zip_of(tokens[start:]):
            return start
    return len(tokens)


def zip_of(tokens: Sequence[str]) -> str:
    """All of ``tokens`` as a ZIP ("94107", "94107-1234", "nine four one oh seven"), or ""."""
    if len(tokens) == 1 and _WRITTEN_ZIP.match(tokens[0]):
        return tokens[0]
    said = [token for token in tokens if token not in ("dash", "-", "hyphen")]
    if not said or len(said) > 12:
        return ""
    digits, used = digit_run(list(said))
    if used != len(said) or len(digits) not in (5, 9):
        return ""
    return digits if len(digits) == 5 else f"{digits[:5]}-{digits[5:]}"


def city_of(tokens: Sequence[str]) -> str:
    """The city's name: its words capitalised, the hedges and "in" before it cut ("in
    brooklyn", "i think it's san francisco"); "" if a number is said among them."""
    tokens = _without_lead_in(tokens)
    if not tokens or _has_digits(tokens):
        return ""
    return " ".join(token.capitalize() for token in tokens)


def _without_lead_in(tokens: Sequence[str]) -> Sequence[str]:
    """``tokens`` without the hedges and "in" said before a city, however many."""
    start = 0
    while start < len(tokens):
        lead_in = next(
            (
                len(lead)
                for lead in _CITY_LEAD_INS
                if tuple(tokens[start : start + len(lead)]) == lead
            ),
            0,
        )
        if not lead_in:
            break
        start += lead_in
    return tokens[start:]
