"""``capture_phone``: a phone number, spoken ("four one five, five five five ...") or written."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType
from pydantic import field_validator

from voicecore.capture import CapturePrimitive, HeldValue, KeypadCaptureParams, Reading, Reply
from voicecore.spoken.digit_edits import edit_digits
from voicecore.spoken.digits import digit_run, is_digit_word, mergeable_tens, say_digits
from voicecore.spoken.formatted import DIGIT_HOMOPHONES, digit_homophones, zero_homophones
from voicecore.spoken.phone_written import names_another_number, written_phones
from voicecore.spoken.tokens import (
    after_correction,
    drop_fillers,
    has_correction,
    replaced_by_correction,
    strip_carrier,
    without_opening_oh,
    words,
)

__all__ = ["CapturePhone", "CapturePhoneParams"]

_EXTENSION_WORDS = frozenset({"extension", "ext", "x", "ex"})
# Words between digit groups that do not end the number.
_CONNECTORS = frozenset(
    {"dash", "hyphen", "dot", "and", "then", "area", "code", "comma", "space", "is", "the", "my"}
)
_WRITTEN_GROUPS = re.compile(r"^\(?\+?[\d()\-./]*\d[\d()\-./]*$")
_ASCII_DIGIT = re.compile(r"[0-9]")
_GROUP = re.compile(r"^\+?[0-9]{3,}$")
_MIN_DIGITS = 7
_CERTAIN = 0.95
#: A number one of whose digits was read from a word that may be no digit: read back.
_GUESSED = 0.7
# Readings of "fifty five" as 50 5 tried when the plain reading is no number, fewest tens read
# apart first. The search was once every combination of the ambiguous tens, each re-reading
# the whole text and calling phonenumbers (47 s for 500 characters of "twenty one"); 2**4
# readings is every reading of four ambiguous tens, more than one number said in pairs needs
# (a caller splits one or two), and keeps a hypothesis to 16 phonenumbers calls.
_MAX_TENS_READINGS = 16
# No valid number has more digits: phonenumbers takes at most an international prefix (8
# digits in the longest region's pattern), a country code (3) and a national number (17), or
# a national prefix (15) and the national number. Longer readings are not parsed, and the
# search stops reading a hypothesis past it. test_phone.py derives it from the metadata.
_MAX_PHONE_DIGITS = 32


class CapturePhoneParams(KeypadCaptureParams):
    """Params of ``capture_phone``: ``region`` (ISO 3166 alpha-2) for numbers said without
    a country code; by default the locale's region (US for en-US)."""

    region: str | None = None

    @field_validator("region")
    @classmethod
    def _region_is_known(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("region must be an ISO 3166 alpha-2 code phonenumbers knows")
        return value.upper() if value else value


@dataclass(frozen=True, slots=True)
class _Heard:
    """The digits heard (leading "+" kept) and any extension; ``guessed`` when a digit was
    read from a word that may be no digit ("is to 127424904": "to" as "two")."""

    digits: str
    extension: str = ""
    guessed: bool = False


def _region(params: CapturePhoneParams) -> str:
    return params.region or params.locale.rpartition("-")[2] or "US"


def _split_written(token: str) -> list[str]:
    """ "(415)" / "555-2671" / "+44" -> digit groups, keeping a leading "+"."""
    groups = re.findall(r"\d+", token)
    if token.lstrip("(").startswith("+") and groups:
        groups[0] = "+" + groups[0]
    return groups


def _phone_tokens(said: list[str]) -> list[str]:
    """Tokens after any carrier phrase, written groups split ("(415)" -> "415"), homophones
    of digits among digits read as digits ("... three for" -> "... three four")."""
    tokens: list[str] = []
    for token in strip_carrier(said):
        tokens.extend(_split_written(token) if _WRITTEN_GROUPS.match(token) else [token])
    return digit_homophones(zero_homophones(tokens, _is_phone_digit), _is_phone_digit)


def _is_phone_digit(token: str) -> bool:
    return is_digit_word(token, o_is_zero=True)


def _zero_heard_alike(text: str) -> bool:
    """Whether a zero would be read from a word that sounds like "oh" ("two six or one")."""
    tokens = words(text)
    return zero_homophones(tokens, _is_phone_digit) != tokens


def _introduces_another_number(said: list[str]) -> bool:
    """ "my card number is ...": the words before the first digit name another number."""
    first = next((i for i, token in enumerate(said) if is_digit_word(token)), len(said))
    return names_another_number(" ".join(said[:first]) + " ")


def _spoken(
    tokens: list[str], unmerged: frozenset[int] = frozenset(), max_digits: int | None = None
) -> _Heard:
    """Digits spoken in ``tokens``: groups joined, "plus" kept, "extension ..." apart.

    With ``max_digits`` the reading stops once it has more digits than that: digits are only
    ever appended, so such a reading is no number whatever follows.
    """
    digits, extension, index = "", "", 0
    while index < len(tokens) and (max_digits is None or len(digits.lstrip("+")) <= max_digits):
        token = tokens[index]
        if token == "plus" and not digits:
            digits, index = "+", index + 1
        elif token in _EXTENSION_WORDS and len(digits) >= _MIN_DIGITS:
            extension, _ = digit_run(
                tokens, index + 1 + (tokens[index + 1 : index + 2] == ["is"]), o_is_zero=True
            )
            break
        elif is_digit_word(token, o_is_zero=True):
            left = None if max_digits is None else max_digits - len(digits.lstrip("+"))
            run, index = digit_run(
                tokens, index, o_is_zero=True, unmerged=unmerged, max_digits=left
            )
            digits += run
            index += 0 if run else 1
        elif token in _CONNECTORS or len(digits.lstrip("+")) < _MIN_DIGITS:
            index += 1
        else:
            break
    return _Heard(digits if digits != "+" else "", extension)


def _best_spoken(tokens: list[str], region: str) -> _Heard:
    """The spoken digits; where "fifty five" may be 50 5, the reading that makes a valid
    number ("six fifty five five five ..." is 650 555 ...), the plain reading otherwise."""
    plain = _spoken(tokens)
    ambiguous = mergeable_tens(tokens)
    if not ambiguous or _parse(plain.digits, region) is not None:
        return plain
    tried = {plain.digits}
    for unmerged in _tens_readings(ambiguous):
        heard = _spoken(tokens, unmerged, max_digits=_MAX_PHONE_DIGITS)
        if heard.digits in tried:  # the same digits read another way: parsed already
            continue
        tried.add(heard.digits)
        if _parse(heard.digits, region) is not None:
            return heard
    return plain


def _tens_readings(ambiguous: list[int]) -> Iterator[frozenset[int]]:
    """Which ambiguous tens to read apart: one, then two, ... in order, at most
    ``_MAX_TENS_READINGS`` sets (every set when there are four or fewer)."""
    sizes = range(1, len(ambiguous) + 1)
    every = itertools.chain.from_iterable(itertools.combinations(ambiguous, n) for n in sizes)
    return (frozenset(chosen) for chosen in itertools.islice(every, _MAX_TENS_READINGS))


def _with_corrected_end(replaced_tokens: list[str], heard: _Heard, region: str) -> _Heard:
    """ "... two six seven one, sorry, two six seven two": a correction shorter than the
    number it follows replaces that number's end, when that makes a valid number."""
    replaced = _best_spoken(_phone_tokens(replaced_tokens), region)
    new = heard.digits
    if not new or new.startswith("+") or len(new) >= len(replaced.digits.lstrip("+")):
        return heard
    if _parse(replaced.digits, region) is None:
        return heard
    spliced = replaced.digits[: -len(new)] + new
    if _parse(spliced, region) is None:
        return heard
    return _Heard(spliced, heard.extension or replaced.extension)


def _heard(text: str, region: str) -> _Heard:
    """Written numbers win (the last one after a self-correction); else the spoken digits.

    Text with written digits but no written phone number is not read as spoken digits
    ("16/04/2010", "account 12345678"), except a short answer of digit groups only
    ("415 555"), kept as a partial number. Digits introduced as another kind of number
    ("my card number is ...") are not a phone number.
    """
    found = written_phones(text)
    if found:
        chosen = found[-1] if has_correction(words(text)) else found[0]
        written = _Heard(chosen.digits, chosen.extension)
        if _parse(written.digits, region) is not None:
            return written
        # "is to 127424904": a homophone the figure left out
        corrected = after_correction(drop_fillers(words(text)))
        said = _digits_among_words(_phone_tokens(corrected), region, _carried(corrected))
        return said if said.digits else written
    return _said(text, region)


def _said(text: str, region: str) -> _Heard:
    """The number said in ``text`` when no valid written one is in it."""
    said = drop_fillers(words(text))
    corrected = after_correction(said)
    if _introduces_another_number(corrected):
        return _Heard("")
    tokens = _phone_tokens(corrected)
    if not _ASCII_DIGIT.search(text):
        heard = _best_spoken(tokens, region)
        replaced = replaced_by_correction(said)
        if replaced and _parse(heard.digits, region) is None:
            return _with_corrected_end(replaced, heard, region)
        return heard
    if tokens and all(_GROUP.match(token) for token in tokens):
        return _Heard("".join(tokens))
    if tokens and all(map(_is_phone_digit, tokens)):  # "6, 1, 7, double 5, ..."
        return _best_spoken(tokens, region)
    return _digits_among_words(tokens, region, _carried(corrected))


def _carried(said: list[str]) -> bool:
    """Whether ``said`` opens with a carrier phrase ("my number is", "it's")."""
    return len(strip_carrier(said)) < len(said)


#: Words a digit homophone may follow after the carrier: "it's up to 0, 6, 7, ...".
_MAX_WORDS_BEFORE_HOMOPHONE = 1


def _digits_among_words(tokens: list[str], region: str, carried: bool) -> _Heard:
    """Written digits among words ("It's a 5-1-2, 4-0-6, ...", "404, 8, 9, ..., thank you"):
    the digits said in one stretch, words before and after it being talk the carrier and
    sign-off lists do not know (a "uh" written "a", a misheard "is"). A homophone of a digit
    just before the stretch ("is to 127424904": "two one two ...") is read as one when only
    that makes a valid number and it is said right after a carrier (``carried``, ``tokens``
    being what follows it): after a verb ("text it to 312...", "I want to 20 ...") "to" is
    the word. Kept only when valid: "account 12345678" is no phone number.
    Read plainly, without the search for tens read apart: an ASR that writes figures writes
    "fifty five" as 55; so at most two more parses.
    """
    at = [index for index, token in enumerate(tokens) if _is_phone_digit(token)]
    if not at:
        return _Heard("")
    first, last = at[0], at[-1] + 1
    stretch = tokens[first:last]
    if all(_is_phone_digit(token) or token in _CONNECTORS for token in stretch):
        heard = _spoken(stretch)
        if _parse(heard.digits, region) is not None:
            return heard
        before = tokens[first - 1] if first else ""
        right_after_carrier = carried and first - 1 <= _MAX_WORDS_BEFORE_HOMOPHONE
        if before in DIGIT_HOMOPHONES and right_after_carrier:
            heard = _spoken([DIGIT_HOMOPHONES[before], *stretch])
            if _parse(heard.digits, region) is not None:
                return replace(heard, guessed=True)
    return _Heard("")


def _parse(digits: str, region: str) -> PhoneNumber | None:
    """The valid number ``digits`` stand for, trying international prefixes too."""
    if len(digits.lstrip("+")) > _MAX_PHONE_DIGITS:
        return None
    attempts = [digits]
    if digits.startswith("00"):
        attempts.append("+" + digits[2:])
    for attempt in attempts:
        try:
            number = phonenumbers.parse(attempt, region)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def _readback(number: PhoneNumber, region: str, extension: str) -> str:
    """Digits in the groups of the number's usual format: "four one five, five five five, ..."."""
    same_region = phonenumbers.region_code_for_number(number) == region
    style = PhoneNumberFormat.NATIONAL if same_region else PhoneNumberFormat.INTERNATIONAL
    formatted = phonenumbers.format_number(number, style)
    groups = re.findall(r"\+?\d+", formatted)
    said = ", ".join(
        ("plus " if g.startswith("+") else "") + say_digits(g.lstrip("+")) for g in groups
    )
    return f"{said}, extension {say_digits(extension)}" if extension else said


def phone_reading(heard: _Heard, region: str) -> Reading:
    """The reading of the digits heard: a valid number, or why not (with the digits kept)."""
    parts: dict[str, str | bool] = {"digits": heard.digits, "extension": heard.extension}
    if not heard.digits:
        return Reading(value=None, reason="no_value_heard", certainty=0.0, parts=parts)
    number = _parse(heard.digits, region)
    if number is None:
        short = len(heard.digits.lstrip("+")) < 10 and not heard.digits.startswith("+")
        reason = "too_few_digits" if short else "invalid_phone"
        partial = heard.digits if short else None
        return Reading(value=None, reason=reason, certainty=0.0, parts=parts, partial=partial)
    extension = heard.extension or number.extension or ""
    number_type = phonenumbers.number_type(number)
    parts.update(
        national=phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        region=phonenumbers.region_code_for_number(number) or "",
        extension=extension,
        toll_free=number_type == PhoneNumberType.TOLL_FREE,
    )
    return Reading(
        value=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        readback=_readback(number, region, extension),
        parts=parts,
        certainty=_GUESSED if heard.guessed else _CERTAIN,
    )


class CapturePhone(CapturePrimitive[CapturePhoneParams]):
    """Captures a phone number spoken digit by digit, in groups, or written.

    Reads "oh", "double five", "triple seven", "four fifteen", "one eight hundred ...",
    "plus forty four ...", "extension ...", carrier phrases and self-corrections. The value is
    E.164 (validated by ``phonenumbers``); too few digits are kept as a partial number that
    the next turn completes.
    """

    name = "capture_phone"
    version = "1.0.0"
    description = "Capture a phone number spoken or written by the caller."
    noun = "phone number"
    params_model = CapturePhoneParams

    def read(self, text: str, params: CapturePhoneParams, partial: str | None) -> Reading:
        """Read one hypothesis as a phone number, completing ``partial`` digits if any."""
        region = _region(params)
        reading = self._read_said(text, region, partial)
        if reading.value is not None and _zero_heard_alike(text):  # "oh" heard as "or"
            return replace(reading, certainty=min(reading.certainty, _GUESSED))
        return reading

    def _read_said(self, text: str, region: str, partial: str | None) -> Reading:
        heard = _heard(text, region)
        without_oh = without_opening_oh(text)
        if without_oh is not None and _parse(heard.digits, region) is None:
            other = _heard(without_oh, region)  # "oh" opening: a zero, or an interjection
            heard = other if _parse(other.digits, region) is not None else heard
        if partial and heard.digits and not heard.digits.startswith("+"):
            alone = phone_reading(heard, region)
            if alone.value is not None:
                return alone
            heard = _Heard(partial + heard.digits, heard.extension)
        return phone_reading(heard, region)

    def correct(
        self,
        held: HeldValue,
        reply: Reply,
        params: CapturePhoneParams,
    ) -> Reading | None:
        """Edit the held number in part ("the last digit is two", "the area code is four one
        five", "it's five five four not five five five", "not five five five, five five four",
        "change the seven to a nine").

        An extension said with the held number (``held.parts``) is kept.
        """
        number = phonenumbers.parse(held.value)
        international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        groups = re.findall(r"\d+", international)[1:]  # after the country code
        edited = edit_digits(groups, drop_fillers(words(reply.edit_text)))
        if edited is None:
            return None
        extension = held.parts.get("extension")
        kept = extension if isinstance(extension, str) else ""
        said = held.parts.get("digits")
        prefix = _prefix(said, number) if isinstance(said, str) else f"+{number.country_code}"
        reading = phone_reading(_Heard(prefix + edited, kept), _region(params))
        return reading if reading.value is not None else None


def _prefix(said: str, number: PhoneNumber) -> str:
    """What the caller said before the national number ("", "1", "+1", "0044"), so an edited
    number keeps the held one's ``data.digits`` form across turns."""
    national = phonenumbers.national_significant_number(number)
    if not said.endswith(national):
        return f"+{number.country_code}"
    return said[: len(said) - len(national)]
