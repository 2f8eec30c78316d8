"""The pure part of the capture state machine: from a kept state and one turn to the next state.

No I/O here: ``advance`` reads the turn's hypotheses with the primitive, chooses with
``voicecore.capture._nbest.rank`` and returns a ``Turn`` saying what to report, what to keep
and which events happened. ``voicecore.capture._turn.run_turn`` loads, stores and emits around
it.

Attempts: an attempt is one try at getting the value right. It fails when a turn gives nothing
usable, or when the caller rejects the value read back ("no", or a correction: the corrected
value starts the next attempt). A turn that only extends a partial value is progress, not a
failure. Failing the last attempt (``max_attempts``) is FAILED; so ``attempt`` never exceeds
``max_attempts``.

Turns: whatever the answers, a capture ends by its ``max_turns``-th turn (``CaptureParams``):
partial values and keypad restarts spend no attempt and could otherwise repeat for ever.

Unclear answers: what the caller gave is never lost to an answer the machine does not
understand. An answer to the readback that reads as neither yes, a no, an edit nor a new value
keeps the held value, spends no attempt and reads it back again (``reason`` "unclear_answer",
for the prompt): "hmm", "yes, but ...", and a no followed by characters of a value that read
as no edit ("no, it's p e t e r dash one three"; "no, that's not my email" is a plain no).
Such answers have their own small limit, ``max_unclear`` per capture; the one after it ends
the capture FAILED (reason ``unclear_answers``), reporting the value still unconfirmed.

Answers without a value (``Reading.answered``: "none of them" to a choice) spend no attempt,
as a first answer or as the answer to a readback, which they turn down ("no, neither"); but
only ``max_unclear`` of them per capture (``CaptureState.answered``, counted apart from the
unclear answers): past that, each spends an attempt, as a turn without a value does. So every
turn spends an attempt or one of the two small budgets, hears a value (which the next turn
confirms or turns down), extends a partial value, or ends the capture: one without partial
values (capture_choice) ends within ``2A + 3U`` turns (``A`` = ``max_attempts``, ``U`` =
``max_unclear``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar, Generic, Literal, Protocol, TypeVar

from voicecore._json import JsonValue
from voicecore.capture._confidence import Support, calibrated
from voicecore.capture._events import CONFIRMED, CORRECTED, FAILED, REJECTED, VALUE_CAPTURED
from voicecore.capture._keypad import (
    KEYPAD_WEIGHT,
    STARTED_OVER,
    YES_KEY,
    keypad_entry,
    readback_key,
)
from voicecore.capture._nbest import Hypothesis, Ranked, Vote, hypotheses, rank
from voicecore.capture._params import CaptureParams
from voicecore.capture._reading import Reading, Reply
from voicecore.capture._state import Candidate, CaptureState, HeldValue
from voicecore.capture._used import used_share
from voicecore.primitive import PrimitiveState
from voicecore.spoken.compose import says_characters
from voicecore.spoken.tokens import words
from voicecore.spoken.yesno import Answer, understand

__all__ = ["CaptureReader", "Turn", "advance"]

ParamsT = TypeVar("ParamsT", bound=CaptureParams)
ParamsT_contra = TypeVar("ParamsT_contra", bound=CaptureParams, contravariant=True)


class CaptureReader(Protocol[ParamsT_contra]):
    """What the capture turn asks of a primitive (``CapturePrimitive`` is one)."""

    #: The primitive's name: the kind of value, which its confidence is calibrated for.
    name: ClassVar[str]
    #: What the prompt calls the value, e.g. "email address".
    noun: ClassVar[str]

    def read(self, text: str, params: ParamsT_contra, partial: str | None) -> Reading:
        """Read one hypothesis; ``partial`` is what earlier turns kept, if anything."""
        ...

    def correct(self, held: HeldValue, reply: Reply, params: ParamsT_contra) -> Reading | None:
        """Apply a reply that edits ``held`` in part ("s as in sam"); None if it does not."""
        ...

    def read_keys(self, keys: str, params: ParamsT_contra, partial: str | None) -> Reading:
        """Read a keypad entry (the keys before any "#"; see ``voicecore.capture._keypad``)."""
        ...


@dataclass(frozen=True, slots=True)
class Turn:
    """The outcome of one turn: what to report, what to keep (None: end the capture), events."""

    state: PrimitiveState
    attempt: int
    kept: CaptureState | None
    events: tuple[str, ...] = ()
    value: HeldValue | None = None
    previous: HeldValue | None = None
    reason: str | None = None
    partial: str | None = None
    partial_readback: str = ""
    #: Without a value: what the reading did hear (digits of a rejected number, a value
    #: out of range), so the agent can say why.
    heard: Mapping[str, JsonValue] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        """How sure the reported value is; 0 without one."""
        return self.value.confidence if self.value is not None else 0.0


@dataclass(frozen=True, slots=True)
class _AnswerKey:
    """What an answer to the readback means: yes, a bare no, a corrected value, or an answer
    without a value (``Reading.answered``: "none of them"), its reason in ``value``."""

    kind: Literal["yes", "no", "correction", "answered"]
    value: str = ""


_YES = _AnswerKey("yes")
#: A yes to the readback is calibrated as the ``confirm`` primitive's answers are.
_YES_KIND = "confirm"
_NO = _AnswerKey("no")


def advance(primitive: CaptureReader[ParamsT], params: ParamsT, state: CaptureState) -> Turn:
    """The next step of a capture in ``state`` given this turn's ``params``; the state it
    keeps counts the turn (``CaptureState.turns``), and the ``max_turns``-th turn ends it."""
    turn = _step(primitive, params, state)
    if turn.kept is None:  # COMPLETED or FAILED
        return turn
    taken = state.turns + 1
    if taken >= params.max_turns:
        return _out_of_turns(turn)
    return replace(turn, kept=replace(turn.kept, turns=taken))


def _out_of_turns(turn: Turn) -> Turn:
    """``turn`` would leave the capture waiting at its last turn: FAILED instead, the value it
    reads back (if any) reported unconfirmed, as ``_unclear`` does. A value it heard is not
    captured (no ``value_captured`` or ``corrected`` event); one it turned down stays so."""
    unconfirmed: dict[str, JsonValue] = {}
    if turn.value is not None:
        unconfirmed["unconfirmed_value"] = turn.value.value
    kept_events = tuple(e for e in turn.events if e not in (VALUE_CAPTURED, CORRECTED))
    return Turn(
        PrimitiveState.FAILED,
        turn.attempt,
        None,
        (*kept_events, FAILED),
        previous=turn.previous,
        reason="too_many_turns",
        heard=unconfirmed,
    )


def _step(primitive: CaptureReader[ParamsT], params: ParamsT, state: CaptureState) -> Turn:
    state = replace(state, attempt=min(state.attempt, params.max_attempts))
    keys = keypad_entry(params)
    if keys is None:
        heard = hypotheses(params)
    else:  # keys win over the transcription (``voicecore.capture._keypad`` says why)
        primitive, heard = _Keyed(primitive), (Hypothesis(keys, KEYPAD_WEIGHT, 0, 0),)
    if state.held is not None:
        return _answer_turn(primitive, params, state, state.held, heard)
    return _value_turn(primitive, params, state, heard)


@dataclass(frozen=True, slots=True)
class _Keyed(Generic[ParamsT]):
    """A primitive reading a keypad entry: its ``read_keys`` in place of ``read``, no edits."""

    primitive: CaptureReader[ParamsT]
    noun: ClassVar[str] = "value"  # unused: the turn's prompt names the primitive's noun
    name: ClassVar[str] = "keypad"  # unused: keys are exact, their confidence not calibrated

    def read(self, text: str, params: ParamsT, partial: str | None) -> Reading:
        return self.primitive.read_keys(text, params, partial)

    def correct(self, held: HeldValue, reply: Reply, params: ParamsT) -> Reading | None:
        return None

    def read_keys(self, keys: str, params: ParamsT, partial: str | None) -> Reading:
        return self.primitive.read_keys(keys, params, partial)


# -- a turn that should carry the value ------------------------------------------------------


def _value_turn(
    primitive: CaptureReader[ParamsT],
    params: ParamsT,
    state: CaptureState,
    heard: Sequence[Hypothesis],
) -> Turn:
    readings = [primitive.read(h.text, params, state.partial) for h in heard]
    ranked = rank(
        [
            Vote(r.value, h.weight * r.certainty, h.hearing, h.weight)
            for h, r in zip(heard, readings, strict=True)
        ]
    )
    if ranked:
        value = _held(
            readings,
            _calibrated(primitive, ranked, _used(primitive, params, state, heard, ranked[0])),
        )
        return _value_heard(params, state, state.attempt, value, (VALUE_CAPTURED,))
    progress = _best_partial(heard, readings)
    if progress is not None and (progress.replaces_partial or progress.answered):
        return _without_value(params, state, progress)
    if progress is not None and progress.partial != state.partial:
        kept = replace(state, partial=progress.partial, partial_readback=progress.readback)
        turn = _incomplete(state.attempt, kept, progress.reason or "incomplete_value")
        return replace(turn, heard=dict(progress.parts))
    top = readings[0]
    if top.reason == STARTED_OVER:  # "*" alone: the partial value goes, no attempt is spent
        return _incomplete(
            state.attempt, replace(state, partial=None, partial_readback=""), STARTED_OVER
        )
    return _without_value(params, state, top)


def _without_value(params: CaptureParams, state: CaptureState, reading: Reading) -> Turn:
    """A turn whose ``reading`` has no value: an answer without one ("none of them") spends
    no attempt while ``max_unclear`` allows, anything else fails the attempt; the partial kept
    is the reading's own when it replaces it (``Reading.replaces_partial``) or answered."""
    if reading.replaces_partial or reading.answered:
        state = replace(
            state,
            partial=reading.partial,
            partial_readback=reading.readback if reading.partial else "",
        )
    reason = reading.reason or "no_value_heard"
    if reading.answered and state.answered < params.max_unclear:
        turn = _incomplete(state.attempt, replace(state, answered=state.answered + 1), reason)
    else:
        turn = _attempt_failed(params, state, reason)
    return replace(turn, heard=dict(reading.parts))


def _used(
    primitive: CaptureReader[ParamsT],
    params: ParamsT,
    state: CaptureState,
    heard: Sequence[Hypothesis],
    best: Ranked[str],
) -> float:
    """The share of words the reading of the value chosen used (``voicecore.capture._used``);
    keys are not calibrated, so not asked."""
    if isinstance(primitive, _Keyed):
        return 1.0
    return used_share(
        heard[best.first].text,
        best.key,
        lambda text: primitive.read(text, params, state.partial).value,
    )


def _held(readings: Sequence[Reading], ranked: Sequence[Ranked[str]]) -> HeldValue:
    """The chosen reading as a held value, the other readings as candidates."""
    best = readings[ranked[0].first]
    assert best.value is not None  # ranked keys are values
    return HeldValue(
        value=best.value,
        readback=best.readback,
        parts=dict(best.parts),
        confidence=ranked[0].confidence,
        candidates=tuple(Candidate(other.key, other.confidence) for other in ranked[1:]),
    )


def _best_partial(heard: Sequence[Hypothesis], readings: Sequence[Reading]) -> Reading | None:
    """The partial value of the heaviest hypothesis that has one."""
    with_partial = [
        (h.weight, -h.rank, r) for h, r in zip(heard, readings, strict=True) if r.partial
    ]
    return max(with_partial, key=lambda item: item[:2])[2] if with_partial else None


KeyT = TypeVar("KeyT", bound=Hashable)


def _calibrated(
    primitive: CaptureReader[ParamsT], ranked: list[Ranked[KeyT]], used: float = 1.0
) -> list[Ranked[KeyT]]:
    """``ranked`` with confidences calibrated for the primitive's kind of value
    (``voicecore.capture._confidence``), the first with the share of words its reading
    ``used``; keys are exact and stay as ranked. The others are never more confident than the
    first, so the order stays."""
    if isinstance(primitive, _Keyed):
        return ranked
    best, *others = ranked
    top = calibrated(best.confidence, primitive.name, Support.of(best, used))
    return [
        replace(best, confidence=top),
        *(
            replace(
                item,
                confidence=min(top, calibrated(item.confidence, primitive.name, Support.of(item))),
            )
            for item in others
        ),
    ]


# -- a turn that answers the readback of a held value ----------------------------------------


def _answer_turn(
    primitive: CaptureReader[ParamsT],
    params: ParamsT,
    state: CaptureState,
    held: HeldValue,
    heard: Sequence[Hypothesis],
) -> Turn:
    answers = [_interpret(primitive, params, held, h.text) for h in heard]
    votes = [
        Vote(key, h.weight * certainty, h.hearing, h.weight)
        for h, (key, certainty, _) in zip(heard, answers, strict=True)
    ]
    ranked = rank(votes)
    if not ranked:
        return _unclear(params, state, held)
    best = ranked[0]
    if best.key == _YES:
        yes = (
            best.confidence
            if isinstance(primitive, _Keyed)
            else calibrated(best.confidence, _YES_KIND)
        )
        confirmed = replace(held, confidence=_confirmed_confidence(held, yes))
        return Turn(PrimitiveState.COMPLETED, state.attempt, None, (CONFIRMED,), confirmed)
    if best.key == _NO:
        return _attempt_failed(params, state, "rejected", previous=held)
    if best.key.kind == "answered":
        answer = answers[best.first][2]
        assert answer is not None  # an answer without a value carries its reading
        return _answered_instead(params, state, held, answer)
    return _corrected(params, state, held, answers, _calibrated(primitive, ranked))


def _interpret(
    primitive: CaptureReader[ParamsT], params: ParamsT, held: HeldValue, text: str
) -> tuple[_AnswerKey | None, float, Reading | None]:
    """What one hypothesis answers: its meaning, certainty, and the correction's reading."""
    if isinstance(primitive, _Keyed):
        return _keyed_answer(primitive, params, held, text)
    said = understand(text)
    if said.answer is Answer.YES and not said.remainder:
        return _YES, said.certainty, None
    reply = Reply.understood(text, said)
    reading = _read_correction(primitive, params, held, reply) if reply.text else None
    if reading is not None and reading.answered:
        # "neither", "no, none of them": the held value turned down by an answer of its own
        if said.answer is Answer.YES:
            return None, 0.0, None  # "yes, none of them": not understood
        certainty = reading.certainty * (1.0 if said.answer is Answer.UNCLEAR else said.certainty)
        return _AnswerKey("answered", reading.reason or ""), certainty, reading
    if reading is None or reading.value is None:
        if said.contrast and said.answer is Answer.YES:
            return None, 0.0, None  # "yes, but the last digit is wrong": not a yes
        if said.answer is Answer.NO and says_characters(words(reply.text)):
            return None, 0.0, None  # "no, it's p e t e r ...": a correction not read
        bare = {Answer.YES: _YES, Answer.NO: _NO}.get(said.answer)
        return bare, said.certainty, None
    certainty = reading.certainty * (1.0 if said.answer is Answer.UNCLEAR else said.certainty)
    if reading.value == held.value and said.answer is not Answer.NO:
        return _YES, certainty, None  # "yes, j o h n" or the value said again
    return _AnswerKey("correction", reading.value), certainty, reading


def _keyed_answer(
    keyed: _Keyed[ParamsT], params: ParamsT, held: HeldValue, keys: str
) -> tuple[_AnswerKey | None, float, Reading | None]:
    """A keypad answer to the readback: a bare 1 yes, a bare 2 or an entry ending in "*" no,
    else a value: the held one again (yes), a new one, or none (not understood)."""
    pressed = readback_key(params)
    if pressed is not None:
        return (_YES if pressed == YES_KEY else _NO), 1.0, None
    reading = keyed.read_keys(keys, params, None)
    if reading.reason == STARTED_OVER:  # "*": no, start over, as a bare no (not unclear)
        return _NO, 1.0, None
    if reading.value is None:
        return None, 0.0, None
    if reading.value == held.value:
        return _YES, reading.certainty, None
    return _AnswerKey("correction", reading.value), reading.certainty, reading


def _read_correction(
    primitive: CaptureReader[ParamsT], params: ParamsT, held: HeldValue, reply: Reply
) -> Reading | None:
    """A partial edit of ``held`` ("s as in sam") if the primitive sees one, else a new value."""
    edited = primitive.correct(held, reply, params)
    if edited is not None and edited.value is not None:
        return edited
    return primitive.read(reply.text, params, None)


def _corrected(
    params: CaptureParams,
    state: CaptureState,
    held: HeldValue,
    answers: Sequence[tuple[_AnswerKey | None, float, Reading | None]],
    ranked: Sequence[Ranked[_AnswerKey]],
) -> Turn:
    if state.attempt >= params.max_attempts:
        return _attempt_failed(params, state, "rejected", previous=held)
    corrections = [item for item in ranked if item.key.kind == "correction"]
    reading = answers[corrections[0].first][2]
    assert reading is not None and reading.value is not None  # corrections carry their reading
    value = HeldValue(
        value=reading.value,
        readback=reading.readback,
        parts=dict(reading.parts),
        confidence=corrections[0].confidence,
        candidates=tuple(Candidate(c.key.value, c.confidence) for c in corrections[1:]),
    )
    return _value_heard(params, state, state.attempt + 1, value, (CORRECTED,), previous=held)


def _answered_instead(
    params: CaptureParams, state: CaptureState, held: HeldValue, answer: Reading
) -> Turn:
    """The readback answered with an answer that has no value ("none of them", two options
    equally close): ``held`` is rejected, and the turn is what that answer is as a first
    answer: its partial kept, INCOMPLETE with its reason and no attempt spent while
    ``max_unclear`` allows, else the attempt failed."""
    turn = _without_value(params, replace(state, held=None), answer)
    return replace(turn, events=(REJECTED, *turn.events), previous=held)


def _confirmed_confidence(held: HeldValue, answer: float) -> float:
    """The caller's yes is independent evidence: 1 - (1 - held)(1 - answer)."""
    return round(1.0 - (1.0 - held.confidence) * (1.0 - answer), 4)


# -- transitions ------------------------------------------------------------------------------


def _value_heard(
    params: CaptureParams,
    state: CaptureState,
    attempt: int,
    value: HeldValue,
    events: tuple[str, ...],
    previous: HeldValue | None = None,
) -> Turn:
    if not params.require_confirmation:
        return Turn(PrimitiveState.COMPLETED, attempt, None, events, value, previous)
    kept = CaptureState(attempt=attempt, held=value, unclear=state.unclear, answered=state.answered)
    return Turn(PrimitiveState.NEEDS_CONFIRMATION, attempt, kept, events, value, previous)


def _unclear(params: CaptureParams, state: CaptureState, held: HeldValue) -> Turn:
    """An answer to the readback not understood: ``held`` is kept and read back again, no
    attempt spent; past ``max_unclear`` such answers the capture FAILS, reporting ``held``."""
    if state.unclear >= params.max_unclear:
        unconfirmed: dict[str, JsonValue] = {"unconfirmed_value": held.value}
        return Turn(
            PrimitiveState.FAILED,
            state.attempt,
            None,
            (FAILED,),
            reason="unclear_answers",
            heard=unconfirmed,
        )
    kept = replace(state, unclear=state.unclear + 1)
    return Turn(
        PrimitiveState.NEEDS_CONFIRMATION, state.attempt, kept, value=held, reason="unclear_answer"
    )


def _incomplete(attempt: int, kept: CaptureState, reason: str) -> Turn:
    return Turn(
        PrimitiveState.INCOMPLETE,
        attempt,
        kept,
        reason=reason,
        partial=kept.partial,
        partial_readback=kept.partial_readback,
    )


def _attempt_failed(
    params: CaptureParams, state: CaptureState, reason: str, previous: HeldValue | None = None
) -> Turn:
    """The attempt in progress failed: one more, or FAILED when it was the last."""
    rejected = (REJECTED,) if previous is not None else ()
    if state.attempt >= params.max_attempts:
        events = (*rejected, FAILED)
        return Turn(PrimitiveState.FAILED, state.attempt, None, events, None, previous, reason)
    kept = replace(state, attempt=state.attempt + 1, held=None)
    turn = _incomplete(state.attempt, kept, reason)
    return replace(turn, events=rejected, previous=previous)
