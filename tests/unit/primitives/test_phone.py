"""capture_phone: caller-style utterances, written numbers, partial numbers, readback."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pytest
from pydantic import ValidationError

from tests._cases import cases
from tests._replies import answer_turn, held_value, reply_of
from voicecore._json import JsonValue
from voicecore.capture import Answer, InMemoryCaptureStore, Reply, run_turn
from voicecore.primitive import PrimitiveContext, PrimitiveResult, PrimitiveState
from voicecore.primitives.phone import (
    _MAX_PHONE_DIGITS,
    CapturePhone,
    CapturePhoneParams,
    _parse,
)

PRIMITIVE = CapturePhone()


def read(text: str, partial: str | None = None, region: str | None = None) -> str | None:
    params = CapturePhoneParams(transcription=text, region=region)
    return PRIMITIVE.read(text, params, partial).value


CALLER_CASES = [
    ("four one five five five five two six seven one", "+14155552671"),
    ("my number is four one five five five five two six seven one", "+14155552671"),
    ("it's four fifteen five five five twenty six seventy one", "+14155552671"),
    ("four one five double five five two six seven one", "+14155552671"),
    ("four one five triple five two six seven one", "+14155552671"),
    ("two oh two five five five oh one nine eight", "+12025550198"),
    ("two zero two five five five zero one nine eight", "+12025550198"),
    ("one eight hundred five five five one two one two", "+18005551212"),
    ("one eight hundred two seven three three two five five", "+18002733255"),
    ("eight hundred five five five one two one two", "+18005551212"),
    ("one eight eight eight five five five one two one two", "+18885551212"),
    ("area code four one five then five five five two six seven one", "+14155552671"),
    ("you can reach me at two one two five five five one two three four", "+12125551234"),
    ("uh four one five um five five five two six seven one", "+14155552671"),
    (
        "four one five five five five no wait six one seven five five five two six seven one",
        "+16175552671",
    ),
    ("plus one four one five five five five two six seven one", "+14155552671"),
    ("plus four four seven nine one one one two three four five six", "+447911123456"),
    ("plus forty four twenty seventy nine four six oh nine five eight", "+442079460958"),
    ("four one five dash five five five dash two six seven one", "+14155552671"),
    ("the number is (415) 555-2671", "+14155552671"),
    ("415-555-2671", "+14155552671"),
    ("4155552671", "+14155552671"),
    ("+1 415 555 2671", "+14155552671"),
    ("My phone number is +44 (0)7123 129683.", "+447123129683"),
    ("call me at 1-800-555-1212", "+18005551212"),
    ("yeah sure it's six one seven five five five oh one four two", "+16175550142"),
    ("nine one seven five five five oh one oh one", "+19175550101"),
    ("three one two five five five one nine nine nine thanks", "+13125551999"),
    ("my cell is five one zero five five five one two three four", "+15105551234"),
    ("seven one eight five five five nineteen eighty four", "+17185551984"),
    ("two one three five five five twenty twenty four", "+12135552024"),
    ("it is three oh five five five five oh one two three", "+13055550123"),
    ("my work number is six four six five five five oh one two three", "+16465550123"),
    ("two oh six five five five oh one double two", "+12065550122"),
    ("five oh three five five five oh one two three", "+15035550123"),
    ("four oh four five five five oh one two three", "+14045550123"),
    ("seven seven three five five five oh one two three", "+17735550123"),
    ("eight one eight five five five oh one two three", "+18185550123"),
    ("six one nine five five five oh one two three", "+16195550123"),
    ("three four seven five five five oh one two three", "+13475550123"),
    ("nine seven two five five five oh one two three", "+19725550123"),
    ("seven zero two five five five oh one two three", "+17025550123"),
    ("six fifty five five five one two one two", "+16505551212"),
    ("six fifty five five five twenty six seventy one", "+16505552671"),
    ("two one two five five five one two three four sorry one two three five", "+12125551235"),
    ("four one five five five five two six seven one no wait two six seven two", "+14155552672"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_number(self, text: str, expected: str) -> None:
        """A caller's way of saying a number yields its E.164 value."""
        assert read(text) == expected


class TestParts:
    def test_toll_free_and_national(self) -> None:
        """Toll-free numbers are flagged and the national format given."""
        text = "one eight hundred five five five one two one two"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.parts["toll_free"] is True
        assert reading.parts["national"] == "(800) 555-1212"
        assert reading.parts["region"] == "US"

    def test_extension(self) -> None:
        """An extension after the number is kept apart and read back."""
        text = "four one five five five five two six seven one extension two three"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.value == "+14155552671"
        assert reading.parts["extension"] == "23"
        assert reading.readback.endswith("extension two three")

    def test_readback_in_groups(self) -> None:
        """The number is read back in its usual groups."""
        text = "415 555 2671"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.readback == "four one five, five five five, two six seven one"

    def test_invalid_number_keeps_the_digits(self) -> None:
        """A number phonenumbers rejects has no value, but the digits heard are reported."""
        text = "plus forty four one two three one two three five six seven eight"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.value is None
        assert reading.parts["digits"] == "+441231235678"

    def test_region_param(self) -> None:
        """A national number is read in the given region."""
        assert read("020 7946 0958", region="gb") == "+442079460958"

    def test_unknown_region_is_invalid(self) -> None:
        """An unknown region is a params error that names the field."""
        with pytest.raises(ValidationError, match="region"):
            CapturePhoneParams(transcription="x", region="XX")


class TestZeroHeardAlike:
    @cases(
        ("text", "expected"),
        [
            ("my number is four one five five five five or one two three", "+14155550123"),
            ("it's six one seven five of five five one two one", "+16175055121"),
            ("three one two eight all five, five five five nine", "+13128055559"),
        ],
    )
    def test_or_between_digits_is_a_zero_less_certain(self, text: str, expected: str) -> None:
        """An ASR writes the zero "oh" as "or", "of", "all": read as the zero, less sure than
        the number said with "oh"."""
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        plain = " ".join("oh" if w in ("or", "of", "all") else w for w in text.split())
        assert reading.value == expected
        assert (
            reading.certainty
            < PRIMITIVE.read(plain, CapturePhoneParams(transcription=plain), None).certainty
        )


class TestPartial:
    def test_too_few_digits_is_kept(self) -> None:
        """Six digits are too few: no value, and they are kept as partial."""
        text = "four one five five five five"
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert (reading.value, reading.reason, reading.partial) == (
            None,
            "too_few_digits",
            "415555",
        )

    def test_next_turn_completes_the_partial(self) -> None:
        """The digits of the next turn follow the partial ones."""
        assert read("two six seven one", partial="415555") == "+14155552671"

    def test_a_whole_number_replaces_the_partial(self) -> None:
        """A complete number said again does not get the partial prepended."""
        assert read("four one five five five five two six seven one", partial="415") == (
            "+14155552671"
        )


class TestNothing:
    @cases(
        "text",
        ["", "hello", "I don't know", "16/04/2010", "account number 12345678", "3.14159265"],
    )
    def test_no_value(self, text: str) -> None:
        """Text without a phone number yields no value."""
        assert read(text) is None


class TestWrittenRules:
    @cases(
        "text",
        [
            "My card number is 12345678",
            "my account number is 4155552671",
            "my order number is four one five five five five two six seven one",
            "(45)+(31)-278394 is not a phone number.",
        ],
    )
    def test_other_numbers_hear_nothing(self, text: str) -> None:
        """Digits introduced as another kind of number, or fragments, give no digits at all."""
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert (reading.value, reading.partial, reading.parts["digits"]) == (None, None, "")

    @cases(
        ("text", "digits"),
        [
            ("19) 35831647 looks like the area code is missing", "35831647"),
            ("call 123)456-7890 today", "1234567890"),
            ("Purchasing Phone (914)349-8600 04/21/2020 12:37:30", "9143498600"),
            ("This is a short landline phone number in Italy: 012234.", "012234"),
        ],
    )
    def test_digits_heard(self, text: str, digits: str) -> None:
        """A stray ")" ends a fragment unless it closes an area code; a date after the
        number is not part of it; a short number right after a phone cue is heard."""
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.parts["digits"] == digits

    def test_short_number_without_cue_is_not_heard(self) -> None:
        """Six written digits with no phone word before them are not a phone number."""
        text = "The total was 012234 points."
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert reading.parts["digits"] == ""

    @cases(
        ("text", "expected"),
        [
            ("415-555-2671 and 212-555-1234", "+14155552671"),
            ("415-555-2671 sorry 212-555-1234", "+12125551234"),
            ("415-555-2671 or rather 212-555-1234", "+12125551234"),
            ("415-555-2671, my bad, 212-555-1234", "+12125551234"),
        ],
    )
    def test_written_number_after_a_correction_wins(self, text: str, expected: str) -> None:
        """Of two written numbers the first is taken, the last when a correction marker (any
        of the one list the spoken forms use) is said."""
        assert read(text) == expected


HELD = "+14155552671"


def correct(text: str, held: str = HELD) -> str | None:
    reading = PRIMITIVE.correct(
        held_value(held), reply_of(text), CapturePhoneParams(transcription=text)
    )
    return None if reading is None else reading.value


class TestCorrect:
    @cases(
        ("text", "expected"),
        [
            ("no the last digit is two", "+14155552672"),
            ("the last four are one two one two", "+14155551212"),
            ("the area code is six one seven", "+16175552671"),
            ("it's five five four not five five five", "+14155542671"),
            ("change the seven to a nine", "+14155552691"),
            ("uh the last two digits are oh five", "+14155552605"),
            ("not five five five, five five four", "+14155542671"),
            ("no, not five five five, it's five five four", "+14155542671"),
        ],
    )
    def test_edits_the_held_number(self, text: str, expected: str) -> None:
        """A partial correction edits the held number and the result is validated again."""
        assert correct(text) == expected

    def test_international_number_groups(self) -> None:
        """Groups follow the international format: a UK number's last group is replaced."""
        assert correct("the last four are one two three four", "+442079460958") == ("+442079461234")

    def test_edit_to_an_invalid_number_is_not_a_value(self) -> None:
        """An edit that makes the number invalid is not taken (area code 011)."""
        assert correct("the area code is oh one one") is None

    @cases("text", ["yes", "no", "six one seven five five five two six seven one", "hmm what"])
    def test_not_a_partial_edit(self, text: str) -> None:
        """Answers and whole new numbers are left to the machine."""
        assert correct(text) is None

    @cases(
        ("answer", "said", "expected"),
        [
            (Answer.NO, "no not five five five five five four", "+14155542671"),
            (Answer.NO, "not, uh, five five five five five four", "+14155542671"),
            (Answer.NO, "no five five five five five four", None),
            (Answer.UNCLEAR, "five five five five five four", None),
        ],
    )
    def test_not_taken_off_by_the_answer_reader_is_put_back(
        self, answer: Answer, said: str, expected: str | None
    ) -> None:
        """The words after a leading "not" edit as "not X, Y" only if "not" opened them."""
        text = "five five five five five four"
        reply = Reply(answer, text, said)
        reading = PRIMITIVE.correct(held_value(HELD), reply, CapturePhoneParams(transcription=text))
        assert (None if reading is None else reading.value) == expected

    @cases(
        "said", ["no, not five five five, five five four", "not, uh, five five five five five four"]
    )
    def test_not_x_y_through_the_machine(self, said: str) -> None:
        """The machine hands phone's edit the "not" it read as the answer's no."""
        turn = answer_turn(PRIMITIVE, CapturePhoneParams(transcription=said), held_value(HELD))
        assert turn.value is not None and turn.value.value == "+14155542671"

    def test_reading_has_the_parts(self) -> None:
        """The edited reading carries the readback and national format."""
        text = "the last digit is two"
        reading = PRIMITIVE.correct(
            held_value(HELD), reply_of(text), CapturePhoneParams(transcription=text)
        )
        assert reading is not None
        assert reading.parts["national"] == "(415) 555-2672"
        assert reading.readback.endswith("two six seven two")


@dataclass
class PhoneCall:
    """A conversation with capture_phone through the capture machine."""

    store: InMemoryCaptureStore = field(default_factory=InMemoryCaptureStore)

    async def emit(self, event_type: str, payload: Mapping[str, JsonValue]) -> int:
        return 0

    async def say(self, text: str) -> PrimitiveResult:
        context = PrimitiveContext(
            objective_type="capture_phone",
            trace_id="0" * 32,
            emit=self.emit,
            captures=self.store,
            conversation_id="call-1",
        )
        return await run_turn(PRIMITIVE, CapturePhoneParams(transcription=text), context)


class TestMultiTurnCorrections:
    @cases(
        ("answer", "corrected"),
        [
            ("no the last digit is two", "+14155552672"),
            ("the last four are one two one two", "+14155551212"),
            ("the area code is six one seven", "+16175552671"),
            ("it's five five four not five five five", "+14155542671"),
            ("change the seven to a nine", "+14155552691"),
            ("yes but the last digit is two", "+14155552672"),
            ("not five five five, five five four", "+14155542671"),
            ("no not two six seven one, two six seven two", "+14155552672"),
            ("no it's six one seven five five five two six seven one", "+16175552671"),
        ],
    )
    async def test_partial_correction_then_yes(self, answer: str, corrected: str) -> None:
        """A partial correction is read back for confirmation; a yes then completes it."""
        call = PhoneCall()
        first = await call.say("my number is four one five five five five two six seven one")
        assert first.data["value"] == HELD
        fixed = await call.say(answer)
        assert (fixed.state, fixed.data["value"]) == (
            PrimitiveState.NEEDS_CONFIRMATION,
            corrected,
        )
        done = await call.say("yes")
        assert (done.state, done.data["value"]) == (PrimitiveState.COMPLETED, corrected)

    async def test_edit_keeps_the_extension_said_before(self) -> None:
        """An edit of the number keeps the extension said with it in an earlier turn."""
        call = PhoneCall()
        first = await call.say("four one five five five five two six seven one extension two three")
        assert first.data["extension"] == "23"
        fixed = await call.say("the last digit is two")
        assert (fixed.data["value"], fixed.data["extension"]) == ("+14155552672", "23")

    async def test_bare_no_still_rejects(self) -> None:
        """A no with nothing to edit is a rejection, not an edit."""
        call = PhoneCall()
        await call.say("four one five five five five two six seven one")
        result = await call.say("no")
        assert (result.state, result.data["reason"]) == (PrimitiveState.INCOMPLETE, "rejected")


# The stdlib's own reading of a pattern (not typed), for the widths of phonenumbers' patterns.
_RE_PARSER: Any = importlib.import_module("re._parser")


def _longest_match(pattern: str) -> int:
    """The most characters a phonenumbers metadata pattern can match (digits only)."""
    return int(_RE_PARSER.parse(pattern).getwidth()[1])


class TestBoundedSearch:
    """The search for tens read apart is bounded, and the bound on digits is phonenumbers'."""

    def test_no_valid_number_is_longer_than_the_bound(self) -> None:
        """_MAX_PHONE_DIGITS covers the longest digits phonenumbers' metadata can accept."""
        # An international prefix, a country code and a national number, or a national
        # prefix and a national number, at the longest any region's patterns allow.
        found = map(phonenumbers.PhoneMetadata.metadata_for_region, phonenumbers.SUPPORTED_REGIONS)
        metadata = [m for m in found if m is not None]
        longest_idd = max(_longest_match(m.international_prefix or "") for m in metadata)
        longest_prefix = max(_longest_match(m.national_prefix_for_parsing or "") for m in metadata)
        nsn, country_code = phonenumbers.phonenumberutil._MAX_LENGTH_FOR_NSN, 3
        longest = max(
            longest_idd + country_code + nsn, longest_prefix + nsn, 2 + country_code + nsn
        )
        assert longest <= _MAX_PHONE_DIGITS

    def test_a_number_past_the_bound_is_not_parsed(self) -> None:
        """A reading longer than the bound is no number without asking phonenumbers."""
        assert _parse("4" * (_MAX_PHONE_DIGITS + 1), "US") is None

    def test_tens_read_apart_after_many_ambiguous_tens(self) -> None:
        """The search still finds "six fifty" as 650 when later tens are ambiguous too."""
        assert read("six fifty five five five twenty six seventy one") == "+16505552671"

    def test_many_ambiguous_tens_read_as_no_number_with_the_digits_kept(self) -> None:
        """ "twenty one" said ninety times is no number; the digits heard are kept whole."""
        text = "twenty one " * 90
        reading = PRIMITIVE.read(text, CapturePhoneParams(transcription=text), None)
        assert (reading.value, reading.reason) == (None, "invalid_phone")
        assert reading.parts["digits"] == "21" * 90

    def test_unmatched_parentheses_do_not_recurse(self) -> None:
        """ "1)" written a thousand times is read without exhausting the stack."""
        assert read("1)" * 1000) is None
