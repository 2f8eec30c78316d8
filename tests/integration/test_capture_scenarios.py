"""Multi-turn captures through the whole stack: a real server on 127.0.0.1, turn by turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from grpclib.client import Channel

from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ExecutePrimitiveRequest,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

pytestmark = pytest.mark.integration


@pytest.fixture
async def stub() -> AsyncIterator[VoiceCoreServiceStub]:
    server = VoiceCoreServer(Settings(host="127.0.0.1", port=0))
    await server.start()
    try:
        async with Channel("127.0.0.1", server.port) as channel:
            yield VoiceCoreServiceStub(channel)
    finally:
        await server.stop(grace_period=0.5)


@dataclass
class Turn:
    """The outcome of one caller turn."""

    state: PrimitiveState
    data: dict[str, Any]
    replayed: bool


@dataclass
class Conversation:
    """Sends turns of one capture in one conversation."""

    stub: VoiceCoreServiceStub
    objective_type: str
    conversation_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    async def say(self, transcription: str, key: str = "", **params: Any) -> Turn:
        request = ExecutePrimitiveRequest(
            objective_type=self.objective_type,
            conversation_id=self.conversation_id,
            purpose="so we can send your receipt",
            idempotency_key=key,
            params=Struct.from_dict({"transcription": transcription, **self.extra, **params}),
        )
        response = await self.stub.execute_primitive(request)
        assert response.success, response.error
        assert response.metadata is not None and response.data is not None
        meta = response.metadata
        return Turn(meta.state, response.data.to_dict(), meta.replayed)

    async def event_types(self) -> list[str]:
        request = StreamEventsRequest(conversation_id=self.conversation_id, replay_only=True)
        return [event.type async for event in self.stub.stream_events(request)]


class TestConfirmation:
    async def test_value_then_yes_completes(self, stub: VoiceCoreServiceStub) -> None:
        """A heard email waits for confirmation; "yes that's right" completes it."""
        call = Conversation(stub, "capture_email", "conf-1")
        first = await call.say("it's john dot smith at gmail dot com")
        assert first.state == PrimitiveState.NEEDS_CONFIRMATION
        assert first.data["value"] == "john.smith@gmail.com"
        assert "receipt" in first.data["prompt"]
        second = await call.say("yes that's right")
        assert second.state == PrimitiveState.COMPLETED
        assert second.data["value"] == "john.smith@gmail.com"
        events = await call.event_types()
        assert "capture.value_captured" in events and "capture.confirmed" in events

    async def test_completed_capture_starts_fresh(self, stub: VoiceCoreServiceStub) -> None:
        """After COMPLETED, the next call is a new capture, not an answer."""
        call = Conversation(stub, "capture_email", "conf-2")
        await call.say("ann at example dot com")
        await call.say("yes")
        again = await call.say("bob at example dot com")
        assert again.state == PrimitiveState.NEEDS_CONFIRMATION
        assert again.data["value"] == "bob@example.com"

    async def test_without_confirmation_completes_at_once(self, stub: VoiceCoreServiceStub) -> None:
        """require_confirmation=false completes on the first value."""
        call = Conversation(stub, "capture_email", "conf-3", {"require_confirmation": False})
        turn = await call.say("ann at example dot com")
        assert turn.state == PrimitiveState.COMPLETED


class TestCorrections:
    async def test_spelled_part_edits_the_held_value(self, stub: VoiceCoreServiceStub) -> None:
        """ "no, j o n not j o h n" fixes the local part and keeps the domain."""
        call = Conversation(stub, "capture_email", "corr-1")
        await call.say("john at example dot com")
        turn = await call.say("no it's j o n not j o h n")
        assert turn.state == PrimitiveState.NEEDS_CONFIRMATION
        assert turn.data["value"] == "jon@example.com"
        assert "capture.corrected" in await call.event_types()

    async def test_whole_new_value_replaces(self, stub: VoiceCoreServiceStub) -> None:
        """A new address in the answer is held instead, awaiting confirmation."""
        call = Conversation(stub, "capture_email", "corr-2")
        await call.say("john at example dot com")
        turn = await call.say("no it's mary at example dot org")
        assert turn.state == PrimitiveState.NEEDS_CONFIRMATION
        assert turn.data["value"] == "mary@example.org"

    async def test_bare_no_asks_again(self, stub: VoiceCoreServiceStub) -> None:
        """A bare no drops the value and spends an attempt."""
        call = Conversation(stub, "capture_email", "corr-3")
        await call.say("john at example dot com")
        turn = await call.say("no")
        assert turn.state == PrimitiveState.INCOMPLETE
        assert "value" not in turn.data
        assert "capture.rejected" in await call.event_types()


class TestPartialAndFailure:
    async def test_partial_phone_is_completed_by_the_next_turn(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """Six digits are kept; the last four complete the number."""
        call = Conversation(stub, "capture_phone", "part-1")
        first = await call.say("four one five five five five")
        assert first.state == PrimitiveState.INCOMPLETE
        second = await call.say("two six seven one")
        assert second.state == PrimitiveState.NEEDS_CONFIRMATION
        assert second.data["value"] == "+14155552671"

    async def test_attempts_run_out(self, stub: VoiceCoreServiceStub) -> None:
        """Nothing usable max_attempts times is FAILED; the next call starts over."""
        call = Conversation(stub, "capture_email", "fail-1", {"max_attempts": 2})
        first = await call.say("um I don't know")
        assert first.state == PrimitiveState.INCOMPLETE and first.data["reason"]
        second = await call.say("hmm")
        assert second.state == PrimitiveState.FAILED
        assert "capture.failed" in await call.event_types()
        fresh = await call.say("ann at example dot com")
        assert fresh.state == PrimitiveState.NEEDS_CONFIRMATION

    async def test_reset_starts_over(self, stub: VoiceCoreServiceStub) -> None:
        """reset=true ignores the held value: the turn is read as a new capture."""
        call = Conversation(stub, "capture_email", "reset-1")
        await call.say("john at example dot com")
        turn = await call.say("mary at example dot org", reset=True)
        assert turn.state == PrimitiveState.NEEDS_CONFIRMATION
        assert turn.data["value"] == "mary@example.org"
        assert turn.data["attempts"] == 1


class TestIdempotentTurns:
    async def test_repeated_yes_is_applied_once(self, stub: VoiceCoreServiceStub) -> None:
        """A retried confirmation turn is replayed; it does not start a new capture."""
        call = Conversation(stub, "capture_email", "idem-1")
        await call.say("john at example dot com", key="turn-1")
        confirmed = await call.say("yes", key="turn-2")
        replay = await call.say("yes", key="turn-2")
        assert confirmed.state == replay.state == PrimitiveState.COMPLETED
        assert replay.replayed and not confirmed.replayed
        assert replay.data == confirmed.data
        assert (await call.event_types()).count("capture.confirmed") == 1


class TestNoValueReports:
    async def test_rejected_phone_reports_the_digits_heard(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """An invalid number is no value, but data.digits says what was heard."""
        call = Conversation(stub, "capture_phone", "heard-1")
        turn = await call.say("one two three four five six seven eight nine oh")
        assert turn.state == PrimitiveState.INCOMPLETE
        assert "value" not in turn.data
        assert (turn.data["digits"], turn.data["reason"]) == ("1234567890", "invalid_phone")

    async def test_out_of_range_number_reports_what_was_heard(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """A number outside the bounds comes back as heard, with reason out_of_range."""
        call = Conversation(stub, "capture_number", "heard-2", {"max_value": 100})
        turn = await call.say("five hundred")
        assert (turn.data["heard"], turn.data["reason"]) == ("500", "out_of_range")


class TestDesignExamples:
    async def test_no_its_spelled_local_part(self, stub: VoiceCoreServiceStub) -> None:
        """The README's "no, it's j o h n" replaces the local part and keeps the domain."""
        call = Conversation(stub, "capture_email", "design-1")
        await call.say("j o n at gmail dot com")
        turn = await call.say("no, it's j o h n")
        assert turn.state == PrimitiveState.NEEDS_CONFIRMATION
        assert turn.data["value"] == "john@gmail.com"
