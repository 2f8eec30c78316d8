"""The audio pipeline's scoring (``benchmarks/audio``, ``nox -s audio``): on a handful of the
committed transcripts through a real server, its figures come from the run, and its data files
are what its scripts write."""

from __future__ import annotations

import json
import math
import shutil
import wave
from collections import Counter
from pathlib import Path

import pytest

import voicecore.capture._confidence as confidence_module
from benchmarks.audio import __main__ as audio_main
from benchmarks.audio import fit_confidence, make_cases, transcribe
from benchmarks.audio.cases import (
    TRANSCRIPTS_FILE,
    Case,
    Hypothesis,
    Transcript,
    card_value,
    load_cases,
    load_transcripts,
)
from benchmarks.audio.score import (
    CLEAN,
    Outcome,
    Report,
    auroc,
    cause_of,
    held_out,
    render_markdown,
    score,
    value_of,
    word_error_rate,
)
from voicecore.capture._confidence import Support, logit
from voicecore.primitives import builtin_primitives
from voicecore.primitives._card_parts import brand_of, luhn_valid

PHONE = Case("phone-001", "capture_phone", "my number is four one five two three four", "+1415")


def _outcome(heard: str, value: str | None, case: Case = PHONE, confidence: float = 0.5) -> Outcome:
    return Outcome(case, "asr", "voice", heard, value, confidence, "NEEDS_CONFIRMATION")


def test_the_committed_cases_are_what_the_seeded_script_writes() -> None:
    cases = load_cases()
    assert cases == make_cases.build()
    assert len(cases) >= 300
    assert len({case.id for case in cases}) == len(cases)
    counts = Counter(case.primitive for case in cases)
    assert len(counts) == 12 and min(counts.values()) >= 35


def test_every_primitive_that_hears_speech_has_forty_cases() -> None:
    """Each primitive a caller speaks to is scored by the audio pipeline (issue 14: 40+)."""
    counts = Counter(case.primitive for case in load_cases())
    spoken = {primitive.name for primitive in builtin_primitives()}
    assert {name: counts[name] for name in spoken if counts[name] < 40} == {}


def test_the_later_primitives_left_the_first_cases_as_they_were() -> None:
    """The primitives added later draw from streams of their own: the first eight's cases (and
    so their committed transcripts) stay what they were before them."""
    first = make_cases.build(per_primitive=3)[:24]
    assert [case.primitive for case in first[:8]] == list(make_cases._MAKERS)
    assert first == [
        case for case in make_cases.build(per_primitive=3) if case.primitive in make_cases._MAKERS
    ]


def test_missing_transcripts_are_decoded_alone_and_written_in_the_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--missing decodes only the cases an ASR has no transcript of, with each case's own
    voice, and writes the file again by ASR, then by case."""
    cases = load_cases()[:3]
    decoded: list[tuple[str, str]] = []

    def asr(name: str) -> object:
        def decode(path: Path) -> tuple[Hypothesis, ...]:
            decoded.append((name, path.name))
            return (Hypothesis(f"{name} heard {path.name}", 0.5),)

        return lambda: decode

    monkeypatch.setattr(transcribe, "ASRS", {"a": asr("a"), "b": asr("b")})
    monkeypatch.setattr(transcribe, "speak", lambda voice, text, cache: Path(text))
    out = tmp_path / "transcripts.jsonl"
    kept = [
        Transcript(cases[0].id, "old", "b", (Hypothesis("kept", 0.9),)),
        Transcript(cases[2].id, "old", "a", (Hypothesis("kept", 0.9),)),
    ]
    out.write_text("".join(json.dumps(t.to_json()) + "\n" for t in kept))
    argv = ["--missing", "--asr", "a,b", "--limit", "3", "--out", str(out)]
    assert transcribe.main([*argv, "--cache-dir", str(tmp_path)]) == 0

    assert decoded == [("a", cases[0].text), ("a", cases[1].text)] + [
        ("b", cases[1].text),
        ("b", cases[2].text),
    ]
    written = load_transcripts(out)
    assert [(t.asr, t.case_id) for t in written] == [
        *(("b", case.id) for case in cases),
        *(("a", case.id) for case in cases),
    ]
    assert written[0] == kept[0] and written[5] == kept[1]
    assert written[1].voice == transcribe.voice_for(1).name
    assert written[1].text == f"b heard {cases[1].text}"


def test_the_card_cases_carry_luhn_valid_numbers_of_their_brand() -> None:
    cards = [case for case in load_cases() if case.primitive == "capture_card"]
    assert len(cards) >= 40
    for case in cards:
        number = case.value.split()[0]
        brand = brand_of(number)
        assert luhn_valid(number) and brand is not None, case
        assert brand.id in {"visa", "mastercard", "amex"} and len(number) in brand.lengths


def test_a_card_is_compared_whole_and_other_values_as_given() -> None:
    card = {"value": "4111111111111111", "expiry": "04/27", "cvv": "123", "brand": "visa"}
    assert value_of("capture_card", card) == card_value("4111111111111111", "04/27", "123")
    assert value_of("capture_card", card) == "4111111111111111 04/27 123"
    assert value_of("capture_card", {"value": "4111111111111111"}) == "4111111111111111"
    assert value_of("capture_card", {"reason": "need_cvv"}) is None
    assert value_of("capture_amount", {"value": "12.50", "currency": "USD"}) == "12.50"


def test_the_committed_transcripts_cover_every_case_for_each_asr() -> None:
    if not TRANSCRIPTS_FILE.exists():
        pytest.fail(f"{TRANSCRIPTS_FILE} is missing: run `nox -s audio` and commit it")
    by_asr: dict[str, set[str]] = {}
    for transcript in load_transcripts():
        by_asr.setdefault(transcript.asr, set()).add(transcript.case_id)
    assert by_asr, "no transcripts"
    every_case = {case.id for case in load_cases()}
    for asr, ids in by_asr.items():
        assert ids == every_case, f"{asr} misses {sorted(every_case - ids)[:5]}"


def test_missing_transcripts_are_named_with_the_command_that_writes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = tmp_path / "transcripts.jsonl"
    with pytest.raises(FileNotFoundError, match="nox -s audio"):
        load_transcripts(absent)
    assert audio_main.main(["--score-only", "--transcripts", str(absent)]) == 2
    assert "nox -s audio" in capsys.readouterr().err


def test_word_error_rate_counts_edits_over_reference_words() -> None:
    assert word_error_rate([("It's four, one.", "its four one")]) == pytest.approx(1 / 3)
    assert word_error_rate([("a b c d", "a x c"), ("e f", "e f")]) == pytest.approx(2 / 6)
    assert word_error_rate([]) == 0.0


def test_auroc_ranks_right_above_wrong_with_ties_half() -> None:
    assert auroc([0.9, 0.8], [0.1]) == 1.0
    assert auroc([0.1], [0.9, 0.8]) == 0.0
    assert auroc([0.5], [0.5]) == 0.5
    assert auroc([0.5], []) is None


def test_the_held_out_split_is_the_odd_case_numbers() -> None:
    assert held_out("email-007") and not held_out("email-010")


def test_misses_are_grouped_by_a_cause_read_from_the_transcript() -> None:
    assert cause_of(_outcome("x", None), clean_right=False).startswith("the clean text")
    assert cause_of(_outcome(" ", None), clean_right=True) == "ASR heard nothing"
    assert "same words" in cause_of(
        _outcome("My number is four one five two three four!", None), True
    )
    assert "the engine lost it" in cause_of(_outcome("It's 1, 4, 15.", None), True)
    assert "formatted and misheard" in cause_of(_outcome("It's 9, 9.", "+199"), True)
    assert cause_of(_outcome("my number is for one", None), True).endswith("no value read")
    assert cause_of(_outcome("my number is for one", "+141"), True).endswith("wrong value read")


async def test_scoring_a_few_transcripts_counts_what_the_server_answered() -> None:
    cases = load_cases()[:8]
    right, wrong = cases[1], cases[2]  # a phone number, a date
    assert (right.primitive, wrong.primitive) == ("capture_phone", "capture_date")
    committed = [t for t in load_transcripts() if t.case_id in {c.id for c in cases}]
    # Known answers: the case's own words heard perfectly, and words that carry another value.
    planted = [
        Transcript(right.id, "planted", "test-asr", (Hypothesis(right.text, 0.95),)),
        Transcript(
            wrong.id,
            "planted",
            "test-asr",
            (Hypothesis("the first of june twenty nineteen", 0.9), Hypothesis("june", 0.1)),
        ),
    ]
    report = await score(cases, [*committed, *planted])

    clean = [o for o in report.outcomes if o.source == CLEAN]
    assert [o.case.id for o in clean] == [c.id for c in cases]
    planted_outcomes = {o.case.id: o for o in report.outcomes if o.source == "test-asr"}
    assert planted_outcomes[right.id].right and planted_outcomes[right.id].value == right.value
    assert not planted_outcomes[wrong.id].right
    assert planted_outcomes[wrong.id].value == "2019-06-01"

    exact = report.exact()
    assert exact[("all", CLEAN)][0] == len(cases)
    assert exact[("all", CLEAN)][1] == sum(o.right for o in clean)
    assert exact[("all", "test-asr")][:2] == (2, 1)
    assert exact[("capture_date", "test-asr")][:2] == (1, 0)
    confidence = report.confidence("test-asr", held=False)
    assert (confidence["offered"], confidence["wrong"]) == (2, 1)
    assert confidence["highest"] == max(o.confidence for o in planted_outcomes.values())
    assert confidence["confident"] == sum(
        o.confidence >= 0.8 for o in planted_outcomes.values() if o.value is not None
    )
    wer = report.wer()
    assert wer[("test-asr", "planted")][0] == 2
    assert report.misses()[("test-asr", cause_of(planted_outcomes[wrong.id], True))] == 1

    markdown = render_markdown(report)
    for heading in ("Word error rate", "Exact value per primitive", "Confidence", "Misses"):
        assert f"## {heading}" in markdown
    assert "| test-asr | planted | 2 |" in markdown


def test_a_report_without_outcomes_renders_empty_tables() -> None:
    markdown = render_markdown(Report())
    assert "| all | 0 | - |" in markdown


@pytest.mark.parametrize(
    "voice", [transcribe.VOICES[0], transcribe.VOICES[-1]], ids=lambda voice: voice.name
)
def test_a_voice_speaks_repeatable_phone_channel_audio(
    voice: transcribe.Voice, tmp_path: Path
) -> None:
    missing = [p for p in (voice.argv[0], "sox") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"not installed: {missing} (apt-get install espeak-ng flite sox)")
    first = transcribe.speak(voice, "four one five", tmp_path / "a")
    again = transcribe.speak(voice, "four one five", tmp_path / "b")
    assert first.read_bytes() == again.read_bytes()  # sox -R: the same dither every run
    assert transcribe.speak(voice, "four one five", tmp_path / "a") == first  # cached
    with wave.open(str(first)) as audio:
        assert (audio.getframerate(), audio.getnchannels()) == (transcribe.ASR_RATE, 1)
        assert audio.getnframes() > transcribe.ASR_RATE // 4
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [first.name]


def test_the_reliability_table_and_the_target_line_come_from_the_held_out_values() -> None:
    odd, even = (Case(f"name-00{n}", "capture_name", "it's ann", "Ann") for n in (1, 2))
    confidences = {0.3: "Bob", 0.6: "Ann", 0.85: "Ann", 0.92: "Ann Speaking", 0.97: "Ann"}
    report = Report(
        outcomes=[
            *(_outcome("it's ann", value, odd, c) for c, value in confidences.items()),
            _outcome("it's ann", "Bob", even, 0.99),  # not held out: in no held-out figure
            _outcome("", None, odd, 0.0),  # no value offered
        ],
        cases=[odd, even],
    )
    assert report.reliability(held=True) == [
        ("0.0 - 0.5", 1, 1),
        ("0.5 - 0.8", 1, 0),
        ("0.8 - 0.9", 1, 0),
        ("0.9 - 0.95", 1, 1),
        (">= 0.95", 1, 0),
    ]
    markdown = render_markdown(report)
    assert "AUROC >= 0.9: NOT reached (0.667)" in markdown
    assert "offered at >= 0.8: NOT reached (1 of 3, 33.3%)" in markdown
    assert "| held-out (odd) | 5 | 2 | 0.667 | 0.970 | 3 | 1 (33.3%) | 2 of 3 (66.7%) |" in markdown
    assert "- asr, capture_name, 0.920: `it's ann` -> Ann Speaking (Ann)" in markdown
    assert "0.990: `it's ann` -> Bob" not in markdown


def test_the_target_line_says_reached_when_it_is() -> None:
    case = Case("name-001", "capture_name", "it's ann", "Ann")
    report = Report(
        outcomes=[_outcome("ann", "Ann", case, 0.9), _outcome("bob", "Bob", case, 0.2)],
        cases=[case],
    )
    markdown = render_markdown(report)
    assert "AUROC >= 0.9: reached (1.000)" in markdown
    assert "offered at >= 0.8: reached (0 of 1, 0.0%)" in markdown
    assert "Held-out values offered at >= 0.8 and wrong:\n\n- none" in markdown


def _example(kind: str, score: float, right: bool, number: int = 0) -> fit_confidence.Example:
    return fit_confidence.Example(f"x-{number:03}", "asr", kind, score, right)


def test_the_fit_finds_a_rising_slope_and_the_kind_that_is_more_often_right() -> None:
    data = [
        _example(kind, score, right, number)
        for number, (kind, score, right) in enumerate(
            [
                (k, s, r)
                for k in ("often", "rarely")
                for s in (0.2, 0.4, 0.6, 0.8)
                for r in (False, True)
            ]
            + [("often", s, True) for s in (0.3, 0.5, 0.7, 0.9)]
            + [("rarely", s, False) for s in (0.1, 0.3, 0.5)]
            + [(k, 0.9, True) for k in ("often", "rarely")]
            + [(k, 0.1, False) for k in ("often", "rarely")]
        )
    ]
    model = fit_confidence.fit(data, 1.0, ["often", "rarely"])
    assert model.slopes[0] > 0
    assert model.offsets["often"] > 0 > model.offsets["rarely"]
    assert model.predict(_example("often", 0.5, True)) > model.predict(_example("other", 0.5, True))
    assert fit_confidence.choose_penalty(data, ["often", "rarely"]) in fit_confidence.PENALTIES
    assert "AUROC 1.000, 1 at >= 0.8, 0 wrong" in fit_confidence.figures(
        [(0.9, True), (0.1, False)]
    )
    assert "0 at >= 0.8, 0 wrong among them (-)" in fit_confidence.figures([(0.5, True)])


def test_a_slope_that_comes_out_negative_is_fixed_at_zero() -> None:
    """Here the right values had the lower ASR weights: the weight may not lower the
    confidence, so its slope is 0 and the score's slope is refitted without it."""
    data = [
        fit_confidence.Example(f"x-{n:03}", "asr", "kind", score, right, Support(weight))
        for n, (score, right, weight) in enumerate(
            [(s, r, 0.3 if r else 0.7) for s in (0.2, 0.4, 0.6, 0.8) for r in (False, True)]
            + [(s, True, 0.3) for s in (0.7, 0.9)]
            + [(s, False, 0.7) for s in (0.1, 0.3)]
        )
    ]
    unconstrained = fit_confidence._newton(data, 1.0, ["kind"], range(len(fit_confidence.SLOPES)))
    assert unconstrained[2] < 0  # the weight's slope, fitted freely
    model = fit_confidence.fit(data, 1.0, ["kind"])
    assert model.slopes[1] == 0.0
    assert model.slopes[0] > 0
    assert all(slope >= 0 for slope in model.slopes)


def _crossing(shift: float, confidences: list[tuple[float, bool]]) -> list[bool]:
    """Whether each value is served at >= 0.8 once shifted down by ``shift`` (rounded to 4
    places, as ``calibrated`` serves it)."""
    return [round(1 / (1 + math.exp(shift - logit(c))), 4) >= 0.8 for c, _ in confidences]


def test_caution_keeps_above_the_line_only_as_many_wrong_values_as_allowed() -> None:
    confidences = [(0.99, True), (0.97, True), (0.95, False), (0.9, True), (0.85, True)]
    shift = fit_confidence.caution(confidences, 0.01)
    assert _crossing(shift, confidences) == [True, True, False, False, False]
    assert logit(0.97) - shift > logit(0.8) > logit(0.95) - shift  # the line falls between
    # A third of them may be wrong: all five stay above, and nothing needs shifting.
    assert fit_confidence.caution(confidences, 0.34) == 0.0


def test_caution_shifts_nothing_when_the_values_above_the_line_are_right() -> None:
    """Wrong values below 0.8 (even the most confident one) need no shift."""
    below = [(0.79, False), (0.7, True), (0.5, False)]
    assert fit_confidence.caution(below, 0.01) == 0.0
    assert fit_confidence.caution([(0.95, True), *below], 0.01) == 0.0


def test_caution_checks_the_values_at_the_line_not_a_longer_run_below_it() -> None:
    """A wrong value on top of 99 right ones is 1% of the run, but 1 of 10 above 0.8."""
    confidences = [(0.99, False), *[(0.85, True)] * 9, *[(0.6, True)] * 90]
    shift = fit_confidence.caution(confidences, 0.01)
    assert not any(_crossing(shift, confidences))


def test_caution_never_splits_equal_confidences() -> None:
    confidences = [(0.99, True), (0.95, True), (0.95, False), (0.9, True)]
    shift = fit_confidence.caution(confidences, 0.01)
    assert _crossing(shift, confidences) == [True, False, False, False]


def test_caution_never_lets_rounding_lift_a_wrong_value_to_the_line() -> None:
    """Two confidences too close to part once rounded to 4 places: both go below."""
    confidences = [(0.99, True), (0.95, True), (0.949999, False), (0.9, True)]
    shift = fit_confidence.caution(confidences, 0.01)
    assert _crossing(shift, confidences) == [True, False, False, False]


def test_caution_puts_every_value_below_when_the_most_confident_is_wrong() -> None:
    confidences = [(0.99, False), (0.9, True)]
    assert _crossing(fit_confidence.caution(confidences, 0.01), confidences) == [False, False]
    assert fit_confidence.caution([], 0.01) == 0.0


def test_the_fit_writes_its_constants_where_the_service_reads_them() -> None:
    model = fit_confidence.Model(
        0.5, (1.0, 0.25, 0.0, 2.0), {"confirm": 1.0, "capture_name": -1.0}, caution=1.25
    )
    constants = fit_confidence.constants_text(model.rounded(), 0.3)
    source = Path(confidence_module.__file__).read_text(encoding="utf-8")
    namespace: dict[str, object] = {}
    exec(  # the block alone runs, with what the module imports for it
        "from typing import Final\nfrom collections.abc import Mapping\n"
        "from types import MappingProxyType\n" + constants,
        namespace,
    )
    assert namespace["SLOPE"] == 1.0 and namespace["HEARD_AGAIN"] == 2.0
    assert namespace["CAUTION"] == 1.25
    assert dict(namespace["KIND_OFFSET"]) == {"confirm": 1.0, "capture_name": -1.0}  # type: ignore[call-overload]
    rewritten = fit_confidence.written(source, constants)
    assert constants in rewritten and "INTERCEPT: Final = 0.5000" in rewritten
    assert fit_confidence.written(rewritten, constants) == rewritten
    assert rewritten.count("# END FITTED CONSTANTS") == 1
    with pytest.raises(ValueError, match="FITTED CONSTANTS"):
        fit_confidence.written("INTERCEPT = 1.0\n", constants)


def test_the_fit_reads_turns_as_the_service_does() -> None:
    """Its examples are the values the primitives serve, with the score they calibrate."""
    cases = load_cases()[:16]
    transcripts = [t for t in load_transcripts() if t.case_id in {c.id for c in cases}]
    found = fit_confidence.examples(cases, transcripts)  # raises if the service differs
    assert found and {e.kind for e in found} <= {c.primitive for c in cases}
    assert all(0.0 < e.score <= 1.0 for e in found)
    by_id = {c.id: c for c in cases}
    assert fit_confidence.examples([by_id[found[0].case_id]], transcripts[:0]) == []


def test_the_fit_opens_a_card_reading_into_the_value_the_case_writes() -> None:
    """A card's reading is sealed: the fit compares its number, expiry and CVV, as served."""
    card = next(case for case in load_cases() if case.primitive == "capture_card")
    assert card.text.endswith(" cvv two nine double six")  # card-000
    other_cvv = card.text.removesuffix("six") + "seven"
    heard = [
        Transcript(card.id, "planted", "test-asr", (Hypothesis(card.text, 0.9),)),
        Transcript(card.id, "planted", "other-asr", (Hypothesis(other_cvv, 0.9),)),
    ]
    found = fit_confidence.examples([card], heard)
    assert [(e.asr, e.kind, e.right) for e in found] == [
        ("test-asr", "capture_card", True),
        ("other-asr", "capture_card", False),
    ]
