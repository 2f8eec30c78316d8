"""``metadata.confidence``: the n-best score of a value, calibrated to how often such values are
right.

``voicecore.capture._nbest.rank`` scores each value a turn's hypotheses read: ASR confidence
times parse certainty, raised by agreeing hypotheses (noisy-OR) and lowered by readings of other
values. That score orders values well but is not a probability: a Whisper transcript's
confidence rarely passes 0.7 even when the value is right, and an email read off a noisy
transcript is wrong far more often than a yes. ``calibrated`` maps the score to an estimate of
the probability that the value is right, by a logistic over two features (Platt scaling, with
an offset per kind of value)::

    confidence = sigmoid(INTERCEPT + KIND_OFFSET[kind] + SLOPE * logit(score))

``kind`` is the primitive's name ("capture_email"); a kind without an offset (no fitted data:
custom primitives) gets 0, the average kind.
``SLOPE`` is positive, so for one kind the confidence only ever rises with the score: more
n-best agreement, a higher ASR confidence or a more certain parse (a reading that needed fewer
guesses: the primitives lower their certainty for what they had to repair or assume) never
lower it, and the order of a turn's candidates is the order of their scores.

Keypad entries are exact and keep confidence 1 (``voicecore.capture._keypad``): they are not
calibrated.

**The fit.** The constants below come from ``python -m benchmarks.audio.fit_confidence`` on the
audio pipeline's committed transcripts (``benchmarks/audio``: TTS voices, PocketSphinx and
Whisper tiny.en): every value offered on a transcript is an example, right or wrong; the fit
uses the cases with even numbers only and the odd ones are held out for the figures in
docs/audio.md. Logistic regression with an L2 penalty on the kind offsets, its strength chosen
by cross-validation within the even cases. Fitted 2026-12-01; refitted 2026-12-02 with the cases
of capture_amount, capture_choice, capture_address and capture_card. Refit when the parsing
changes much, or when labelled production calls exist (they are the better data).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["INTERCEPT", "KIND_OFFSET", "SLOPE", "calibrated", "logit"]

# Fitted by benchmarks/audio/fit_confidence.py, 2026-12-02, on the even-numbered cases of
# benchmarks/audio/transcripts.jsonl (the odd ones held out); its output, copied here.
# (L2 penalty 1.0 on the offsets, chosen by 5-fold cross-validation within the even cases.)
INTERCEPT: Final = 1.0270
SLOPE: Final = 1.3087
KIND_OFFSET: Final[Mapping[str, float]] = MappingProxyType(
    {
        "capture_address": -0.5494,
        "capture_amount": -0.2791,
        "capture_card": 0.4060,
        "capture_choice": 1.3080,
        "capture_date": -0.0539,
        "capture_digits": 0.1534,
        "capture_email": -2.0206,
        "capture_name": 0.9365,
        "capture_number": -0.3931,
        "capture_phone": 0.0016,
        "capture_time": -0.9158,
        "confirm": 1.4066,
    }
)

#: Scores are clamped to [_EDGE, 1 - _EDGE] before the logit: 0 and 1 have none.
_EDGE: Final = 1e-4


def logit(score: float) -> float:
    """log(p / (1 - p)), ``score`` clamped into (0, 1)."""
    p = min(1.0 - _EDGE, max(_EDGE, score))
    return math.log(p / (1.0 - p))


def calibrated(score: float, kind: str) -> float:
    """The confidence of a value of primitive ``kind`` whose n-best score is ``score`` (see the
    module docstring); a score of 0 (nothing read) stays 0. Rounded to 4 places."""
    if score <= 0.0:
        return 0.0
    z = INTERCEPT + KIND_OFFSET.get(kind, 0.0) + SLOPE * logit(score)
    return round(1.0 / (1.0 + math.exp(-z)), 4)
