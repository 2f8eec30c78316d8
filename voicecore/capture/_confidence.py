"""``metadata.confidence``: the n-best score of a value, calibrated so that a value at 0.8 or
more is one an agent can act on (at most 1% of them wrong where fitted).

``voicecore.capture._nbest.rank`` scores each value a turn's hypotheses read: ASR confidence
times parse certainty, raised by agreeing hypotheses (noisy-OR) and lowered by readings of other
values. That score orders values well but is not a probability: a Whisper transcript's
confidence rarely passes 0.7 even when the value is right, and an email read off a noisy
transcript is wrong far more often than a yes. ``calibrated`` maps the score by a logistic
over the score, the kind of value and what else the turn says of the value (its ``Support``),
fitted as the probability that the value is right, then shifted down by ``CAUTION``::

    confidence = sigmoid(INTERCEPT - CAUTION + KIND_OFFSET[kind]
                         + SLOPE * logit(score)
                         + WEIGHT_SLOPE * logit(weight)
                         + USED_SLOPE * log(used)
                         + HEARD_AGAIN * [hearings > 1])

- ``kind`` is the primitive's name ("capture_email"); a kind without an offset (no fitted data:
  custom primitives) gets 0, the average kind.
- ``weight`` is the highest ASR confidence among the hypotheses that read the value (the score
  stands in when unknown): the ASR's own confidence says more than the score, which multiplies
  it by the parse certainty.
- ``used`` is the share of the words of the value's hypothesis that the reading used
  (``voicecore.capture._used``: words trimmed away without changing the value, other than
  hesitations, carrier phrases and sign-offs, are unexplained): a value read out of mostly
  unexplained words ("look at that quickly hundred women be i'd leave" -> 100) is suspect.
  1.0 when unknown.
- ``hearings`` is how many hearings read it (``Ranked.hearings``: reformatted copies of one
  hypothesis count once).
- ``CAUTION`` (>= 0) puts 0.8 where, on the cases fitted, at most 1% of the values at or above
  it were wrong: an agent acting on a value at >= 0.8 without reading it back should rarely be
  wrong. So the confidence is a cautious score, below the probability of being right (a value
  at 0.6 is right more often than 60% of the time); docs/audio.md's reliability table says how
  often values in each range were right on the held-out cases. The shift keeps the order, so it
  changes no ranking and no AUROC.

Every slope, and ``HEARD_AGAIN``, is positive or zero (the fit keeps them so), so the confidence
only ever rises with the score, the ASR confidence, the share of words used and the hearings
that read the value: more n-best agreement, a higher ASR confidence or a more certain parse (a
reading that needed fewer guesses: the primitives lower their certainty for what they had to
repair or assume) never lower it. A turn's candidates are calibrated with what is known of them
and are never more confident than the value chosen.

Answers (the ``confirm`` primitive, and a yes to a readback) are calibrated from the score alone
(``Support()``: weight unknown, nothing unexplained, one hearing), as they were fitted.

Keypad entries are exact and keep confidence 1 (``voicecore.capture._keypad``): they are not
calibrated.

**The fit.** The constants below are written by ``python -m benchmarks.audio.fit_confidence``
from the audio pipeline's committed transcripts (``benchmarks/audio``: TTS voices, PocketSphinx
and Whisper tiny.en): every value offered on a transcript is an example, right or wrong; the fit
uses the cases with even numbers only and the odd ones are held out for the figures in
docs/audio.md. Logistic regression with an L2 penalty on the kind offsets, its strength chosen
by cross-validation within the even cases; a slope that comes out negative is fixed at 0 and the
rest refitted. Refit when the parsing changes much, or when labelled production calls exist
(they are the better data).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeVar

from voicecore.capture._nbest import Ranked

__all__ = [
    "CAUTION",
    "HEARD_AGAIN",
    "INTERCEPT",
    "KIND_OFFSET",
    "SLOPE",
    "USED_SLOPE",
    "WEIGHT_SLOPE",
    "Support",
    "calibrated",
    "features",
    "logit",
]

# BEGIN FITTED CONSTANTS: written by `python -m benchmarks.audio.fit_confidence`; do not edit.
# Fitted on the even-numbered cases of benchmarks/audio/transcripts.jsonl (the odd ones held out).
# L2 penalty 1.0 on the kind offsets, chosen by 5-fold cross-validation within the even cases.
INTERCEPT: Final = 1.6590
# At most 1% of the even cases' values at >= 0.8 wrong with this shift (fit_confidence.caution).
CAUTION: Final = 1.1961
SLOPE: Final = 0.5793
WEIGHT_SLOPE: Final = 0.9158
USED_SLOPE: Final = 1.1523
HEARD_AGAIN: Final = 0.4894
KIND_OFFSET: Final[Mapping[str, float]] = MappingProxyType(
    {
        "capture_address": -0.8719,
        "capture_amount": 0.2216,
        "capture_card": 0.1480,
        "capture_choice": 1.9620,
        "capture_date": -0.0831,
        "capture_digits": 0.4121,
        "capture_email": -2.2514,
        "capture_name": -0.1368,
        "capture_number": -0.0834,
        "capture_phone": -0.3311,
        "capture_time": -0.0533,
        "confirm": 1.0674,
    }
)
# END FITTED CONSTANTS

KeyT = TypeVar("KeyT", bound=Hashable)

#: Scores are clamped to [_EDGE, 1 - _EDGE] before the logit: 0 and 1 have none.
_EDGE: Final = 1e-4


@dataclass(frozen=True, slots=True)
class Support:
    """What a turn says of a value besides its n-best score (see the module docstring)."""

    #: The highest ASR confidence among the hypotheses that read it; None: unknown.
    weight: float | None = None
    #: How many hearings read it.
    hearings: int = 1
    #: The share of its hypothesis' words the reading used (``voicecore.capture._used``).
    used: float = 1.0

    @classmethod
    def of(cls, ranked: Ranked[KeyT], used: float = 1.0) -> Support:
        """What ``rank`` says of a value, and the share of words its reading used."""
        return cls(ranked.weight, ranked.hearings, used)


def logit(score: float) -> float:
    """log(p / (1 - p)), ``score`` clamped into (0, 1)."""
    p = min(1.0 - _EDGE, max(_EDGE, score))
    return math.log(p / (1.0 - p))


def features(score: float, support: Support) -> tuple[float, float, float, float]:
    """The terms the slopes multiply: logit(score), logit(weight), log(used), hearings > 1."""
    weight = score if support.weight is None else support.weight
    return (
        logit(score),
        logit(weight),
        math.log(min(1.0, max(_EDGE, support.used))),
        float(support.hearings > 1),
    )


def calibrated(score: float, kind: str, support: Support | None = None) -> float:
    """The confidence of a value of primitive ``kind`` whose n-best score is ``score`` (see the
    module docstring); a score of 0 (nothing read) stays 0. Rounded to 4 places."""
    if score <= 0.0:
        return 0.0
    terms = features(score, support or Support())
    slopes = (SLOPE, WEIGHT_SLOPE, USED_SLOPE, HEARD_AGAIN)
    z = (
        INTERCEPT
        - CAUTION
        + KIND_OFFSET.get(kind, 0.0)
        + math.fsum(a * b for a, b in zip(slopes, terms, strict=True))
    )
    return round(1.0 / (1.0 + math.exp(-z)), 4)
