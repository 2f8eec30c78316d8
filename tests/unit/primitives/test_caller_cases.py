"""Hard cases real callers produce (../shared/eval/README.md), through the real primitives.

Each case goes through ``VoiceCoreService.execute_primitive`` as the wire would send it:
carrier phrases, local parts made of ordinary words, "oh"/"double"/"triple", toll-free
numbers, grouped number words, phonetic spelling, self-corrections, ZIP codes, order and
confirmation codes, yes/no in its many forms, and answers to a readback over several turns.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest, PrimitiveState
from voicecore.service import VoiceCoreService

NC = PrimitiveState.NEEDS_CONFIRMATION
COMPLETED = PrimitiveState.COMPLETED
INCOMPLETE = PrimitiveState.INCOMPLETE
_CONVERSATIONS = itertools.count()


@dataclass(frozen=True)
class Outcome:
    """What one turn answered: the state and the data."""

    state: PrimitiveState
    data: dict[str, Any]

    @property
    def value(self) -> object:
        return self.data.get("value")


@pytest.fixture(scope="module")
def service() -> VoiceCoreService:
    return VoiceCoreService.from_settings()


async def execute(
    service: VoiceCoreService,
    objective_type: str,
    text: str,
    conversation_id: str = "",
    **params: Any,
) -> Outcome:
    request = ExecutePrimitiveRequest(
        objective_type=objective_type,
        conversation_id=conversation_id,
        params=Struct.from_dict({"transcription": text, **params}),
    )
    response = await service.execute_primitive(request)
    assert response.success, response.error
    assert response.metadata is not None and response.data is not None
    return Outcome(response.metadata.state, response.data.to_dict())


def case(objective_type: str, text: str, expected: str) -> Any:
    return pytest.param(objective_type, text, expected, id=f"{objective_type}: {text}")


SINGLE_TURN = {
    "carrier phrases": [
        case("capture_email", "my email is j smith at gmail dot com thanks", "jsmith@gmail.com"),
        case("capture_email", "sure it's mary at aol dot com", "mary@aol.com"),
        case("capture_email", "you can send it to john underscore smith at hotmail dot com",
             "john_smith@hotmail.com"),
        case("capture_phone", "my cell phone number is nine one seven five five five oh one oh one",
             "+19175550101"),
        case("capture_phone", "you can reach me at four one five five five five two six seven one",
             "+14155552671"),
        case("capture_name", "my name is j o h n", "John"),
        case("capture_name", "i'm sarah s a r a h", "Sarah"),
        case("capture_digits", "the confirmation code is k nine x two p", "K9X2P"),
    ],
    "local parts made of ordinary words": [
        case("capture_email", "my email is blue dot ocean at outlook dot com",
             "blue.ocean@outlook.com"),
        case("capture_email", "it's red apple at gmail dot com", "redapple@gmail.com"),
        case("capture_email", "my email address is sunny day twenty three at yahoo dot com",
             "sunnyday23@yahoo.com"),
        case("capture_email", "uh it's big blue whale at outlook dot com",
             "bigbluewhale@outlook.com"),
        case("capture_email", "green tree forty two at icloud dot com", "greentree42@icloud.com"),
        case("capture_email", "my email is info at my company dot com", "info@mycompany.com"),
        case("capture_email", "it is john smith one nine eight five at gmail dot com",
             "johnsmith1985@gmail.com"),
        case("capture_email", "it's happy dog at gmail", "happydog@gmail.com"),
        case("capture_email", "my email is mike dash jones at company dot co dot uk",
             "mike-jones@company.co.uk"),
    ],
    "oh, double, triple": [
        case("capture_phone", "two oh two five five five oh one nine eight", "+12025550198"),
        case("capture_phone", "four one five double five five two six seven one", "+14155552671"),
        case("capture_phone", "six one seven triple five oh one four two", "+16175550142"),
        case("capture_digits", "the code is triple seven oh one", "77701"),
        case("capture_digits", "b as in boy seven double four", "B744"),
        case("capture_phone", "it's two one two, five five five, oh one double oh",
             "+12125550100"),
        case("capture_phone", "my number's three one two five five five triple oh one",
             "+13125550001"),
    ],
    "toll-free numbers": [
        case("capture_phone", "one eight hundred five five five one two one two", "+18005551212"),
        case("capture_phone", "it's one eight seven seven five five five oh one oh one",
             "+18775550101"),
        case("capture_phone", "eight six six five five five one two three four", "+18665551234"),
        case("capture_phone", "eight hundred five five five one two one two", "+18005551212"),
        case("capture_phone", "one eight hundred and five five five one two one two",
             "+18005551212"),
    ],
    "grouped number words": [
        case("capture_phone", "four fifteen five five five twenty six seventy one", "+14155552671"),
        case("capture_phone", "two twelve five five five oh one nine nine", "+12125550199"),
        case("capture_phone", "six fifty five five five one two one two", "+16505551212"),
        case("capture_phone", "seven one eight five five five nineteen eighty four",
             "+17185551984"),
        case("capture_digits", "zip is ninety two one oh one", "92101"),
        case("capture_digits", "my order number is twenty three forty five", "2345"),
    ],
    "phonetic spelling": [
        case("capture_email", "j as in john o h n at gmail dot com", "john@gmail.com"),
        case("capture_email", "bravo oscar bravo at gmail dot com", "bob@gmail.com"),
        case("capture_name", "b as in boy o b", "Bob"),
        case("capture_name", "sierra alpha mike", "Sam"),
        case("capture_name", "k as in kilo a t e", "Kate"),
        case("capture_email", "double u i l l at gmail dot com", "will@gmail.com"),
        case("capture_email", "tango oscar mike at hotmail dot com", "tom@hotmail.com"),
        case("capture_digits", "it's charlie four echo seven", "C4E7"),
        case("capture_digits", "confirmation number is alpha bravo seven seven nine", "AB779"),
        case("capture_digits", "it's d as in david e as in echo four two", "DE42"),
        case("capture_digits", "the confirmation code is x as in x-ray seven double four",
             "X744"),
    ],
    "self-corrections": [
        case("capture_email", "john at gmail dot com no wait jane at gmail dot com",
             "jane@gmail.com"),
        case("capture_email",
             "john dot smith at gmail dot com sorry i mean john dot smyth at gmail dot com",
             "john.smyth@gmail.com"),
        case("capture_phone",
             "four one five five five five no wait six one seven five five five two six seven one",
             "+16175552671"),
        case("capture_phone",
             "two one two five five five one two three four sorry one two three five",
             "+12125551235"),
        case("capture_name", "my name is john no wait j o n", "Jon"),
        case("capture_name", "s m i t h no wait s m y t h", "Smyth"),
        case("capture_digits",
             "order number one two three four five no wait one two three four six", "12346"),
    ],
    "ZIP codes": [
        case("capture_digits", "my zip is nine oh two one oh", "90210"),
        case("capture_digits", "the zip code is nine zero two one zero", "90210"),
        case("capture_digits", "zip code one oh oh oh one", "10001"),
        case("capture_digits", "my zip code is oh two one three eight", "02138"),
        case("capture_digits", "zip code is two zero zero zero one", "20001"),
    ],
    "order and confirmation codes": [
        case("capture_digits", "my order number is a b c one two three", "ABC123"),
        case("capture_digits", "it's q w e r t y", "QWERTY"),
        case("capture_digits", "my account number is four five six seven eight nine", "456789"),
        case("capture_digits", "the reference is AB-1234", "AB1234"),
        case("capture_digits", "the order number is one two three dash four five six",
             "123456"),
    ],
}  # fmt: skip


def _flatten() -> list[Any]:
    return [param for params in SINGLE_TURN.values() for param in params]


class TestSingleTurn:
    @pytest.mark.parametrize(("objective_type", "text", "expected"), _flatten())
    async def test_value_heard(
        self, service: VoiceCoreService, objective_type: str, text: str, expected: str
    ) -> None:
        """The caller's way of saying the value yields its canonical form for confirmation."""
        outcome = await execute(service, objective_type, text)
        assert (outcome.state, outcome.value) == (NC, expected)

    @pytest.mark.parametrize(
        ("objective_type", "text"),
        [
            ("capture_phone", "My card number is 12345678"),
            ("capture_phone", "my order number is four one five five five five two six seven one"),
            ("capture_name", "it's spelled differently"),
            ("capture_email", "i don't have one"),
            ("capture_phone", "one eight hundred flowers"),
        ],
    )
    async def test_no_value(
        self, service: VoiceCoreService, objective_type: str, text: str
    ) -> None:
        """Talk that carries no value of the kind asked for yields none."""
        outcome = await execute(service, objective_type, text)
        assert outcome.value is None
        assert outcome.state is INCOMPLETE


class TestYesNo:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            *[(text, "yes") for text in (
                "yes", "yeah that's right", "correct", "that's it", "yep you got it", "uh huh",
                "sure thing", "absolutely", "yes please", "mm hmm", "that is correct",
                "go ahead", "sounds good", "yes it is", "that's correct thank you", "yeah sure",
                "no wait yes", "that's the right number",
            )],
            *[(text, "no") for text in (
                "nope", "no that's wrong", "that's not right", "yeah no", "not really",
                "i don't think so", "nah", "definitely not", "negative", "no thank you",
                "no it isn't",
            )],
        ],
    )  # fmt: skip
    async def test_confirm(self, service: VoiceCoreService, text: str, expected: str) -> None:
        """confirm reads the many forms of yes and no."""
        outcome = await execute(service, "confirm", text)
        assert outcome.value == expected

    @pytest.mark.parametrize("text", ["i'm not sure", "maybe", "what"])
    async def test_unclear(self, service: VoiceCoreService, text: str) -> None:
        """Neither a yes nor a no gives no value."""
        assert (await execute(service, "confirm", text)).value is None


ANSWERS = [
    # (objective, first turn, answer, state after the answer, value after the answer)
    ("capture_name", "j o h n", "yes but it's j o n", NC, "Jon"),
    ("capture_name", "j o h n", "that's it", COMPLETED, "John"),
    ("capture_name", "j o h n", "correct", COMPLETED, "John"),
    ("capture_name", "j o h n", "yes that's my name", COMPLETED, "John"),
    ("capture_name", "j o h n", "no it's j o n", NC, "Jon"),
    ("capture_name", "j o h n", "yeah but the last letter is a", NC, "Joha"),
    ("capture_name", "j o h n", "yes sorry no it's j o n", NC, "Jon"),
    ("capture_name", "j o h n", "yes but it's spelled differently", NC, "John"),
    ("capture_name", "f a m", "s as in sam", NC, "Sam"),
    ("capture_email", "john at gmail dot com", "yes but it's j o n at gmail dot com", NC,
     "jon@gmail.com"),
    ("capture_email", "john at gmail dot com", "no it's yahoo dot com", NC, "john@yahoo.com"),
    ("capture_email", "john at gmail dot com", "that's it", COMPLETED, "john@gmail.com"),
    ("capture_phone", "four one five five five five two six seven one",
     "no the last digit is two", NC, "+14155552672"),
    ("capture_phone", "four one five five five five two six seven one",
     "the area code is six one seven", NC, "+16175552671"),
    ("capture_phone", "four one five five five five two six seven one",
     "yes but the last digit is wrong", NC, "+14155552671"),
    ("capture_phone", "four one five five five five two six seven one",
     "that's the right number", COMPLETED, "+14155552671"),
    ("capture_digits", "nine oh two one oh", "yes but the last digit is a five", NC, "90215"),
    ("capture_digits", "nine oh two one oh", "yes nine oh two one oh", COMPLETED, "90210"),
]  # fmt: skip


class TestAnswersToTheReadback:
    @pytest.mark.parametrize(("objective_type", "first", "answer", "state", "value"), ANSWERS)
    async def test_answer(
        self,
        service: VoiceCoreService,
        objective_type: str,
        first: str,
        answer: str,
        state: PrimitiveState,
        value: str | None,
    ) -> None:
        """A yes completes, a correction is read back again, "yes, but ..." is no yes."""
        conversation = f"caller-{next(_CONVERSATIONS)}"
        held = await execute(service, objective_type, first, conversation)
        assert held.state is NC
        outcome = await execute(service, objective_type, answer, conversation)
        assert (outcome.state, outcome.value) == (state, value)

    async def test_partial_phone_completed_by_next_turn(self, service: VoiceCoreService) -> None:
        """Six digits wait for the rest; the next turn completes the number."""
        conversation = f"caller-{next(_CONVERSATIONS)}"
        first = await execute(
            service, "capture_phone", "four one five five five five", conversation
        )
        assert (first.state, first.data["partial"]) == (INCOMPLETE, "415555")
        done = await execute(service, "capture_phone", "two six seven one", conversation)
        assert (done.state, done.value) == (NC, "+14155552671")
