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

Heard alike, as ASRs write it: "sweet" before a unit's number is "suite", a state's one-word
name split in two before the ZIP ("Denver Color Ado 80202") is the state; the address is then
read less certain.

Abbreviations are USPS Publication 28's (``voicecore.primitives._usps``). A reply to the
readback sets one part ("the zip is 94107", "it's apartment 5 not 4b", "the city is Oakland")
or says the whole address again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import ClassVar

from pydantic import Field

from voicecore._json import JsonValue
from voicecore.capture import Answer, CaptureParams, CapturePrimitive, HeldValue, Reading, Reply
from voicecore.capture._reading import read_past_opening_oh
from voicecore.primitives._address_parts import (
    COMMA,
    city_of,
    designator_at,
    form_at,
    house_number,
    is_designator,
    place_of,
    po_box_at,
    street_at,
    unit_at,
    zip_of,
)
from voicecore.primitives._usps import (
    DIRECTION_NAMES,
    STATE_NAMES,
    STATES,
    SUFFIX_NAMES,
    UNIT_NAMES,
    zip_states,
)
from voicecore.spoken.numbers import is_number_word
from voicecore.spoken.tokens import (
    after_correction,
    drop_fillers,
    strip_carrier,
    words,
)

__all__ = ["Address", "CaptureAddress", "CaptureAddressParams"]

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
# A judgement of a part, not a value of it ("the street is correct"): no edit, so the reply
# goes to the yes/no/unclear path.
_JUDGEMENTS = frozenset(
    {"right", "correct", "wrong", "incorrect", "fine", "ok", "okay", "good", "the same", "that"}
)
_POLITE = frozenset({"please", "thanks", "thank", "you"})
_MAX_TOKENS = 60  # no address is longer; bounds the work on a long hypothesis
_CERTAIN = 0.9
# Words that sound like a unit designator ("sweet 200"); read so only before a unit's number,
# and the address is then less certain.
_DESIGNATOR_SOUND_ALIKES = {"sweet": "suite"}
_SOUND_ALIKE_CERTAINTY = 0.8
_STATE_CODE = 2  # letters of a state's code


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
    po_box: str = ""  # a PO box's number: its street is "PO Box 123", no house number

    def postal(self) -> str:
        """The one-line postal form: "123 Main St Apt 4B, San Francisco, CA 94107"."""
        first = " ".join(filter(None, (self.number, self.street, self.unit)))
        return f"{first}, {self.city}, {self.state} {self.zip}"

    def spoken(self) -> str:
        """How to say it back: "123 Main Street, Apartment 4B, San Francisco, California,
        9 4 1 0 7" (abbreviations in full, the ZIP digit by digit)."""
        street = " ".join(_in_full(word) for word in self.street.split())
        if self.po_box:
            street = f"P O Box {self.po_box}"
        unit = self.unit.split()
        said_unit = f"{UNIT_NAMES.get(unit[0].upper(), 'Number')} {unit[1]}" if unit else ""
        zip_code = ", ".join(" ".join(group) for group in self.zip.split("-"))
        first = " ".join(filter(None, (self.number, street)))
        parts = [first, said_unit, self.city, STATE_NAMES[self.state], zip_code]
        return ", ".join(filter(None, parts))

    def parts(self) -> dict[str, JsonValue]:
        """The parts as ``data`` carries them (``po_box`` only for a PO box)."""
        parts: dict[str, JsonValue] = {
            "number": self.number,
            "street": self.street,
            "unit": self.unit,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
        }
        if self.po_box:
            parts["po_box"] = self.po_box
        return parts


def _in_full(word: str) -> str:
    """A street word said back: "St" -> "Street", "N" -> "North"; a name stays."""
    upper = word.upper()
    return SUFFIX_NAMES.get(upper) or DIRECTION_NAMES.get(upper) or word


class CaptureAddress(CapturePrimitive[CaptureAddressParams]):
    """Capture a US postal address said or written ("one twenty three main street ...").

    Without a value the reason says what is missing: ``no_value_heard``, ``no_house_number``,
    ``no_street``, ``no_unit`` (with ``require_unit``), ``no_city``, ``no_state`` or
    ``no_zip``; the parts heard so far are in ``data`` beside it. A ZIP whose first three
    digits are no post office's of the state said is ``zip_state_mismatch`` (all parts in
    ``data``: ask which is wrong); with no state said, the ZIP's state wins over
    ``default_state``.
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
        """Read the address in ``text``; ``partial`` is unused (an address is said whole).
        An opening "oh" is an interjection when only the address without it is whole ("oh i
        live at ...": "oh i" is no house number)."""
        return read_past_opening_oh(text, lambda said: _address_said(said, params))

    def correct(
        self, held: HeldValue, reply: Reply, params: CaptureAddressParams
    ) -> Reading | None:
        """Set one part of the held address: "the zip is 94107", "it's apartment 5 not 4b"."""
        said = _without_thanks(drop_fillers(words(reply.edit_text))[:_MAX_TOKENS])
        tokens = after_correction([token for token in said if token != COMMA])
        if reply.answer is Answer.YES and tokens[:1] == ["number"]:
            return None  # "yes, that's it, number 4b": a yes, not a new house number
        edited = _edited(_held_address(held), tokens)
        if edited is None:
            return None
        return _reading(_Parsed(edited, _first_missing(edited, params)))


def _address_said(text: str, params: CaptureAddressParams) -> Reading:
    said = _address_tokens(text)
    if not said:
        return Reading(value=None, reason="no_value_heard", certainty=0.0)
    tokens = _state_names_rejoined(_designators_heard_alike(said))
    reading = _reading(_parse(tokens, params))
    if tokens != said and reading.value is not None:
        return replace(reading, certainty=min(reading.certainty, _SOUND_ALIKE_CERTAINTY))
    return reading


def _designators_heard_alike(tokens: list[str]) -> list[str]:
    """A unit designator an ASR wrote as the word that sounds the same ("sweet 200") read as
    the designator, where a unit's number or letter follows it ("sweet 200", "sweet four b")."""
    return [
        _DESIGNATOR_SOUND_ALIKES.get(token, token)
        if index + 1 < len(tokens) and _starts_a_number(tokens[index + 1])
        else token
        for index, token in enumerate(tokens)
    ]


def _state_names_rejoined(tokens: list[str]) -> list[str]:
    """A state's one-word name that an ASR split in two ("Denver Color Ado 80202", "Tennes
    See") joined again, where the state is said: before the ZIP, a comma or the end. Only two
    words that are no state each and join into a state's whole name (not a code: "c o")."""
    result: list[str] = []
    index = 0
    while index < len(tokens):
        pair = tokens[index : index + 2]
        joined = "".join(pair)
        after = tokens[index + 2] if index + 2 < len(tokens) else COMMA
        if (
            len(pair) == 2
            and len(joined) > _STATE_CODE
            and joined in STATES
            and not any(word in STATES for word in pair)
            and (after == COMMA or _starts_a_number(after))
        ):
            result.append(joined)
            index += 2
        else:
            result.append(tokens[index])
            index += 1
    return result


def _starts_a_number(token: str) -> bool:
    return is_number_word(token) or token[:1].isdigit()


def _address_tokens(text: str) -> list[str]:
    """The words of ``text`` with its commas kept as tokens, the talk before the address cut."""
    tokens = _without_thanks(drop_fillers(words(text.replace(",", f" {COMMA} ")))[:_MAX_TOKENS])
    tokens = [
        token for at, token in enumerate(tokens) if token != COMMA or tokens[at - 1 : at] != [COMMA]
    ]
    tokens = strip_carrier(after_correction(tokens))
    while tokens and tokens[0] == COMMA:
        tokens = strip_carrier(tokens[1:])
    said = " ".join(tokens)
    match = _LIVE_AT.match(said)
    return said[match.end() :].split() if match else tokens


def _without_thanks(tokens: list[str]) -> list[str]:
    """``tokens`` without the thanks and commas at their end ("..., 94107, thank you")."""
    end = len(tokens)
    while end and (tokens[end - 1] in _POLITE or tokens[end - 1] == COMMA):
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
    box, at = po_box_at(tokens)
    if box:  # "P.O. Box 123": the box is the street, and no house number or unit is said
        city, state, zip_code = place_of(tokens[at:], params.default_state)
        address = Address("", f"PO Box {box}", "", city, state, zip_code, po_box=box)
        return _Parsed(address, _first_missing(address, params))
    number, at = house_number(tokens)
    if not number:
        return _Parsed(empty, "no_house_number")
    at += at < len(tokens) and tokens[at] == COMMA  # "123, Main Street"
    street, at = street_at(tokens, at)
    if not street:
        return _Parsed(replace(empty, number=number), "no_street")
    unit, at = unit_at(tokens, at)
    if not unit and designator_at(tokens, at) is not None:  # "apartment" and no number
        return _Parsed(replace(empty, number=number, street=street), "no_unit")
    city, state, zip_code = place_of(tokens[at:], params.default_state)
    address = Address(number, street, unit, city, state, zip_code)
    return _Parsed(address, _first_missing(address, params))


def _first_missing(address: Address, params: CaptureAddressParams) -> str | None:
    """The reason there is no value: the first part missing, a ZIP of another state than the
    one said (which of the two is wrong is the caller's to say), or no unit when one is needed."""
    for part, reason in (("city", "no_city"), ("state", "no_state"), ("zip", "no_zip")):
        if not getattr(address, part):
            return reason
    zip_is_in = zip_states(address.zip)
    if zip_is_in and address.state not in zip_is_in:
        return "zip_state_mismatch"
    return "no_unit" if params.require_unit and not (address.unit or address.po_box) else None


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


# -- corrections ---------------------------------------------------------------------------


def _edited(address: Address, tokens: list[str]) -> Address | None:
    """``address`` with the part ``tokens`` name set; None if they name none (a part named
    with a value that is no such part is no edit either: "the city is 94107")."""
    named = _PART_EDIT.search(" ".join(tokens))
    if named is not None:
        return _part_edit(address, _PARTS[named["part"]], named["rest"].split())
    said = strip_carrier(tokens)
    zip_code = zip_of(said)  # a ZIP said alone: "94110", "it's nine four one one oh"
    return replace(address, zip=zip_code) if zip_code else _unit_edit(address, said)


def _part_edit(address: Address, part: str, rest: list[str]) -> Address | None:
    """ "the zip is 94107", "the city is oakland", "the street is main avenue"; the value is
    what is said before a "not" ("san jose not san francisco"). None for a judgement ("the
    street is correct") or a bare rejection ("the city is not san francisco": which city is
    unsaid)."""
    if "not" in rest:
        rest = rest[: rest.index("not")]
    if not rest or " ".join(rest) in _JUDGEMENTS:
        return None
    if part == "zip":
        value, used = zip_of(rest), len(rest)
    elif part == "city":
        value, used = city_of(rest), len(rest)
    elif part == "state":
        value, used = form_at(rest, 0, STATES)
    elif part == "street":
        value, used = street_at(rest, 0)
    else:
        value, used = house_number(rest)
    if not value or used != len(rest):
        return None
    return replace(address, **{part: value})


def _unit_edit(address: Address, tokens: list[str]) -> Address | None:
    """ "it's apartment 5 not 4b", "not 4b, apartment 5", "suite two hundred": the unit said
    outside what "not" negates."""
    for start, token in enumerate(tokens):
        before = tokens[:start]
        if is_designator(token) and (not before or (before[0] == "not" and start <= 3)):
            unit, _ = unit_at(tokens, start)
            return replace(address, unit=unit) if unit else None
    return None
