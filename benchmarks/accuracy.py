"""Capture accuracy and parse latency on ../shared/eval, optionally beside NeMo's.

    python benchmarks/accuracy.py [--compare-nemo --nemo-python PATH] [--json PATH]

Feeds every in-scope line to the capture primitive's ``read`` (no server: parse time only,
params built outside the timing) and prints, per class, n, exact matches, accuracy and the
median and p90 latency per utterance in microseconds; then the false-value rates on the
negative sets, every miss (in a file when there are many), the exclusions with their reasons,
and one PASS/MISS line per target. It is a report: the exit code is 0 whatever the figures.

``--compare-nemo`` runs ``accuracy_nemo.py`` under ``--nemo-python`` (a venv with
``nemo_text_processing``; ``nox -s accuracy -- --compare-nemo`` makes one) on the same inputs
of the NeMo classes and prints its figures and the latency ratio.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from accuracy_cases import Case, EvalClass, load_classes

from voicecore.capture import CaptureParams, CapturePrimitive, Reading

__all__ = ["main"]

_PRIMITIVES = {
    "capture_email": ("voicecore.primitives.email", "CaptureEmail"),
    "capture_phone": ("voicecore.primitives.phone", "CapturePhone"),
    "capture_digits": ("voicecore.primitives.digits", "CaptureDigits"),
    "capture_number": ("voicecore.primitives.number", "CaptureNumber"),
    "capture_date": ("voicecore.primitives.date", "CaptureDate"),
    "capture_time": ("voicecore.primitives.time", "CaptureTime"),
}
_LATENCY_TARGET = 20.0
_MISSES_INLINE = 12
_REPOSITORY = Path(__file__).resolve().parents[1]
_DEFAULT_EVAL = _REPOSITORY.parent / "shared" / "eval"
# A fresh clone has no eval data: say what is missing and where to get it, not a traceback.
_MISSING_EVAL = """\
accuracy: missing {missing}
The accuracy bench reads its evaluation data from ../shared/eval, a folder beside the
repository (here {default}),
or from --eval-dir PATH (nox -s accuracy -- --eval-dir PATH). The folder is not in the
repository: copy it from the workspace the project is developed in, where it sits beside the
repository, or build it from the two public test suites it is made of:
  nemo_itn_en/<class>.tsv and <class>_cased.tsv (cardinal, date, electronic, telephone, time):
    NVIDIA NeMo-text-processing, https://github.com/NVIDIA/NeMo-text-processing, files
    tests/nemo_text_processing/en/data_inverse_text_normalization/test_cases_<class>[_cased].txt
    with each line's "~" replaced by a TAB (spoken<TAB>written).
  recognizers_text_en/EmailModel.jsonl and PhoneNumberModel.jsonl:
    Microsoft Recognizers-Text, https://github.com/microsoft/Recognizers-Text, files
    Specs/Sequence/English/EmailModel.json and PhoneNumberModel.json, one JSON case per line
    with "idx", "input", "expected_values" (each result's Resolution.value), "not_supported"
    and "not_supported_by_design" (the spec's NotSupported and NotSupportedByDesign)."""


@dataclass
class Score:
    """What one system did on one class."""

    system: str
    n: int = 0
    exact: int = 0
    latencies_us: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    available: bool = True

    @property
    def accuracy(self) -> float:
        return self.exact / self.n if self.n else 0.0

    def percentile(self, q: int) -> float:
        """The q-th percentile of the per-utterance latencies (50 = median)."""
        if not self.latencies_us:
            return 0.0
        if q == 50 or len(self.latencies_us) < 2:
            return statistics.median(self.latencies_us)
        return statistics.quantiles(self.latencies_us, n=100, method="inclusive")[q - 1]


def _primitive(name: str) -> CapturePrimitive[CaptureParams] | None:
    """The primitive's instance, or None when its module is not there (yet)."""
    module_name, class_name = _PRIMITIVES[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    primitive: CapturePrimitive[CaptureParams] = getattr(module, class_name)()
    return primitive


def _timed_read(
    primitive: CapturePrimitive[CaptureParams], case: Case, cls: EvalClass, repeats: int
) -> tuple[Reading, float]:
    """The reading of one case and the median time of ``repeats`` reads, in microseconds."""
    fields = {"transcription": case.text, **cls.params}
    params = cast(CaptureParams, primitive.params_model.model_validate(fields))
    timings: list[float] = []
    reading = Reading(value=None)
    for _ in range(repeats):
        start = time.perf_counter_ns()
        reading = primitive.read(case.text, params, None)
        timings.append((time.perf_counter_ns() - start) / 1000)
    return reading, statistics.median(timings)


def score_voicecore(cls: EvalClass, repeats: int) -> Score:
    """Read every case of ``cls`` with its primitive; never lets one case stop the run."""
    score = Score("voicecore", n=len(cls.cases))
    primitive = _primitive(cls.primitive)
    if primitive is None:
        score.available = False
        return score
    for case in cls.cases:
        try:
            reading, took = _timed_read(primitive, case, cls, repeats)
        except Exception as error:  # a crash is a miss, and is reported as such
            score.misses.append(f"{case.source}\t{case.text!r}\tRAISED {error!r}")
            continue
        key = cls.key_of(reading.value, dict(reading.parts))
        score.latencies_us.append(took)
        if cls.matches(key, case.accepted):
            score.exact += 1
        else:
            want = sorted(case.accepted) or "no value"
            score.misses.append(
                f"{case.source}\t{case.text!r}\tgot {key!r} ({reading.reason})\twant {want}"
            )
    return score


class NemoRunner:
    """accuracy_nemo.py in NeMo's venv, fed one line at a time over pipes."""

    def __init__(self, python: str, repeats: int) -> None:
        script = Path(__file__).with_name("accuracy_nemo.py")
        cache = Path(tempfile.gettempdir()) / "voicecore-nemo-grammars"
        self._process = subprocess.Popen(
            [python, str(script), "--repeats", str(repeats), "--cache-dir", str(cache)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._answer()  # {"ready": true} once the grammars are loaded

    def _answer(self) -> dict[str, object]:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith("{"):
                answer: dict[str, object] = json.loads(line)
                return answer
        raise RuntimeError("NeMo runner ended without answering")

    def normalise(self, text: str, cased: bool) -> tuple[str, float]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"text": text, "cased": cased}) + "\n")
        self._process.stdin.flush()
        answer = self._answer()
        return str(answer["output"]), float(str(answer["us"]))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=60)


def score_nemo(cls: EvalClass, nemo: NemoRunner) -> Score:
    """NeMo's written output on the same inputs, keyed by the class's NeMo rule."""
    score = Score("nemo", n=len(cls.cases))
    assert cls.nemo_key is not None
    for case in cls.cases:
        output, took = nemo.normalise(case.text, case.cased)
        score.latencies_us.append(took)
        key = cls.nemo_key(output)
        if cls.matches(key, case.accepted):
            score.exact += 1
        else:
            score.misses.append(f"{case.source}\t{case.text!r}\tgot {output!r}")
    return score


def _row(cls: EvalClass, score: Score) -> str:
    if not score.available:
        return f"{cls.name:28} {score.system:9} not available ({cls.primitive} not importable)"
    return (
        f"{cls.name:28} {score.system:9} {score.n:5} {score.exact:6} {score.accuracy:8.1%} "
        f"{score.percentile(50):10.1f} {score.percentile(90):10.1f}"
    )


def _print_table(results: list[tuple[EvalClass, list[Score]]]) -> None:
    print(f"{'class':28} {'system':9} {'n':>5} {'exact':>6} {'accuracy':>8} "
          f"{'median us':>10} {'p90 us':>10}")  # fmt: skip
    for cls, scores in results:
        if cls.negative:
            continue
        for score in scores:
            print(_row(cls, score))
        if len(scores) == 2 and scores[0].latencies_us and scores[1].latencies_us:
            ratio = scores[1].percentile(50) / max(scores[0].percentile(50), 1e-9)
            print(f"{'':28} NeMo median / voicecore median = {ratio:.0f}x")


def _print_negatives(results: list[tuple[EvalClass, list[Score]]]) -> None:
    print("\nfalse values on the negative sets (a value read where there is none):")
    for cls, scores in results:
        if cls.negative or (cls.name.startswith("rt_") and not cls.name.endswith("_py")):
            score = scores[0]
            wrong = sum(1 for case in cls.cases if not case.accepted) - _negatives_right(cls, score)
            negatives = sum(1 for case in cls.cases if not case.accepted)
            if negatives and score.available:
                print(f"  {cls.name:34} {wrong:4} / {negatives:4} = {wrong / negatives:6.1%}")


def _negatives_right(cls: EvalClass, score: Score) -> int:
    missed = {line.split("\t")[0] for line in score.misses}
    return sum(1 for case in cls.cases if not case.accepted and case.source not in missed)


def _print_misses(results: list[tuple[EvalClass, list[Score]]], path: Path) -> None:
    """Every miss and every exclusion go to ``path``; the misses are printed when few."""
    lines: list[str] = []
    for cls, scores in results:
        lines += [
            f"{cls.name}\t{score.system}\t{miss}" for score in scores for miss in score.misses
        ]
    excluded = [
        f"{c.name}\t{e.source}\t{e.text!r}\t{e.reason}" for c, _ in results for e in c.excluded
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    report = ["# misses", *lines, "", "# excluded lines", *excluded]
    path.write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"\nmisses: {len(lines)} (all misses and exclusions: {path})")
    mine = [line for line in lines if "\tvoicecore\t" in line]
    for line in mine[: _MISSES_INLINE * 3]:
        print(f"  {line}")
    if len(mine) > _MISSES_INLINE * 3:
        print(f"  ... {len(mine) - _MISSES_INLINE * 3} more voicecore misses in {path}")


def _print_exclusions(classes: list[EvalClass]) -> None:
    """How many lines each class leaves out, and why (the lines themselves are in the file)."""
    counts = Counter((c.name, e.reason) for c in classes for e in c.excluded)
    print(f"\nexcluded lines: {sum(counts.values())}")
    for (name, reason), count in counts.items():
        print(f"  {name:34} {count:4}  {reason}")


def _print_targets(results: list[tuple[EvalClass, list[Score]]]) -> None:
    print("\ntargets:")
    for cls, scores in results:
        if cls.target is None or cls.name.endswith("_cased"):
            continue
        score = scores[0]
        verdict = "PASS" if score.available and score.accuracy >= cls.target else "MISS"
        print(f"  {verdict} {cls.name}: accuracy {score.accuracy:.1%} >= {cls.target:.0%}")
    for cls, scores in results:
        if cls.name.startswith("rt_") and not cls.name.endswith("_py"):
            negatives = sum(1 for case in cls.cases if not case.accepted)
            wrong = negatives - _negatives_right(cls, scores[0])
            verdict = "PASS" if wrong == 0 and scores[0].available else "MISS"
            print(f"  {verdict} {cls.name}: no value on the {negatives} cases that expect none")
    ratios = [
        s[1].percentile(50) / max(s[0].percentile(50), 1e-9)
        for _, s in results
        if len(s) == 2 and s[0].latencies_us
    ]
    if ratios:
        worst = min(ratios)
        verdict = "PASS" if worst >= _LATENCY_TARGET else "MISS"
        print(f"  {verdict} median latency at least {_LATENCY_TARGET:.0f}x below NeMo's "
              f"(smallest ratio over classes {worst:.0f}x)")  # fmt: skip
    else:
        print("  (latency against NeMo not measured: run with --compare-nemo)")


def _as_json(results: list[tuple[EvalClass, list[Score]]]) -> list[dict[str, object]]:
    return [
        {
            "class": cls.name,
            "primitive": cls.primitive,
            "excluded": [vars(item) for item in cls.excluded],
            "scores": [
                {
                    "system": s.system,
                    "available": s.available,
                    "n": s.n,
                    "exact": s.exact,
                    "accuracy": s.accuracy,
                    "median_us": s.percentile(50),
                    "p90_us": s.percentile(90),
                    "misses": s.misses,
                }
                for s in scores
            ],
        }
        for cls, scores in results
    ]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=_DEFAULT_EVAL)
    parser.add_argument("--compare-nemo", action="store_true")
    parser.add_argument("--nemo-python", default=os.environ.get("NEMO_PYTHON"))
    parser.add_argument("--repeats", type=int, default=5, help="timed reads per utterance")
    parser.add_argument("--nemo-repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write all figures here")
    parser.add_argument(
        "--report",
        type=Path,
        default=Path("bench-results/accuracy-report.txt"),
        help="every miss and every excluded line, with reasons",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Score every class, print the report; 0 even when targets are missed."""
    args = _arguments(argv)
    try:
        classes = load_classes(args.eval_dir)
    except FileNotFoundError as error:
        missing = error.filename if args.eval_dir.is_dir() else args.eval_dir
        sys.exit(_MISSING_EVAL.format(missing=missing, default=_DEFAULT_EVAL))
    nemo: NemoRunner | None = None
    if args.compare_nemo:
        if not args.nemo_python:
            sys.exit("--compare-nemo needs --nemo-python (or NEMO_PYTHON): a venv with NeMo")
        nemo = NemoRunner(args.nemo_python, args.nemo_repeats)
    results: list[tuple[EvalClass, list[Score]]] = []
    try:
        for cls in classes:
            scores = [score_voicecore(cls, args.repeats)]
            if nemo is not None and cls.nemo_key is not None:
                scores.append(score_nemo(cls, nemo))
            results.append((cls, scores))
    finally:
        if nemo is not None:
            nemo.close()
    _print_table(results)
    _print_negatives(results)
    _print_misses(results, args.report)
    _print_exclusions(classes)
    _print_targets(results)
    if args.json is not None:
        args.json.write_text(json.dumps(_as_json(results), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
