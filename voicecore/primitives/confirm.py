"""``confirm``: did the caller say yes or no?

Keypad input (``dtmf``): "1" is yes and "2" is no, with or without "#" (there is no value
to type here), with confidence 1 (keys are exact); any other entry is unclear. Keys win over
a transcription given beside them, as in every capture (``voicecore.capture._keypad``).

Every n-best hypothesis is read with ``voicecore.spoken.yesno.understand`` and the answers are
ranked like capture values (``voicecore.capture.rank``): the score is the ASR confidence
times the answer's certainty, raised by agreeing hypotheses and lowered by disagreeing ones,
and the confidence is that score calibrated for answers (``voicecore.capture._confidence``).
An unclear answer is no value: INCOMPLETE with the reason ``unclear``. Each call stands alone:
there is nothing to read back, so no capture state is kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from voicecore.capture import (
    KEYPAD_WEIGHT,
    NO_KEY,
    YES_KEY,
    KeypadInput,
    UtteranceParams,
    Vote,
    calibrated,
    hypotheses,
    keypad_entry,
    rank,
)
from voicecore.primitive import (
    JsonValue,
    Primitive,
    PrimitiveContext,
    PrimitiveParams,
    PrimitiveResult,
    PrimitiveState,
)
from voicecore.spoken.yesno import Answer, YesNo, understand

__all__ = ["Confirm", "ConfirmParams"]

_ASK_AGAIN = "Sorry, was that a yes or a no?"


class ConfirmParams(KeypadInput, UtteranceParams):
    """Params of ``confirm``: what the ASR heard (transcription, alternatives, confidence) or
    the key pressed (``dtmf``: "1" yes, "2" no)."""


class Confirm(Primitive[ConfirmParams]):
    """Reads a yes or a no in the many ways callers say them ("yeah", "that's right", "uh
    huh", "nope", "not quite", "no, it's ..."); anything else is unclear.

    ``data``: ``value`` ("yes"/"no"), ``readback``, ``candidates``, and ``remainder`` when the
    caller said more after the answer ("no, it's tuesday" -> "tuesday"); or ``reason`` and a
    ``prompt`` asking again.
    """

    name = "confirm"
    version = "1.0.0"
    description = "Understand a yes or a no from the caller."
    params_model: ClassVar[type[PrimitiveParams]] = ConfirmParams

    async def execute(self, params: ConfirmParams, ctx: PrimitiveContext) -> PrimitiveResult:
        """Read this turn's answer."""
        keys = keypad_entry(params)
        if keys is None:
            heard = hypotheses(params)
            answers = [understand(h.text) for h in heard]
            votes = [
                Vote(_clear(said), h.weight * said.certainty, h.hearing)
                for h, said in zip(heard, answers, strict=True)
            ]
        else:
            answers = [_pressed(keys)]
            votes = [Vote(_clear(answers[0]), KEYPAD_WEIGHT * answers[0].certainty)]
        ranked = rank(votes)
        if keys is None:  # keys are exact: only what was heard is calibrated
            ranked = [replace(r, confidence=calibrated(r.confidence, self.name)) for r in ranked]
        if not ranked:
            return PrimitiveResult(
                data={"reason": "unclear", "prompt": _ASK_AGAIN},
                state=PrimitiveState.INCOMPLETE,
                confidence=0.0,
            )
        best = ranked[0]
        data: dict[str, JsonValue] = {
            "value": best.key,
            "readback": best.key,
            "candidates": [{"value": c.key, "confidence": c.confidence} for c in ranked[1:]],
        }
        remainder = answers[best.first].remainder
        if remainder:
            data["remainder"] = remainder
        return PrimitiveResult(
            data=data, state=PrimitiveState.COMPLETED, confidence=best.confidence
        )


def _clear(said: YesNo) -> str | None:
    """ "yes" or "no"; None when unclear."""
    return None if said.answer is Answer.UNCLEAR else said.answer.value


def _pressed(keys: str) -> YesNo:
    """The answer a keypad entry gives: "1" yes, "2" no, anything else unclear."""
    answer = {YES_KEY: Answer.YES, NO_KEY: Answer.NO}.get(keys, Answer.UNCLEAR)
    return YesNo(answer, 1.0 if answer is not Answer.UNCLEAR else 0.0, "")
