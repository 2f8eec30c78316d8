"""Fits the calibration of ``metadata.confidence`` (``voicecore.capture._confidence``) on the
audio pipeline's committed transcripts, and reports it on the held-out split.

    python -m benchmarks.audio.fit_confidence

Every transcript is one turn, read in process by the primitive (what ``voicecore serve`` does
with it); each turn that offers a value is an example: its n-best score (``rank``'s confidence,
before calibration), its kind (the primitive's name) and whether the value is the case's. The
model is ``sigmoid(intercept + offset[kind] + slope * logit(score))``, fitted by Newton's method
on the cases with even numbers (``score.held_out`` keeps the odd ones out), with an L2 penalty
on the kind offsets only, its strength chosen by 5-fold cross-validation within the even cases
(the one with the lowest held-out log loss). It prints the constants to copy into
``voicecore/capture/_confidence.py`` and the figures on both halves, and checks that the
service gives, for every turn, the value and the confidence this reproduction computes.
Pure Python: no dependency the project does not have.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.audio.cases import Case, Transcript, card_value, load_cases, load_transcripts
from benchmarks.audio.score import CONFIDENT, auroc, held_out, turn_params, value_of
from voicecore.capture import CapturePrimitive, InMemoryCaptureStore, Vote, hypotheses, rank
from voicecore.capture._confidence import calibrated, logit
from voicecore.primitive import Primitive, PrimitiveContext
from voicecore.primitives import builtin_primitives
from voicecore.primitives._card_parts import CardParts
from voicecore.primitives.card import CaptureCard
from voicecore.spoken.yesno import Answer, understand

__all__ = ["Example", "Model", "examples", "fit", "main"]

PENALTIES = (0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5


@dataclass(frozen=True)
class Example:
    """One value offered on a transcript."""

    case_id: str
    asr: str
    kind: str
    score: float
    right: bool


@dataclass(frozen=True)
class Model:
    """The fitted constants: ``sigmoid(intercept + offsets[kind] + slope * logit(score))``."""

    intercept: float
    slope: float
    offsets: dict[str, float]

    def predict(self, example: Example) -> float:
        z = self.intercept + self.offsets.get(example.kind, 0.0) + self.slope * logit(example.score)
        return 1.0 / (1.0 + math.exp(-z))


def _scored(primitive: Primitive[Any], params: Any) -> tuple[str, float] | None:
    """The value a turn offers and its n-best score, as the service reads them."""
    heard = hypotheses(params)
    keys: list[str | None]
    if isinstance(primitive, CapturePrimitive):
        readings = [primitive.read(h.text, params, None) for h in heard]
        keys, certainties = [r.value for r in readings], [r.certainty for r in readings]
    else:  # confirm: a yes or a no
        answers = [understand(h.text) for h in heard]
        keys = [None if a.answer is Answer.UNCLEAR else a.answer.value for a in answers]
        certainties = [a.certainty for a in answers]
    votes = [
        Vote(key, h.weight * c, h.hearing)
        for h, key, c in zip(heard, keys, certainties, strict=True)
    ]
    ranked = rank(votes)
    return (_shown(primitive, ranked[0].key), ranked[0].confidence) if ranked else None


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
            (None, 0.0) if scored is None else (scored[0], calibrated(scored[1], case.primitive))
        )
        if served != expected:
            raise AssertionError(f"{case.id}/{transcript.asr}: served {served}, read {expected}")
        if scored is not None:
            found.append(
                Example(case.id, transcript.asr, case.primitive, scored[1], scored[0] == case.value)
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


def fit(data: Sequence[Example], penalty: float, kinds: Sequence[str]) -> Model:
    """Penalised logistic regression by Newton's method (it converges in a few steps)."""
    features: list[Callable[[Example], float]] = [
        lambda e: 1.0,
        lambda e: logit(e.score),
        *[(lambda e, k=kind: float(e.kind == k)) for kind in kinds],
    ]
    n = len(features)
    x = [[f(e) for f in features] for e in data]
    y = [float(e.right) for e in data]
    ridge = [0.0, 0.0, *[penalty] * len(kinds)]
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
    return Model(w[0], w[1], dict(zip(kinds, w[2:], strict=True)))


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


def main() -> int:
    data = examples(load_cases(), load_transcripts())
    training = [e for e in data if not held_out(e.case_id)]
    testing = [e for e in data if held_out(e.case_id)]
    kinds = sorted({e.kind for e in training})
    penalty = choose_penalty(training, kinds)
    model = fit(training, penalty, kinds)
    print(f"# penalty {penalty} (cross-validated on the even cases)")
    print(f"INTERCEPT: Final = {model.intercept:.4f}")
    print(f"SLOPE: Final = {model.slope:.4f}")
    print("KIND_OFFSET = {")
    for kind, offset in model.offsets.items():
        print(f'    "{kind}": {offset:.4f},')
    print("}")
    for name, part in (("fit (even)", training), ("held-out (odd)", testing)):
        print(f"{name}, n-best score: {figures([(e.score, e.right) for e in part])}")
        print(f"{name}, this fit:     {figures([(model.predict(e), e.right) for e in part])}")
        shipped = [(calibrated(e.score, e.kind), e.right) for e in part]
        print(f"{name}, shipped:      {figures(shipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
