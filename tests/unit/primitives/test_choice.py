"""capture_choice: options by name, synonym, place, close and sound-alike; none; ambiguity."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError

from tests._cases import cases
from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest, PrimitiveState
from voicecore.capture import (
    INLINE_READ_CHARS,
    Answer,
    HeldValue,
    InMemoryCaptureStore,
    Reading,
    Reply,
)
from voicecore.capture._turn import _reading_chars
from voicecore.primitive import PrimitiveContext, PrimitiveResult
from voicecore.primitives.choice import CaptureChoice, CaptureChoiceParams, phonetic_key
from voicecore.service import VoiceCoreService

PRIMITIVE = CaptureChoice()
OPTIONS: list[dict[str, Any]] = [
    {"id": "small", "label": "Small pizza", "synonyms": ["small", "little one"]},
    {"id": "large", "label": "Large pizza", "synonyms": ["large", "big one", "family size"]},
    {"id": "card", "label": "Mastercard", "synonyms": ["credit card"]},
    {"id": "steven", "label": "Steven"},
    {"id": "katie", "label": "Katie"},
]


def params_of(text: str, options: list[dict[str, Any]] | None = None) -> CaptureChoiceParams:
    """Params as the service builds them from a request's Struct."""
    return CaptureChoiceParams.model_validate(
        {"transcription": text, "options": OPTIONS if options is None else options}
    )


def reading_of(text: str, options: list[dict[str, Any]] | None = None) -> Reading:
    return PRIMITIVE.read(text, params_of(text, options), None)


CALLER_CASES = [
    # by name and synonym
    ("large pizza", "large"),
    ("Large Pizza.", "large"),
    ("the large one", "large"),
    ("large", "large"),
    ("small please", "small"),
    ("the little one", "small"),
    ("uh the big one please", "large"),
    ("family size", "large"),
    ("i'll go with the family size", "large"),
    ("it's the mastercard", "card"),
    ("my credit card", "card"),
    ("MASTERCARD", "card"),
    ("steven", "steven"),
    ("Katie.", "katie"),
    ("um, katie i think", "katie"),
    ("the large pizza not the small pizza", "large"),
    ("not the small, the large", "large"),
    ("the small one instead of the large one", "small"),
    ("large instead of small", "large"),
    ("small, no wait, large", "large"),
    ("small sorry i mean large", "large"),
    # by place
    ("the first one", "small"),
    ("the second one", "large"),
    ("The Third One.", "card"),
    ("the fourth", "steven"),
    ("the last one", "katie"),
    ("number two", "large"),
    ("number 3", "card"),
    ("option one", "small"),
    ("choice five", "katie"),
    ("#2", "large"),
    ("2", "large"),
    ("two", "large"),
    ("i'll take the first", "small"),
    ("uh, the second one please", "large"),
    ("the first one, i think", "small"),
    ("second option", "large"),
    ("i'll take the last option please", "katie"),
    ("the first option, thanks", "small"),
    # close and sound-alike
    ("master card", "card"),
    ("stephen", "steven"),
    ("katy", "katie"),
    ("lodge pizza", "large"),
    ("the large piza", "large"),
    ("mastercad", "card"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_choice(self, text: str, expected: str) -> None:
        """Caller phrasing gives the chosen option's id, its label read back."""
        reading = reading_of(text)
        assert reading.value == expected
        label = next(option["label"] for option in OPTIONS if option["id"] == expected)
        assert reading.readback == label
        assert reading.parts["label"] == label

    def test_there_are_forty_cases(self) -> None:
        assert len(CALLER_CASES) >= 40

    def test_certainty_falls_from_named_to_placed_to_near(self) -> None:
        """A name said whole is surest, a place next, a close or sound-alike name least."""
        named = reading_of("large pizza").certainty
        placed = reading_of("the second one").certainty
        near = reading_of("stephen").certainty
        assert named > placed > near

    def test_latter_and_former_of_two(self) -> None:
        two = OPTIONS[:2]
        assert reading_of("the latter", two).value == "large"
        assert reading_of("the former", two).value == "small"

    def test_place_reported(self) -> None:
        assert reading_of("the mastercard").parts["position"] == 3


class TestNoChoice:
    @cases(
        "text",
        ["neither", "none of them", "None of those, thanks.", "neither one", "nothing", "none"],
    )
    def test_none_is_its_own_answer(self, text: str) -> None:
        """ "Neither" is an answer: no value, reason none."""
        reading = reading_of(text)
        assert (reading.value, reading.reason) == (None, "none")

    def test_an_option_named_none_is_chosen(self) -> None:
        """An option whose name is "none of the above" is chosen by its name, not "none"."""
        options = [*OPTIONS[:2], {"id": "nota", "label": "None of the above"}]
        assert reading_of("none of the above", options).value == "nota"

    @cases("text", ["small or large", "pizza", "the pizza"])
    def test_two_equally_close_ask_which(self, text: str) -> None:
        """Two options equally close are no value: the question names both labels."""
        reading = reading_of(text)
        assert (reading.value, reading.reason) == (None, "ambiguous")
        assert reading.parts["candidates"] == ["small", "large"]
        assert reading.parts["question"] == "Did you mean Small pizza or Large pizza?"

    @cases("text", ["the sixth one", "number nine", "0"])
    def test_a_place_beyond_the_options(self, text: str) -> None:
        reading = reading_of(text)
        assert (reading.value, reading.reason) == (None, "no_such_option")

    @cases(
        "text",
        [
            "",
            "hmm",
            "i don't know",
            "something else entirely, a salad maybe",
            "i got here first",
            "i was here first",
        ],
    )
    def test_nothing_close_is_no_value_heard(self, text: str) -> None:
        reading = reading_of(text)
        assert (reading.value, reading.reason) == (None, "no_value_heard")

    def test_long_utterances_are_not_matched_nearly(self) -> None:
        """Past twelve words only names said whole count (near matching is bounded)."""
        said = "i was thinking about it for a while and i would say "
        assert len(said.split()) == 12
        assert reading_of(said + "stephen").reason == "no_value_heard"
        assert reading_of(said + "steven").value == "steven"


class TestParams:
    @cases(
        "options",
        [
            [],
            [{"id": "a", "label": "A"}] * 2,
            [{"id": str(index), "label": f"o{index}"} for index in range(21)],
            [{"id": "a", "label": "x" * 101}],
            [{"id": "a", "label": "..."}],
            [{"id": "a", "label": "A", "synonyms": ["?"]}],
            [{"id": "a", "label": "A", "synonyms": ["s"] * 11}],
            [{"id": "", "label": "A"}],
            [{"id": "a", "label": "A", "colour": "red"}],
        ],
    )
    def test_options_are_bounded(self, options: list[dict[str, Any]]) -> None:
        """1 to 20 options, unique ids, names of 1-100 characters with a word, 10 synonyms."""
        with pytest.raises(ValidationError):
            params_of("x", options)

    def test_options_are_required(self) -> None:
        with pytest.raises(ValidationError, match="options"):
            CaptureChoiceParams.model_validate({"transcription": "x"})

    def test_schema_describes_the_options(self) -> None:
        schema = CaptureChoiceParams.model_json_schema()
        assert schema["properties"]["options"]["maxItems"] == 20
        assert set(schema["$defs"]["ChoiceOption"]["properties"]) == {"id", "label", "synonyms"}


class TestCorrections:
    def held(self, value: str) -> HeldValue:
        return HeldValue(value, value, {}, confidence=0.9)

    def test_the_other_one_of_two(self) -> None:
        params = params_of("x", OPTIONS[:2])
        reply = Reply(Answer.NO, "the other one", "no the other one")
        edited = PRIMITIVE.correct(self.held("small"), reply, params)
        assert edited is not None and edited.value == "large"

    def test_the_other_one_of_more_is_no_edit(self) -> None:
        reply = Reply(Answer.NO, "the other one", "no the other one")
        assert PRIMITIVE.correct(self.held("small"), reply, params_of("x")) is None

    def test_anything_else_is_no_edit(self) -> None:
        reply = Reply(Answer.NO, "the large one", "no the large one")
        assert PRIMITIVE.correct(self.held("small"), reply, params_of("x", OPTIONS[:2])) is None


class TestPhoneticKey:
    @cases(
        ("first", "second"),
        [("steven", "stephen"), ("katie", "cady"), ("smith", "smyth"), ("jon", "john")],
    )
    def test_sound_alikes_share_a_key(self, first: str, second: str) -> None:
        assert phonetic_key([first]) == phonetic_key([second])

    @cases(
        ("first", "second"),
        [("steven", "kevin"), ("large", "small"), ("red", "blue"), ("got", "katie")],
    )
    def test_different_sounds_differ(self, first: str, second: str) -> None:
        assert phonetic_key([first]) != phonetic_key([second])

    def test_a_word_of_vowels_keeps_its_first_letter(self) -> None:
        assert phonetic_key(["aye", "o'"]) == "a1 o1"


async def test_an_ambiguous_turn_asks_which_over_the_service() -> None:
    """The turn's prompt is the reading's question, naming both labels."""
    service = VoiceCoreService.from_settings()
    request = ExecutePrimitiveRequest(
        objective_type="capture_choice",
        conversation_id="choice-ambiguous",
        params=Struct.from_dict({"transcription": "the pizza", "options": OPTIONS}),
    )
    response = await service.execute_primitive(request)
    assert response.success and response.metadata is not None and response.data is not None
    assert response.metadata.state == PrimitiveState.INCOMPLETE
    data = response.data.to_dict()
    assert data["reason"] == "ambiguous"
    assert data["prompt"] == "Did you mean Small pizza or Large pizza?"


def test_a_turn_counts_the_options_it_compares() -> None:
    """Options of long names send a turn off the event loop, however short the utterance."""
    names = {"label": "x" * 100, "synonyms": ["y" * 100] * 10}
    wide = params_of("large", [{"id": str(index), **names} for index in range(20)])
    assert _reading_chars(params_of("large")) < INLINE_READ_CHARS < _reading_chars(wide)


def test_a_turn_counts_the_options_once_per_hypothesis() -> None:
    """Every hypothesis is compared with every option: short hypotheses against options
    that fit under the limit once still send the turn off the event loop."""
    names = {"label": "x" * 10, "synonyms": ["y" * 10] * 3}
    options = [{"id": str(index), **names} for index in range(20)]
    alone = params_of("large", options)
    assert _reading_chars(alone) < INLINE_READ_CHARS
    many = CaptureChoiceParams.model_validate(
        {
            "transcription": "large",
            "alternatives": [{"transcription": f"larg{n}"} for n in range(10)],
            "options": options,
        }
    )
    assert _reading_chars(many) > INLINE_READ_CHARS


COLOURS = [{"id": c, "label": c.capitalize()} for c in ("red", "green", "blue")]
SIZES = [{"id": "small", "label": "Small"}, {"id": "large", "label": "Large"}]
SLOTS = [
    {"id": "mon", "label": "Monday at 10 am"},
    {"id": "tue", "label": "Tuesday at 2 pm"},
]
PAYMENT = [{"id": "check", "label": "Check"}, {"id": "card", "label": "Card"}]


class TestNoFalseChoice:
    """What a caller turns down, a word that only sounds like a name, or a name's word used
    as a verb is no choice; a distinctive word of a longer name is."""

    @cases(
        ("text", "options"),
        [
            ("not blue", COLOURS),
            ("anything but blue", COLOURS),
            ("I feel like it's fine", COLOURS),
            ("fill", COLOURS),
            ("feel", COLOURS),
            ("not the large", SIZES),
            ("I don't want the large", SIZES),
            ("no large", SIZES),
            ("I can't do Monday", SLOTS),
            ("I'll pay by cash", PAYMENT),
            ("guess", PAYMENT),
            ("kiss", PAYMENT),
            ("keys", PAYMENT),
            ("goes", PAYMENT),
            ("I need to check my balance first", PAYMENT),
            ("the weather is nice today", COLOURS),
            ("can you repeat that", SLOTS),
            ("I have a question about my bill", PAYMENT),
        ],
    )
    def test_no_value(self, text: str, options: list[dict[str, Any]]) -> None:
        assert reading_of(text, options).value is None

    @cases(
        ("text", "options", "expected"),
        [
            ("Tuesday", SLOTS, "tue"),
            ("tuesday please", SLOTS, "tue"),
            ("not blue, red", COLOURS, "red"),
            ("I don't want the large, the small", SIZES, "small"),
            ("I can't do Monday, Tuesday works", SLOTS, "tue"),
            ("check please", PAYMENT, "check"),
            ("by card", PAYMENT, "card"),
            ("I do want the large", SIZES, "large"),
        ],
    )
    def test_still_chosen(self, text: str, options: list[dict[str, Any]], expected: str) -> None:
        assert reading_of(text, options).value == expected

    def test_a_sound_alike_is_less_certain_than_a_place(self) -> None:
        """A sound-alike alone is a guess: below 0.8, so the readback confirms it."""
        reading = reading_of("katy")
        assert reading.value == "katie" and reading.certainty < 0.8


BLUES: list[dict[str, Any]] = [
    {"id": "red", "label": "Red"},
    {"id": "sky", "label": "Light blue"},
    {"id": "green", "label": "Green"},
    {"id": "navy", "label": "Navy blue"},
]


@dataclass
class ChoiceCall:
    """Turns of one capture_choice in one conversation, run as the service runs them; the
    events it emitted."""

    options: list[dict[str, Any]]
    store: InMemoryCaptureStore = field(default_factory=InMemoryCaptureStore)
    events: list[tuple[str, dict[str, JsonValue]]] = field(default_factory=list)

    async def emit(self, event_type: str, payload: Mapping[str, JsonValue]) -> int:
        self.events.append((event_type, dict(payload)))
        return len(self.events)

    async def say(self, text: str, **limits: int) -> PrimitiveResult:
        context = PrimitiveContext(
            objective_type="capture_choice",
            trace_id="0" * 32,
            emit=self.emit,
            captures=self.store,
            conversation_id="choice-call",
        )
        params = params_of(text, self.options).model_copy(update=limits)
        return await PRIMITIVE.execute(params, context)


class TestAmbiguousThenChosen:
    """Two options equally close: the agent's question was ambiguous, not the caller."""

    def test_an_ambiguous_reading_keeps_both_in_question(self) -> None:
        reading = reading_of("the blue one", BLUES)
        assert (reading.value, reading.reason, reading.answered) == (None, "ambiguous", True)
        assert reading.parts["candidates"] == ["navy", "sky"]
        assert reading.partial == '["navy", "sky"]'

    @cases(
        ("text", "expected"),
        [
            ("the first one", "navy"),  # in the order the question named them
            ("the second one", "sky"),
            ("the last one", "sky"),
            ("navy", "navy"),
            ("the light one", "sky"),
            ("the dark one, navy", "navy"),
            ("red", "red"),  # another option named whole still chooses it
            ("actually the green one", "green"),
            ("the third one", "green"),  # no third of the two: the third offered
        ],
    )
    def test_the_next_answer_chooses_between_them(self, text: str, expected: str) -> None:
        reading = PRIMITIVE.read(text, params_of(text, BLUES), '["navy", "sky"]')
        assert reading.value == expected
        position = next(i for i, option in enumerate(BLUES, 1) if option["id"] == expected)
        assert reading.parts["position"] == position  # its place among all offered

    def test_without_options_in_question_a_place_counts_among_all(self) -> None:
        assert reading_of("the second one", BLUES).value == "sky"

    async def test_no_attempt_is_spent_and_the_follow_up_chooses(self) -> None:
        call = ChoiceCall(BLUES)
        unsure = await call.say("the blue one")
        assert (unsure.state, unsure.attempt) == (PrimitiveState.INCOMPLETE, 1)
        assert unsure.data["reason"] == "ambiguous"
        assert unsure.data["candidates"] == ["navy", "sky"]
        assert unsure.data["prompt"] == "Did you mean Navy blue or Light blue?"
        assert "partial" not in unsure.data and "value" not in unsure.data
        chosen = await call.say("the first one")
        assert (chosen.state, chosen.attempt, chosen.data["value"]) == (
            PrimitiveState.NEEDS_CONFIRMATION,
            1,
            "navy",
        )
        assert chosen.data["position"] == 4

    async def test_the_same_two_again_spend_an_attempt(self) -> None:
        call = ChoiceCall(BLUES)
        await call.say("the blue one")
        again = await call.say("blue")
        assert (again.state, again.data["reason"]) == (PrimitiveState.INCOMPLETE, "ambiguous")
        assert again.data["prompt"] == "Did you mean Navy blue or Light blue?"
        chosen = await call.say("the second one")  # the two still in question
        assert (chosen.attempt, chosen.data["value"]) == (2, "sky")

    async def test_ambiguous_at_the_readback_turns_it_down_without_an_attempt(self) -> None:
        call = ChoiceCall(BLUES)
        await call.say("red")
        turned = await call.say("no, the blue one")
        assert (turned.state, turned.attempt, turned.data["reason"]) == (
            PrimitiveState.INCOMPLETE,
            1,
            "ambiguous",
        )
        assert turned.data["candidates"] == ["navy", "sky"]
        assert turned.data["prompt"] == "Did you mean Navy blue or Light blue?"
        chosen = await call.say("the light one")
        assert (chosen.attempt, chosen.data["value"]) == (1, "sky")
        assert [event for event, _ in call.events] == [
            "capture.value_captured",
            "capture.rejected",
            "capture.value_captured",
        ]
        rejected = call.events[1][1]
        assert (rejected["reason"], rejected["value_redacted"]) == ("ambiguous", "***")
        payloads = " ".join(json.dumps(payload) for _, payload in call.events)
        said = ("blue", "light", "red", "sky", "navy")
        assert [word for word in said if re.search(rf"\b{word}\b", payloads)] == []


class TestNoneAtTheReadback:
    """ "Neither" said to the option read back: that option turned down, and the answer none,
    as at the first turn (no attempt spent)."""

    @cases("answer", ["neither", "no, none of them", "nope, neither of those", "none"])
    async def test_turns_the_readback_down_without_an_attempt(self, answer: str) -> None:
        call = ChoiceCall(BLUES)
        await call.say("red")
        turned = await call.say(answer)
        assert (turned.state, turned.attempt, turned.data["reason"]) == (
            PrimitiveState.INCOMPLETE,
            1,
            "none",
        )
        assert "value" not in turned.data
        assert turned.data["prompt"] == "Okay, none of those."
        assert [event for event, _ in call.events] == ["capture.value_captured", "capture.rejected"]
        assert call.events[1][1]["reason"] == "none"
        assert (await call.say("green")).attempt == 1

    async def test_a_bare_no_still_spends_an_attempt(self) -> None:
        call = ChoiceCall(BLUES)
        await call.say("red")
        rejected = await call.say("no")
        assert (rejected.attempt, rejected.data["reason"]) == (1, "rejected")
        assert (await call.say("green")).attempt == 2

    async def test_yes_none_of_them_is_not_understood(self) -> None:
        """A yes with "none of them" contradicts itself: neither a yes nor a none (the
        option stays read back)."""
        call = ChoiceCall(BLUES)
        await call.say("red")
        turn = await call.say("yes, none of them")
        assert (turn.state, turn.data["value"]) == (PrimitiveState.NEEDS_CONFIRMATION, "red")
        assert str(turn.data["prompt"]).startswith("Sorry, I didn't catch what to change.")


CARS: list[dict[str, Any]] = [
    {"id": "red-car", "label": "Red car"},
    {"id": "blue-car", "label": "Blue car"},
    {"id": "red-boat", "label": "Red boat"},
    {"id": "blue-boat", "label": "Blue boat"},
]


class TestTheQuestionLastsOneTurn:
    """The two options in question are asked about for the next turn only: any other turn
    ends the question, and a place counts among all the options again."""

    @cases("between", ["none of them", "banana split", "the fifth one"])
    async def test_a_turn_not_choosing_between_them_ends_the_question(self, between: str) -> None:
        call = ChoiceCall(BLUES)
        await call.say("the blue one")
        await call.say(between)  # none, no value heard, no such option
        chosen = await call.say("the first one")  # the first offered, not of the two
        assert (chosen.data["value"], chosen.data["position"]) == ("red", 1)

    async def test_another_two_in_question_replace_the_first_two(self) -> None:
        call = ChoiceCall(CARS)
        cars = await call.say("the car")
        assert cars.data["candidates"] == ["red-car", "blue-car"]
        boats = await call.say("the boat")
        assert boats.data["candidates"] == ["red-boat", "blue-boat"]
        chosen = await call.say("the second one")
        assert chosen.data["value"] == "blue-boat"

    async def test_a_failed_attempt_with_the_same_two_asks_them_again(self) -> None:
        """The same two again spend an attempt, and the prompt asks about them again: they
        stay in question (the question is not stale)."""
        call = ChoiceCall(BLUES)
        await call.say("the blue one")
        again = await call.say("blue")
        assert again.data["prompt"] == "Did you mean Navy blue or Light blue?"
        assert (await call.say("the first one")).data["value"] == "navy"


class TestAnswersWithoutValueAreBounded:
    """ "None of them" and ambiguous answers spend no attempt only ``max_unclear`` times per
    capture; past that each spends an attempt, so the capture ends."""

    async def test_alternating_ambiguous_answers_end_failed(self) -> None:
        call = ChoiceCall(CARS)
        turns = [await call.say(said) for said in ["the car", "the boat"] * 2 + ["the car"]]
        assert [(turn.state, turn.attempt) for turn in turns] == [
            (PrimitiveState.INCOMPLETE, 1),  # free
            (PrimitiveState.INCOMPLETE, 1),  # free: max_unclear is 2
            (PrimitiveState.INCOMPLETE, 1),  # attempt 1 failed
            (PrimitiveState.INCOMPLETE, 2),
            (PrimitiveState.FAILED, 3),
        ]
        assert {turn.data["reason"] for turn in turns} == {"ambiguous"}
        assert [event for event, _ in call.events] == ["capture.failed"]

    async def test_none_to_each_readback_ends_failed(self) -> None:
        call = ChoiceCall(CARS)
        turns = [await call.say(said) for said in ["red car", "neither"] * 5]
        assert [turn.attempt for turn in turns[1::2]] == [1, 1, 1, 2, 3]
        assert [turn.state for turn in turns[1::2]] == [PrimitiveState.INCOMPLETE] * 4 + [
            PrimitiveState.FAILED
        ]
        assert {turn.data["reason"] for turn in turns[1::2]} == {"none"}
        assert [event for event, _ in call.events[-3:]] == [
            "capture.value_captured",
            "capture.rejected",
            "capture.failed",
        ]

    async def test_without_free_answers_none_spends_an_attempt(self) -> None:
        call = ChoiceCall(BLUES)
        none = await call.say("none of them", max_unclear=0, max_attempts=1)
        assert (none.state, none.data["reason"]) == (PrimitiveState.FAILED, "none")

    async def test_the_free_answers_are_counted_apart_from_unclear_ones(self) -> None:
        """Two "none of them" leave the unclear answers to the readback their own budget."""
        call = ChoiceCall(BLUES)
        for said in ["none of them", "none of them", "red", "hmm", "hmm"]:
            turn = await call.say(said)
        assert (turn.state, turn.attempt, turn.data["value"]) == (
            PrimitiveState.NEEDS_CONFIRMATION,
            1,
            "red",
        )
