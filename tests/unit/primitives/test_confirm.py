"""The ``confirm`` primitive: yes or no from what callers actually say."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from pydantic import ValidationError

from tests._cases import cases
from voicecore._json import JsonValue
from voicecore.capture import InMemoryCaptureStore, calibrated
from voicecore.primitive import PrimitiveContext, PrimitiveState
from voicecore.primitives.confirm import Confirm, ConfirmParams

CALLERS_SAYING_YES = [
    "Yes.",
    "yes",
    "Yeah.",
    "Yeah, that's right.",
    "Yep, that's correct.",
    "Yup.",
    "Correct.",
    "That's correct.",
    "That is right.",
    "Sure.",
    "Sure, go ahead.",
    "Absolutely.",
    "Uh-huh.",
    "uh huh",
    "Mm-hmm.",
    "Exactly.",
    "You got it.",
    "Yes, please.",
    "Okay.",
    "Yes, sir.",
    "Um, yes, I think so.",
    "Oh, yes, definitely.",
    "That's it.",
    "Right.",
    "No, wait, yes, that's right.",
    "Yeah, you're right.",
]
CALLERS_SAYING_NO = [
    "No.",
    "no",
    "Nope.",
    "Nah.",
    "No, that's wrong.",
    "That's not right.",
    "That is not correct.",
    "Not quite.",
    "Not really.",
    "Not exactly.",
    "No, it's Tuesday.",
    "Incorrect.",
    "Uh-uh.",
    "I don't think so.",
    "Absolutely not.",
    "Yeah, no.",
    "No, no, no.",
    "Wrong.",
    "That isn't right.",
    "Definitely not.",
]
CALLERS_UNCLEAR = [
    "",
    "Maybe.",
    "I'm not sure.",
    "What?",
    "Sorry, can you repeat that?",
    "I don't know.",
    "Yes and no.",
    "Hold on a second.",
    "The blue one.",
    "Um.",
]


async def _emit(event_type: str, payload: Mapping[str, JsonValue]) -> int:
    raise AssertionError("confirm emits no events")


def _context() -> PrimitiveContext:
    return PrimitiveContext(
        objective_type="confirm",
        trace_id="0" * 32,
        emit=_emit,
        captures=InMemoryCaptureStore(),
        conversation_id="call-1",
    )


async def _confirm(**params: object) -> tuple[PrimitiveState, dict[str, JsonValue], float]:
    result = await Confirm().execute(ConfirmParams.model_validate(params), _context())
    return result.state, result.data, result.confidence


class TestAnswers:
    @cases("text", CALLERS_SAYING_YES)
    async def test_yes(self, text: str) -> None:
        """Callers' ways of agreeing complete with the value "yes"."""
        state, data, confidence = await _confirm(transcription=text)
        assert (state, data["value"], data["readback"]) == (PrimitiveState.COMPLETED, "yes", "yes")
        assert 0.0 < confidence <= 1.0

    @cases("text", CALLERS_SAYING_NO)
    async def test_no(self, text: str) -> None:
        """Callers' ways of disagreeing complete with the value "no"."""
        state, data, confidence = await _confirm(transcription=text)
        assert (state, data["value"]) == (PrimitiveState.COMPLETED, "no")
        assert 0.0 < confidence <= 1.0

    @cases("text", CALLERS_UNCLEAR)
    async def test_unclear_is_no_value(self, text: str) -> None:
        """Anything that is neither is INCOMPLETE with the reason "unclear" and a prompt."""
        state, data, confidence = await _confirm(transcription=text)
        assert state is PrimitiveState.INCOMPLETE
        assert "value" not in data
        assert data["reason"] == "unclear"
        assert isinstance(data["prompt"], str) and "yes or a no" in data["prompt"]
        assert confidence == 0.0

    async def test_no_with_more_words_keeps_them(self) -> None:
        """ "No, it's Tuesday" returns the words after the no for the orchestrator."""
        _, data, _ = await _confirm(transcription="No, it's Tuesday.")
        assert data["remainder"] == "tuesday"

    async def test_plain_answer_has_no_remainder(self) -> None:
        """A bare answer carries no remainder key."""
        _, data, _ = await _confirm(transcription="yes")
        assert "remainder" not in data


class TestNBest:
    async def test_clear_alternative_beats_unclear_top(self) -> None:
        """When the top hypothesis is unclear, a clear alternative decides."""
        state, data, _ = await _confirm(
            transcription="yes ma",
            alternatives=[{"transcription": "yes ma'am", "confidence": 0.4}],
        )
        assert (state, data["value"]) == (PrimitiveState.COMPLETED, "yes")

    async def test_agreement_raises_confidence(self) -> None:
        """Alternatives that agree with the top raise the confidence."""
        _, _, alone = await _confirm(transcription="yeah", asr_confidence=0.6)
        _, _, agreed = await _confirm(
            transcription="yeah",
            asr_confidence=0.6,
            alternatives=[{"transcription": "yes", "confidence": 0.3}],
        )
        assert agreed > alone

    async def test_disagreement_lowers_confidence_and_is_a_candidate(self) -> None:
        """A disagreeing alternative lowers the confidence and comes back as a candidate."""
        _, _, alone = await _confirm(transcription="yes", asr_confidence=0.6)
        _, data, contested = await _confirm(
            transcription="yes",
            asr_confidence=0.6,
            alternatives=[{"transcription": "no", "confidence": 0.3}],
        )
        assert contested < alone
        assert data["value"] == "yes"
        candidates = data["candidates"]
        assert isinstance(candidates, list) and len(candidates) == 1
        assert isinstance(candidates[0], dict) and candidates[0]["value"] == "no"

    async def test_confidence_is_asr_times_certainty(self) -> None:
        """One clear hypothesis: its score = ASR confidence x answer certainty, calibrated."""
        _, _, confidence = await _confirm(transcription="yes", asr_confidence=0.8)
        assert confidence == calibrated(0.8, Confirm.name)


class TestParams:
    def test_locale_is_checked(self) -> None:
        """An unsupported locale is a validation error naming the field."""
        with pytest.raises(ValidationError, match="locale"):
            ConfirmParams(transcription="yes", locale="fr-FR")

    def test_capture_only_params_are_refused(self) -> None:
        """confirm takes no require_confirmation or max_attempts."""
        with pytest.raises(ValidationError, match="require_confirmation"):
            ConfirmParams.model_validate({"transcription": "yes", "require_confirmation": True})

    def test_identity(self) -> None:
        """confirm is served as "confirm" version 1.0.0 with its params model."""
        assert (Confirm.name, Confirm.version, Confirm.params_model) == (
            "confirm",
            "1.0.0",
            ConfirmParams,
        )
