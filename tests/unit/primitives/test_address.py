"""capture_address: caller-style addresses, their parts, params, readback and corrections."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests._cases import cases
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
from voicecore.capture import Answer, HeldValue, Reading, Reply
from voicecore.primitives._usps import STATE_NAMES, STATES, SUFFIX_NAMES, SUFFIXES, zip_states
from voicecore.primitives.address import Address, CaptureAddress, CaptureAddressParams
from voicecore.service import VoiceCoreService
from voicecore.spoken.yesno import understand

PRIMITIVE = CaptureAddress()
MAIN = "123 Main St Apt 4B, San Francisco, CA 94107"


def params_of(text: str, **params: Any) -> CaptureAddressParams:
    """Params as the service builds them from a request's Struct."""
    return CaptureAddressParams.model_validate({"transcription": text, **params})


def reading_of(text: str, **params: Any) -> Reading:
    return PRIMITIVE.read(text, params_of(text, **params), None)


CALLER_CASES = [
    # spoken, the way people say house numbers and ZIP codes
    (
        "one twenty three main street apartment four b san francisco california "
        "nine four one oh seven",
        MAIN,
    ),
    ("one two three main street apartment four b san francisco california 94107", MAIN),
    (
        "one hundred twenty three main street apartment number four b san francisco "
        "california nine four one zero seven",
        MAIN,
    ),
    (
        "twenty one oh five north lake shore drive chicago illinois six oh six one one",
        "2105 N Lake Shore Dr, Chicago, IL 60611",
    ),
    (
        "fifteen hundred oak avenue unit c charleston west virginia two five three zero one",
        "1500 Oak Ave Unit C, Charleston, WV 25301",
    ),
    (
        "one two three forty second street new york new york one zero zero three six",
        "123 42nd St, New York, NY 10036",
    ),
    (
        "one oh one elm street suite two hundred austin texas seven eight seven zero one",
        "101 Elm St Ste 200, Austin, TX 78701",
    ),
    (
        "three fifty fifth avenue new york new york one zero one one eight",
        "350 5th Ave, New York, NY 10118",
    ),
    (
        "twelve hundred west second street austin texas seven eight seven zero one",
        "1200 W 2nd St, Austin, TX 78701",
    ),
    (
        "eight eight colin p kelly junior street san francisco california nine four one oh seven",
        "88 Colin P Kelly Junior St, San Francisco, CA 94107",
    ),
    (
        "four hundred park avenue south, new york new york one zero zero one six",
        "400 Park Ave S, New York, NY 10016",
    ),
    (
        "seven forty two evergreen terrace springfield oregon nine seven four seven seven",
        "742 Evergreen Ter, Springfield, OR 97477",
    ),
    (
        "ten downing street columbus ohio four three two one five dash one two three four",
        "10 Downing St, Columbus, OH 43215-1234",
    ),
    (
        "five hundred elm street lot twelve reno nevada eight nine five oh one",
        "500 Elm St Lot 12, Reno, NV 89501",
    ),
    (
        "nine nine nine third avenue seattle washington ninety eight one oh four",
        "999 3rd Ave, Seattle, WA 98104",
    ),
    (
        "two twelve east twelfth street new york ny one zero zero zero three",
        "212 E 12th St, New York, NY 10003",
    ),
    (
        "forty two west sixtieth street new york ny one zero zero two three",
        "42 W 60th St, New York, NY 10023",
    ),
    (
        "three hundred forty twentieth court salem oregon nine seven three oh one",
        "340 20th Ct, Salem, OR 97301",
    ),
    # written, as typed or as a formatting ASR writes it
    ("123 Main St., Apt 4B, San Francisco, CA 94107", MAIN),
    ("123 Main Street, Apartment 4B, San Francisco, California 94107.", MAIN),
    ("123 main st apt 4b san francisco ca 94107", MAIN),
    ("123 MAIN ST APT 4B SAN FRANCISCO CA 94107", MAIN),
    ("123 Main St #4B, San Francisco, CA 94107", "123 Main St # 4B, San Francisco, CA 94107"),
    (
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
    ),
    (
        "350 Fifth Avenue, Suite 3300, New York, NY 10118-3300",
        "350 5th Ave Ste 3300, New York, NY 10118-3300",
    ),
    ("123 Broadway, Albany, NY 12207", "123 Broadway, Albany, NY 12207"),
    ("500 W 2nd St Apt #12 Austin TX 78701", "500 W 2nd St Apt 12, Austin, TX 78701"),
    ("10 Downing St Columbus OH 43215", "10 Downing St, Columbus, OH 43215"),
    ("221 Baker Blvd, Boise, Idaho 83702", "221 Baker Blvd, Boise, ID 83702"),
    ("42 Wallaby Way, Sydney, Maine 04101", "42 Wallaby Way, Sydney, ME 04101"),
    (
        "77 Massachusetts Ave, Cambridge, MA 02139",
        "77 Massachusetts Ave, Cambridge, MA 02139",
    ),
    ("1 Infinite Loop, Cupertino, CA 95014", "1 Infinite Loop, Cupertino, CA 95014"),
    ("2 Pier Ln Slip 4, Key West, FL 33040", "2 Pier Ln Slip 4, Key West, FL 33040"),
    ("8 Elm Ct, Bldg C, Raleigh, North Carolina 27601", "8 Elm Ct Bldg C, Raleigh, NC 27601"),
    # carrier phrases, fillers, thanks and self-corrections around it
    ("my address is 123 Main Street, Apartment 4B, San Francisco, California 94107", MAIN),
    (
        "uh my address is um twenty one oh five north lake shore drive chicago illinois "
        "six oh six one one",
        "2105 N Lake Shore Dr, Chicago, IL 60611",
    ),
    ("Yeah, it's 123 Main St., Apt 4B, San Francisco, CA 94107.", MAIN),
    ("i live at 123 main st apt 4b san francisco ca 94107", MAIN),
    ("it's at 123 main st apt 4b san francisco ca 94107", MAIN),
    ("the address is, 123 Main St, Apt 4B, San Francisco, CA 94107, thank you", MAIN),
    ("sure, 123 main st apt 4b, san francisco, ca 94107 please", MAIN),
    ("um, so, 123 Main St, uh, Apt 4B, San Francisco, CA, 94107", MAIN),
    ("125 elm street, sorry, 123 main st apt 4b san francisco ca 94107", MAIN),
    ("my street address would be 123 Main St Apt 4B San Francisco CA 94107", MAIN),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_address(self, text: str, expected: str) -> None:
        """Caller phrasing around an address gives its one-line postal form."""
        assert reading_of(text).value == expected

    def test_there_are_forty_cases(self) -> None:
        """The table covers at least the forty caller cases the issue asks for."""
        assert len(CALLER_CASES) >= 40

    def test_parts_are_in_data(self) -> None:
        """Each part is in ``parts`` in its postal form, the state in two letters."""
        reading = reading_of(
            "one twenty three main street apartment four b san francisco "
            "california nine four one oh seven"
        )
        assert reading.parts == {
            "number": "123",
            "street": "Main St",
            "unit": "Apt 4B",
            "city": "San Francisco",
            "state": "CA",
            "zip": "94107",
        }

    def test_an_address_without_a_unit_has_an_empty_unit(self) -> None:
        reading = reading_of("10 Downing St Columbus OH 43215")
        assert reading.parts["unit"] == ""

    @cases(
        ("text", "expected"),
        [
            (
                "oh i live at two fifty seven south third road apartment three d, san francisco "
                "california nine four one zero seven thanks",
                "257 S 3rd Rd Apt 3D, San Francisco, CA 94107",
            ),
            (
                "oh uh thirty one forty two pine avenue, phoenix arizona eight five oh zero four",
                "3142 Pine Ave, Phoenix, AZ 85004",
            ),
        ],
    )
    def test_an_opening_oh_is_an_interjection_when_only_that_gives_an_address(
        self, text: str, expected: str
    ) -> None:
        """Audio benchmark cases: "oh i" was read as a zero and a letter, no house number."""
        assert reading_of(text).value == expected

    def test_an_opening_oh_keeps_the_first_reason_when_no_reading_is_whole(self) -> None:
        reading = reading_of("oh i live at 123 main street")
        assert (reading.value, reading.reason) == (None, "no_house_number")


class TestHeardAlike:
    @cases(
        ("text", "expected"),
        [
            ("12 Oak Avenue sweet 4, Salem, Oregon 97301", "12 Oak Ave Ste 4, Salem, OR 97301"),
            (
                "it's 900 Market Street, Sweet 1200, Louisville, Ken Tucky 40202",
                "900 Market St Ste 1200, Louisville, KY 40202",
            ),
            ("5 Elm Road sweet two b, Reno, Neva Da 89501", "5 Elm Rd Ste 2B, Reno, NV 89501"),
            ("77 Pine Lane, Boise, Ida Ho, 83702", "77 Pine Ln, Boise, ID 83702"),
        ],
    )
    def test_a_suite_and_a_state_heard_alike_read_less_certain(
        self, text: str, expected: str
    ) -> None:
        """ "sweet" before a unit's number is "suite"; a state's name split in two before the
        ZIP is the state: read so, less certain than an address heard as said."""
        reading = reading_of(text)
        assert reading.value == expected
        assert reading.certainty < reading_of(expected).certainty

    @cases(
        ("text", "expected"),
        [
            ("12 Sweet Street, Salem, Oregon 97301", "12 Sweet St, Salem, OR 97301"),
            ("3 Main Street, Sweet Home, Oregon 97386", "3 Main St, Sweet Home, OR 97386"),
            ("8 Oak Drive, Cal Fornia, Oregon 97301", "8 Oak Dr, Cal Fornia, OR 97301"),
        ],
    )
    def test_the_words_elsewhere_stay_as_said(self, text: str, expected: str) -> None:
        """ "Sweet" as a street's or city's name stays; two words that join into no state stay."""
        reading = reading_of(text)
        assert (reading.value, reading.certainty) == (expected, reading_of(expected).certainty)


class TestReadback:
    def test_says_abbreviations_in_full_and_the_zip_digit_by_digit(self) -> None:
        """The issue's readback: "123 Main Street, Apartment 4B, San Francisco, California,
        9 4 1 0 7"."""
        reading = reading_of(MAIN)
        assert (
            reading.readback
            == "123 Main Street, Apartment 4B, San Francisco, California, 9 4 1 0 7"
        )

    def test_directions_and_zip_plus_four(self) -> None:
        reading = reading_of("1600 Pennsylvania Ave NW, Washington, DC 20500-0003")
        assert reading.readback == (
            "1600 Pennsylvania Avenue Northwest, Washington, District of Columbia, "
            "2 0 5 0 0, 0 0 0 3"
        )

    def test_a_number_sign_unit_is_said_as_number(self) -> None:
        reading = reading_of("123 Main St #4B, San Francisco, CA 94107")
        assert reading.readback.startswith("123 Main Street, Number 4B, ")


class TestNoWordOfTalkInAPart:
    @cases(
        ("text", "expected"),
        [
            (
                "one twenty three main street in brooklyn new york one one two oh one",
                "123 Main St, Brooklyn, NY 11201",
            ),
            (
                "123 main street, i think it's san francisco, california 94107",
                "123 Main St, San Francisco, CA 94107",
            ),
            ("123 main street, it is in boston, ma 02101", "123 Main St, Boston, MA 02101"),
            # a direction, then the street's one suffix: the direction is the street's name
            ("123 North Street, Boston, MA 02101", "123 North St, Boston, MA 02101"),
            ("12 west avenue apartment 3, boston ma 02101", "12 West Ave Apt 3, Boston, MA 02101"),
            ("123 south st, boston, ma 02101", "123 South St, Boston, MA 02101"),
            # ... and still a direction before a name that is also a suffix ("park avenue")
            ("123 north park avenue, boston, ma 02101", "123 N Park Ave, Boston, MA 02101"),
            ("123 north main street, boston, ma 02101", "123 N Main St, Boston, MA 02101"),
        ],
    )
    def test_reads_the_part_not_the_talk(self, text: str, expected: str) -> None:
        assert reading_of(text).value == expected

    def test_a_city_of_talk_alone_is_no_city(self) -> None:
        reading = reading_of("123 main street, i think it's, ma 02101")
        assert (reading.value, reading.reason) == (None, "no_city")

    def test_a_city_edit_cuts_the_talk_too(self) -> None:
        said = "the city is i think it's oakland"
        edited = PRIMITIVE.correct(held(), reply(said), params_of(said))
        assert edited is not None and edited.value == "123 Main St Apt 4B, Oakland, CA 94107"


class TestZipAndState:
    @cases(
        ("text", "default_state", "expected"),
        [
            # no state said: the ZIP's state wins over the default
            ("123 main street boston 02101", "CA", "123 Main St, Boston, MA 02101"),
            ("123 main street, oakland, 94612", "NV", "123 Main St, Oakland, CA 94612"),
            ("123 main street, oakland, 94612", None, "123 Main St, Oakland, CA 94612"),
            # a prefix two states share, or none does: the default stays
            ("1 main st, austin, 73301", "TX", "1 Main St, Austin, TX 73301"),
            ("1 main st, apo, 09001", "NY", "1 Main St, Apo, NY 09001"),
            # a state said that the ZIP's prefix agrees with
            (
                "1 main st, fishers island, new york 06390",
                None,
                "1 Main St, Fishers Island, NY 06390",
            ),
            ("1 main st, fishers island, ct 06390", None, "1 Main St, Fishers Island, CT 06390"),
        ],
    )
    def test_the_state_agrees_with_the_zip(
        self, text: str, default_state: str | None, expected: str
    ) -> None:
        assert reading_of(text, default_state=default_state).value == expected

    @cases(
        "text",
        [
            "123 main street, boston, california 02101",
            "123 main st, san francisco, ny 94107",
            "123 main st, san francisco, new york, nine four one oh seven",
        ],
    )
    def test_a_state_said_against_the_zip_is_no_value(self, text: str) -> None:
        """Which of the two is wrong is the caller's to say: no value, every part in data."""
        reading = reading_of(text, default_state="CA")
        assert (reading.value, reading.reason) == (None, "zip_state_mismatch")
        assert set(reading.parts) == {"number", "street", "city", "state", "zip"}

    @cases(
        ("said", "reason"),
        [
            ("the state is nevada please", "zip_state_mismatch"),
            ("the zip is 02101", "zip_state_mismatch"),
        ],
    )
    def test_an_edit_against_the_other_part_is_no_value(self, said: str, reason: str) -> None:
        edited = PRIMITIVE.correct(held(), reply(said), params_of(said))
        assert edited is not None and (edited.value, edited.reason) == (None, reason)

    def test_an_edit_to_a_state_the_zip_agrees_with(self) -> None:
        said = "the state is new york"
        edited = PRIMITIVE.correct(
            held("1 Main St, Fishers Island, CT 06390"), reply(said), params_of(said)
        )
        assert edited is not None and edited.value == "1 Main St, Fishers Island, NY 06390"

    def test_every_state_has_zips(self) -> None:
        """Each state and possession of the table has a ZIP prefix (a row left out would
        never be checked)."""
        prefixes = [f"{prefix:03d}00" for prefix in range(1000)]
        named = {state for zip_code in prefixes for state in zip_states(zip_code)}
        assert named == set(STATE_NAMES)


class TestMissingParts:
    @cases(
        ("text", "reason", "heard"),
        [
            ("", "no_value_heard", {}),
            ("my address is", "no_value_heard", {}),
            ("main street san francisco", "no_house_number", {}),
            ("one twenty three", "no_street", {"number": "123"}),
            ("123 main street", "no_city", {"number": "123", "street": "Main St"}),
            (
                "742 evergreen terrace springfield",
                "no_state",
                {"number": "742", "street": "Evergreen Ter", "city": "Springfield"},
            ),
            (
                "742 evergreen terrace springfield oregon",
                "no_zip",
                {"number": "742", "street": "Evergreen Ter", "city": "Springfield", "state": "OR"},
            ),
            ("123 main st apt, springfield", "no_unit", {"number": "123", "street": "Main St"}),
        ],
    )
    def test_says_what_is_missing_with_what_was_heard(
        self, text: str, reason: str, heard: dict[str, str]
    ) -> None:
        """Without a whole address there is no value; the reason names the first part missing."""
        reading = reading_of(text)
        assert (reading.value, reading.reason, dict(reading.parts)) == (None, reason, heard)

    @cases("text", ["0 main street boston ma 02108", "one two three four five six seven main st"])
    def test_a_house_number_is_a_number_people_have(self, text: str) -> None:
        assert reading_of(text).reason == "no_house_number"

    @cases("text", ["123 main st boston ma 0210", "123 main st boston ma 021081"])
    def test_a_zip_has_five_or_nine_digits(self, text: str) -> None:
        assert reading_of(text).reason == "no_zip"


class TestParams:
    def test_default_state_when_none_is_said(self) -> None:
        reading = reading_of("123 main street, oakland, 94612", default_state="CA")
        assert reading.value == "123 Main St, Oakland, CA 94612"

    def test_a_state_said_wins_over_the_default(self) -> None:
        reading = reading_of("123 main st reno nevada 89501", default_state="CA")
        assert reading.value == "123 Main St, Reno, NV 89501"

    def test_require_unit(self) -> None:
        """With ``require_unit`` an address without a unit is no value (``no_unit``)."""
        without = reading_of("10 Downing St Columbus OH 43215", require_unit=True)
        assert (without.value, without.reason) == (None, "no_unit")
        assert reading_of(MAIN, require_unit=True).value == MAIN

    @pytest.mark.parametrize("state", ["ca", "California", "C", "CAL"])
    def test_default_state_is_two_capital_letters(self, state: str) -> None:
        with pytest.raises(ValidationError, match="default_state"):
            params_of("x", default_state=state)

    def test_long_hypotheses_are_refused_by_the_shared_bound(self) -> None:
        with pytest.raises(ValidationError, match="transcription"):
            params_of("1" * 2001)

    def test_schema_names_the_params(self) -> None:
        schema = CaptureAddressParams.model_json_schema()
        assert {"require_unit", "default_state"} <= set(schema["properties"])


def held(text: str = MAIN) -> HeldValue:
    reading = reading_of(text)
    assert reading.value is not None
    return HeldValue(reading.value, reading.readback, dict(reading.parts), confidence=0.9)


def reply(text: str) -> Reply:
    return Reply(Answer.NO, text, f"no {text}")


class TestCorrections:
    @cases(
        ("said", "expected"),
        [
            ("the zip is 94110", "123 Main St Apt 4B, San Francisco, CA 94110"),
            (
                "the zip code is nine four one one zero",
                "123 Main St Apt 4B, San Francisco, CA 94110",
            ),
            ("uh the zip is 94107-1234", "123 Main St Apt 4B, San Francisco, CA 94107-1234"),
            ("94110", "123 Main St Apt 4B, San Francisco, CA 94110"),
            ("it's apartment 5 not 4b", "123 Main St Apt 5, San Francisco, CA 94107"),
            ("not 4b, apartment 5", "123 Main St Apt 5, San Francisco, CA 94107"),
            ("apartment five", "123 Main St Apt 5, San Francisco, CA 94107"),
            ("suite 12", "123 Main St Ste 12, San Francisco, CA 94107"),
            ("the city is oakland", "123 Main St Apt 4B, Oakland, CA 94107"),
            ("the street is market street", "123 Market St Apt 4B, San Francisco, CA 94107"),
            ("the house number is one twenty five", "125 Main St Apt 4B, San Francisco, CA 94107"),
            (
                "the city is san jose not san francisco",
                "123 Main St Apt 4B, San Jose, CA 94107",
            ),
            (
                "the street is market street not main",
                "123 Market St Apt 4B, San Francisco, CA 94107",
            ),
        ],
    )
    def test_sets_one_part(self, said: str, expected: str) -> None:
        """A correction of one part keeps the others."""
        edited = PRIMITIVE.correct(held(), reply(said), params_of(said))
        assert edited is not None and edited.value == expected

    @cases(
        "said",
        [
            "125 Main St, San Francisco, CA 94107",  # a new address: read, not edited
            "the zip is 9410",
            "the state is texas or maybe ohio",
            "the city is 94107",
            "the street is 94107",
            "the number is twelve b c",
            "apartment",
            "i said main street",
            # a judgement of a part is no value of it: the yes/no/unclear path reads it
            "the street is correct",
            "the street is wrong",
            "the city is right",
            "the city is the same",
            "the zip is fine",
            "the state is that",
            # a bare rejection says which part is wrong, not what it is
            "the city is not san francisco",
            "the street is not main street",
        ],
    )
    def test_other_replies_are_no_edit(self, said: str) -> None:
        assert PRIMITIVE.correct(held(), reply(said), params_of(said)) is None

    @cases("said", ["yes that is it number 4b", "yes, that's it, number 125"])
    def test_number_after_a_yes_is_no_house_number_edit(self, said: str) -> None:
        """After a yes, "number 4b" is no new house number (it may name the unit)."""
        meant = understand(said)
        assert meant.answer is Answer.YES
        assert PRIMITIVE.correct(held(), Reply.understood(said, meant), params_of(said)) is None

    def test_number_after_a_no_still_sets_the_house_number(self) -> None:
        said = "no, number 125"
        edited = PRIMITIVE.correct(
            held(), Reply.understood(said, understand(said)), params_of(said)
        )
        assert edited is not None and edited.value == "125 Main St Apt 4B, San Francisco, CA 94107"

    def test_an_edit_that_leaves_a_required_part_out_is_no_value(self) -> None:
        """The held address kept no unit: with ``require_unit`` an edit still lacks it."""
        edited = PRIMITIVE.correct(
            held("10 Downing St Columbus OH 43215"),
            reply("the zip is 43216"),
            params_of("x", require_unit=True),
        )
        assert edited is not None and (edited.value, edited.reason) == (None, "no_unit")


class TestTables:
    def test_every_abbreviation_says_back_a_name(self) -> None:
        """Each form maps to an abbreviation that the readback can say in full."""
        assert set(STATES.values()) == set(STATE_NAMES)
        assert set(SUFFIXES.values()) == set(SUFFIX_NAMES)
        assert len(STATE_NAMES) == 56  # the fifty states, DC and five possessions

    def test_an_address_round_trips_through_its_parts(self) -> None:
        address = Address("1", "Elm St", "", "Reno", "NV", "89501")
        assert address.postal() == "1 Elm St, Reno, NV 89501"
        assert address.spoken() == "1 Elm Street, Reno, Nevada, 8 9 5 0 1"


async def test_hypotheses_that_agree_outvote_one_that_does_not() -> None:
    """A said and a written form of one address beat a third that hears another ZIP."""
    service = VoiceCoreService.from_settings()
    alternatives = [
        {"transcription": "123 Main St, Apt 4B, San Francisco, CA 94101", "confidence": 0.5},
        {"transcription": "123 Main St., Apt 4B, San Francisco, CA 94107", "confidence": 0.4},
    ]
    request = ExecutePrimitiveRequest(
        objective_type="capture_address",
        params=Struct.from_dict(
            {
                "transcription": "one twenty three main street apartment four b san francisco "
                "california nine four one oh seven",
                "asr_confidence": 0.45,
                "alternatives": alternatives,
            }
        ),
    )
    response = await service.execute_primitive(request)
    assert response.success and response.data is not None
    data = response.data.to_dict()
    assert data["value"] == MAIN
    assert data["zip"] == "94107"


class TestPoBoxesAndHighways:
    BOX = "PO Box 123, Springfield, IL 62701"

    def test_a_po_box_is_said_back_letter_by_letter(self) -> None:
        """ "P O Box", not "PO" (a word to a TTS voice); no house number before it."""
        reading = reading_of("p.o. box one twenty three springfield illinois 62701")
        assert reading.value == self.BOX
        assert reading.readback == "P O Box 123, Springfield, Illinois, 6 2 7 0 1"
        assert reading.parts["street"] == "PO Box 123"

    def test_a_po_box_needs_no_unit(self) -> None:
        """``require_unit`` asks a street address for its unit; a PO box has none to say."""
        assert reading_of(self.BOX, require_unit=True).value == self.BOX

    @pytest.mark.parametrize(
        ("text", "reason"), [("po box springfield il 62701", "no_house_number")]
    )
    def test_a_po_box_without_its_number(self, text: str, reason: str) -> None:
        """ "PO box" with no number after it is no address: no number is heard."""
        assert reading_of(text).reason == reason

    def test_a_zip_edit_keeps_the_box(self) -> None:
        """Correcting one part of a PO box address keeps the box."""
        edited = PRIMITIVE.correct(held(self.BOX), reply("the zip is 62702"), params_of(""))
        assert edited is not None and edited.value == "PO Box 123, Springfield, IL 62702"
        assert edited.parts["po_box"] == "123"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1200 Highway 1, Monterey, CA 93940", "1200 Highway 1, Monterey, CA 93940"),
            (
                "five hundred u.s. highway one oh one north, eureka, california 95501",
                "500 US Highway 101 N, Eureka, CA 95501",
            ),
            (
                "3 County Rd 12 Suite 4, Fairview TX 75069",
                "3 County Road 12 Ste 4, Fairview, TX 75069",
            ),
            (
                "12 Pacific Coast Highway, Malibu, CA 90265",
                "12 Pacific Coast Hwy, Malibu, CA 90265",
            ),
            ("9 Highway Lane, Dover, DE 19901", "9 Highway Ln, Dover, DE 19901"),
        ],
    )
    def test_highway_style_streets(self, text: str, expected: str) -> None:
        """A route's kind and number is the street, in full; "Highway" with no number after
        it is a suffix or a name as before."""
        reading = reading_of(text)
        assert reading.value == expected, reading.parts
        assert "po_box" not in reading.parts

    def test_a_highway_is_said_back_in_full(self) -> None:
        reading = reading_of("500 US Hwy 101 N, Eureka, CA 95501")
        assert reading.readback.startswith("500 US Highway 101 North, Eureka, ")
