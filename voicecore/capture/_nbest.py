"""Choosing among the ASR's n-best hypotheses, and how sure the choice is.

Each hypothesis ``i`` gets a **weight** ``w_i``: its ASR confidence. A confidence of 0 or none
means the ASR did not give one (Google's convention for non-top alternatives), so a prior
stands in: ``0.75`` for the top hypothesis, half the previous hypothesis' weight for an
alternative. Reading a hypothesis gives a key (a value, a yes/no answer) or nothing, and a
parse **certainty** ``c_i``; its **evidence** is ``e_i = w_i * c_i``.

For a key ``k`` read by the hypotheses ``S(k)``, with ``D(k)`` the hypotheses that read another
key (hypotheses that read nothing are not dissent: a valid reading beats an invalid one)::

    support(k)    = 1 - prod(1 - e_i for i in S(k))        # noisy-OR: agreement raises it
    share(k)      = sum(e_i for i in S(k)) / sum(e_i for i in S(k) | D(k))
    confidence(k) = support(k) * share(k)                  # rounded to 4 places

One hypothesis alone gives ``w * c``: ASR confidence times parse certainty. Agreeing
hypotheses raise the confidence towards 1; readings that disagree lower it by their share of
the evidence. The key with the highest confidence is chosen (ties: the better-ranked
hypothesis); the others are its candidates. The figures are a principled combination, not a
fit to labelled calls: re-fit the prior when such data exists.

A formatting ASR often lists one **hearing** several times, written differently ("Jenny at
Yahoo.com." and "jenny at yahoo.com"; "6, 1, 7" and "6 1 7"; "uh, six one seven" and "six one
seven"): hypotheses whose texts differ only in case, punctuation and hesitation sounds
(``_normalised``). Such copies vote once per key: a copy that
reads what an earlier hypothesis of its hearing read adds no evidence, since it is not an
independent hearing; a copy whose punctuation changes what it reads ("mary ann@..." and
"mary-ann@...", "€20" and "$20") votes apart, with its own weight.

Besides its confidence, each ranked key says how many hearings read it (``Ranked.hearings``)
and the highest ASR weight among them (``Ranked.weight``, when the votes carry their weights):
the calibration (``voicecore.capture._confidence``) weighs them apart from the score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from voicecore.capture._params import UtteranceParams
from voicecore.spoken.tokens import drop_fillers

__all__ = ["Hypothesis", "Ranked", "Vote", "hypotheses", "rank"]

#: Weight of a top hypothesis whose ASR confidence is unknown.
UNKNOWN_TOP_WEIGHT = 0.75
#: An alternative without a confidence weighs this fraction of the hypothesis above it.
_UNKNOWN_ALTERNATIVE_DECAY = 0.5

KeyT = TypeVar("KeyT", bound=Hashable)

# Punctuation that only formats: anything but a word character, "@" or "+", and a "." or "'"
# that is not between word characters.
_PUNCTUATION = re.compile(r"[^\w\s@+.']|(?<!\w)[.']|[.'](?!\w)")


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One thing the ASR may have heard: its text, weight (0..1), n-best rank (0 = top) and
    hearing."""

    text: str
    weight: float
    rank: int
    #: The rank of the first hypothesis this one only rewrites (case, punctuation); its own
    #: rank when it is a hearing of its own.
    hearing: int


@dataclass(frozen=True, slots=True)
class Vote(Generic[KeyT]):
    """What one hypothesis reads: a key (None for nothing usable), its evidence, ``w * c``,
    its hearing (``Hypothesis.hearing``; None: a hearing of its own) and its ASR weight ``w``
    (None: not given)."""

    key: KeyT | None
    evidence: float
    hearing: int | None = None
    weight: float | None = None


@dataclass(frozen=True, slots=True)
class Ranked(Generic[KeyT]):
    """A key some hypotheses read, how confident the reading is, its best-ranked voter, how
    many hearings read it and the highest ASR weight among its votes (None: none given)."""

    key: KeyT
    confidence: float
    first: int
    hearings: int = 1
    weight: float | None = None


def _normalised(text: str) -> str:
    """What makes two hypotheses one hearing: their words, whatever the case, punctuation and
    hesitation sounds ("uh", "um"; ``drop_fillers``).

    Whether the other marks change the value is for the reading to say (``rank`` keeps
    copies that read differently apart); "." and "'" between word characters ("john.smith",
    "3.30", "it's"), "@" and "+" are kept: texts that differ in them are other hearings.
    """
    return " ".join(drop_fillers(_PUNCTUATION.sub(" ", text.casefold()).split()))


def _top_weight(params: UtteranceParams) -> float:
    """The top hypothesis' weight: ``asr_confidence``, its copy among the alternatives, or prior."""
    if params.asr_confidence:
        return params.asr_confidence
    top = _normalised(params.transcription)
    for alternative in params.alternatives:
        if alternative.confidence and _normalised(alternative.transcription) == top:
            return alternative.confidence
    return UNKNOWN_TOP_WEIGHT


def hypotheses(params: UtteranceParams) -> tuple[Hypothesis, ...]:
    """The hypotheses of a turn, the transcription first, with their weights and hearings.

    An exact repeat of a text is dropped. A copy (see ``_normalised``) keeps its place, and
    an alternative without a confidence weighs half the last hypothesis of a hearing of its
    own, so adding a copy changes no other hypothesis' weight.
    """
    result = [Hypothesis(params.transcription, _top_weight(params), 0, 0)]
    texts = {params.transcription}
    hearings = {_normalised(params.transcription): 0}
    last_weight = result[0].weight
    for alternative in params.alternatives:
        text = alternative.transcription
        if text in texts:
            continue
        texts.add(text)
        weight = alternative.confidence or last_weight * _UNKNOWN_ALTERNATIVE_DECAY
        hearing = hearings.setdefault(_normalised(text), len(result))
        if hearing == len(result):
            last_weight = weight
        result.append(Hypothesis(text, weight, len(result), hearing))
    return tuple(result)


def rank(votes: Sequence[Vote[KeyT]]) -> list[Ranked[KeyT]]:
    """The keys the votes read, most confident first (see the module docstring).

    ``votes`` are in hypothesis order; votes without a key are ignored, so an empty list
    means no hypothesis read anything; a vote for a key its hearing already voted for is
    ignored too (a reformatted copy is not more evidence).
    """
    evidence: dict[KeyT, list[float]] = {}
    first: dict[KeyT, int] = {}
    weights: dict[KeyT, list[float]] = {}
    voted: set[tuple[int, KeyT]] = set()
    for index, vote in enumerate(votes):
        if vote.key is None:
            continue
        hearing = (index if vote.hearing is None else vote.hearing, vote.key)
        if hearing in voted:
            continue
        voted.add(hearing)
        evidence.setdefault(vote.key, []).append(_clamp(vote.evidence))
        first.setdefault(vote.key, index)
        if vote.weight is not None:
            weights.setdefault(vote.key, []).append(_clamp(vote.weight))
    total = sum(math.fsum(values) for values in evidence.values())
    ranked = [
        Ranked(
            key,
            _confidence(values, total),
            first[key],
            len(values),
            max(weights[key]) if key in weights else None,
        )
        for key, values in evidence.items()
    ]
    return sorted(ranked, key=lambda item: (-item.confidence, item.first))


def _confidence(evidence: list[float], total: float) -> float:
    if total <= 0.0:
        return 0.0
    support = 1.0 - math.prod(1.0 - e for e in evidence)
    share = math.fsum(evidence) / total
    return round(_clamp(support * share), 4)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
