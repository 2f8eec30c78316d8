"""``metadata.confidence`` is monotone where it should be: more n-best agreement, a higher ASR
confidence, a parse that needed fewer repairs and fewer unexplained words never lower it
(``voicecore.capture._confidence``).
"""

from __future__ import annotations

from typing import ClassVar

from hypothesis import assume, given
from hypothesis import strategies as st

from tests._fakes import FourDigits
from voicecore.capture import (
    CaptureParams,
    CapturePrimitive,
    CaptureState,
    Reading,
    calibrated,
)
from voicecore.capture._confidence import KIND_OFFSET, Support
from voicecore.capture._machine import Turn, advance

KINDS = st.sampled_from([*KIND_OFFSET, "capture_amount", "a_custom_primitive"])
SCORES = st.floats(0.0, 1.0, allow_nan=False)
WEIGHTS = st.floats(0.01, 1.0, allow_nan=False)
CODES = st.text("0123456789", min_size=4, max_size=4)
#: What other alternatives may say: another code, nothing usable, or too few digits.
OTHERS = st.lists(st.one_of(CODES, st.just("hmm"), st.just("12")), max_size=4)
#: Words no reading uses: said around a value, they are unexplained.
NOISE = st.lists(st.sampled_from(["banana", "look", "quickly", "women", "leave"]), max_size=6)


class Repairing(CapturePrimitive[CaptureParams]):
    """Four digits, each "~" in the text one repair the reading needed (a misheard word it
    mapped to a digit): every repair lowers the parse certainty, as real primitives do."""

    name = "capture_digits"
    version = "0.0.1"
    description = "four digits with repairs (tests)"
    params_model: ClassVar[type[CaptureParams]] = CaptureParams

    def read(self, text: str, params: CaptureParams, partial: str | None) -> Reading:
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) != 4:
            return Reading(None, reason="no_value_heard", certainty=0.0)
        return Reading(digits, " ".join(digits), {}, 0.9 ** text.count("~"))


def _turn(
    top: str,
    asr: float,
    alternatives: list[tuple[str, float]],
    reader: CapturePrimitive[CaptureParams] | None = None,
) -> Turn:
    params = CaptureParams.model_validate(
        {
            "transcription": top,
            "asr_confidence": asr,
            "alternatives": [{"transcription": t, "confidence": c} for t, c in alternatives],
        }
    )
    return advance(reader or Repairing(), params, CaptureState())


def _confidence_of(turn: Turn, value: str) -> float:
    assert turn.value is not None and turn.value.value == value
    return turn.confidence


@given(kind=KINDS, low=SCORES, high=SCORES)
def test_calibration_never_lowers_a_higher_score(kind: str, low: float, high: float) -> None:
    low, high = sorted((low, high))
    assert 0.0 <= calibrated(low, kind) <= calibrated(high, kind) <= 1.0
    assert calibrated(0.0, kind) == 0.0


@given(
    kind=KINDS,
    score=SCORES,
    weights=st.tuples(st.none() | WEIGHTS, WEIGHTS),
    hearings=st.tuples(st.integers(1, 5), st.integers(0, 5)),
    used=st.tuples(WEIGHTS, WEIGHTS),
)
def test_more_support_never_lowers_the_calibration(
    kind: str,
    score: float,
    weights: tuple[float | None, float],
    hearings: tuple[int, int],
    used: tuple[float, float],
) -> None:
    """A higher ASR weight, more hearings or a larger share of words used, each alone."""
    weight, more_weight = weights[0], max(weights[0] or score, weights[1])
    base = Support(weight, hearings[0], min(used))
    confidence = calibrated(score, kind, base)
    assert calibrated(score, kind, Support(more_weight, hearings[0], min(used))) >= confidence
    assert calibrated(score, kind, Support(weight, sum(hearings), min(used))) >= confidence
    assert calibrated(score, kind, Support(weight, hearings[0], max(used))) >= confidence


@given(
    value=CODES,
    asr=WEIGHTS,
    noise=NOISE,
    more=NOISE,
    others=OTHERS,
    weights=st.lists(WEIGHTS, min_size=4, max_size=4),
)
def test_more_unexplained_words_never_raise_it(
    value: str,
    asr: float,
    noise: list[str],
    more: list[str],
    others: list[str],
    weights: list[float],
) -> None:
    """The same value said among more words its reading does not need (alternatives that
    repeat the top text exactly are dropped, so none does here)."""
    assume(value not in others)
    alternatives = list(zip(others, weights, strict=False))
    before = _turn(" ".join([*noise, value]), asr, alternatives)
    if before.value is None or before.value.value != value:
        return
    after = _turn(" ".join([*more, *noise, value, *more]), asr, alternatives)
    assert _confidence_of(after, value) <= before.confidence


@given(
    value=CODES,
    asr=WEIGHTS,
    more=st.floats(0.0, 1.0, allow_nan=False),
    others=OTHERS,
    weights=st.lists(WEIGHTS, min_size=4, max_size=4),
)
def test_a_higher_asr_confidence_never_lowers_it(
    value: str, asr: float, more: float, others: list[str], weights: list[float]
) -> None:
    alternatives = list(zip(others, weights, strict=False))
    before = _turn(value, asr, alternatives)
    after = _turn(value, min(1.0, asr + more), alternatives)
    if before.value is not None and before.value.value == value:
        assert _confidence_of(after, value) >= before.confidence


@given(
    value=CODES,
    asr=WEIGHTS,
    others=OTHERS,
    weights=st.lists(WEIGHTS, min_size=5, max_size=5),
    agreeing=WEIGHTS,
    written=st.sampled_from(["{}", "{} please", "it's {}", "{0[0]} {0[1]} {0[2]} {0[3]}"]),
)
def test_one_more_hearing_of_the_value_never_lowers_it(
    value: str, asr: float, others: list[str], weights: list[float], agreeing: float, written: str
) -> None:
    """An alternative that reads the chosen value, added at the end of the n-best list."""
    alternatives = list(zip(others, weights, strict=False))
    before = _turn(value, asr, alternatives)
    if before.value is None or before.value.value != value:
        return
    after = _turn(value, asr, [*alternatives, (written.format(value), agreeing)])
    assert _confidence_of(after, value) >= before.confidence


@given(
    value=CODES,
    asr=WEIGHTS,
    repairs=st.integers(0, 5),
    fewer=st.integers(1, 5),
    others=OTHERS,
    weights=st.lists(WEIGHTS, min_size=4, max_size=4),
)
def test_fewer_repairs_never_lower_it(
    value: str, asr: float, repairs: int, fewer: int, others: list[str], weights: list[float]
) -> None:
    alternatives = list(zip(others, weights, strict=False))
    before = _turn(value + "~" * (repairs + fewer), asr, alternatives)
    if before.value is None or before.value.value != value:
        return
    after = _turn(value + "~" * repairs, asr, alternatives)
    assert _confidence_of(after, value) >= before.confidence


@given(value=CODES, asr=WEIGHTS, others=OTHERS, weights=st.lists(WEIGHTS, min_size=4, max_size=4))
def test_the_value_is_at_least_as_confident_as_its_candidates(
    value: str, asr: float, others: list[str], weights: list[float]
) -> None:
    turn = _turn(value, asr, list(zip(others, weights, strict=False)), FourDigits())
    assert turn.value is not None
    confidences = [turn.value.confidence, *(c.confidence for c in turn.value.candidates)]
    assert confidences == sorted(confidences, reverse=True)


@given(
    value=CODES,
    asr=WEIGHTS,
    noise=NOISE,
    others=OTHERS,
    weights=st.lists(WEIGHTS, min_size=4, max_size=4),
)
def test_a_candidate_is_never_more_confident_than_the_value_said_among_noise(
    value: str, asr: float, noise: list[str], others: list[str], weights: list[float]
) -> None:
    """The value's own unexplained words lower it; its candidates stay at most as confident."""
    top = " ".join([*noise, value])
    turn = _turn(top, asr, list(zip(others, weights, strict=False)), FourDigits())
    assert turn.value is not None
    assert all(c.confidence <= turn.value.confidence for c in turn.value.candidates)
