"""capture_amount: caller-style amounts, currencies, cents, bounds, readback and corrections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tests._cases import cases
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
from voicecore.capture import Answer, CaptureState, HeldValue, Reading, Reply
from voicecore.capture._machine import advance
from voicecore.primitives.amount import (
    CaptureAmount,
    CaptureAmountParams,
    amount_reading,
    say_amount,
    say_whole,
)
from voicecore.service import VoiceCoreService

PRIMITIVE = CaptureAmount()


def params_of(text: str, **params: Any) -> CaptureAmountParams:
    """Params as the service builds them from a request's Struct."""
    return CaptureAmountParams.model_validate({"transcription": text, **params})


def reading_of(text: str, **params: Any) -> Reading:
    return PRIMITIVE.read(text, params_of(text, **params), None)


CALLER_CASES = [
    # spoken
    ("twelve fifty", "12.50"),
    ("three fifty", "3.50"),
    ("twelve oh five", "12.05"),
    ("nineteen ninety nine", "19.99"),
    ("ninety nine ninety nine", "99.99"),
    ("one twenty five", "1.25"),
    ("a hundred and five dollars and ten cents", "105.10"),
    ("twelve dollars and fifty cents", "12.50"),
    ("twelve dollars fifty", "12.50"),
    ("twelve dollars and fifty", "12.50"),
    ("one dollar and one cent", "1.01"),
    ("fifty cents", "0.50"),
    ("twenty bucks", "20.00"),
    ("a buck fifty", "1.50"),
    ("five grand", "5000.00"),
    ("a hundred", "100.00"),
    ("a hundred dollars", "100.00"),
    ("twelve hundred", "1200.00"),
    ("fifteen hundred dollars", "1500.00"),
    ("two thousand five hundred dollars", "2500.00"),
    ("one thousand two hundred and thirty four dollars and fifty six cents", "1234.56"),
    ("three point five", "3.50"),
    ("seven and a half dollars", "7.50"),
    ("zero", "0.00"),
    ("twenty-five dollars", "25.00"),
    # written, and formatted by an ASR
    ("12.50", "12.50"),
    ("12.50.", "12.50"),
    ("$12.50", "12.50"),
    ("$12", "12.00"),
    ("$1,234.56", "1234.56"),
    ("$1.2k", "1200.00"),
    ("1.2k", "1200.00"),
    ("$5k", "5000.00"),
    ("12.50 dollars", "12.50"),
    ("$20 bucks", "20.00"),
    ("USD 40", "40.00"),
    ("0.99", "0.99"),
    # carriers, fillers, capitals, corrections
    ("It's about $12.50.", "12.50"),
    ("uh twelve fifty", "12.50"),
    ("um, it's about, uh, twenty bucks", "20.00"),
    ("The total is Twelve Dollars and Fifty Cents.", "12.50"),
    ("i paid like forty dollars", "40.00"),
    ("that'll be 9.99 please", "9.99"),
    ("my balance says $1,234.56 i think", "1234.56"),
    ("twelve fifty, no, fifteen fifty", "15.50"),
    ("ten dollars sorry eleven dollars", "11.00"),
    ("forty no wait fifty dollars", "50.00"),
    ("i mean thirty", "30.00"),
    ("$12.50, twelve fifty", "12.50"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_amount(self, text: str, expected: str) -> None:
        """Caller phrasing around an amount gives it as a decimal string in the currency."""
        reading = reading_of(text)
        assert reading.value == expected
        assert reading.parts == {"currency": "USD"}

    def test_there_are_forty_cases(self) -> None:
        """The table covers at least the forty caller cases the issue asks for."""
        assert len(CALLER_CASES) >= 40


class TestCurrency:
    @cases(
        ("text", "currency", "expected"),
        [
            ("three fifty", "EUR", "3.50"),
            ("twenty euros", "EUR", "20.00"),
            ("€20", "EUR", "20.00"),
            ("five pounds fifty", "GBP", "5.50"),
            ("fifty pence", "GBP", "0.50"),
            ("£3", "GBP", "3.00"),
            ("ten dollars", "CAD", "10.00"),
            ("twelve hundred yen", "JPY", "1200"),
            ("12", "CHF", "12.00"),
        ],
    )
    def test_reads_in_the_currency_param(self, text: str, currency: str, expected: str) -> None:
        """The currency comes from the param; a matching currency word or symbol is fine."""
        reading = reading_of(text, currency=currency)
        assert reading.value == expected
        assert reading.parts == {"currency": currency}

    @cases(
        ("text", "currency", "heard"),
        [
            ("twenty euros", "USD", "EUR"),
            ("€20", "USD", "EUR"),
            ("twenty dollars", "EUR", "AUD/CAD/HKD/NZD/SGD/USD"),
            ("fifty pence", "USD", "GBP"),
        ],
    )
    def test_another_currency_is_a_mismatch(self, text: str, currency: str, heard: str) -> None:
        """A currency word for another currency is no value: never converted, never switched."""
        reading = reading_of(text, currency=currency)
        assert reading.value is None
        assert reading.reason == "currency_mismatch"
        assert reading.parts == {"heard_currency": heard}

    def test_yen_has_no_cents(self) -> None:
        """A currency without a minor unit refuses decimals."""
        reading = reading_of("12.50", currency="JPY")
        assert (reading.value, reading.reason) == (None, "too_many_decimals")

    @cases("currency", ["usd", "US", "DOLLARS"])
    def test_currency_param_is_an_iso_code(self, currency: str) -> None:
        """The currency param is three capital letters."""
        with pytest.raises(ValidationError, match="currency"):
            params_of("x", currency=currency)


class TestNoValue:
    @cases("text", ["", "i don't know", "hmm", "dollars", "the blue one"])
    def test_no_amount_is_no_value_heard(self, text: str) -> None:
        """Without a number the reading has no value and says why."""
        reading = reading_of(text)
        assert (reading.value, reading.reason) == (None, "no_value_heard")

    def test_two_amounts_are_several_values(self) -> None:
        """ "five or six dollars" is not one answer; both are offered."""
        reading = reading_of("five and six")
        assert (reading.value, reading.reason) == (None, "several_values")
        assert reading.parts["candidates"] == ["5", "6"]

    @cases(
        ("text", "expected"),
        [
            ("Okay, it's 55, 10.", "55.10"),  # audio case: "fifty five ten" from Whisper
            ("So it's 45, 95, please.", "45.95"),
            ("$12 50", "12.50"),
            ("12 05 dollars", "12.05"),
        ],
    )
    def test_a_price_written_in_two_groups(self, text: str, expected: str) -> None:
        """A formatting ASR writes "forty five ninety five" as "45, 95": a price, as said."""
        assert reading_of(text).value == expected

    @cases(
        ("text", "expected"),
        [
            ("About 12 hundred.", "1200.00"),
            ("It's 7-hundred 40.", "740.00"),
            ("3 thousand 2 hundred dollars", "3200.00"),
            ("2 hundred and 5 dollars", "205.00"),
            ("1.5 million", "1500000.00"),
            ("It came to 9 hundred 99 dollars and 50 cents.", "999.50"),
        ],
    )
    def test_figures_among_scale_words_are_one_number(self, text: str, expected: str) -> None:
        """A formatting ASR writes "seven hundred forty" as "7-hundred 40" or "7 hundred 40":
        the figures go with the scale words, as the words would (not 7 and 40, nor 40)."""
        assert reading_of(text).value == expected

    @cases(
        ("text", "expected"),
        [
            ("It's 35 cents.", "0.35"),
            ("just 9 cents please", "0.09"),
            ("$40 and 25 cents", "40.25"),
            ("Forty dollars and 25 cents.", "40.25"),
            ("15 dollars 5 cents", "15.05"),
        ],
    )
    def test_cents_written_as_a_figure(self, text: str, expected: str) -> None:
        """ "35 cents" is thirty five cents, not dollars; whole units and cents written as two
        amounts ("$40 and 25 cents") are the one amount."""
        reading = reading_of(text)
        assert (reading.value, reading.certainty) == (expected, 1.0)

    @cases(
        ("text", "expected"),
        [("So 45 sense, please.", "0.45"), ("twenty scents", "0.20"), ("$3 and 10 sense", "3.10")],
    )
    def test_a_sound_alike_of_cents_after_a_number_is_cents_less_certain(
        self, text: str, expected: str
    ) -> None:
        """ "sense" right after a number is "cents" misheard: read so, and less certain."""
        reading = reading_of(text)
        assert reading.value == expected
        assert reading.certainty < 1.0

    @cases(
        ("text", "expected"),
        [("That makes sense, 45 dollars.", "45.00"), ("20 dollars, it's common sense", "20.00")],
    )
    def test_sense_elsewhere_is_a_word(self, text: str, expected: str) -> None:
        reading = reading_of(text)
        assert (reading.value, reading.certainty) == (expected, 1.0)

    @cases(
        "text", ["5 dollars or 50 cents", "from $2 to 75 cents", "between 3 dollars and 9 cents"]
    )
    def test_dollars_and_cents_as_alternatives_are_several_values(self, text: str) -> None:
        assert reading_of(text).reason == "several_values"

    @cases(
        "text",
        [
            "$40 minus 25 cents",
            "$5 less 50 cents",
            "$40 plus 25 cents",
            "I paid $40 and got 25 cents back",
            "twelve dollars, then 30 cents later",
        ],
    )
    def test_dollars_and_cents_not_joined_by_and_are_several_values(self, text: str) -> None:
        """Only "... and <number> cents" at the end is one amount (review: these read as
        one sum at full certainty)."""
        assert reading_of(text).reason == "several_values"

    @cases("text", ["45 95 20", "1234 50", "12.5 50", "12 5", "12 500", "$1k 50", "12 $50"])
    def test_written_groups_that_are_no_price(self, text: str) -> None:
        """Only whole units of 1 to 3 figures, then two figures, are a price."""
        assert reading_of(text).reason == "several_values"

    @cases(
        "text",
        ["ten dollars or twelve", "five dollars three hundred", "5 dollars 300", "5.5 dollars 50"],
    )
    def test_a_number_after_the_units_that_is_no_cents(self, text: str) -> None:
        """Only a number below 100 right after "dollars" is its cents; another is an amount."""
        assert reading_of(text).reason == "several_values"

    def test_fractions_of_a_cent_are_refused(self) -> None:
        """ "12.505" is no amount in a currency of cents."""
        reading = reading_of("12.505")
        assert (reading.value, reading.reason) == (None, "too_many_decimals")
        assert reading.parts == {"heard": "12.505"}

    @cases(
        "text",
        [
            "999999999999999999999999999",
            "$" + "9" * 28,
            "1" * 27 + "k",
        ],
    )
    def test_an_amount_past_the_precision_is_out_of_range(self, text: str) -> None:
        """More digits than a decimal holds exactly is beyond any amount, not an error."""
        reading = reading_of(text)
        assert (reading.value, reading.reason) == (None, "out_of_range")

    @cases(
        "text",
        [
            "$" + "9" * 29,
            "$0." + "1" * 40,
            "9" * 29,
            "10000000000000000000000000000000 dollars",
        ],
    )
    def test_a_written_amount_of_more_digits_than_the_precision_is_none(self, text: str) -> None:
        """More digits than a decimal holds exactly (28) is no number at all, as in
        capture_number (``voicecore.spoken.numbers.MAX_DIGITS``): no amount, and no error."""
        assert reading_of(text).reason == "no_value_heard"

    @cases(
        "text", ["a couple hundred", "a few hundred dollars", "several thousand", "a couple bucks"]
    )
    def test_a_vague_amount_is_no_value(self, text: str) -> None:
        """ "A couple hundred" is no amount to charge: no value, the caller is asked again."""
        reading = reading_of(text)
        assert (reading.value, reading.reason) == (None, "no_value_heard")

    @cases(
        ("text", "expected"),
        [
            ("not three hundred, four hundred", "400.00"),
            ("not twelve fifty", "12.50"),
            ("not sure, twelve dollars", "12.00"),
            ("not one two three", "123.00"),
            ("half a dollar", "0.50"),
            ("half a buck", "0.50"),
            ("45 dollars 50", "45.50"),
            ("$45 dollars 05", "45.05"),
        ],
    )
    def test_turned_down_and_halves(self, text: str, expected: str) -> None:
        """The amount after one turned down is the one meant; half a dollar is 50 cents;
        figures after the units are cents."""
        assert reading_of(text).value == expected


class TestParams:
    def test_cents_can_be_refused(self) -> None:
        """allow_cents=false takes whole amounts only, still written with the minor digits."""
        assert reading_of("twenty dollars", allow_cents=False).value == "20.00"
        reading = reading_of("twelve fifty", allow_cents=False)
        assert (reading.value, reading.reason) == (None, "cents_not_allowed")

    @cases("text", ["nine dollars", "twenty dollars and one cent"])
    def test_outside_bounds_is_out_of_range(self, text: str) -> None:
        """An amount outside the bounds is no value, with what was heard."""
        reading = reading_of(text, min_value=10, max_value=20)
        assert (reading.value, reading.reason) == (None, "out_of_range")
        assert reading.parts["heard"]

    def test_bounds_are_inclusive(self) -> None:
        assert reading_of("ten dollars", min_value=10, max_value=20).value == "10.00"
        assert reading_of("twenty dollars", min_value=10, max_value=20).value == "20.00"

    def test_negative_and_huge_amounts_are_out_of_range(self) -> None:
        """Money is never negative, and a quadrillion is more than any caller means."""
        assert reading_of("minus five").reason == "out_of_range"
        assert reading_of("two quadrillion dollars").reason == "out_of_range"

    def test_min_above_max_is_invalid(self) -> None:
        with pytest.raises(ValidationError, match="min_value"):
            params_of("x", min_value=5, max_value=1)

    def test_negative_bound_is_invalid(self) -> None:
        with pytest.raises(ValidationError):
            params_of("x", min_value=-1)

    def test_schema_names_the_params(self) -> None:
        """The JSON Schema a client sees lists the amount's own params."""
        schema = CaptureAmountParams.model_json_schema()
        assert {"min_value", "max_value", "currency", "allow_cents"} <= set(schema["properties"])


class TestReadback:
    @cases(
        ("value", "currency", "expected"),
        [
            ("12.50", "USD", "twelve dollars and fifty cents"),
            ("1.01", "USD", "one dollar and one cent"),
            ("0.50", "USD", "fifty cents"),
            ("20.00", "USD", "twenty dollars"),
            ("5.50", "GBP", "five pounds and fifty pence"),
            ("1200", "JPY", "one thousand two hundred yen"),
            ("3.05", "EUR", "three euros and five cents"),
            ("12.50", "CHF", "twelve point five zero C H F"),
            ("12.00", "CHF", "twelve C H F"),
        ],
    )
    def test_says_units_and_cents(self, value: str, currency: str, expected: str) -> None:
        assert say_amount(value, currency) == expected

    @cases(
        ("number", "expected"),
        [
            (0, "zero"),
            (7, "seven"),
            (15, "fifteen"),
            (40, "forty"),
            (1234, "one thousand two hundred thirty four"),
            (2_000_300, "two million three hundred"),
            (5 * 10**12 + 1, "five trillion one"),
        ],
    )
    def test_whole_numbers_in_words(self, number: int, expected: str) -> None:
        assert say_whole(number) == expected


def held(value: str) -> HeldValue:
    reading = amount_reading(Decimal(value), params_of("x"), None)
    return HeldValue(value, reading.readback, dict(reading.parts), confidence=0.9)


def reply(text: str) -> Reply:
    return Reply(Answer.NO, text, f"no {text}")


class TestCorrections:
    @cases(
        ("said", "expected"),
        [
            ("the cents are 25", "12.25"),
            ("the cents are twenty five", "12.25"),
            ("the cents should be five", "12.05"),
            ("the dollars are fifteen", "15.50"),
            ("make the dollars 20", "20.50"),
        ],
    )
    def test_sets_one_part(self, said: str, expected: str) -> None:
        """A correction of the cents or the dollars keeps the other part."""
        edited = PRIMITIVE.correct(held("12.50"), reply(said), params_of(said))
        assert edited is not None and edited.value == expected

    @cases(
        "said",
        [
            "fifteen fifty",  # a new amount: read, not edited
            "the cents are 250",
            "the cents are two point five",
            "the cents are lots",
        ],
    )
    def test_other_replies_are_no_edit(self, said: str) -> None:
        assert PRIMITIVE.correct(held("12.50"), reply(said), params_of(said)) is None

    @cases(
        ("held_value", "said"),
        [("12.50", "fifteen dollars fifty"), ("45.00", "45 dollars 50"), ("12.50", "ten dollars")],
    )
    def test_a_whole_new_amount_is_no_part_edit(self, held_value: str, said: str) -> None:
        """A part edit is said as one ("the dollars are ..."): an amount naming its units is
        a new amount, read whole, not an edit of the part its units name."""
        assert PRIMITIVE.correct(held(held_value), reply(said), params_of(said)) is None

    @cases(
        ("held_value", "said", "expected"),
        [
            ("12.50", "no, fifteen dollars fifty", "15.50"),
            ("45.00", "no, forty five dollars fifty", "45.50"),
            ("45.00", "no, 45 dollars 50", "45.50"),
            ("12.50", "no, make the cents 25", "12.25"),
        ],
    )
    def test_a_correction_turn_takes_the_amount_said(
        self, held_value: str, said: str, expected: str
    ) -> None:
        """Over a turn: the held amount corrected by a new amount or a part edit."""
        params = params_of(said)
        state = CaptureState(held=HeldValue(held_value, held_value, {"currency": "USD"}, 0.9))
        turn = advance(PRIMITIVE, params, state)
        assert turn.value is not None and turn.value.value == expected

    def test_no_cents_to_edit_in_yen(self) -> None:
        params = params_of("x", currency="JPY")
        value = HeldValue(value="1200", readback="", parts={}, confidence=0.9)
        assert PRIMITIVE.correct(value, reply("the cents are 5"), params) is None

    def test_whole_units_edit_keeps_yen_whole(self) -> None:
        params = params_of("x", currency="JPY")
        value = HeldValue(value="1200", readback="", parts={}, confidence=0.9)
        edited = PRIMITIVE.correct(value, reply("the yen are 1300"), params)
        assert edited is None  # "yen" names no part: only the amount said again replaces it


async def test_hypotheses_that_agree_outvote_one_that_does_not() -> None:
    """ "twelve fifty" and "$12.50" are one amount: together they beat "twelve fifteen"."""
    service = VoiceCoreService.from_settings()
    alternatives = [
        {"transcription": "twelve fifteen", "confidence": 0.5},
        {"transcription": "$12.50", "confidence": 0.4},
    ]
    request = ExecutePrimitiveRequest(
        objective_type="capture_amount",
        params=Struct.from_dict(
            {"transcription": "twelve fifty", "asr_confidence": 0.45, "alternatives": alternatives}
        ),
    )
    response = await service.execute_primitive(request)
    assert response.success and response.data is not None
    data = response.data.to_dict()
    assert data["value"] == "12.50"
    assert [candidate["value"] for candidate in data["candidates"]] == ["12.15"]
