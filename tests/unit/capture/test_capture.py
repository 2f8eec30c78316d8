"""voicecore.capture: the multi-turn capture machine, its store and redaction."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from tests._fakes import FakeClock, FourDigits
from tests._replies import held_value, reply_of
from voicecore._json import JsonValue
from voicecore.capture import (
    INLINE_READ_CHARS,
    CaptureKey,
    CaptureParams,
    CapturePrimitive,
    CaptureState,
    HeldValue,
    InMemoryCaptureStore,
    Reading,
    calibrated,
    redact,
    run_turn,
    state_size,
)
from voicecore.capture._confidence import Support
from voicecore.primitive import PrimitiveContext, PrimitiveResult, PrimitiveState
from voicecore.primitives.email import CaptureEmail, CaptureEmailParams
from voicecore.primitives.phone import CapturePhone, CapturePhoneParams

NC = PrimitiveState.NEEDS_CONFIRMATION
FAILED = PrimitiveState.FAILED


@dataclass
class Call:
    """A conversation with the fake primitive: the store, the events, the context."""

    conversation_id: str = "call-1"
    purpose: str = "so we can find your booking"
    store: InMemoryCaptureStore = field(default_factory=InMemoryCaptureStore)
    events: list[tuple[str, dict[str, JsonValue]]] = field(default_factory=list)

    async def emit(self, event_type: str, payload: Mapping[str, JsonValue]) -> int:
        self.events.append((event_type, dict(payload)))
        return len(self.events)

    async def say(self, text: str, **params: object) -> PrimitiveResult:
        parsed = CaptureParams.model_validate({"transcription": text, **params})
        return await run_turn(FourDigits(), parsed, self.context("capture_fake"))

    def context(self, objective_type: str) -> PrimitiveContext:
        return PrimitiveContext(
            objective_type=objective_type,
            trace_id="0" * 32,
            emit=self.emit,
            captures=self.store,
            conversation_id=self.conversation_id,
            purpose=self.purpose,
        )

    def event_types(self) -> list[str]:
        return [event_type for event_type, _ in self.events]


def _state(value: str = "1234") -> CaptureState:
    return CaptureState(held=HeldValue(value, value, {}, 0.5))


class TestRedact:
    @pytest.mark.parametrize(
        ("value", "redacted"),
        [
            ("john@gmail.com", "j***@g***.***"),
            ("+14155552671", "+1***"),
            ("2025-03-14", "2***-***-***"),
            ("a@b.com", "***@***.***"),
            ("J", "***"),
            ("yes", "***"),
            ("no", "***"),
            ("", ""),
        ],
    )
    def test_keeps_only_the_first_character_of_long_parts(self, value: str, redacted: str) -> None:
        """A run of four or more keeps its first character; a shorter run shows nothing."""
        assert redact(value) == redacted


class TestCapturePrimitive:
    def test_default_correct_edits_nothing(self) -> None:
        """A primitive that does not override correct() sees no partial edits."""

        class WholeValuesOnly(FourDigits):
            correct = CapturePrimitive.correct

        params = CaptureParams(transcription="x")
        reply = reply_of("the last digit is 9")
        assert WholeValuesOnly().correct(held_value("1234"), reply, params) is None

    def test_unsupported_locale_is_refused(self) -> None:
        """en-US is accepted; another locale is a validation error naming the supported ones."""
        assert CaptureParams(transcription="x", locale="en-US").locale == "en-US"
        with pytest.raises(ValidationError, match="en-US"):
            CaptureParams(transcription="x", locale="de-DE")


class TestInMemoryCaptureStore:
    async def test_put_get_delete(self) -> None:
        """A kept state comes back until it is deleted."""
        store = InMemoryCaptureStore()
        key = CaptureKey("c", "capture_fake")
        await store.put(key, _state())
        assert await store.get(key) == _state()
        await store.delete(key)
        assert await store.get(key) is None
        await store.delete(key)

    async def test_states_expire_after_ttl(self) -> None:
        """A state is forgotten ttl seconds after its last write; a write restarts the clock."""
        clock = FakeClock()
        store = InMemoryCaptureStore(ttl=10.0, clock=clock)
        key = CaptureKey("c", "capture_fake")
        await store.put(key, _state())
        clock.now = 9.0
        await store.put(key, _state("5678"))
        clock.now = 18.0
        assert await store.get(key) == _state("5678")
        clock.now = 19.5
        assert await store.get(key) is None
        assert len(store) == 0

    async def test_bounded_least_recently_used_go_first(self) -> None:
        """Beyond max_entries, the least recently used state is dropped."""
        store = InMemoryCaptureStore(max_entries=2)
        keys = [CaptureKey(f"c{i}", "capture_fake") for i in range(3)]
        await store.put(keys[0], _state())
        await store.put(keys[1], _state())
        await store.get(keys[0])
        await store.put(keys[2], _state())
        assert len(store) == 2
        assert await store.get(keys[1]) is None
        assert await store.get(keys[0]) is not None

    @pytest.mark.parametrize(("max_entries", "ttl"), [(0, 1.0), (1, 0.0), (1, -5.0)])
    def test_rejects_non_positive_limits(self, max_entries: int, ttl: float) -> None:
        """max_entries and ttl must be positive."""
        with pytest.raises(ValueError, match="should be positive"):
            InMemoryCaptureStore(max_entries=max_entries, ttl=ttl)

    async def test_bounded_by_bytes_whatever_the_count(self) -> None:
        """Large held values evict older ones by their estimated size."""
        store = InMemoryCaptureStore(max_entries=1000, max_bytes=200_000)
        large = _state("9" * 2000)
        for i in range(100):
            await store.put(CaptureKey(f"c{i}", "capture_fake"), large)
        assert 0 < len(store) < 100
        assert store.held_bytes <= 200_000
        assert state_size(large) * len(store) == store.held_bytes


class TestLostStates:
    """The listeners of on_lost hear of each state the store drops by itself, and only those."""

    @staticmethod
    def _heard(store: InMemoryCaptureStore) -> list[tuple[object, str]]:
        heard: list[tuple[object, str]] = []
        store.on_lost.append(lambda key, why: heard.append((key, why)))
        return heard

    async def test_an_expired_state_is_reported_when_forgotten(self) -> None:
        """Past its TTL a state reads as gone; the next write forgets it and says so."""
        clock = FakeClock()
        store = InMemoryCaptureStore(ttl=10.0, clock=clock)
        heard = self._heard(store)
        held, other = CaptureKey("c", "capture_fake"), CaptureKey("d", "capture_fake")
        await store.put(held, _state())
        clock.now = 10.5
        assert await store.get(held) is None
        assert heard == []  # not forgotten yet: nothing has written since
        await store.put(other, _state())
        assert heard == [(held, "expired")]
        assert len(store) == 1

    async def test_an_evicted_state_is_reported(self) -> None:
        """The least recently used state, dropped for room, is evicted."""
        store = InMemoryCaptureStore(max_entries=2)
        heard = self._heard(store)
        keys = [CaptureKey(f"c{i}", "capture_fake") for i in range(3)]
        for key in keys:
            await store.put(key, _state())
        assert heard == [(keys[0], "evicted")]

    async def test_a_capture_that_ends_or_is_replaced_is_not_lost(self) -> None:
        """A delete (the capture ended, or reset) and a write over a kept state say nothing."""
        clock = FakeClock()
        store = InMemoryCaptureStore(ttl=10.0, clock=clock)
        heard = self._heard(store)
        key = CaptureKey("c", "capture_fake")
        await store.put(key, _state())
        await store.put(key, _state("5678"))
        await store.delete(key)
        clock.now = 30.0
        await store.put(CaptureKey("d", "capture_fake"), _state())
        assert heard == []


def _params(text: str, **more: object) -> CaptureParams:
    return CaptureParams.model_validate({"transcription": text, **more})


def _recording(threads: list[str]) -> type[FourDigits]:
    """The fake capture, noting in ``threads`` the thread each reading runs on."""

    class Recording(FourDigits):
        def read(self, text: str, params: CaptureParams, partial: str | None) -> Reading:
            threads.append(threading.current_thread().name)
            return super().read(text, params, partial)

    return Recording


class TestWhereReadingRuns:
    async def test_short_utterances_on_the_loop_long_ones_in_a_worker(self) -> None:
        """Up to INLINE_READ_CHARS the reading runs on the loop's thread, past it elsewhere."""
        threads: list[str] = []
        where: list[str] = []
        Recording = _recording(threads)

        call = Call()
        many_words = "uh the " * (INLINE_READ_CHARS // 100) + "1234"  # few chars, many trims
        assert len(many_words) < INLINE_READ_CHARS / 10
        for text in ("1234", "1234" + " " * INLINE_READ_CHARS, many_words):
            threads.clear()
            await run_turn(Recording(), _params(text, reset=True), call.context("capture_fake"))
            where.append(threads[0])
        assert where[0] == threading.current_thread().name
        assert where[1].startswith("voicecore-read")
        assert where[2].startswith("voicecore-read")  # its trimming counts

    async def test_an_answer_to_a_readback_counts_its_correction(self) -> None:
        """The same words cost more as an answer (understood, tried as a correction): a text
        read on the loop as a first turn is read in the worker when it answers a readback."""
        threads: list[str] = []
        Recording = _recording(threads)

        answer = "no," + "x" * (INLINE_READ_CHARS // 8)  # two words: little trimming
        call = Call()
        await run_turn(Recording(), _params(answer, reset=True), call.context("capture_fake"))
        assert threads[-1] == threading.current_thread().name
        held = await run_turn(
            Recording(), _params("1234", reset=True), call.context("capture_fake")
        )
        assert held.state is NC
        threads.clear()
        await run_turn(Recording(), _params(answer), call.context("capture_fake"))
        assert threads and all(name.startswith("voicecore-read") for name in threads)


class TestFirstTurn:
    async def test_value_needs_confirmation(self) -> None:
        """A value heard is held for confirmation, with readback, parts and a prompt."""
        result = await Call().say("it's 1 2 3 4")
        assert result.state is NC
        assert result.attempt == 1
        data = result.data
        assert (data["value"], data["readback"], data["length"]) == ("1234", "1 2 3 4", 4)
        assert data["candidates"] == []
        assert data["attempts"] == 1
        assert data["prompt"] == (
            "Just to confirm, your code is 1 2 3 4, so we can find your booking. Is that right?"
        )

    async def test_without_confirmation_completes(self) -> None:
        """require_confirmation=false completes at once and keeps nothing."""
        call = Call()
        result = await call.say("1234", require_confirmation=False)
        assert result.state is PrimitiveState.COMPLETED
        assert result.data["value"] == "1234"
        assert len(call.store) == 0
        assert call.event_types() == ["capture.value_captured"]

    async def test_nothing_heard_is_incomplete_with_reason(self) -> None:
        """Nothing usable is INCOMPLETE with a reason code, no value and no confidence."""
        result = await Call().say("I don't remember")
        assert result.state is PrimitiveState.INCOMPLETE
        assert "value" not in result.data
        assert result.data["reason"] == "no_value_heard"
        assert result.confidence == 0.0

    async def test_purpose_phrase_is_completed(self) -> None:
        """A bare purpose is introduced with "so we can" in the prompt."""
        call = Call(purpose="send the receipt")
        result = await call.say("1234")
        assert "1 2 3 4, so we can send the receipt. Is that right?" in str(result.data["prompt"])

    async def test_no_purpose_no_clause(self) -> None:
        """Without a purpose the prompt just asks."""
        result = await Call(purpose=" ").say("1234")
        assert result.data["prompt"] == "Just to confirm, your code is 1 2 3 4. Is that right?"

    async def test_without_conversation_each_call_stands_alone(self) -> None:
        """Without a conversation id nothing is kept: a "yes" next is just unusable."""
        call = Call(conversation_id="")
        assert (await call.say("1234")).state is NC
        assert len(call.store) == 0
        result = await call.say("yes")
        assert result.state is PrimitiveState.INCOMPLETE
        assert result.attempt == 1


class TestNBest:
    async def test_valid_alternative_beats_invalid_top(self) -> None:
        """An alternative that reads as a value wins over a top hypothesis that does not."""
        result = await Call().say(
            "one two tree for", alternatives=[{"transcription": "1 2 3 4", "confidence": 0.3}]
        )
        assert result.data["value"] == "1234"

    async def test_single_hypothesis_confidence_is_asr_times_certainty(self) -> None:
        """One hypothesis: its score = ASR confidence x parse certainty, then calibrated with
        the ASR confidence beside it."""
        sure = await Call().say("1234", asr_confidence=0.8)
        assert sure.confidence == calibrated(0.8, FourDigits.name, Support(weight=0.8))
        unsure = await Call().say("1234?", asr_confidence=0.8)
        assert unsure.confidence == calibrated(0.4, FourDigits.name, Support(weight=0.8))
        assert unsure.confidence < sure.confidence

    async def test_unknown_asr_confidence_uses_the_prior(self) -> None:
        """No ASR confidence: the top hypothesis weighs 0.75."""
        assert (await Call().say("1234")).confidence == calibrated(0.75, FourDigits.name)

    async def test_agreement_raises_confidence(self) -> None:
        """Alternatives reading the same value raise the confidence."""
        alone = await Call().say("1234", asr_confidence=0.6)
        agreed = await Call().say(
            "1234",
            asr_confidence=0.6,
            alternatives=[{"transcription": "1 2 3 4", "confidence": 0.3}],
        )
        assert agreed.confidence > alone.confidence

    async def test_disagreement_lowers_confidence_and_gives_candidates(self) -> None:
        """Other values lower the confidence and come back as candidates, best first."""
        alone = await Call().say("1234", asr_confidence=0.6)
        result = await Call().say(
            "1234",
            asr_confidence=0.6,
            alternatives=[
                {"transcription": "1235", "confidence": 0.1},
                {"transcription": "1284", "confidence": 0.3},
            ],
        )
        assert result.data["value"] == "1234"
        assert result.confidence < alone.confidence
        candidates = result.data["candidates"]
        assert isinstance(candidates, list)
        assert [c["value"] for c in candidates if isinstance(c, dict)] == ["1284", "1235"]

    async def test_weightier_alternative_wins(self) -> None:
        """A value the ASR is surer of wins over a less sure top transcription."""
        result = await Call().say(
            "1234", asr_confidence=0.2, alternatives=[{"transcription": "5678", "confidence": 0.7}]
        )
        assert result.data["value"] == "5678"


class TestConfirmation:
    @pytest.mark.parametrize("answer", ["yes", "that's right", "Yeah.", "uh huh", "correct"])
    async def test_yes_completes_and_ends_the_capture(self, answer: str) -> None:
        """A yes completes the held value; the next call starts a new capture."""
        call = Call()
        await call.say("1234")
        result = await call.say(answer)
        assert result.state is PrimitiveState.COMPLETED
        assert result.data["value"] == "1234"
        assert result.confidence > 0.75
        assert len(call.store) == 0
        assert call.event_types() == ["capture.value_captured", "capture.confirmed"]
        assert (await call.say("5678")).data["value"] == "5678"

    async def test_bare_no_is_incomplete_and_another_attempt(self) -> None:
        """A bare no drops the value: INCOMPLETE, attempt 1 used, the next turn is attempt 2."""
        call = Call()
        await call.say("1234")
        rejected = await call.say("no")
        assert (rejected.state, rejected.attempt) == (PrimitiveState.INCOMPLETE, 1)
        assert rejected.data["reason"] == "rejected"
        assert "again" in str(rejected.data["prompt"])
        assert call.event_types()[-1] == "capture.rejected"
        heard = await call.say("5678")
        assert (heard.state, heard.attempt, heard.data["value"]) == (NC, 2, "5678")

    @pytest.mark.parametrize(
        "answer", ["no, that's not my code", "no, wrong number", "no, try again", "nope"]
    )
    async def test_a_no_with_words_but_no_characters_rejects(self, answer: str) -> None:
        """A no whose other words say no letters or digits is a no, not an unclear answer."""
        call = Call()
        await call.say("1234")
        rejected = await call.say(answer)
        assert (rejected.state, rejected.data["reason"]) == (PrimitiveState.INCOMPLETE, "rejected")

    @pytest.mark.parametrize(
        "answer", ["no it's 5 6 7 8", "no, 5678", "5678", "nope, that's 5678", "yes 5678"]
    )
    async def test_new_value_is_a_correction(self, answer: str) -> None:
        """ "No, it's ...", or a new value outright, replaces the held value."""
        call = Call()
        await call.say("1234")
        result = await call.say(answer)
        assert (result.state, result.data["value"], result.attempt) == (NC, "5678", 2)
        assert result.data["prompt"] == (
            "Sorry about that. So your code is 5 6 7 8, so we can find your booking. Is that right?"
        )
        assert call.event_types()[-1] == "capture.corrected"

    @pytest.mark.parametrize("answer", ["the last digit is 9", "no, the last one is 9"])
    async def test_correction_edits_the_held_value(self, answer: str) -> None:
        """A partial correction edits the held value rather than starting over."""
        call = Call()
        await call.say("1234")
        result = await call.say(answer)
        assert (result.state, result.data["value"]) == (NC, "1239")
        assert (await call.say("yes")).data["value"] == "1239"

    async def test_value_said_again_confirms(self) -> None:
        """Repeating the held value counts as a yes."""
        call = Call()
        await call.say("1234")
        assert (await call.say("1 2 3 4")).state is PrimitiveState.COMPLETED

    @pytest.mark.parametrize("answer", ["hmm what", "no it's 5 6 7", "yes, but it's wrong"])
    async def test_unclear_answer_keeps_the_held_value(self, answer: str) -> None:
        """An answer that is neither yes, a bare no, an edit nor a value keeps the value, spends
        no attempt and reads it back with a precise question."""
        call = Call()
        await call.say("1234")
        result = await call.say(answer)
        assert (result.state, result.attempt, result.data["value"]) == (NC, 1, "1234")
        assert result.data["prompt"] == (
            "Sorry, I didn't catch what to change. I have your code as 1 2 3 4, so we can "
            "find your booking. Is that right? If not, please say just the part that's wrong."
        )
        assert call.event_types() == ["capture.value_captured"]
        assert (await call.say("yes")).data["value"] == "1234"

    async def test_unclear_answers_have_their_own_limit(self) -> None:
        """Past max_unclear unclear answers the capture FAILS, reporting the value unconfirmed,
        whatever attempts are left."""
        call = Call()
        await call.say("1234", max_unclear=1, max_attempts=5)
        assert (await call.say("hmm", max_unclear=1, max_attempts=5)).state is NC
        result = await call.say("hmm", max_unclear=1, max_attempts=5)
        assert (result.state, result.attempt, result.data["reason"]) == (
            FAILED,
            1,
            "unclear_answers",
        )
        assert result.data["unconfirmed_value"] == "1234"
        assert call.event_types()[-1] == "capture.failed"
        assert len(call.store) == 0

    async def test_unclear_answers_count_over_the_capture(self) -> None:
        """A correction does not reset the count: one capture has max_unclear of them."""
        call = Call()
        await call.say("1234", max_unclear=1)
        await call.say("hmm", max_unclear=1)
        assert (await call.say("5678", max_unclear=1)).data["value"] == "5678"
        assert (await call.say("hmm", max_unclear=1)).state is FAILED

    async def test_contested_answer_follows_the_evidence(self) -> None:
        """Between a yes and a correction among hypotheses, the weightier one wins."""
        call = Call()
        await call.say("1234")
        result = await call.say(
            "yes", asr_confidence=0.3, alternatives=[{"transcription": "5678", "confidence": 0.6}]
        )
        assert (result.state, result.data["value"]) == (NC, "5678")


class TestAttempts:
    async def test_attempts_used_up_fail(self) -> None:
        """max_attempts unusable turns end in FAILED, and the next call starts afresh."""
        call = Call()
        states = [(await call.say("hmm", max_attempts=3)).state for _ in range(3)]
        assert states == [PrimitiveState.INCOMPLETE, PrimitiveState.INCOMPLETE, FAILED]
        assert call.events[-1] == (
            "capture.failed",
            {"state": "FAILED", "attempt": 3, "reason": "no_value_heard"},
        )
        assert len(call.store) == 0
        fresh = await call.say("1234")
        assert (fresh.state, fresh.attempt) == (NC, 1)

    async def test_rejected_last_attempt_fails(self) -> None:
        """A correction in the last attempt ends the capture as FAILED."""
        call = Call()
        await call.say("1234", max_attempts=2)
        assert (await call.say("no, 5678", max_attempts=2)).attempt == 2
        result = await call.say("no, 1111", max_attempts=2)
        assert (result.state, result.attempt, result.data["reason"]) == (FAILED, 2, "rejected")
        assert call.event_types()[-2:] == ["capture.rejected", "capture.failed"]

    async def test_lowered_max_attempts_caps_the_attempt(self) -> None:
        """If max_attempts drops mid-capture, the attempt never exceeds it."""
        call = Call()
        await call.say("hmm", max_attempts=5)
        await call.say("hmm", max_attempts=5)
        result = await call.say("hmm", max_attempts=2)
        assert (result.state, result.attempt) == (FAILED, 2)


class TestPartial:
    async def test_partial_is_kept_and_completed(self) -> None:
        """Some digits are kept and completed by the next turn, using no attempt."""
        call = Call()
        first = await call.say("1 2")
        assert (first.state, first.data["partial"], first.data["reason"]) == (
            PrimitiveState.INCOMPLETE,
            "12",
            "too_few_digits",
        )
        assert first.data["prompt"] == "I have 1 2 so far. What comes next?"
        second = await call.say("3")
        assert second.data["partial"] == "123"
        done = await call.say("4")
        assert (done.state, done.data["value"], done.attempt) == (NC, "1234", 1)

    async def test_no_progress_uses_an_attempt(self) -> None:
        """A turn that adds nothing to the partial fails the attempt but keeps the partial."""
        call = Call()
        await call.say("1 2")
        stalled = await call.say("um")
        assert (stalled.attempt, stalled.data["partial"]) == (1, "12")
        assert (await call.say("3 4")).data["value"] == "1234"


class TestReset:
    async def test_reset_starts_over(self) -> None:
        """reset=true forgets the held value and the attempts."""
        call = Call()
        await call.say("1234")
        await call.say("no")
        result = await call.say("yes", reset=True)
        assert (result.state, result.attempt) == (PrimitiveState.INCOMPLETE, 1)
        assert (await call.say("5678", reset=True)).attempt == 1


class TestKeys:
    async def test_conversations_are_separate(self) -> None:
        """Two conversations on one store do not see each other's capture."""
        store = InMemoryCaptureStore()
        first, second = Call("a", store=store), Call("b", store=store)
        await first.say("1234")
        assert (await second.say("yes")).state is PrimitiveState.INCOMPLETE
        assert (await first.say("yes")).state is PrimitiveState.COMPLETED


class TestEvents:
    async def test_payloads_never_carry_the_value_in_clear(self) -> None:
        """Every event payload carries the value redacted only."""
        call = Call()
        for text in ["1234", "no, 5678", "the last digit is 9", "yes"]:
            await call.say(text)
        assert call.event_types() == [
            "capture.value_captured",
            "capture.corrected",
            "capture.corrected",
            "capture.confirmed",
        ]
        for _, payload in call.events:
            assert not any(value in repr(payload) for value in ("1234", "5678", "5679"))
        assert call.events[1][1]["value_redacted"] == "5***"
        assert call.events[1][1]["previous_redacted"] == "1***"
        assert call.events[-1][1]["state"] == "COMPLETED"


class TestWithRealPrimitives:
    """Scenarios with capture_email and capture_phone driving the machine."""

    async def email(self, call: Call, text: str) -> PrimitiveResult:
        params = CaptureEmailParams(transcription=text)
        return await CaptureEmail().execute(params, call.context("capture_email"))

    async def phone(self, call: Call, text: str) -> PrimitiveResult:
        params = CapturePhoneParams(transcription=text)
        return await CapturePhone().execute(params, call.context("capture_phone"))

    async def test_email_confirmed(self) -> None:
        """An email read back and confirmed completes with its parts."""
        call = Call(purpose="so we can send the receipt")
        held = await self.email(call, "my email is j o h n at gmail dot com")
        assert held.data["prompt"] == (
            "Just to confirm, your email address is j o h n at gmail dot com, "
            "so we can send the receipt. Is that right?"
        )
        done = await self.email(call, "yes that's right")
        assert (done.state, done.data["value"], done.data["domain"]) == (
            PrimitiveState.COMPLETED,
            "john@gmail.com",
            "gmail.com",
        )

    @pytest.mark.parametrize(
        ("first", "answer", "value"),
        [
            ("j f m i t h at gmail dot com", "s as in sam", "jsmith@gmail.com"),
            ("j o h n at gmail dot com", "no, it's j o n not j o h n", "jon@gmail.com"),
            ("john at gmail dot com", "no, it's jane at gmail dot com", "jane@gmail.com"),
        ],
    )
    async def test_email_corrected(self, first: str, answer: str, value: str) -> None:
        """A part corrected ("s as in sam") or a new address replaces the held one."""
        call = Call()
        await self.email(call, first)
        corrected = await self.email(call, answer)
        assert (corrected.state, corrected.data["value"]) == (NC, value)
        assert (await self.email(call, "yep")).data["value"] == value

    async def test_phone_partial_completed(self) -> None:
        """Six digits are kept and the rest completes the number on the next turn."""
        call = Call()
        partial = await self.phone(call, "four one five five five five")
        assert partial.state is PrimitiveState.INCOMPLETE
        assert partial.data["prompt"] == "I have 4 1 5 5 5 5 so far. What comes next?"
        done = await self.phone(call, "two six seven one")
        assert (done.state, done.data["value"]) == (NC, "+14155552671")


class TestTurnsCounted:
    async def test_every_turn_of_a_capture_counts(self) -> None:
        """A value, an unclear answer, a no, another value, yes: five turns, two attempts."""
        call = Call()
        results = [await call.say(text) for text in ("1234", "hmm", "no", "5678", "yes")]
        assert [result.turns for result in results] == [1, 2, 3, 4, 5]
        assert [result.attempt for result in results] == [1, 1, 1, 2, 2]
        assert results[-1].state is PrimitiveState.COMPLETED

    async def test_the_count_is_kept_with_the_state(self) -> None:
        """The count lives in the capture's state, so any replica continues it."""
        call = Call()
        await call.say("1234")
        kept = await call.store.get(CaptureKey("call-1", "capture_fake"))
        assert kept is not None and kept.turns == 1

    async def test_a_reset_or_no_conversation_starts_from_one(self) -> None:
        """reset=true starts the capture over; without a conversation every turn stands alone."""
        call = Call()
        await call.say("1234")
        assert (await call.say("1234", reset=True)).turns == 1
        alone = Call(conversation_id="")
        await alone.say("1234")
        assert (await alone.say("1234")).turns == 1


class TestTurnLimit:
    async def test_the_last_turn_ends_a_capture_still_waiting(self) -> None:
        """At its max_turns-th turn a capture that would wait again (here an answer not
        understood) FAILS, reason too_many_turns, reporting the value read back unconfirmed;
        nothing is kept."""
        call = Call()
        assert (await call.say("1234", max_turns=2)).state is NC
        result = await call.say("hmm", max_turns=2)
        assert (result.state, result.data["reason"]) == (FAILED, "too_many_turns")
        assert result.data["unconfirmed_value"] == "1234"
        assert call.event_types()[-1] == "capture.failed"
        assert len(call.store) == 0

    async def test_a_correction_at_the_last_turn_is_no_capture(self) -> None:
        """A new value heard at the last turn is not captured (no event says so), the capture
        fails, the new value reported unconfirmed."""
        call = Call()
        await call.say("1234", max_turns=2)
        result = await call.say("no, 5678", max_turns=2)
        assert (result.state, result.data["unconfirmed_value"]) == (FAILED, "5678")
        assert call.event_types() == ["capture.value_captured", "capture.failed"]

    async def test_a_no_at_the_last_turn_rejects_the_value(self) -> None:
        """A bare no at the last turn: the value is rejected (its event names it, redacted),
        then the capture fails."""
        call = Call()
        await call.say("1234", max_turns=2)
        result = await call.say("no", max_turns=2)
        assert (result.state, result.data["reason"]) == (FAILED, "too_many_turns")
        assert call.event_types() == [
            "capture.value_captured",
            "capture.rejected",
            "capture.failed",
        ]
        assert dict(call.events)["capture.rejected"]["value_redacted"] == "1***"

    async def test_a_yes_at_the_last_turn_completes(self) -> None:
        call = Call()
        await call.say("1234", max_turns=2)
        result = await call.say("yes", max_turns=2)
        assert (result.state, result.data["value"]) == (PrimitiveState.COMPLETED, "1234")

    async def test_nothing_heard_at_the_last_turn_reports_no_value(self) -> None:
        call = Call()
        await call.say("I don't remember", max_turns=2)
        result = await call.say("still no idea", max_turns=2)
        assert (result.state, result.data["reason"]) == (FAILED, "too_many_turns")
        assert "unconfirmed_value" not in result.data and "value" not in result.data

    @pytest.mark.parametrize(
        ("confirm", "ends"), [(True, FAILED), (False, PrimitiveState.COMPLETED)]
    )
    async def test_one_turn_allows_no_readback(self, confirm: bool, ends: PrimitiveState) -> None:
        """max_turns=1: a value heard completes without a readback, or the capture fails
        (a readback would need a second turn)."""
        result = await Call().say("1234", max_turns=1, require_confirmation=confirm)
        assert result.state is ends

    async def test_the_kept_state_counts_every_turn(self) -> None:
        call = Call()
        await call.say("1234")
        await call.say("hmm")
        kept = (await call.store.load(CaptureKey("call-1", "capture_fake", ""))).state
        assert kept is not None and kept.turns == 2
