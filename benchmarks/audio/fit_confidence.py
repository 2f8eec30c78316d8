"""Fits the calibration of ``metadata.confidence`` (``voicecore.capture._confidence``) on the
audio pipeline's committed transcripts, and reports it on the held-out split.

    python -m benchmarks.audio.fit_confidence              # fit, print, write the constants
    python -m benchmarks.audio.fit_confidence --dry-run    # fit and print only

Every transcript is one turn, read in process by the primitive (what ``voicecore serve`` does
with it); each turn that offers a value is an example: its n-best score (``rank``'s confidence,
before calibration), what else the turn says of the value (its ``Support``: the ASR weight, the
hearings that read it, the share of words its reading used), its kind (the primitive's name)
and whether the value is the case's. The model is ``_confidence``'s logistic (``sigmoid(
intercept + offset[kind] + slopes . features(score, support))``), fitted by Newton's method on
the cases with even numbers (``score.held_out`` keeps the odd ones out), with an L2 penalty on
the kind offsets only, its strength chosen by 5-fold cross-validation within the even cases
(the one with the lowest held-out log loss). A slope that comes out negative is fixed at 0 and
the rest refitted: the confidence must never fall as the score, the ASR confidence, the share
of words used or the hearings rise. Last, the fitted logistic is shifted down by ``caution``
(a constant subtracted from it: the order of values is kept) so that, on the even cases, at
most ``TARGET_WRONG_CONFIDENT`` (1%) of the values at >= ``CONFIDENT`` (0.8) are wrong: 0.8 is
a level an agent can act on, not a probability. It prints the constants and the figures on
both halves, writes the constants into ``voicecore/capture/_confidence.py`` (between its
``BEGIN FITTED CONSTANTS`` and ``END FITTED CONSTANTS`` lines), and checks that the service
gives, for every turn, the value and the confidence this reproduction computes with the
constants it has.
Pure Python: no dependency the project does not have.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import voicecore.capture._confidence as confidence_module
from benchmarks.audio.cases import Case, Transcript, card_value, load_cases, load_transcripts
from benchmarks.audio.score import (
    CONFIDENT,
    TARGET_WRONG_CONFIDENT,
    auroc,
    held_out,
    turn_params,
    value_of,
)
from voicecore.capture import CapturePrimitive, InMemoryCaptureStore, Vote, hypotheses, rank
from voicecore.capture._confidence import Support, calibrated, features, logit
from voicecore.capture._used import used_share
from voicecore.primitive import Primitive, PrimitiveContext
from voicecore.primitives import builtin_primitives
from voicecore.primitives._card_parts import CardParts
from voicecore.primitives.card import CaptureCard
from voicecore.spoken.yesno import Answer, understand

__all__ = ["Example", "Model", "caution", "examples", "fit", "main", "written"]

PENALTIES = (0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
#: The names of the slopes, in ``_confidence.features`` order: each must stay >= 0.
SLOPES = ("SLOPE", "WEIGHT_SLOPE", "USED_SLOPE", "HEARD_AGAIN")
_FITTED = re.compile(r"(# BEGIN FITTED CONSTANTS[^\n]*\n).*?(# END FITTED CONSTANTS)", re.DOTALL)


@dataclass(frozen=True)
class Example:
    """One value offered on a transcript."""

    case_id: str
    asr: str
    kind: str
    score: float
    right: bool
    support: Support = Support()


@dataclass(frozen=True)
class Model:
    """The fitted constants: ``sigmoid(intercept + offsets[kind] + slopes . features)``."""

    intercept: float
    slopes: tuple[float, ...]
    offsets: dict[str, float]
    #: Subtracted from the logit: puts ``CONFIDENT`` where few wrong values are above it.
    caution: float = 0.0

    def predict(self, example: Example) -> float:
        terms = features(example.score, example.support)
        z = (
            self.intercept
            - self.caution
            + self.offsets.get(example.kind, 0.0)
            + sum(a * b for a, b in zip(self.slopes, terms, strict=True))
        )
        return 1.0 / (1.0 + math.exp(-z))

    def rounded(self) -> Model:
        """The constants as written (4 places), so the figures are the service's."""
        return Model(
            round(self.intercept, 4),
            tuple(round(slope, 4) + 0.0 for slope in self.slopes),
            {kind: round(offset, 4) for kind, offset in self.offsets.items()},
            round(self.caution, 4),
        )


def _scored(primitive: Primitive[Any], params: Any) -> tuple[str, float, Support] | None:
    """The value a turn offers, its n-best score and support, as the service reads them."""
    heard = hypotheses(params)
    keys: list[str | None]
    if isinstance(primitive, CapturePrimitive):
        readings = [primitive.read(h.text, params, None) for h in heard]
        keys, certainties = [r.value for r in readings], [r.certainty for r in readings]
    else:  # confirm: a yes or a no, calibrated from the score alone
        answers = [understand(h.text) for h in heard]
        keys = [None if a.answer is Answer.UNCLEAR else a.answer.value for a in answers]
        certainties = [a.certainty for a in answers]
    votes = [
        Vote(key, h.weight * c, h.hearing, h.weight)
        for h, key, c in zip(heard, keys, certainties, strict=True)
    ]
    ranked = rank(votes)
    if not ranked:
        return None
    best = ranked[0]
    support = Support()
    if isinstance(primitive, CapturePrimitive):
        used = used_share(
            heard[best.first].text, best.key, lambda text: primitive.read(text, params, None).value
        )
        support = Support.of(best, used)
    return _shown(primitive, best.key), best.confidence, support


def _shown(primitive: Primitive[Any], key: str) -> str:
    """A reading's value as the cases write it: a card's is sealed (a token), opened here
    into its number, expiry and CVV (``cases.card_value``)."""
    if not isinstance(primitive, CaptureCard):
        return key
    parts = CardParts.from_sealed_text(str(primitive.open_record({"value": key})["value"]))
    return card_value(parts.number, parts.expiry.written if parts.expiry else "", parts.cvv)


async def _served(primitive: Primitive[Any], params: Any) -> tuple[str | None, float]:
    async def emit(event_type: str, payload: Any) -> int:
        return 0

    context = PrimitiveContext(primitive.name, "0" * 32, emit, InMemoryCaptureStore())
    result = await primitive.execute(params, context)
    return value_of(primitive.name, result.data), result.confidence


def examples(cases: Sequence[Case], transcripts: Sequence[Transcript]) -> list[Example]:
    """Every value offered on a transcript, checked against what the primitive serves."""
    primitives = {p.name: p for p in builtin_primitives()}
    by_id = {case.id: case for case in cases}
    found = []
    for transcript in transcripts:
        case = by_id.get(transcript.case_id)
        if case is None:
            continue
        primitive = primitives[case.primitive]
        nbest = [(h.text, h.confidence) for h in transcript.nbest] or [("", 0.0)]
        params = primitive.params_model.model_validate(turn_params(case, nbest))
        scored = _scored(primitive, params)
        served = asyncio.run(_served(primitive, params))
        expected = (
            (None, 0.0)
            if scored is None
            else (scored[0], calibrated(scored[1], case.primitive, scored[2]))
        )
        if served != expected:
            raise AssertionError(f"{case.id}/{transcript.asr}: served {served}, read {expected}")
        if scored is not None:
            value, score, support = scored
            found.append(
                Example(
                    case.id, transcript.asr, case.primitive, score, value == case.value, support
                )
            )
    return found


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the Newton step's small linear system)."""
    n = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            for c in range(col, n + 1):
                rows[r][c] -= factor * rows[col][c]
    solution = [0.0] * n
    for i in reversed(range(n)):
        done = sum(rows[i][j] * solution[j] for j in range(i + 1, n))
        solution[i] = (rows[i][n] - done) / rows[i][i]
    return solution


def _newton(
    data: Sequence[Example], penalty: float, kinds: Sequence[str], slopes: Sequence[int]
) -> list[float]:
    """Penalised logistic regression by Newton's method (it converges in a few steps), over
    the intercept, the slopes numbered in ``slopes`` (the others fixed at 0) and the kinds."""
    features_of: list[Callable[[Example], float]] = [
        lambda e: 1.0,
        *[(lambda e, i=i: features(e.score, e.support)[i]) for i in slopes],
        *[(lambda e, k=kind: float(e.kind == k)) for kind in kinds],
    ]
    n = len(features_of)
    x = [[f(e) for f in features_of] for e in data]
    y = [float(e.right) for e in data]
    ridge = [0.0] * (1 + len(slopes)) + [penalty] * len(kinds)
    w = [0.0] * n
    for _ in range(50):
        p = [1.0 / (1.0 + math.exp(-sum(a * b for a, b in zip(w, row, strict=True)))) for row in x]
        gradient = [
            sum((p[i] - y[i]) * x[i][j] for i in range(len(x))) + ridge[j] * w[j] for j in range(n)
        ]
        hessian = [
            [
                sum(p[i] * (1 - p[i]) * x[i][j] * x[i][k] for i in range(len(x)))
                + (ridge[j] if j == k else 0.0)
                + (1e-9 if j == k else 0.0)
                for k in range(n)
            ]
            for j in range(n)
        ]
        step = _solve(hessian, gradient)
        w = [a - b for a, b in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-10:
            break
    return w


def fit(data: Sequence[Example], penalty: float, kinds: Sequence[str]) -> Model:
    """The logistic over every slope; while some slope comes out negative, the most negative is
    fixed at 0 and the rest refitted (the confidence must not fall as a feature rises)."""
    free = list(range(len(SLOPES)))
    while True:
        w = _newton(data, penalty, kinds, free)
        fitted = dict(zip(free, w[1 : 1 + len(free)], strict=True))
        negative = min(free, key=lambda i: fitted[i])
        if fitted[negative] >= 0.0:
            slopes = tuple(fitted.get(i, 0.0) for i in range(len(SLOPES)))
            offsets = dict(zip(kinds, w[1 + len(free) :], strict=True))
            return Model(w[0], slopes, offsets)
        free.remove(negative)


def caution(confidences: Sequence[tuple[float, bool]], most_wrong: float) -> float:
    """How far down (on the logit scale, to 4 places) to shift ``confidences`` so that at most
    ``most_wrong`` of the values served at >= ``CONFIDENT`` (rounded as ``calibrated`` rounds)
    are wrong, keeping as many as it can there: 0 when that already holds. The line goes
    halfway (in logit) between the lowest confidence kept above it and the next one below,
    never between equal (or, once rounded, indistinguishable) confidences; when even the most
    confident value is wrong, every value goes below."""
    ranked = sorted(confidences, key=lambda item: -item[0])
    if _meets(ranked, 0.0, most_wrong):
        return 0.0
    wrong = 0
    cuts = []
    for count, (confidence, right) in enumerate(ranked[:-1], 1):
        wrong += not right
        if wrong <= most_wrong * count and ranked[count][0] < confidence:
            cuts.append(count)
    for kept in reversed(cuts):
        line = (logit(ranked[kept - 1][0]) + logit(ranked[kept][0])) / 2
        shift = round(max(0.0, line - logit(CONFIDENT)), 4)
        if len(_confident(ranked, shift)) == kept and _meets(ranked, shift, most_wrong):
            return shift
    shift = math.ceil((logit(ranked[0][0]) - logit(CONFIDENT)) * 1e4) / 1e4
    while _confident(ranked, shift):
        shift = round(shift + 1e-4, 4)
    return shift


def _shifted(confidence: float, shift: float) -> float:
    """``confidence`` shifted down by ``shift``, rounded as ``calibrated`` serves it."""
    return round(1.0 / (1.0 + math.exp(shift - logit(confidence))), 4)


def _confident(ranked: Sequence[tuple[float, bool]], shift: float) -> list[bool]:
    """Whether each value served at >= CONFIDENT once shifted is right."""
    return [right for confidence, right in ranked if _shifted(confidence, shift) >= CONFIDENT]


def _meets(ranked: Sequence[tuple[float, bool]], shift: float, most_wrong: float) -> bool:
    confident = _confident(ranked, shift)
    return confident.count(False) <= most_wrong * len(confident)


def _log_loss(model: Model, data: Sequence[Example]) -> float:
    eps = 1e-12
    total = 0.0
    for e in data:
        p = min(1 - eps, max(eps, model.predict(e)))
        total -= math.log(p if e.right else 1 - p)
    return total / len(data)


def choose_penalty(data: Sequence[Example], kinds: Sequence[str]) -> float:
    """The penalty with the lowest cross-validated log loss; folds by case number."""

    def fold(e: Example) -> int:
        return int(e.case_id.rsplit("-", 1)[1]) // 2 % FOLDS

    def loss(penalty: float) -> float:
        losses = []
        for k in range(FOLDS):
            model = fit([e for e in data if fold(e) != k], penalty, kinds)
            losses.append(_log_loss(model, [e for e in data if fold(e) == k]))
        return sum(losses) / FOLDS

    return min(PENALTIES, key=loss)


def figures(confidences: Sequence[tuple[float, bool]]) -> str:
    """AUROC and the wrong values among those at >= CONFIDENT."""
    right = [c for c, ok in confidences if ok]
    wrong = [c for c, ok in confidences if not ok]
    area = auroc(right, wrong)
    confident = [ok for c, ok in confidences if c >= CONFIDENT]
    wrong_confident = confident.count(False)
    share = f"{100 * wrong_confident / len(confident):.1f}%" if confident else "-"
    return (
        f"{len(confidences)} offered, {len(wrong)} wrong, AUROC "
        f"{'-' if area is None else f'{area:.3f}'}, {len(confident)} at >= {CONFIDENT}, "
        f"{wrong_confident} wrong among them ({share})"
    )


def constants_text(model: Model, penalty: float) -> str:
    """The block of ``_confidence.py`` between its BEGIN and END FITTED CONSTANTS lines."""
    lines = [
        "# Fitted on the even-numbered cases of benchmarks/audio/transcripts.jsonl (the odd ones"
        " held out).",
        f"# L2 penalty {penalty} on the kind offsets, chosen by {FOLDS}-fold cross-validation"
        " within the even cases.",
        f"INTERCEPT: Final = {model.intercept:.4f}",
        f"# At most {TARGET_WRONG_CONFIDENT:.0%} of the even cases' values at >= {CONFIDENT} wrong"
        " with this shift (fit_confidence.caution).",
        f"CAUTION: Final = {model.caution:.4f}",
        *(f"{name}: Final = {slope:.4f}" for name, slope in zip(SLOPES, model.slopes, strict=True)),
        "KIND_OFFSET: Final[Mapping[str, float]] = MappingProxyType(",
        "    {",
        *(f'        "{kind}": {offset:.4f},' for kind, offset in model.offsets.items()),
        "    }",
        ")",
    ]
    return "\n".join(lines) + "\n"


def written(source: str, constants: str) -> str:
    """``source`` (``_confidence.py``) with its fitted block replaced by ``constants``."""
    replaced, count = _FITTED.subn(
        lambda match: match.group(1) + constants + match.group(2), source
    )
    if count != 1:
        raise ValueError("no single BEGIN/END FITTED CONSTANTS block to replace")
    return replaced


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audio.fit_confidence")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the fit, do not write the constants"
    )
    args = parser.parse_args(argv)
    data = examples(load_cases(), load_transcripts())
    training = [e for e in data if not held_out(e.case_id)]
    testing = [e for e in data if held_out(e.case_id)]
    kinds = sorted({e.kind for e in training})
    penalty = choose_penalty(training, kinds)
    fitted = fit(training, penalty, kinds).rounded()
    shift = caution([(fitted.predict(e), e.right) for e in training], TARGET_WRONG_CONFIDENT)
    model = replace(fitted, caution=shift).rounded()
    constants = constants_text(model, penalty)
    print(constants, end="")
    for name, part in (("fit (even)", training), ("held-out (odd)", testing)):
        print(f"{name}, n-best score: {figures([(e.score, e.right) for e in part])}")
        print(f"{name}, this fit:     {figures([(model.predict(e), e.right) for e in part])}")
        shipped = [(calibrated(e.score, e.kind, e.support), e.right) for e in part]
        print(f"{name}, shipped:      {figures(shipped)}")
    if not args.dry_run:
        path = Path(confidence_module.__file__)
        path.write_text(written(path.read_text(encoding="utf-8"), constants), encoding="utf-8")
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
