"""Properties of the capture machine over arbitrary turn sequences, and of its parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from tests._fakes import FourDigits
from voicecore._json import JsonValue
from voicecore.capture import (
    CaptureKey,
    CaptureParams,
    InMemoryCaptureStore,
    Vote,
    rank,
    run_turn,
)
from voicecore.primitive import PrimitiveContext, PrimitiveResult, PrimitiveState
from voicecore.primitives.email import CaptureEmail, CaptureEmailParams
from voicecore.spoken.yesno import Answer, understand

DIGITS = "0123456789"
ALLOWED = {
    PrimitiveState.INCOMPLETE,
    PrimitiveState.NEEDS_CONFIRMATION,
    PrimitiveState.COMPLETED,
    PrimitiveState.FAILED,
}
ENDS = {PrimitiveState.COMPLETED, PrimitiveState.FAILED}
KEY = CaptureKey("call-1", "capture_fake")


@dataclass
class Conversation:
    """Turns of one capture against one store, with the events they emitted."""

    store: InMemoryCaptureStore = field(default_factory=InMemoryCaptureStore)
    events: list[tuple[str, dict[str, JsonValue]]] = field(default_factory=list)

    async def emit(self, event_type: str, payload: Mapping[str, JsonValue]) -> int:
        self.events.append((event_type, dict(payload)))
        return len(self.events)

    def context(self, objective_type: str) -> PrimitiveContext:
        return PrimitiveContext(
            objective_type=objective_type,
            trace_id="0" * 32,
            emit=self.emit,
            captures=self.store,
            conversation_id=KEY.conversation_id,
            purpose="so we can check",
        )


SAYINGS = st.sampled_from(
    [
        "yes",
        "no",
        "that's right",
        "nope",
        "not quite",
        "uh huh",
        "maybe",
        "no it's 5678",
        "the last digit is 9",
        "1234",
        "12",
        "3 4",
        "5",
        "hmm",
        "",
    ]
)
TEXTS = st.one_of(SAYINGS, st.text(max_size=40), st.text(alphabet=DIGITS + " ", max_size=8))
ALTERNATIVES = st.lists(
    st.fixed_dictionaries(
        {"transcription": TEXTS, "confidence": st.floats(0.0, 1.0, allow_nan=False)}
    ),
    max_size=3,
)


@st.composite
def turns(draw: st.DrawFn) -> dict[str, object]:
    """The params of one arbitrary turn (max_attempts is drawn per sequence)."""
    return {
        "transcription": draw(TEXTS),
        "alternatives": draw(ALTERNATIVES),
        "asr_confidence": draw(st.none() | st.floats(0.0, 1.0, allow_nan=False)),
        "require_confirmation": draw(st.booleans()),
        "reset": draw(st.booleans().filter(lambda reset: reset) | st.just(False)),
    }


def _unclear_turn(text: str) -> dict[str, object]:
    """One unclear answer as a turn (marked so the test knows it is one)."""
    return {"transcription": text, "unclear": True}


def _check_result(result: PrimitiveResult, max_attempts: int) -> None:
    """What holds for every single turn."""
    assert result.state in ALLOWED
    assert 1 <= result.attempt <= max_attempts
    assert result.data["attempts"] == result.attempt
    has_value = result.state in (PrimitiveState.NEEDS_CONFIRMATION, PrimitiveState.COMPLETED)
    assert ("value" in result.data) == has_value
    assert ("reason" in result.data) != has_value
    assert isinstance(result.data["prompt"], str) and result.data["prompt"]
    assert 0.0 <= result.confidence <= 1.0
    if not has_value:
        assert result.confidence == 0.0


class TestMachine:
    @given(max_attempts=st.integers(1, 4), sequence=st.lists(turns(), min_size=1, max_size=10))
    async def test_turn_sequences_keep_invariants(
        self, max_attempts: int, sequence: list[dict[str, object]]
    ) -> None:
        """Any turns: allowed states, attempts within bounds, endings start afresh, no raise."""
        conversation = Conversation()
        ended = True
        for turn in sequence:
            params = CaptureParams.model_validate({**turn, "max_attempts": max_attempts})
            result = await run_turn(FourDigits(), params, conversation.context("capture_fake"))
            _check_result(result, max_attempts)
            if ended or params.reset:
                assert result.attempt == 1
            kept = await conversation.store.get(KEY)
            ended = result.state in ENDS
            assert (kept is None) == ended
            if result.state is PrimitiveState.NEEDS_CONFIRMATION:
                assert kept is not None and kept.held is not None
                assert kept.held.value == result.data["value"]

    @given(sequence=st.lists(turns(), min_size=1, max_size=8))
    async def test_events_never_carry_values_in_clear(
        self, sequence: list[dict[str, object]]
    ) -> None:
        """No event payload contains a value the capture held."""
        conversation = Conversation()
        values: set[str] = set()
        for turn in sequence:
            params = CaptureParams.model_validate(turn)
            result = await run_turn(FourDigits(), params, conversation.context("capture_fake"))
            if isinstance(result.data.get("value"), str):
                values.add(str(result.data["value"]))
        for _, payload in conversation.events:
            assert not any(value in repr(payload) for value in values)

    @given(sequence=st.lists(TEXTS, min_size=1, max_size=6))
    async def test_email_turns_never_raise(self, sequence: list[str]) -> None:
        """capture_email driven by arbitrary text gives allowed states only."""
        conversation = Conversation()
        for text in sequence:
            params = CaptureEmailParams(transcription=text)
            result = await CaptureEmail().execute(params, conversation.context("capture_email"))
            _check_result(result, params.max_attempts)


class TestParts:
    @given(st.text(max_size=60))
    def test_understand_any_text(self, text: str) -> None:
        """Any text reads as an answer with a certainty in 0..1, 0 exactly when unclear."""
        said = understand(text)
        assert 0.0 <= said.certainty <= 1.0
        assert (said.certainty == 0.0) == (said.answer is Answer.UNCLEAR)

    @given(
        st.lists(
            st.builds(
                Vote,
                st.none() | st.sampled_from("abc"),
                st.floats(-1.0, 2.0, allow_nan=False),
            ),
            max_size=6,
        )
    )
    def test_rank_is_ordered_and_bounded(self, votes: list[Vote[str]]) -> None:
        """Ranked keys are distinct, most confident first, confidences within 0..1."""
        ranked = rank(votes)
        assert {r.key for r in ranked} == {v.key for v in votes if v.key is not None}
        confidences = [r.confidence for r in ranked]
        assert confidences == sorted(confidences, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in confidences)


# Answers to a readback that are none of yes, a bare no, an edit or a value of FourDigits.
UNCLEAR = st.sampled_from(
    [
        "hmm",
        "what",
        "maybe",
        "no it's 5 6 7",
        "no, the first one",
        "yes, but it's wrong",
        "the middle digit is 5",
        "",
    ]
)


class TestHeldValueKept:
    @given(
        max_unclear=st.integers(0, 3),
        sequence=st.lists(st.one_of(turns(), UNCLEAR.map(_unclear_turn)), min_size=1, max_size=8),
    )
    async def test_an_unclear_answer_never_drops_the_held_value(
        self, max_unclear: int, sequence: list[dict[str, object]]
    ) -> None:
        """A value is held first; whatever comes after, an answer the machine does not
        understand leaves the held value held and the attempt where it was; only max_unclear
        of them ends the capture, and then the value is reported, unconfirmed."""
        conversation = Conversation()
        first: dict[str, object] = {"transcription": "1234"}
        for turn in [first, *sequence]:
            said = {key: value for key, value in turn.items() if key != "unclear"}
            params = CaptureParams.model_validate({**said, "max_unclear": max_unclear})
            before = await conversation.store.get(KEY)
            result = await run_turn(FourDigits(), params, conversation.context("capture_fake"))
            if before is None or before.held is None or not turn.get("unclear") or params.reset:
                continue
            if result.state is PrimitiveState.FAILED:
                assert before.unclear == max_unclear
                assert result.data["unconfirmed_value"] == before.held.value
                continue
            kept = await conversation.store.get(KEY)
            assert kept is not None and kept.held == before.held
            assert (kept.attempt, kept.unclear) == (before.attempt, before.unclear + 1)
            assert (result.state, result.data["value"]) == (
                PrimitiveState.NEEDS_CONFIRMATION,
                before.held.value,
            )
