"""``capture_address``: a US postal address, said or written, in parts and as one postal line.

"one twenty three main street apartment four b san francisco california nine four one oh
seven" and "123 Main St., Apt 4B, San Francisco, CA 94107" are both ``123 Main St Apt 4B, San
Francisco, CA 94107`` in ``value``, with ``number``, ``street``, ``unit``, ``city``, ``state``
(two letters) and ``zip`` (five digits, or ZIP+4 as ``94107-1234``) in ``data``.

An address is read left to right, as it is said:

- the house number, said the way people say it: "one twenty three" (123), "twenty one oh
  five" (2105), "one two three", "fifteen hundred", or written "123";
- the street: an optional direction ("north"), its name (a numbered street said as an ordinal:
  "forty second" is 42nd), and its suffix ("street", "st", "avenue"), then an optional
  direction; without a suffix the street ends at a comma or a unit;
- an optional unit: a designator ("apartment", "apt", "suite", "unit", "#") and its number or
  letter ("four b", "4B", "c");
- the city, the state (its name or its two letters) and the ZIP code (five or nine digits,
  said one at a time: "nine four one oh seven"), read from the end.

Abbreviations are USPS Publication 28's (``voicecore.primitives._usps``). A reply to the
readback sets one part ("the zip is 94107", "it's apartment 5 not 4b", "the city is Oakland")
or says the whole address again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from pydantic import Field

from voicecore._json import JsonValue
from voicecore.capture import CaptureParams, CapturePrimitive, HeldValue, Reading, Reply
from voicecore.primitives._usps import (
    DIRECTION_NAMES,
    DIRECTIONS,
    STATE_NAMES,
    STATES,
    SUFFIX_NAMES,
    SUFFIXES,
    UNIT_NAMES,
    UNITS,
)
from voicecore.spoken.digits import digit_run
from voicecore.spoken.letters import letter_name
from voicecore.spoken.number_words import ORDINALS, SMALL_SCALES, TENS, ZERO_WORDS
from voicecore.spoken.numbers import cardinal, is_number_word, ordinal
from voicecore.spoken.tokens import after_correction, drop_fillers, strip_carrier, words

__all__ = ["Address", "CaptureAddress", "CaptureAddressParams"]

_COMMA = "|"  # a comma the caller's ASR wrote: it ends a street without a suffix
_LIVE_AT = re.compile(r"^(?:(?:i|we) live at |at )")
_PART_EDIT = re.compile(
    r"^(?:the |my )?(?P<part>zip(?: code)?|postal code|city|town|state|street"
    r"(?: name)?|house number|street number|number)(?: (?:is|was|should be|needs to be|to))? "
    r"(?P<rest>.+)$"
)
_PARTS = {
    "zip": "zip",
    "zip code": "zip",
    "postal code": "zip",
    "city": "city",
    "town": "city",
    "state": "state",
    "street": "street",
    "street name": "street",
    "house number": "number",
    "street number": "number",
    "number": "number",
}
_WRITTEN_NUMBER = re.compile(r"^[1-9][0-9]{0,5}[a-z]?$")
_MAX_NUMBER_DIGITS = 6
_WRITTEN_UNIT = re.compile(
    r"^#?(?P<unit>[0-9]{1,5}[a-z]?|[a-z][0-9]{0,4}|[0-9]{1,3}-[0-9a-z]{1,3})$"
)
_WRITTEN_ZIP = re.compile(r"^(?P<five>[0-9]{5})(?:-(?P<four>[0-9]{4}))?$")
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd"}
_LONGEST_FORM = max(len(form.split()) for form in [*STATES, *DIRECTIONS])
_POLITE = frozenset({"please", "thanks", "thank", "you"})
_MAX_TOKENS = 60  # no address is longer; bounds the work on a long hypothesis
_CERTAIN = 0.9


class CaptureAddressParams(CaptureParams):
    """Params of ``capture_address``: the capture params, whether a unit must be said, and the
    state to assume when none is said (two letters, e.g. "CA")."""

    require_unit: bool = False
    default_state: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class Address:
    """An address in parts, each in its postal form ("123", "N Main St", "Apt 4B", ...)."""

    number: str
    street: str
    unit: str
    city: str
    state: str
    zip: str

    def postal(self) -> str:
        """The one-line postal form: "123 Main St Apt 4B, San Francisco, CA 94107"."""
        first = " ".join(filter(None, (self.number, self.street, self.unit)))
        return f"{first}, {self.city}, {self.state} {self.zip}"

    def spoken(self) -> str:
        """How to say it back: "123 Main Street, Apartment 4B, San Francisco, California,
        9 4 1 0 7" (abbreviations in full, the ZIP digit by digit)."""
        street = " ".join(_in_full(word) for word in self.street.split())
        unit = self.unit.split()
        said_unit = f"{UNIT_NAMES.get(unit[0].upper(), 'Number')} {unit[1]}" if unit else ""
        zip_code = ", ".join(" ".join(group) for group in self.zip.split("-"))
        parts = [f"{self.number} {street}", said_unit, self.city, STATE_NAMES[self.state], zip_code]
        return ", ".join(filter(None, parts))

    def parts(self) -> dict[str, JsonValue]:
        """The parts as ``data`` carries them."""
        return {
            "number": self.number,
            "street": self.street,
            "unit": self.unit,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
        }


def _in_full(word: str) -> str:
    """A street word said back: "St" -> "Street", "N" -> "North"; a name stays."""
    upper = word.upper()
    return SUFFIX_NAMES.get(upper) or DIRECTION_NAMES.get(upper) or word


class CaptureAddress(CapturePrimitive[CaptureAddressParams]):
    """Capture a US postal address said or written ("one twenty three main street ...").

    Without a value the reason says what is missing: ``no_value_heard``, ``no_house_number``,
    ``no_street``, ``no_unit`` (with ``require_unit``), ``no_city``, ``no_state`` or
    ``no_zip``; the parts heard so far are in ``data`` beside it.
    """

    name: ClassVar[str] = "capture_address"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Capture a US postal address in parts (number, street, unit, city, state, ZIP) and "
        "as one postal line."
    )
    noun: ClassVar[str] = "address"
    params_model = CaptureAddressParams

    def read(self, text: str, params: CaptureAddressParams, partial: str | None) -> Reading:
        """Read the address in ``text``; ``partial`` is unused (an address is said whole)."""
        tokens = _address_tokens(text)
        if not tokens:
            return Reading(value=None, reason="no_value_heard", certainty=0.0)
        return _reading(_parse(tokens, params))

    def correct(
        self, held: HeldValue, reply: Reply, params: CaptureAddressParams
    ) -> Reading | None:
        """Set one part of the held address: "the zip is 94107", "it's apartment 5 not 4b"."""
        said = _without_thanks(drop_fillers(words(reply.edit_text))[:_MAX_TOKENS])
        tokens = after_correction([token for token in said if token != _COMMA])
        edited = _edited(_held_address(held), tokens)
        if edited is None:
            return None
        return _reading(_Parsed(edited, _first_missing(edited, params)))


def _address_tokens(text: str) -> list[str]:
    """The words of ``text`` with its commas kept as tokens, the talk before the address cut."""
    tokens = _without_thanks(drop_fillers(words(text.replace(",", f" {_COMMA} ")))[:_MAX_TOKENS])
    tokens = [
        token
        for at, token in enumerate(tokens)
        if token != _COMMA or tokens[at - 1 : at] != [_COMMA]
    ]
    tokens = strip_carrier(after_correction(tokens))
    while tokens and tokens[0] == _COMMA:
        tokens = strip_carrier(tokens[1:])
    said = " ".join(tokens)
    match = _LIVE_AT.match(said)
    return said[match.end() :].split() if match else tokens


def _without_thanks(tokens: list[str]) -> list[str]:
    """``tokens`` without the thanks and commas at their end ("..., 94107, thank you")."""
    end = len(tokens)
    while end and (tokens[end - 1] in _POLITE or tokens[end - 1] == _COMMA):
        end -= 1
    return tokens[:end]


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What one hypothesis said of an address: each part found (empty if not), and the first
    missing part's reason."""

    address: Address
    missing: str | None


def _parse(tokens: list[str], params: CaptureAddressParams) -> _Parsed:
    """The parts of an address said in ``tokens``, left to right."""
    empty = Address("", "", "", "", "", "")
    number, at = _house_number(tokens)
    if not number:
        return _Parsed(empty, "no_house_number")
    at += at < len(tokens) and tokens[at] == _COMMA  # "123, Main Street"
    street, at = _street(tokens, at)
    if not street:
        return _Parsed(replace(empty, number=number), "no_street")
    unit, at = _unit(tokens, at)
    if not unit and _designator_at(tokens, at) is not None:  # "apartment" and no number
        return _Parsed(replace(empty, number=number, street=street), "no_unit")
    city, state, zip_code = _place(tokens[at:], params.default_state)
    address = Address(number, street, unit, city, state, zip_code)
    return _Parsed(address, _first_missing(address, params))


def _first_missing(address: Address, params: CaptureAddressParams) -> str | None:
    for part, reason in (("city", "no_city"), ("state", "no_state"), ("zip", "no_zip")):
        if not getattr(address, part):
            return reason
    return "no_unit" if params.require_unit and not address.unit else None


def _reading(parsed: _Parsed) -> Reading:
    """The reading of what was parsed: the address, or the parts heard and what is missing."""
    parts = {name: value for name, value in parsed.address.parts().items() if value}
    if parsed.missing is not None:
        return Reading(value=None, reason=parsed.missing, parts=parts, certainty=0.0)
    address = parsed.address
    return Reading(address.postal(), address.spoken(), address.parts(), _CERTAIN)


def _held_address(held: HeldValue) -> Address:
    """The held address from its parts (every one a string: ``Address.parts`` wrote them)."""
    return Address(*(str(held.parts.get(name, "")) for name in Address.__slots__))


# -- the house number ----------------------------------------------------------------------


def _house_number(tokens: Sequence[str]) -> tuple[str, int]:
    """The house number at the start of ``tokens`` and where it ends; ("", 0) if none."""
    if tokens and _WRITTEN_NUMBER.match(tokens[0]):
        return tokens[0].upper(), 1
    end = 0
    while end < len(tokens) and _is_number_word(tokens[end]):
        end += 1
    # "one two three forty second street": the tens belong to the street's name; after one
    # word they are the number's ("three fifty fifth avenue" is 350 5th Ave)
    if end > 2 and tokens[end - 1] in TENS and _ordinal(tokens[end - 1 : end + 1]) is not None:
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
    return (token in ZERO_WORDS or is_number_word(token)) and _ordinal([token]) is None


def _ordinal(tokens: Sequence[str]) -> int | None:
    """``ordinal``, and the ordinal words it misses ("sixtieth": text2num does not know it)."""
    value = ordinal(tokens)
    return ORDINALS.get(tokens[0]) if value is None and len(tokens) == 1 else value


# -- the street ----------------------------------------------------------------------------


def _street(tokens: Sequence[str], at: int) -> tuple[str, int]:
    """The street from ``at`` in its postal form ("N Main St", "42nd St"), and where it ends."""
    words_: list[str] = []
    index = at
    direction, used = _form_at(tokens, index, DIRECTIONS)
    if direction and index + used < len(tokens) and not _ends_street(tokens, index + used):
        words_.append(direction)
        index += used
    name_start = len(words_)
    while index < len(tokens):
        if _ends_street(tokens, index) and (len(words_) > name_start or tokens[index] == _COMMA):
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


def _suffixed(tokens: Sequence[str], index: int, words_: list[str]) -> tuple[str, int]:
    """The street whose suffix starts at ``index``: the last of a run of suffix words ("lake
    shore drive"), then a direction if the street ends after it."""
    while index + 1 < len(tokens) and tokens[index + 1] in SUFFIXES:
        words_.append(tokens[index].capitalize())
        index += 1
    words_.append(SUFFIXES[tokens[index]].capitalize())
    index += 1
    direction, used = _form_at(tokens, index, DIRECTIONS)
    if direction and (index + used == len(tokens) or _ends_street(tokens, index + used)):
        words_.append(direction)
        index += used
    return " ".join(words_), index


def _ends_street(tokens: Sequence[str], index: int) -> bool:
    return tokens[index] == _COMMA or _is_designator(tokens[index])


def _is_designator(token: str) -> bool:
    return token in UNITS or (token.startswith("#") and token != "#" and token[1:].isalnum())


def _street_word(tokens: Sequence[str], index: int) -> tuple[str, int]:
    """One word of a street's name and how many tokens it took: an ordinal as figures
    ("forty second" -> "42nd"), else the word capitalised; ("", 0) for a number."""
    for length in (2, 1):
        value = _ordinal(tokens[index : index + length])
        if value is not None and index + length <= len(tokens):
            return f"{value}{_ordinal_suffix(value)}", length
    if _has_digits(tokens[index : index + 1]):
        return "", 0  # a number is no street's name, and names no street here
    return tokens[index].capitalize(), 1


def _ordinal_suffix(value: int) -> str:
    if 11 <= value % 100 <= 13:
        return "th"
    return _ORDINAL_SUFFIX.get(value % 10, "th")


def _form_at(tokens: Sequence[str], index: int, table: dict[str, str]) -> tuple[str, int]:
    """The abbreviation of the longest form of ``table`` said at ``index``, and its length."""
    for length in range(_LONGEST_FORM, 0, -1):
        form = " ".join(tokens[index : index + length])
        if index + length <= len(tokens) and form in table:
            return table[form], length
    return "", 0


# -- the unit ------------------------------------------------------------------------------


def _unit(tokens: Sequence[str], at: int) -> tuple[str, int]:
    """The unit at ``at`` ("Apt 4B", "# 12") and where it ends; ("", at) if none is said."""
    index = _designator_at(tokens, at)
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


def _designator_at(tokens: Sequence[str], at: int) -> int | None:
    """Where a unit's designator is said at ``at`` (after a comma, maybe); None if none is."""
    index = at + (at < len(tokens) and tokens[at] == _COMMA)
    return index if index < len(tokens) and _is_designator(tokens[index]) else None


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


def _place(tokens: Sequence[str], default_state: str | None) -> tuple[str, str, str]:
    """City, state and ZIP in what follows the street and unit, read from the end: the state
    is the last one said before the ZIP (or the end), the city the words before it."""
    tokens = [token for token in tokens if token != _COMMA]
    zip_start = _zip_start(tokens)
    zip_code = _zip(tokens[zip_start:])
    head = tokens[:zip_start]
    while not zip_code and head and _has_digits(head[-1:]):
        head = head[:-1]  # a ZIP misheard ("0210"): the state and city are still before it
    state, state_start = _state_at_end(head)
    return _city(head[:state_start]), state or default_state or "", zip_code


def _state_at_end(tokens: Sequence[str]) -> tuple[str, int]:
    """The state said last in ``tokens`` (its longest name: "west virginia", not "virginia")
    and where it starts, after one word of city at least; ("", len(tokens)) if none."""
    for start in range(max(1, len(tokens) - _LONGEST_FORM), len(tokens)):
        state, used = _form_at(tokens, start, STATES)
        if state and start + used == len(tokens):
            return state, start
    return "", len(tokens)


def _has_digits(tokens: Sequence[str]) -> bool:
    return any(is_number_word(token) or any(char.isdigit() for char in token) for token in tokens)


def _zip_start(tokens: Sequence[str]) -> int:
    """Where a ZIP said at the end of ``tokens`` starts; ``len(tokens)`` if none is."""
    for start in range(max(0, len(tokens) - 12), len(tokens)):
        if _zip(tokens[start:]):
            return start
    return len(tokens)


def _zip(tokens: Sequence[str]) -> str:
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


def _city(tokens: Sequence[str]) -> str:
    """The city's name: its words capitalised; "" if a number is said among them."""
    if not tokens or _has_digits(tokens):
        return ""
    return " ".join(token.capitalize() for token in tokens)


# -- corrections ---------------------------------------------------------------------------


def _edited(address: Address, tokens: list[str]) -> Address | None:
    """``address`` with the part ``tokens`` name set; None if they name none (a part named
    with a value that is no such part is no edit either: "the city is 94107")."""
    named = _PART_EDIT.search(" ".join(tokens))
    if named is not None:
        return _part_edit(address, _PARTS[named["part"]], named["rest"].split())
    said = strip_carrier(tokens)
    zip_code = _zip(said)  # a ZIP said alone: "94110", "it's nine four one one oh"
    return replace(address, zip=zip_code) if zip_code else _unit_edit(address, said)


def _part_edit(address: Address, part: str, rest: list[str]) -> Address | None:
    """ "the zip is 94107", "the city is oakland", "the street is main avenue"."""
    if part == "zip":
        value, used = _zip(rest), len(rest)
    elif part == "city":
        value, used = _city(rest), len(rest)
    elif part == "state":
        value, used = _form_at(rest, 0, STATES)
    elif part == "street":
        value, used = _street(rest, 0)
    else:
        value, used = _house_number(rest)
    if not value or used != len(rest):
        return None
    return replace(address, **{part: value})


def _unit_edit(address: Address, tokens: list[str]) -> Address | None:
    """ "it's apartment 5 not 4b", "not 4b, apartment 5", "suite two hundred": the unit said
    outside what "not" negates."""
    for start, token in enumerate(tokens):
        before = tokens[:start]
        if _is_designator(token) and (not before or (before[0] == "not" and start <= 3)):
            unit, _ = _unit(tokens, start)
            return replace(address, unit=unit) if unit else None
    return None
