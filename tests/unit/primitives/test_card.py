"""capture_card: caller-style card numbers, expiry dates and CVVs; brands, Luhn, readback,
the parts asked for in turn, corrections of one part, and nothing shown but brand and last
four until the capture completes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests._cases import cases
from voicecore._card_crypto import CardCipher
from voicecore.capture import Answer, HeldValue, Reading, Reply
from voicecore.primitives._card_parts import (
    CardParts,
    Expiry,
    brand_of,
    expiry_from_digits,
    luhn_valid,
)
from voicecore.primitives.card import CaptureCard, CaptureCardParams

CIPHER = CardCipher(bytes(range(32)))
PRIMITIVE = CaptureCard(CIPHER)
TODAY = date(2026, 12, 1)


def params_of(text: str, **params: Any) -> CaptureCardParams:
    return CaptureCardParams.model_validate(
        {"transcription": text, "reference_date": TODAY.isoformat(), **params}
    )


def reading_of(text: str, partial: str | None = None, **params: Any) -> Reading:
    return PRIMITIVE.read(text, params_of(text, **params), partial)


def opened(token: str | None) -> tuple[str, str, str]:
    """A token's number, expiry (MM/YY) and CVV."""
    assert token is not None
    parts = CardParts.from_sealed_text(CIPHER.open(token))
    return parts.number, parts.expiry.written if parts.expiry else "", parts.cvv


VISA = "4111111111111111"
MC = "5555555555554444"
AMEX = "378282246310005"

# A whole card said or written in one turn -> number, expiry, CVV.
WHOLE_CARDS = [
    ("4111 1111 1111 1111, expires 04/27, CVV 123.", VISA, "04/27", "123"),
    ("4111-1111-1111-1111 04/27 123", VISA, "04/27", "123"),
    ("41111111111111110427123", VISA, "04/27", "123"),
    (
        "my card number is four one one one one one one one one one one one one one one one "
        "expiring oh four twenty seven security code one two three",
        VISA,
        "04/27",
        "123",
    ),
    ("uh it's 4111 1111 1111 1111 um exp 4/27 cvv 123", VISA, "04/27", "123"),
    ("the card number is 4111111111111111 expiration date 04/2027 cvc 123", VISA, "04/27", "123"),
    ("4111 1111 1111 1111 valid thru april twenty seven code 123", VISA, "04/27", "123"),
    ("4111 1111 1111 1111 april 2027 123", VISA, "04/27", "123"),
    ("4111 1111 1111 1111 good through april of twenty twenty seven 123", VISA, "04/27", "123"),
    ("4111 1111 1111 1111 expires 12 of 28 cvv 123", VISA, "12/28", "123"),
    ("4111 1111 1111 1111 expires twelve of twenty eight cvv 123", VISA, "12/28", "123"),
    ("5555 5555 5555 4444 april twenty seven 123", MC, "04/27", "123"),
    (
        "five five five five, five five five five, five five five five, four four four four, "
        "expires twelve twenty eight, the security code is nine nine nine",
        MC,
        "12/28",
        "999",
    ),
    (
        "double five double five, double five double five, double five double five, "
        "double four double four, oh one slash thirty, cvv three two one",
        MC,
        "01/30",
        "321",
    ),
    ("2221 0000 0000 0009 exp 01/27 cvv 456", "2221000000000009", "01/27", "456"),
    ("2720 9999 9999 9996 exp 06/29 cvv 456", "2720999999999996", "06/29", "456"),
    ("3782 822463 10005 exp 12/28 cvv 1234", AMEX, "12/28", "1234"),
    (
        "three seven eight two, eight two two four six three, one zero zero zero five, "
        "expiring december twenty eight, four digit code one two three four",
        AMEX,
        "12/28",
        "1234",
    ),
    ("371449635398431 0530 4321", "371449635398431", "05/30", "4321"),
    ("uh it's 6011 1111 1111 1117 good thru may 2030 code 321", "6011111111111117", "05/30", "321"),
    ("6011 0009 9013 9424, 11/27, 737", "6011000990139424", "11/27", "737"),
    ("3530 1113 3330 0000 exp 03/28 cvv 111", "3530111333300000", "03/28", "111"),
    ("3566 0020 2036 0505 exp 03/28 cvv 111", "3566002020360505", "03/28", "111"),
    ("3056 9309 0259 04 exp 03/28 cvv 111", "30569309025904", "03/28", "111"),
    ("6200 0000 0000 0005 exp 03/28 cvv 111", "6200000000000005", "03/28", "111"),
    ("4222222222222 exp 03/28 cvv 111", "4222222222222", "03/28", "111"),
    (
        "forty one eleven eleven eleven eleven eleven eleven eleven, oh four twenty seven, "
        "one twenty three",
        VISA,
        "04/27",
        "123",
    ),
    ("no wait, 5555 5555 5555 4444, 04/27, 123", MC, "04/27", "123"),
    ("4111 1111 1111 1111 expires oh 4 27 cvv 1 2 3", VISA, "04/27", "123"),
    ("4111 1111 1111 1111, expiry date: 04-27, security code: 123", VISA, "04/27", "123"),
    ("sure, 4111.1111.1111.1111 exp 0427 cvv2 123", VISA, "04/27", "123"),
    ("cvv 123 expires 04/27 card number 4111 1111 1111 1111", VISA, "04/27", "123"),
    ("4111 1111 1111 1111 oh four slash twenty seven, one two three", VISA, "04/27", "123"),
    ("4111 1111 1111 1111 oh four slash twenty twenty seven cvv 123", VISA, "04/27", "123"),
    # CVV labels as formatting ASRs write them: glued to the code, "CV" for "c v v".
    ("4111 1111 1111 1111, expires 04/27, CVV123.", VISA, "04/27", "123"),
    ("5555 5555 5555 4444 exp 04/27 cvc-321", MC, "04/27", "321"),
    ("4111 1111 1111 1111 exp 04/27 cv1, 2, 3", VISA, "04/27", "123"),
    ("5555-5555-5555-4444, 04/27, and the CV is 456", MC, "04/27", "456"),
    ("3782 822463 10005, expires 12/28, cvv2-1234", AMEX, "12/28", "1234"),
    ("4111 1111 1111 1111 exp 04/27 cvv2123", VISA, "04/27", "123"),
    # digits heard alike: "or" / "of" for the zero "oh", "for" / "to" for four / two
    (
        "four one one one, one or one one, one one one one, one one one two, expires oh four "
        "twenty seven, cvv one two three",
        "4111101111111112",
        "04/27",
        "123",
    ),
    (
        "five five five five, five five five five, five five five five, four for four four, "
        "exp 04/27 cvv 321",
        MC,
        "04/27",
        "321",
    ),
    # "through" alone (the first word of "valid through" misheard) still labels the expiry.
    ("card number 5555555555554444, Valley through 04 27, CVV 654", MC, "04/27", "654"),
    ("card number 4111111111111111 good thru 0427 cvv 123", VISA, "04/27", "123"),
    # a zero said "oh" and written as the letter among a figure's digits
    ("4111 1111 1111 1111, expires 04/27, cvv 1o3", VISA, "04/27", "103"),
    ("4111 1o11 1111 1112 exp 04/27 cvv 123", "4111101111111112", "04/27", "123"),
    ("5555 5555 5555 4444 exp 0427 security code 2o1", MC, "04/27", "201"),
    ("5555 5555 5555 4444 expires 1o28 cvv 123", MC, "10/28", "123"),
]

# Only the number asked for (no expiry, no CVV): number said or written -> number.
NUMBERS = [
    ("4111 1111 1111 1111", VISA),
    ("4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1", VISA),
    ("four one one one one one one one one one one one one one one one", VISA),
    ("four triple one, one one one one, one one one one, one one one one", VISA),
    ("yeah my card number is 4111111111111111", VISA),
    ("it's 5555-5555-5555-4444", MC),
    ("um, uh, 5555 5555 5555 4444.", MC),
    ("the long number on the front is 3782 822463 10005", AMEX),
    ("three seven eight two eight two two four six three one oh oh oh five", AMEX),
    ("card number 6011 1111 1111 1117", "6011111111111117"),
    ("sorry, i mean 4111 1111 1111 1111", VISA),
]

# What the turn still needs, given the text: reason.
PARTIAL = [
    ("4111 1111", "need_more_digits"),
    ("4111 1111 1111 1111", "need_expiry"),
    ("4111 1111 1111 1111 exp 04/27", "need_cvv"),
    ("expires 04/27", "need_number"),
    ("cvv 123", "need_number"),
]

# No value, and why.
REFUSED = [
    ("4111 1111 1111 1112 04/27 123", "luhn_failed"),
    ("5555 5555 5555 4445", "luhn_failed"),
    ("9111 1111 1111 1111", "unknown_brand"),
    ("4111 1111 1111 11", "wrong_length"),
    ("4111 1111 1111 1111 expires 04/24 cvv 123", "card_expired"),
    ("4111 1111 1111 1111 expires 11/26 cvv 123", "card_expired"),
    ("4111 1111 1111 1111 expires 04/2099 cvv 123", "expiry_out_of_range"),
    ("3782 822463 10005 exp 12/28 cvv 123", "wrong_cvv_length"),
    ("4111 1111 1111 1111 exp 12/28 cvv 1234", "wrong_cvv_length"),
    ("", "no_value_heard"),
    ("i don't have it on me", "no_value_heard"),
    ("double", "no_value_heard"),
    ("+4111111111111111", "no_value_heard"),
]


class TestReading:
    @cases("text, number, expiry, cvv", WHOLE_CARDS)
    def test_whole_card(self, text: str, number: str, expiry: str, cvv: str) -> None:
        reading = reading_of(text)
        assert opened(reading.value) == (number, expiry, cvv), reading.reason

    @cases("text, number", NUMBERS)
    def test_number_alone(self, text: str, number: str) -> None:
        reading = reading_of(text, require_expiry=False, require_cvv=False)
        assert opened(reading.value) == (number, "", "")

    @cases("text, reason", PARTIAL)
    def test_what_is_missing(self, text: str, reason: str) -> None:
        reading = reading_of(text)
        assert (reading.value, reading.reason, reading.parts["missing"]) == (None, reason, reason)
        assert reading.partial is not None

    @cases("text, reason", REFUSED)
    def test_refused(self, text: str, reason: str) -> None:
        reading = reading_of(text)
        assert (reading.value, reading.reason, reading.partial) == (None, reason, None)

    @cases(
        "text",
        [
            "oh four one one one, one one one one, one one one one, one one one one, "
            "expiry date april twenty seven, cvv one two three",
            "uh oh, 4111 1111 1111 1111 exp 04/27 cvv 123",
        ],
    )
    def test_an_opening_oh_is_an_interjection(self, text: str) -> None:
        """No card number starts with a zero: read as one, "oh" would leave no card."""
        assert opened(reading_of(text).value) == (VISA, "04/27", "123")

    def test_an_opening_oh_on_a_bad_number_gives_the_numbers_reason(self) -> None:
        """Read as a zero the number has no brand; read as talk, it fails its check digit."""
        assert reading_of("0 4111 1111 1111 1112").reason == "unknown_brand"
        assert reading_of("oh 4111 1111 1111 1112").reason == "luhn_failed"

    def test_a_digit_heard_alike_is_less_certain(self) -> None:
        said = "four one one one one or one one one one one one one one one two exp 04/27 cvv 123"
        reading = reading_of(said)
        assert opened(reading.value) == ("4111101111111112", "04/27", "123")
        assert reading.certainty < reading_of("4111 1111 1111 1111 exp 04/27 cvv 123").certainty

    def test_parts_shown_are_brand_last_four_and_expiry(self) -> None:
        reading = reading_of("4111 1111 1111 1111 exp 04/27 cvv 123")
        assert dict(reading.parts) == {"brand": "visa", "last4": "1111", "expiry": "04/27"}
        assert reading.readback == "a Visa ending in one one one one, expiring April 2027"

    def test_amex_readback_says_an(self) -> None:
        reading = reading_of(AMEX, require_expiry=False, require_cvv=False)
        assert reading.readback == "an American Express ending in zero zero zero five"

    def test_expired_is_relative_to_the_reference_date(self) -> None:
        """A card good through November 2026 is expired on 1 December 2026, not in November."""
        said = "4111 1111 1111 1111 expires 11/26 cvv 123"
        assert reading_of(said, reference_date="2026-11-30").value is not None
        assert reading_of(said).reason == "card_expired"

    def test_default_reference_date_is_today(self) -> None:
        params = CaptureCardParams(transcription="")
        assert params.today() <= date.today().replace(year=date.today().year + 1)
        assert CaptureCardParams(transcription="", reference_date=TODAY).today() == TODAY


class TestTurns:
    """Parts said over several turns: the partial token carries what earlier turns gave."""

    @pytest.mark.parametrize(
        ("turns", "expected"),
        [
            (["4111 1111", "1111 1111", "04/27", "123"], (VISA, "04/27", "123")),
            (
                ["4111 1111 1111 1111", "oh four twenty seven", "one two three"],
                (VISA, "04/27", "123"),
            ),
            (["4111 1111 1111 1111", "april twenty seven", "1 2 3"], (VISA, "04/27", "123")),
            (["4111 1111 1111 1111", "expires 04/27 and the code is 123"], (VISA, "04/27", "123")),
            (["expires 04/27", "4111 1111 1111 1111", "123"], (VISA, "04/27", "123")),
            (["3782 822463 10005", "12/28", "1234"], (AMEX, "12/28", "1234")),
            (["3782 822463 10005 exp 12/28", "4321"], (AMEX, "12/28", "4321")),
            (["4111", "1111", "1111", "1111 0427 123"], (VISA, "04/27", "123")),
        ],
    )
    def test_parts_in_turns(self, turns: list[str], expected: tuple[str, str, str]) -> None:
        partial: str | None = None
        reading = Reading(value=None)
        for text in turns:
            reading = reading_of(text, partial)
            partial = reading.partial or partial
        assert opened(reading.value) == expected

    def test_keys_are_exact(self) -> None:
        params = params_of("")
        number = PRIMITIVE.read_keys(VISA, params, None)
        assert (number.reason, number.certainty) == ("need_expiry", 1.0)
        expiry = PRIMITIVE.read_keys("0427", params, number.partial)
        whole = PRIMITIVE.read_keys("123", params, expiry.partial)
        assert (opened(whole.value), whole.certainty) == ((VISA, "04/27", "123"), 1.0)

    def test_keys_in_one_entry(self) -> None:
        whole = PRIMITIVE.read_keys(VISA + "0427123", params_of(""), None)
        assert opened(whole.value) == (VISA, "04/27", "123")


def keyed(entry: str, partial: str | None = None, **params: Any) -> Reading:
    """A keypad entry read as the turn reads it: its keys up to the first "#", the whole
    entry in the params."""
    return PRIMITIVE.read_keys(
        entry.partition("#")[0], params_of("", dtmf=entry, **params), partial
    )


class TestOneEntryOfParts:
    """ "number#expiry#cvv#": each "#"-ended part fills the next part asked for."""

    @cases(
        "entry",
        [
            f"{VISA}#1228#123#",
            f"{VISA}#1228#123",  # the last "#" left out
            f"{VISA}##1228#123#",  # an empty part is none
            f"{VISA}#1228123#",
            "411111#1111111111#1228#123#",  # the number in two parts
            f"*{VISA}#1228#123#",
            f"4111*{VISA}#1228#123#",
        ],
    )
    def test_fills_the_parts_in_order(self, entry: str) -> None:
        reading = keyed(entry)
        assert (opened(reading.value), reading.certainty) == ((VISA, "12/28", "123"), 1.0)

    def test_goes_on_from_what_earlier_turns_kept(self) -> None:
        number = keyed(f"{VISA}#")
        assert number.reason == "need_expiry"
        assert opened(keyed("1228#123#", number.partial).value) == (VISA, "12/28", "123")

    def test_only_the_parts_asked_for(self) -> None:
        """Without a CVV asked for, the card is whole at its expiry: later parts not read."""
        reading = keyed(f"{VISA}#1228#999#", require_cvv=False)
        assert opened(reading.value) == (VISA, "12/28", "")

    def test_a_part_still_missing_is_asked_for(self) -> None:
        reading = keyed(f"{VISA}#1228#")
        assert (reading.value, reading.reason, reading.certainty) == (None, "need_cvv", 1.0)
        assert reading.parts["expiry"] == "12/28"

    def test_star_starts_over_the_whole_entry(self) -> None:
        """ "*" drops every key before it, earlier parts included: what follows is read
        afresh, from the number."""
        again = keyed(f"{VISA}#12*{VISA}#1228#123#")
        assert opened(again.value) == (VISA, "12/28", "123")
        short = keyed(f"{VISA}#12*1228#123#")
        assert (short.reason, short.parts["digits_heard"]) == ("need_more_digits", 7)
        assert keyed(f"{VISA}#1228#*").reason == "started_over"

    @cases(
        ("entry", "reason"),
        [
            ("4111111111111112#1228#123#", "luhn_failed"),
            (f"{VISA}#1299#123#", "expiry_out_of_range"),
            (f"{VISA}#1125#123#", "card_expired"),
            (f"{VISA}#1228#1234#", "wrong_cvv_length"),
            (f"{VISA}#12A8#123#", "invalid_keys"),
        ],
    )
    def test_a_part_that_gives_no_card_ends_the_reading(self, entry: str, reason: str) -> None:
        reading = keyed(entry)
        assert (reading.value, reading.reason, reading.partial) == (None, reason, None)


def after_number(
    number: str, answer: str, *, keys: bool = False, **params: Any
) -> tuple[str | None, tuple[str, str, str] | None]:
    """The number taken in one turn, then ``answer`` said (or keyed, "#"-ended) alone: the
    reason of the second turn and the parts it holds (whole or partial; None if refused)."""
    number_reading = keyed(f"{number}#", **params) if keys else reading_of(number, **params)
    assert number_reading.partial is not None
    partial = number_reading.partial
    reading = keyed(answer, partial, **params) if keys else reading_of(answer, partial, **params)
    token = reading.value or reading.partial
    return reading.reason, opened(token) if token else None


class TestWhatIsStillAsked:
    """Three or four digits alone are the part the capture still asks for (issue 14): the
    CVV when no expiry is asked for or one is held, an American Express code of four digits
    that look like a date included; the expiry when no CVV is asked for or one is held."""

    @cases(
        ("number", "answer", "keys", "expected"),
        [
            (AMEX, "four three two one", False, (None, (AMEX, "", "4321"))),
            (AMEX, "twelve twenty eight", False, (None, (AMEX, "", "1228"))),
            (AMEX, "uh it's one two two eight", False, (None, (AMEX, "", "1228"))),
            (AMEX, "oh four two seven", False, (None, (AMEX, "", "0427"))),
            (AMEX, "1228", False, (None, (AMEX, "", "1228"))),
            (AMEX, "1228#", True, (None, (AMEX, "", "1228"))),
            (AMEX, "0427#", True, (None, (AMEX, "", "0427"))),
            (AMEX, "4321#", True, (None, (AMEX, "", "4321"))),
            (VISA, "four twenty eight", False, (None, (VISA, "", "428"))),
            (VISA, "428#", True, (None, (VISA, "", "428"))),
            # The code is the brand's length or refused: never taken for an expiry.
            (VISA, "twelve twenty eight", False, ("wrong_cvv_length", None)),
            (VISA, "1228#", True, ("wrong_cvv_length", None)),
            (AMEX, "four twenty eight", False, ("wrong_cvv_length", None)),
            (AMEX, "428#", True, ("wrong_cvv_length", None)),
            # An expiry said as one is still read, though not asked for.
            (AMEX, "expires twelve twenty eight", False, ("need_cvv", (AMEX, "12/28", ""))),
            (AMEX, "december twenty eight", False, ("need_cvv", (AMEX, "12/28", ""))),
        ],
    )
    def test_no_expiry_asked_for_gives_the_cvv(
        self, number: str, answer: str, keys: bool, expected: tuple[Any, ...]
    ) -> None:
        assert after_number(number, answer, keys=keys, require_expiry=False) == expected

    @cases(
        "entry",
        [
            f"{AMEX}#1228#",
            f"{AMEX}1228#",  # no "#" between
            "378282#246310005#1228#",  # the number in two parts
        ],
    )
    def test_no_expiry_asked_for_one_entry_gives_the_cvv(self, entry: str) -> None:
        reading = keyed(entry, require_expiry=False)
        assert opened(reading.value) == (AMEX, "", "1228")

    @cases(
        "said",
        [
            "3782 822463 10005 1228",
            "3782 822463 10005, twelve twenty eight",
            "three seven eight two eight two two four six three one oh oh oh five one two two "
            "eight",
        ],
    )
    def test_no_expiry_asked_for_one_turn_gives_the_cvv(self, said: str) -> None:
        assert opened(reading_of(said, require_expiry=False).value) == (AMEX, "", "1228")

    @cases(
        ("number", "answer", "keys", "expected"),
        [
            (AMEX, "twelve twenty eight", False, (None, (AMEX, "12/28", ""))),
            (AMEX, "1228#", True, (None, (AMEX, "12/28", ""))),
            (VISA, "four twenty eight", False, (None, (VISA, "04/28", ""))),
            (VISA, "it's oh four twenty eight", False, (None, (VISA, "04/28", ""))),
            (VISA, "428#", True, (None, (VISA, "04/28", ""))),
            (VISA, "1228", False, (None, (VISA, "12/28", ""))),
            # No date and no code asked for: nothing read, the expiry asked for again.
            (VISA, "four three two one", False, ("need_expiry", (VISA, "", ""))),
            (AMEX, "4321#", True, ("need_expiry", (AMEX, "", ""))),
            (VISA, "123#", True, ("card_expired", None)),  # 1/23: read as the date it is
        ],
    )
    def test_no_cvv_asked_for_gives_the_expiry(
        self, number: str, answer: str, keys: bool, expected: tuple[Any, ...]
    ) -> None:
        assert after_number(number, answer, keys=keys, require_cvv=False) == expected

    @pytest.mark.parametrize(
        ("turns", "expected"),
        [
            # The expiry held: four digits that look like a date are the code.
            (["3782 822463 10005 exp 12/28", "twelve twenty eight"], (AMEX, "12/28", "1228")),
            (["3782 822463 10005", "12/28", "0427"], (AMEX, "12/28", "0427")),
            # The CVV held: three digits that are a date are the expiry.
            (["3782 822463 10005 cvv 4321", "four twenty eight"], (AMEX, "04/28", "4321")),
            (["4111 1111 1111 1111 code 123", "oh four twenty eight"], (VISA, "04/28", "123")),
            (["4111 1111 1111 1111 code 123", "twelve twenty eight"], (VISA, "12/28", "123")),
        ],
    )
    def test_one_part_held_the_digits_are_the_other(
        self, turns: list[str], expected: tuple[str, str, str]
    ) -> None:
        partial: str | None = None
        reading = Reading(value=None)
        for text in turns:
            reading = reading_of(text, partial)
            partial = reading.partial or partial
        assert opened(reading.value) == expected

    def test_one_part_held_keyed(self) -> None:
        """ "number#expiry#cvv#" with a code that looks like a date."""
        assert opened(keyed(f"{AMEX}#1228#1228#").value) == (AMEX, "12/28", "1228")
        held_cvv = reading_of(f"{AMEX} cvv 4321").partial
        assert opened(keyed("428#", held_cvv).value) == (AMEX, "04/28", "4321")

    @cases(
        ("number", "answer", "keys", "expected"),
        [
            # Four digits that are a month and year: the expiry, the part asked for first
            # (the prompt asks for the date and the readback says it), for Amex too.
            (AMEX, "twelve twenty eight", False, ("need_cvv", (AMEX, "12/28", ""))),
            (AMEX, "1228#", True, ("need_cvv", (AMEX, "12/28", ""))),
            (VISA, "0427#", True, ("need_cvv", (VISA, "04/27", ""))),
            # Four digits that are no date: the code.
            (AMEX, "four three two one", False, ("need_expiry", (AMEX, "", "4321"))),
            (AMEX, "4321#", True, ("need_expiry", (AMEX, "", "4321"))),
            # Three digits: the code.
            (VISA, "one two three", False, ("need_expiry", (VISA, "", "123"))),
            (VISA, "428#", True, ("need_expiry", (VISA, "", "428"))),
        ],
    )
    def test_both_asked_for_and_missing_keeps_the_order(
        self, number: str, answer: str, keys: bool, expected: tuple[Any, ...]
    ) -> None:
        assert after_number(number, answer, keys=keys) == expected

    @pytest.mark.parametrize(
        ("held", "said", "params", "expected"),
        [
            (f"{AMEX} cvv 4321", "no, 1228", {"require_expiry": False}, (AMEX, "", "1228")),
            (f"{VISA} exp 04/27", "no, 428", {"require_cvv": False}, (VISA, "04/28", "")),
            (f"{VISA} exp 04/27 cvv 123", "no, 0528", {}, (VISA, "05/28", "123")),
        ],
    )
    def test_a_correction_replaces_the_part_asked_for(
        self, held: str, said: str, params: dict[str, Any], expected: tuple[str, str, str]
    ) -> None:
        reading = reading_of(held, **params)
        assert reading.value is not None
        value = HeldValue(reading.value, reading.readback, dict(reading.parts), 0.9)
        edited = PRIMITIVE.correct(value, reply_of(said), params_of(said, **params))
        assert edited is not None and opened(edited.value) == expected


class TestAnExpiryThatIsNoDate:
    """Four digits where the expiry is asked for and missing, that are no date and not a code
    of the brand's length: an expiry that doesn't look right (``expiry_out_of_range``), not a
    code of the wrong length; and nothing of them shown."""

    def test_one_keyed_entry_says_the_expiry_is_wrong(self) -> None:
        """The review's case: 13/99 keyed, the code after it never read."""
        reading = keyed(f"{VISA}#1399#987#")
        assert (reading.value, reading.reason, reading.partial) == (
            None,
            "expiry_out_of_range",
            None,
        )
        assert "expiry" not in reading.parts and "1399" not in repr(reading)

    @cases(
        ("number", "answer", "keys"),
        [
            (VISA, "1399#", True),
            (VISA, "thirteen ninety nine", False),
            (VISA, "one three nine nine", False),
            (VISA, "uh it's 1399", False),
            (MC, "0099#", True),
        ],
    )
    def test_alone_after_the_number(self, number: str, answer: str, keys: bool) -> None:
        assert after_number(number, answer, keys=keys) == ("expiry_out_of_range", None)

    def test_with_the_code_held(self) -> None:
        """The code given first, then four digits that are no date: not a new code."""
        held_cvv = reading_of(f"{VISA} cvv 123").partial
        assert reading_of("1399", held_cvv).reason == "expiry_out_of_range"
        assert keyed("1399#", held_cvv).reason == "expiry_out_of_range"

    @cases(
        "said",
        [
            f"{VISA} expires 1399 cvv 987",
            "4111 1111 1111 1111 expires thirteen ninety nine security code nine eight seven",
            "4111 1111 1111 1111 1399 987",
        ],
    )
    def test_said_with_the_number(self, said: str) -> None:
        assert reading_of(said).reason == "expiry_out_of_range"

    @cases(
        ("said", "expected"),
        [
            ("4111 1111 1111 1111 then 042027 cvv 123", (None, (VISA, "04/27", "123"))),
            # Two digits are no expiry's shape: not read, the expiry asked for.
            ("4111 1111 1111 1111 then 99 cvv 123", ("need_expiry", (VISA, "", "123"))),
        ],
    )
    def test_other_runs_after_the_number(self, said: str, expected: tuple[Any, ...]) -> None:
        reading = reading_of(said)
        assert (reading.reason, opened(reading.value or reading.partial)) == expected

    def test_a_date_said_after_it_is_the_expiry(self) -> None:
        """ "1399, sorry, 04/27": the date said after the digits that are none."""
        reading = reading_of("4111 1111 1111 1111 1399 04/27 123")
        assert opened(reading.value) == (VISA, "04/27", "123")

    @cases(
        ("number", "answer", "params", "expected"),
        [
            # An American Express code is four digits: no date, so the code, as before.
            (AMEX, "4321#", {}, ("need_expiry", (AMEX, "", "4321"))),
            # No code asked for: nothing read, the expiry asked for again, as before.
            (VISA, "four three two one", {"require_cvv": False}, ("need_expiry", (VISA, "", ""))),
            # No expiry asked for: the code, refused for its length, as before.
            (VISA, "1399#", {"require_expiry": False}, ("wrong_cvv_length", None)),
        ],
    )
    def test_where_the_digits_fit_elsewhere(
        self, number: str, answer: str, params: dict[str, Any], expected: tuple[Any, ...]
    ) -> None:
        keys = answer.endswith("#")
        assert after_number(number, answer, keys=keys, **params) == expected

    def test_a_correction_that_is_no_date(self) -> None:
        """ "no, 1399" at the readback of a Visa: the expiry is wrong, not the code."""
        held = held_of(f"{VISA} exp 04/27 cvv 123")
        edited = PRIMITIVE.correct(held, reply_of("no, 1399"), params_of("no, 1399"))
        assert edited is not None and edited.reason == "expiry_out_of_range"


def held_of(text: str) -> HeldValue:
    reading = reading_of(text)
    assert reading.value is not None
    return HeldValue(reading.value, reading.readback, dict(reading.parts), 0.9)


def reply_of(said: str, answer: Answer = Answer.NO) -> Reply:
    text = said.split(", ", 1)[1] if answer is Answer.NO else said
    return Reply(answer, text, said)


class TestCorrections:
    HELD = "4111 1111 1111 1111 exp 04/27 cvv 123"

    @pytest.mark.parametrize(
        ("said", "expected"),
        [
            ("no, the expiry is 05/28", (VISA, "05/28", "123")),
            ("no, the expiration date is oh five twenty eight", (VISA, "05/28", "123")),
            ("no, it expires may twenty eight", (VISA, "05/28", "123")),
            ("no, the security code is 456", (VISA, "04/27", "456")),
            ("no, cvv four five six", (VISA, "04/27", "456")),
            ("no, 456", (VISA, "04/27", "456")),
            ("no, 0528", (VISA, "05/28", "123")),
            ("no, the number is 5555 5555 5555 4444", (MC, "04/27", "123")),
            ("no, 5555 5555 5555 4444", (MC, "04/27", "123")),
        ],
    )
    def test_one_part_replaced(self, said: str, expected: tuple[str, str, str]) -> None:
        edited = PRIMITIVE.correct(held_of(self.HELD), reply_of(said), params_of(said))
        assert edited is not None and opened(edited.value) == expected

    def test_no_card_words_is_no_edit(self) -> None:
        said = "no, that's not right"
        assert PRIMITIVE.correct(held_of(self.HELD), reply_of(said), params_of(said)) is None

    def test_a_bad_part_is_refused_with_its_reason(self) -> None:
        said = "no, the number is 4111 1111 1111 1112"
        edited = PRIMITIVE.correct(held_of(self.HELD), reply_of(said), params_of(said))
        assert edited is not None and edited.reason == "luhn_failed"


class TestBrandsAndLuhn:
    @pytest.mark.parametrize(
        ("number", "brand"),
        [
            ("4111", "visa"),
            ("5100", "mastercard"),
            ("5599", "mastercard"),
            ("2221", "mastercard"),
            ("2720", "mastercard"),
            ("2721", None),
            ("2220", None),
            ("2200", "mir"),
            ("340", "amex"),
            ("370", "amex"),
            ("3528", "jcb"),
            ("3589", "jcb"),
            ("3527", None),
            ("3000", "diners"),
            ("3095", "diners"),
            ("3600", "diners"),
            ("6011", "discover"),
            ("644", "discover"),
            ("650", "discover"),
            ("622126", "discover"),
            ("622925", "discover"),
            ("622125", "unionpay"),
            ("622926", "unionpay"),
            ("9", None),
            ("", None),
        ],
    )
    def test_brand_by_longest_prefix(self, number: str, brand: str | None) -> None:
        found = brand_of(number)
        assert (found.id if found else None) == brand

    @pytest.mark.parametrize(
        ("number", "valid"),
        [
            (VISA, True),
            (MC, True),
            (AMEX, True),
            ("79927398713", True),
            ("79927398710", False),
            ("4111111111111112", False),
            ("0", True),
        ],
    )
    def test_luhn(self, number: str, valid: bool) -> None:
        assert luhn_valid(number) is valid

    @pytest.mark.parametrize(
        ("digits", "expiry"),
        [
            ("0427", Expiry(4, 2027)),
            ("427", Expiry(4, 2027)),
            ("042027", Expiry(4, 2027)),
            ("42027", Expiry(4, 2027)),
            ("1230", Expiry(12, 2030)),
            ("1327", None),
            ("0027", None),
            ("12", None),
        ],
    )
    def test_expiry_digits(self, digits: str, expiry: Expiry | None) -> None:
        assert expiry_from_digits(digits) == expiry


class TestEdges:
    @pytest.mark.parametrize(
        ("text", "reason", "expiry"),
        [
            ("4111 1111 1111 1111 expires may", "need_expiry", None),
            ("4111 1111 1111 1111 exp 13/27", "need_expiry", None),
            ("4111 1111 1111 1111 oh four slash", "need_expiry", None),
            ("4111 1111 1111 1111 04/27 12345", "need_cvv", "04/27"),
            ("oh four slash twenty seven", "need_number", "04/27"),
            ("4 slash 27", "need_number", "04/27"),
        ],
    )
    def test_partly_heard(self, text: str, reason: str, expiry: str | None) -> None:
        """What cannot be a part is left out; the rest is kept."""
        reading = reading_of(text)
        assert (reading.reason, reading.parts.get("expiry")) == (reason, expiry)

    def test_a_long_run_with_no_number_in_it_is_refused(self) -> None:
        assert reading_of("4111 1111 1111 1112 1111 1111").reason == "wrong_length"

    def test_nineteen_digit_visa(self) -> None:
        reading = reading_of("4111111111111111003", require_expiry=False, require_cvv=False)
        assert opened(reading.value) == ("4111111111111111003", "", "")
