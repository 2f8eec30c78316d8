"""capture_address over gRPC, turn by turn: capture, correct one part, confirm; a turn applied
once per idempotency key; no clear address in events or logs."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_capture_amount_choice import event_payloads, log_lines
from tests.integration.test_capture_scenarios import Conversation, stub
from voicecore._proto.voicecore.v1 import PrimitiveState, VoiceCoreServiceStub

__all__ = ["log_lines", "stub"]  # the real server's fixtures, shared with the other scenarios

pytestmark = pytest.mark.integration

NC = PrimitiveState.NEEDS_CONFIRMATION
COMPLETED = PrimitiveState.COMPLETED
INCOMPLETE = PrimitiveState.INCOMPLETE
SAID = (
    "uh my address is one twenty three main street apartment four b, san francisco "
    "california nine four one oh seven"
)


class TestAddress:
    async def test_capture_correct_the_zip_and_the_unit_then_confirm(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """An address said in words, its ZIP and unit corrected one at a time, then yes."""
        call = Conversation(stub, "capture_address", "address-1")
        first = await call.say(SAID)
        assert (first.state, first.data["value"]) == (
            NC,
            "123 Main St Apt 4B, San Francisco, CA 94107",
        )
        assert first.data["readback"] == (
            "123 Main Street, Apartment 4B, San Francisco, California, 9 4 1 0 7"
        )
        assert first.data["readback"] in first.data["prompt"]
        zip_fixed = await call.say("no, the zip is 94110")
        assert (zip_fixed.state, zip_fixed.data["zip"]) == (NC, "94110")
        assert zip_fixed.data["value"] == "123 Main St Apt 4B, San Francisco, CA 94110"
        unit_fixed = await call.say("no, it's apartment 5 not 4b")
        assert (unit_fixed.data["unit"], unit_fixed.data["zip"]) == ("Apt 5", "94110")
        done = await call.say("yes that's right")
        assert done.state == COMPLETED
        assert {key: done.data[key] for key in ("number", "street", "unit")} == {
            "number": "123",
            "street": "Main St",
            "unit": "Apt 5",
        }
        assert (done.data["city"], done.data["state"], done.data["zip"]) == (
            "San Francisco",
            "CA",
            "94110",
        )
        events = await call.event_types()
        assert events.count("capture.corrected") == 2 and "capture.confirmed" in events

    async def test_a_missing_part_is_asked_for_then_the_whole_address_said(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """No ZIP is no value (``no_zip``, with what was heard); said again whole, it is read."""
        call = Conversation(stub, "capture_address", "address-2", {"default_state": "CA"})
        partial = await call.say("123 Main St, Oakland")
        assert (partial.state, partial.data["reason"]) == (INCOMPLETE, "no_zip")
        assert "value" not in partial.data
        whole = await call.say("123 Main St, Oakland, 94612")
        assert (whole.state, whole.data["value"]) == (NC, "123 Main St, Oakland, CA 94612")

    async def test_a_judgement_of_a_part_is_no_edit_of_it(self, stub: VoiceCoreServiceStub) -> None:
        """ "the street is correct" and "the city is not san francisco" keep the held address
        (no "123 Correct"); "yes, that's it, number 4b" confirms it (no house number 4B)."""
        call = Conversation(stub, "capture_address", "address-judged")
        held = "123 Main St Apt 4B, San Francisco, CA 94107"
        first = await call.say(held)
        for said in ("the street is correct", "the city is not san francisco"):
            judged = await call.say(said)
            assert (judged.state, judged.data.get("value")) == (NC, held), said
        done = await call.say("yes, that's it, number 4b")
        assert (first.data["value"], done.state, done.data["value"]) == (held, COMPLETED, held)

    async def test_a_turn_is_applied_once_per_key(self, stub: VoiceCoreServiceStub) -> None:
        """A retried correction replays its answer; it is not applied twice."""
        call = Conversation(stub, "capture_address", "address-3")
        await call.say("10 Downing St, Columbus, OH 43215", key="t1")
        once = await call.say("no, the city is dublin", key="t2")
        again = await call.say("no, the city is dublin", key="t2")
        assert (once.data["city"], again.data["city"]) == ("Dublin", "Dublin")
        assert (once.replayed, again.replayed) == (False, True)
        assert (await call.event_types()).count("capture.corrected") == 1

    async def test_events_and_logs_carry_the_address_redacted(
        self, stub: VoiceCoreServiceStub, log_lines: list[str]
    ) -> None:
        """Captured, corrected, confirmed: events and every log line show no part in clear."""
        call = Conversation(stub, "capture_address", "address-clear")
        first = await call.say("123 Main St., Apt 4B, San Francisco, CA 94107")
        assert first.data["value"] == "123 Main St Apt 4B, San Francisco, CA 94107"
        await call.say("no, the zip is 94110")
        await call.say("yes")
        payloads = await event_payloads(stub, call.conversation_id)
        assert any(
            "valueRedacted" in payload or "value_redacted" in payload for payload in payloads
        )
        assert any("capture turn done" in line for line in log_lines)
        # Whole words only: a ZIP's digits may occur inside a random id or a timestamp.
        clear = re.compile(r"\b(?:94107|94110|main st|san francisco|apt 4b|123 main)\b")
        for text in [*payloads, *log_lines]:
            assert clear.search(text.lower()) is None, text
