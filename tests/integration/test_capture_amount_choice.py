"""capture_amount and capture_choice over gRPC, turn by turn: capture, correct, confirm; turns
applied once per idempotency key; no clear value in events or logs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from loguru import logger

from tests.integration.test_capture_scenarios import Conversation, stub
from voicecore._proto.voicecore.v1 import (
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)

if TYPE_CHECKING:
    from loguru import Message

__all__ = ["stub"]  # the real server's stub fixture, shared with the other scenarios

pytestmark = pytest.mark.integration

NC = PrimitiveState.NEEDS_CONFIRMATION
COMPLETED = PrimitiveState.COMPLETED
INCOMPLETE = PrimitiveState.INCOMPLETE
OPTIONS: list[dict[str, Any]] = [
    {"id": "opt-morning", "label": "Tuesday morning", "synonyms": ["the morning"]},
    {"id": "opt-evening", "label": "Thursday evening", "synonyms": ["after work"]},
]


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every voicecore log record at DEBUG and above, as JSON of the parts a request can reach:
    the message, the extras and any exception. Thread ids, timestamps and line numbers are left
    out: their digits are noise that a searched-for value such as "234" can match by chance."""
    lines: list[str] = []

    def keep(message: Message) -> None:
        record = message.record
        parts = {"message": record["message"], "extra": record["extra"]}
        lines.append(json.dumps({**parts, "exception": str(record["exception"])}, default=str))

    logger.enable("voicecore")
    sink = logger.add(keep, level="DEBUG")
    yield lines
    logger.remove(sink)
    logger.disable("voicecore")


def shows(value: str, text: str) -> bool:
    """Whether ``value`` stands in ``text`` as a whole token: the digits of a value can occur
    by chance inside an id or a timestamp's fraction, which is not a leak."""
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", text) is not None


async def event_payloads(stub: VoiceCoreServiceStub, conversation_id: str) -> list[str]:
    request = StreamEventsRequest(conversation_id=conversation_id, replay_only=True)
    return [json.dumps(event.to_dict()) async for event in stub.stream_events(request)]


class TestAmount:
    async def test_capture_correct_both_ways_and_confirm(self, stub: VoiceCoreServiceStub) -> None:
        """A price, a new amount in the answer, an edit of the cents, then yes."""
        call = Conversation(stub, "capture_amount", "amount-1", {"max_value": 1000})
        first = await call.say("uh, it's about twelve fifty")
        assert (first.state, first.data["value"], first.data["currency"]) == (NC, "12.50", "USD")
        assert first.data["readback"] == "twelve dollars and fifty cents"
        assert "twelve dollars and fifty cents" in first.data["prompt"]
        second = await call.say("no, fifteen fifty")
        assert (second.state, second.data["value"]) == (NC, "15.50")
        third = await call.say("no, the cents are 25")
        assert (third.state, third.data["value"]) == (NC, "15.25")
        done = await call.say("yes that's right")
        assert (done.state, done.data["value"]) == (COMPLETED, "15.25")
        events = await call.event_types()
        assert events.count("capture.corrected") == 2 and "capture.confirmed" in events

    async def test_currency_param_and_a_mismatch(self, stub: VoiceCoreServiceStub) -> None:
        """Euros asked for: "three fifty" is 3.50 EUR; dollars said are refused, with why."""
        call = Conversation(stub, "capture_amount", "amount-2", {"currency": "EUR"})
        wrong = await call.say("three dollars fifty")
        assert (wrong.state, wrong.data["reason"]) == (INCOMPLETE, "currency_mismatch")
        turn = await call.say("three fifty")
        assert (turn.data["value"], turn.data["currency"]) == ("3.50", "EUR")
        assert turn.data["readback"] == "three euros and fifty cents"

    async def test_a_turn_is_applied_once_per_key(self, stub: VoiceCoreServiceStub) -> None:
        """A retried correction replays its answer; it is not applied twice."""
        call = Conversation(stub, "capture_amount", "amount-3")
        await call.say("$40", key="t1")
        once = await call.say("no, the dollars are 45", key="t2")
        again = await call.say("no, the dollars are 45", key="t2")
        assert (once.data["value"], again.data["value"]) == ("45.00", "45.00")
        assert (once.replayed, again.replayed) == (False, True)
        assert (await call.event_types()).count("capture.corrected") == 1


class TestChoice:
    async def test_ambiguous_then_chosen_corrected_and_confirmed(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """ "The day one" asks which; a place chooses; "the other one" switches; yes confirms."""
        call = Conversation(stub, "capture_choice", "choice-1", {"options": OPTIONS})
        unsure = await call.say("one of the days")
        assert (unsure.state, unsure.data["reason"]) == (INCOMPLETE, "no_value_heard")
        chosen = await call.say("um, the first one")
        assert (chosen.state, chosen.data["value"]) == (NC, "opt-morning")
        assert chosen.data["readback"] == "Tuesday morning"
        switched = await call.say("no, the other one")
        assert (switched.state, switched.data["value"]) == (NC, "opt-evening")
        done = await call.say("yes")
        assert (done.state, done.data["value"]) == (COMPLETED, "opt-evening")
        assert "capture.corrected" in await call.event_types()

    async def test_two_close_options_ask_which(self, stub: VoiceCoreServiceStub) -> None:
        options = [*OPTIONS, {"id": "opt-tuesday-eve", "label": "Tuesday evening"}]
        call = Conversation(stub, "capture_choice", "choice-2", {"options": options})
        turn = await call.say("tuesday")
        assert (turn.state, turn.data["reason"]) == (INCOMPLETE, "ambiguous")
        assert turn.data["prompt"] == "Did you mean Tuesday morning or Tuesday evening?"
        chosen = await call.say("tuesday evening")
        assert chosen.data["value"] == "opt-tuesday-eve"

    async def test_neither_is_an_answer(self, stub: VoiceCoreServiceStub) -> None:
        call = Conversation(stub, "capture_choice", "choice-3", {"options": OPTIONS})
        turn = await call.say("neither of those, thanks")
        assert (turn.state, turn.data["reason"]) == (INCOMPLETE, "none")
        assert "value" not in turn.data

    async def test_neither_at_the_readback_is_the_answer_none(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """The option read back turned down with "none of them": the answer none, as at the
        first turn, and no attempt spent; the capture goes on."""
        call = Conversation(stub, "capture_choice", "choice-4", {"options": OPTIONS})
        first = await call.say("after work")
        assert (first.state, first.data["value"]) == (NC, "opt-evening")
        none = await call.say("no, none of them")
        assert (none.state, none.data["reason"], none.data["attempts"]) == (INCOMPLETE, "none", 1)
        assert none.data["prompt"] == "Okay, none of those."
        chosen = await call.say("the morning then")
        assert (chosen.state, chosen.data["value"], chosen.data["attempts"]) == (
            NC,
            "opt-morning",
            1,
        )
        done = await call.say("yes")
        assert (done.state, done.data["value"]) == (COMPLETED, "opt-morning")
        events = await call.event_types()
        assert [event for event in events if event.startswith("capture.")] == [
            "capture.value_captured",
            "capture.rejected",
            "capture.value_captured",
            "capture.confirmed",
        ]

    async def test_ambiguous_spends_no_attempt_and_the_next_answer_chooses(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """ "The blue one" of two blues asks which, by id, spending nothing; "the navy" then
        chooses; events carry nothing the caller said."""
        blues = [
            {"id": "c-red", "label": "Red"},
            {"id": "c-sky", "label": "Light blue"},
            {"id": "c-navy", "label": "Navy blue"},
        ]
        call = Conversation(stub, "capture_choice", "choice-5", {"options": blues})
        unsure = await call.say("um, the blue one")
        assert (unsure.state, unsure.data["reason"], unsure.data["attempts"]) == (
            INCOMPLETE,
            "ambiguous",
            1,
        )
        assert sorted(unsure.data["candidates"]) == ["c-navy", "c-sky"]
        assert "partial" not in unsure.data
        chosen = await call.say("the navy")
        assert (chosen.state, chosen.data["value"], chosen.data["attempts"]) == (NC, "c-navy", 1)
        turned = await call.say("no, the blue one")
        assert (turned.state, turned.data["reason"], turned.data["attempts"]) == (
            INCOMPLETE,
            "ambiguous",
            1,
        )
        light = await call.say("the light one")
        assert (light.state, light.data["value"], light.data["attempts"]) == (NC, "c-sky", 1)
        done = await call.say("yes")
        assert (done.state, done.data["value"]) == (COMPLETED, "c-sky")
        payloads = await event_payloads(stub, call.conversation_id)
        assert sum('"capture.' in payload for payload in payloads) == 4  # 2 captured, 1 each
        for word in ("blue", "navy", "light", "c-sky", "c-navy"):
            assert not any(shows(word, payload.lower()) for payload in payloads), word


class TestNoClearValue:
    @pytest.mark.parametrize(
        ("objective_type", "extra", "said", "clear"),
        [
            ("capture_amount", {}, "it's $1,234.56", ["1234.56", "1,234.56", "1234", "234"]),
            ("capture_choice", {"options": OPTIONS}, "after work", ["opt-evening", "evening"]),
        ],
    )
    async def test_events_and_logs_carry_the_value_redacted(
        self,
        stub: VoiceCoreServiceStub,
        log_lines: list[str],
        objective_type: str,
        extra: dict[str, Any],
        said: str,
        clear: list[str],
    ) -> None:
        """Captured, confirmed: the events and every log line show the value only redacted."""
        call = Conversation(stub, objective_type, f"clear-{objective_type}", extra)
        first = await call.say(said)
        assert first.data["value"] == clear[0]
        await call.say("yes")
        payloads = await event_payloads(stub, call.conversation_id)
        assert any(
            "valueRedacted" in payload or "value_redacted" in payload for payload in payloads
        )
        assert any("capture turn done" in line for line in log_lines)
        for text in [*payloads, *log_lines]:
            for value in clear:
                assert not shows(value, text.lower()), text
