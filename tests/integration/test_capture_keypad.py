"""Keypad input (``dtmf``) over gRPC, turn by turn: a phone number typed, refused at the
readback with "2", typed again and confirmed with "1"; keys beside words; a partial number
completed by keys; no typed value in clear in events or logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.test_capture_amount_choice import event_payloads, log_lines, shows
from tests.integration.test_capture_scenarios import Turn, stub
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    PrimitiveState,
    VoiceCoreServiceStub,
)

__all__ = ["log_lines", "stub"]  # fixtures shared with the other scenarios

pytestmark = pytest.mark.integration

NC = PrimitiveState.NEEDS_CONFIRMATION
COMPLETED = PrimitiveState.COMPLETED
INCOMPLETE = PrimitiveState.INCOMPLETE


@dataclass
class Keypad:
    """Turns of one capture in one conversation, as keys (and words, if given)."""

    stub: VoiceCoreServiceStub
    objective_type: str
    conversation_id: str

    async def press(self, dtmf: str, key: str = "", **params: Any) -> Turn:
        response = await self.stub.execute_primitive(self._request(dtmf, key, params))
        assert response.success, response.error
        assert response.metadata is not None and response.data is not None
        meta = response.metadata
        assert meta.confidence == (1.0 if meta.state in (NC, COMPLETED) else 0.0)
        return Turn(meta.state, response.data.to_dict(), meta.replayed)

    def _request(self, dtmf: str, key: str, params: dict[str, Any]) -> ExecutePrimitiveRequest:
        return ExecutePrimitiveRequest(
            objective_type=self.objective_type,
            conversation_id=self.conversation_id,
            idempotency_key=key,
            params=Struct.from_dict({"dtmf": dtmf, **params}),
        )


class TestPhoneByKeypad:
    async def test_typed_refused_typed_again_confirmed(self, stub: VoiceCoreServiceStub) -> None:
        """Typed, "2" at the readback, a new number typed, "1": completed with that number."""
        call = Keypad(stub, "capture_phone", "keys-1")
        first = await call.press("4155550182#")
        assert (first.state, first.data["value"]) == (NC, "+14155550182")
        assert first.data["readback"] == "four one five, five five five, zero one eight two"
        refused = await call.press("2")
        assert (refused.state, refused.data["reason"]) == (INCOMPLETE, "rejected")
        again = await call.press("6505550199#")
        assert (again.state, again.data["value"]) == (NC, "+16505550199")
        done = await call.press("1")
        assert (done.state, done.data["value"]) == (COMPLETED, "+16505550199")
        events = await event_payloads(stub, call.conversation_id)
        kinds = [kind for kind in ("value_captured", "rejected", "confirmed") if any(
            f"capture.{kind}" in payload for payload in events
        )]  # fmt: skip
        assert kinds == ["value_captured", "rejected", "confirmed"]

    async def test_a_new_number_typed_at_the_readback(self, stub: VoiceCoreServiceStub) -> None:
        """Another number typed at the readback corrects the held one; "1" confirms it."""
        call = Keypad(stub, "capture_phone", "keys-2")
        await call.press("4155550182#")
        corrected = await call.press("*6505550199#")
        assert (corrected.state, corrected.data["value"]) == (NC, "+16505550199")
        done = await call.press("1")
        assert (done.state, done.data["value"]) == (COMPLETED, "+16505550199")

    async def test_star_at_the_readback_starts_over(self, stub: VoiceCoreServiceStub) -> None:
        """ "*" at each readback is "no, start over": rejected like a bare no, an attempt
        each, so the third ends FAILED as rejected, never as unclear answers; "1#" is a
        value (here no phone number), not a yes."""
        call = Keypad(stub, "capture_phone", "keys-star-readback")
        for attempt in (1, 2, 3):
            held = await call.press("4155550182#")
            assert (held.state, held.data["attempts"]) == (NC, attempt)
            if attempt == 1:
                unclear = await call.press("1#")
                assert unclear.state is NC
                assert unclear.data["prompt"].startswith("Sorry, I didn't catch what to change.")
            over = await call.press("*")
            assert over.data["reason"] == "rejected"
        assert over.state is PrimitiveState.FAILED

    async def test_one_digit_typed_at_its_readback(self, stub: VoiceCoreServiceStub) -> None:
        """ "1#" is held, "2#" corrects it to 2, "2#" again confirms it."""
        call = Keypad(stub, "capture_digits", "keys-one-digit")
        one_digit: dict[str, Any] = {"min_length": 1, "max_length": 1}
        held = await call.press("1#", **one_digit)
        assert (held.state, held.data["value"]) == (NC, "1")
        corrected = await call.press("2#", **one_digit)
        assert (corrected.state, corrected.data["value"]) == (NC, "2")
        done = await call.press("2#", **one_digit)
        assert (done.state, done.data["value"]) == (COMPLETED, "2")

    async def test_keys_win_over_words(self, stub: VoiceCoreServiceStub) -> None:
        """Keys pressed while the ASR wrote another number: the keys are the value."""
        call = Keypad(stub, "capture_phone", "keys-3")
        turn = await call.press("4155550182#", transcription="six five oh five five five")
        assert (turn.state, turn.data["value"]) == (NC, "+14155550182")

    async def test_a_turn_is_applied_once_per_key(self, stub: VoiceCoreServiceStub) -> None:
        """A retried "2" replays its answer; the next number is still read as a value."""
        call = Keypad(stub, "capture_phone", "keys-4")
        await call.press("4155550182#", key="k1")
        once = await call.press("2", key="k2")
        again = await call.press("2", key="k2")
        assert (once.state, again.state, again.replayed) == (INCOMPLETE, INCOMPLETE, True)
        assert once.data == again.data


class TestOtherCaptures:
    async def test_amount_with_star_as_the_point(self, stub: VoiceCoreServiceStub) -> None:
        call = Keypad(stub, "capture_amount", "keys-amount")
        first = await call.press("12*50#")
        assert (first.data["value"], first.data["currency"]) == ("12.50", "USD")
        done = await call.press("1")
        assert (done.state, done.data["value"]) == (COMPLETED, "12.50")

    async def test_digits_completed_over_two_turns(self, stub: VoiceCoreServiceStub) -> None:
        call = Keypad(stub, "capture_digits", "keys-digits")
        first = await call.press("902#", min_length=5, max_length=5)
        assert (first.state, first.data["partial"]) == (INCOMPLETE, "902")
        done = await call.press("10#", min_length=5, max_length=5)
        assert (done.state, done.data["value"]) == (NC, "90210")

    async def test_confirm(self, stub: VoiceCoreServiceStub) -> None:
        call = Keypad(stub, "confirm", "")
        assert (await call.press("1")).data["value"] == "yes"
        assert (await call.press("2#")).data["value"] == "no"

    async def test_a_capture_without_keys_refuses_them(self, stub: VoiceCoreServiceStub) -> None:
        request = Keypad(stub, "capture_email", "")._request("1", "", {"transcription": "x"})
        response = await stub.execute_primitive(request)
        assert not response.success and response.error is not None
        assert response.error.code is ErrorCode.INVALID_PARAMS
        assert "dtmf" in response.error.message


class TestNoClearValue:
    @pytest.mark.parametrize(
        ("objective_type", "typed", "clear"),
        [
            ("capture_phone", "4155550182#", ["4155550182", "14155550182", "5550182"]),
            ("capture_digits", "73190655#", ["73190655"]),
            ("capture_amount", "1234*56#", ["1234.56", "1234*56"]),
        ],
    )
    async def test_events_and_logs_carry_the_value_redacted(
        self,
        stub: VoiceCoreServiceStub,
        log_lines: list[str],
        objective_type: str,
        typed: str,
        clear: list[str],
    ) -> None:
        """Typed and confirmed: no event or log line shows the keys or the value in clear."""
        call = Keypad(stub, objective_type, f"keys-clear-{objective_type}")
        await call.press(typed)
        await call.press("1")
        payloads = await event_payloads(stub, call.conversation_id)
        assert any(
            "valueRedacted" in payload or "value_redacted" in payload for payload in payloads
        )
        assert any("capture turn done" in line for line in log_lines)
        for text in [*payloads, *log_lines]:
            for value in clear:
                assert not shows(value, text), text
