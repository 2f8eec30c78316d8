"""One turn of a capture: load the kept state, advance the machine, store, emit, answer.

One turn of a capture, per ``(conversation_id, objective_type)``:

1. load the kept ``CaptureState`` (none without a conversation id: every call stands alone;
   ``reset=true`` drops it);
2. read every n-best hypothesis with the primitive: as a value, or, while a value is held, as an
   answer to its readback (yes; a bare no; a correction the primitive's ``correct`` applies to
   the held value; or a new value) and choose among them (``voicecore.capture._machine``);
3. store the next state, or delete it when the capture ends (COMPLETED or FAILED);
4. emit the capture events, whose payloads carry the value only through ``redact``;
5. answer ``data``: value, readback, type-specific parts, candidates, attempts, prompt (or a
   ``reason`` and any ``partial`` value when there is no value).

**Confidence** (``metadata.confidence``, 0..1): for a value heard this turn, the n-best
combination of ``voicecore.capture._nbest``: each hypothesis' evidence is its ASR confidence
times the parse certainty, agreeing hypotheses combine by noisy-OR, and the result is scaled by
the chosen value's share of the evidence against readings of other values; that score is then
calibrated for the kind of value, the ASR confidence, the hearings that read the value and the
share of the words its reading used (``voicecore.capture._confidence``: fitted on the audio
pipeline's transcripts; keypad entries stay exact, 1). A confirmed value adds the caller's yes
as independent evidence: ``1 - (1 - value) * (1 - yes)``. No value: 0.

**Where the reading runs.** Reading is CPU-bound Python, which no timeout can interrupt. Every
parser's worst case is close to linear in its input, so a turn's work is counted in characters
read: every hypothesis once (capture_choice's options with each: they are compared with every
hypothesis), ``ANSWER_READINGS`` times while a value is held (each hypothesis is then also
understood as an answer and tried as a correction, whose edit grammar costs several readings
per character), plus the trimming that measures the words the chosen value used
(``voicecore.capture._used``: up to one reading per word of the hypothesis and two more, so a
hypothesis of ``w`` words and ``n`` characters may cost ``(w + 2) * n``; it is counted for the
costliest hypothesis, since which one is chosen is known only after reading). A turn of at
most ``INLINE_READ_CHARS`` is read on the event loop (a thread hop would cost more than the
reading); a longer one is read in a worker thread (``READ_WORKERS``), so the
event loop keeps serving other calls and the call's timeout still ends the call on time (the
reading itself then runs to its end in the worker, its result unused). The worker shares the
GIL with the loop: under many maximum-size turns at once, the loop still slows (a process pool
would isolate them).

Two concurrent turns of the same capture never overwrite each other's state, in one process or
across replicas: the executor gives a turn a ``StateStore`` that stages its writes, and commits
them only if the state the turn read is still the kept one; otherwise the turn runs again on
the new state (``voicecore.stores``). So nothing here holds a lock while the turn is computed.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from loguru import logger

from voicecore._json import JsonValue
from voicecore.capture._events import CORRECTED, REJECTED
from voicecore.capture._machine import CaptureReader, Turn, advance
from voicecore.capture._params import CaptureParams
from voicecore.capture._prompts import precise_prompt
from voicecore.capture._state import CaptureState
from voicecore.capture._store import CaptureKey, CaptureStore
from voicecore.capture._used import trimming_readings
from voicecore.primitive import PrimitiveContext, PrimitiveResult, PrimitiveState

__all__ = ["INLINE_READ_CHARS", "READ_WORKERS", "redact", "run_turn"]

ParamsT = TypeVar("ParamsT", bound=CaptureParams)

#: Turns that read more characters than this (see the module docstring) are read off the event
#: loop: at most about 6 ms measured on a core three times slower than usual (capture_date on 21
#: short words, with their trimming; an email correction).
INLINE_READ_CHARS: Final = 1200
#: What a hypothesis costs, in readings of it, when it answers a held value's readback: the
#: answer, the correction (email's edit grammar: up to about eight readings' worth) and the reading.
ANSWER_READINGS: Final = 10
#: Worker threads that read long utterances. One: readers hold the GIL while they work, so a
#: second would add no speed, only take more turns away from the event loop's thread.
READ_WORKERS: Final = 1
_readers = ThreadPoolExecutor(max_workers=READ_WORKERS, thread_name_prefix="voicecore-read")


_WORD = re.compile(r"[^\W_]+")
#: Runs of letters or digits shorter than this are masked whole: keeping the first character
#: of "a@b.com" or of a "y"/"n" answer would give the value away.
_SHOWN_RUN = 4


def redact(value: str) -> str:
    """``value`` safe for logs and events: a run of letters or digits of four or more keeps
    its first character, the rest becomes ``***``, and a shorter run is ``***`` whole
    ("john@gmail.com" -> "j***@g***.***", "a@b.com" -> "***@***.***").
    """
    return _WORD.sub(_mask, value)


def _mask(match: re.Match[str]) -> str:
    run = match.group()
    return run[0] + "***" if len(run) >= _SHOWN_RUN else "***"


async def run_turn(
    primitive: CaptureReader[ParamsT], params: ParamsT, ctx: PrimitiveContext
) -> PrimitiveResult:
    """Run one turn of a capture (see the module docstring)."""
    key = (
        CaptureKey(ctx.conversation_id, ctx.objective_type, ctx.tenant)
        if ctx.conversation_id
        else None
    )
    state = await _load(ctx.captures, key, params.reset)
    turn = await _advance(primitive, params, state)
    turns = state.turns + 1
    await _save(ctx.captures, key, turn.kept)
    for event in turn.events:
        await ctx.emit(event, _payload(turn, event))
    logger.debug(
        "capture turn done",
        state=turn.state.name,
        attempt=turn.attempt,
        value=redact(turn.value.value) if turn.value else None,
        reason=turn.reason,
    )
    return PrimitiveResult(
        data=_data(turn, primitive.noun, ctx.purpose),
        state=turn.state,
        confidence=turn.confidence,
        attempt=turn.attempt,
        turns=turns,
    )


async def _advance(primitive: CaptureReader[ParamsT], params: ParamsT, state: CaptureState) -> Turn:
    """``advance``, in a worker thread when the utterance is long (see the module docstring)."""
    if _reading_chars(params, answering=state.held is not None) <= INLINE_READ_CHARS:
        return advance(primitive, params, state)
    loop = asyncio.get_running_loop()
    # In the caller's context, so log lines from the reading keep the call's trace id.
    reading = functools.partial(contextvars.copy_context().run, advance, primitive, params, state)
    return await loop.run_in_executor(_readers, reading)


def _reading_chars(params: CaptureParams, answering: bool = False) -> int:
    """At most how many characters the turn reads, ``answering`` a held value's readback or
    not (see the module docstring)."""
    said = [params.transcription, *(a.transcription for a in params.alternatives)]
    options = int(getattr(params, "compared_chars", 0))  # capture_choice's, read with each text
    readings = sum(len(text) + options for text in said)
    trimming = max((len(text) + options) * trimming_readings(text) for text in said)
    return readings * (ANSWER_READINGS if answering else 1) + trimming


async def _load(store: CaptureStore, key: CaptureKey | None, reset: bool) -> CaptureState:
    if key is None:
        return CaptureState()
    if reset:
        await store.delete(key)
        return CaptureState()
    return await store.get(key) or CaptureState()


async def _save(store: CaptureStore, key: CaptureKey | None, kept: CaptureState | None) -> None:
    if key is None:
        return
    if kept is None:
        await store.delete(key)
    else:
        await store.put(key, kept)


def _payload(turn: Turn, event: str) -> dict[str, JsonValue]:
    """An event's payload: never the value in clear."""
    payload: dict[str, JsonValue] = {"state": turn.state.name, "attempt": turn.attempt}
    subject = turn.previous if event == REJECTED else turn.value
    if subject is not None:
        payload["value_redacted"] = redact(subject.value)
        payload["confidence"] = subject.confidence
    if event == CORRECTED and turn.previous is not None:
        payload["previous_redacted"] = redact(turn.previous.value)
    if turn.reason:
        payload["reason"] = turn.reason
    return payload


def _data(turn: Turn, noun: str, purpose: str) -> dict[str, JsonValue]:
    data: dict[str, JsonValue] = {}
    if turn.value is not None:
        data.update(turn.value.parts)
        data["value"] = turn.value.value
        data["readback"] = turn.value.readback
        data["candidates"] = [
            {"value": c.value, "confidence": c.confidence} for c in turn.value.candidates
        ]
    else:
        data.update(turn.heard)
        data["reason"] = turn.reason or "no_value_heard"
        if turn.partial:
            data["partial"] = turn.partial
    data["attempts"] = turn.attempt
    data["prompt"] = _prompt(turn, noun, _purpose_clause(purpose))
    return data


_CONNECTIVES = ("so ", "to ", "for ", "because ", "in order ", "as ", "since ", "which ")


def _purpose_clause(purpose: str) -> str:
    """The purpose as a clause of the prompt: "send the receipt" -> ", so we can send ..."."""
    purpose = purpose.strip().rstrip(".!?,;")
    if not purpose:
        return ""
    if purpose.lower().startswith(_CONNECTIVES):
        return f", {purpose}"
    return f", so we can {purpose}"


def _prompt(turn: Turn, noun: str, purpose: str) -> str:
    """A suggested next sentence for the agent."""
    if (precise := precise_prompt(turn, noun, purpose)) is not None:
        return precise
    if turn.state is PrimitiveState.NEEDS_CONFIRMATION and turn.value is not None:
        opening = "Sorry about that. So" if turn.previous is not None else "Just to confirm,"
        return f"{opening} your {noun} is {turn.value.readback}{purpose}. Is that right?"
    if turn.state is PrimitiveState.COMPLETED and turn.value is not None:
        return f"Thank you, I have your {noun} as {turn.value.readback}."
    if turn.state is PrimitiveState.FAILED:
        return f"I'm sorry, I wasn't able to get your {noun}."
    question = turn.heard.get("question")  # a reading's own question: "Did you mean A or B?"
    if isinstance(question, str):
        return question
    if turn.partial:
        said = turn.partial_readback or " ".join(turn.partial)
        return f"I have {said} so far. What comes next?"
    if turn.previous is not None:
        return f"Sorry about that. Could you tell me your {noun} again{purpose}?"
    return f"Sorry, I didn't catch that. Could you tell me your {noun}{purpose}?"
