"""Parsing work grows at most linearly with the utterance, on adversarial utterances.

Work is counted, not timed: the Python and builtin calls a parse makes (``sys.setprofile``),
and the phonenumbers calls of ``capture_phone``. An utterance twice as long may cost twice the
work and one more pass, never four times (a quadratic rescan) or worse (a combinatorial search,
such as the old search for "fifty five" read as 50 5, which took minutes at the limit).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from difflib import SequenceMatcher
from types import FrameType
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings

from tests.strategies import ADVERSARIAL_PHRASES, adversarial_units, long_utterance
from voicecore._json import JsonValue
from voicecore.capture import CapturePrimitive, CaptureState, HeldValue
from voicecore.capture._machine import advance
from voicecore.primitives import builtin_primitives, choice
from voicecore.primitives.phone import CapturePhone, CapturePhoneParams
from voicecore.spoken.yesno import understand

LIMIT = 2000
_NO = "no "
# What a reading may cost beyond the bound on the reading of half the text: the fixed work of a
# parse (validating an address, a date, a phone number) happens once at either length.
_SLACK = 3000
_PRIMITIVES = {primitive.name: primitive for primitive in builtin_primitives()}
_HELD: dict[str, tuple[str, dict[str, JsonValue]]] = {
    "capture_email": ("john@gmail.com", {"local": "john", "domain": "gmail.com"}),
    "capture_phone": ("+14155552671", {"extension": ""}),
    "capture_date": ("2024-03-05", {}),
    "capture_time": ("14:30", {}),
    "capture_number": ("42", {}),
    "capture_digits": ("12345", {}),
    "capture_name": ("John", {}),
    "capture_amount": ("12.50", {"currency": "USD"}),
    "capture_choice": ("large", {"label": "Large pizza", "position": 2}),
    "capture_address": (
        "123 Main St Apt 4B, San Francisco, CA 94107",
        {
            "number": "123",
            "street": "Main St",
            "unit": "Apt 4B",
            "city": "San Francisco",
            "state": "CA",
            "zip": "94107",
        },
    ),
}
_OPTIONS = [
    {"id": "small", "label": "Small pizza", "synonyms": ["small", "the little one"]},
    {"id": "large", "label": "Large pizza", "synonyms": ["large", "family size"]},
    {"id": "card", "label": "Mastercard"},
]
_EXTRA: dict[str, dict[str, Any]] = {
    "capture_date": {"reference_date": "2024-03-01"},
    "capture_choice": {"options": _OPTIONS},
}


class _Counter:
    """A profile function counting every call, Python or builtin."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            self.calls += 1


def calls_made(work: Callable[[], object]) -> int:
    """How many calls ``work`` makes, all the way down, once warm: a first run fills the
    caches (compiled patterns, memoised word lookups) that would otherwise make the count
    depend on what ran before it, so the same input always counts the same."""
    work()
    counter = _Counter()
    sys.setprofile(counter)
    try:
        work()
    finally:
        sys.setprofile(None)
    return counter.calls


def _read(name: str, text: str) -> Callable[[], object]:
    """One hypothesis read as a value (confirm: as an answer)."""
    primitive = _PRIMITIVES[name]
    if not isinstance(primitive, CapturePrimitive):
        return lambda: understand(text)
    params = primitive.params_model.model_validate({"transcription": text, **_EXTRA.get(name, {})})
    return lambda: primitive.read(text, params, None)


def _answer(name: str, text: str) -> Callable[[], object]:
    """One hypothesis answering the readback of a held value: "no, " and a correction."""
    primitive = _PRIMITIVES[name]
    assert isinstance(primitive, CapturePrimitive)
    said = _NO + text
    params = primitive.params_model.model_validate({"transcription": said, **_EXTRA.get(name, {})})
    value, parts = _HELD[name]
    state = CaptureState(held=HeldValue(value, value, parts, 0.9))
    return lambda: advance(primitive, params, state)


def _assert_linear(path: Callable[[str, str], Callable[[], object]], name: str, unit: str) -> None:
    """Twice the text costs at most three times the calls plus a constant: twice the work,
    and maybe one more pass (a correction too long to be a value is read again as a new
    value), never the four times of a quadratic. Half the text is read with an odd and an
    even number of repeats, the dearer counting: "no no" is a correction marker, so "no" said
    333 times keeps one word and 334 times keeps 332."""
    room = LIMIT - len(_NO)  # whole repeats only, and room for an answer's "no"
    repeats = max(1, room // 2 // len(unit))
    half = max(calls_made(path(name, unit * (repeats + extra))) for extra in (0, 1))
    full = calls_made(path(name, long_utterance(unit, room)))
    assert full <= 3 * half + _SLACK, f"{name} on {unit!r}: {half} calls, then {full}"


class TestLinearWork:
    """Every primitive's reading, on every adversarial phrase, is linear in the text."""

    @pytest.mark.parametrize("unit", ADVERSARIAL_PHRASES)
    @pytest.mark.parametrize("name", sorted(_PRIMITIVES))
    def test_read_is_linear_on_known_phrases(self, name: str, unit: str) -> None:
        """Reading twice the text costs at most twice the calls plus a constant."""
        _assert_linear(_read, name, unit)

    @pytest.mark.parametrize("unit", ADVERSARIAL_PHRASES)
    @pytest.mark.parametrize("name", sorted(_HELD))
    def test_answer_is_linear_on_known_phrases(self, name: str, unit: str) -> None:
        """Answering a readback (edit, then new value) with twice the text: linear work."""
        _assert_linear(_answer, name, unit)

    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(unit=adversarial_units())
    @pytest.mark.parametrize("name", sorted(_PRIMITIVES))
    def test_read_is_linear_on_word_mixes(self, name: str, unit: str) -> None:
        """Any mix of the words readers branch on, repeated, reads in linear work."""
        _assert_linear(_read, name, unit)

    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(unit=adversarial_units())
    @pytest.mark.parametrize("name", sorted(_HELD))
    def test_answer_is_linear_on_word_mixes(self, name: str, unit: str) -> None:
        """Any mix of those words, repeated, answers a readback in linear work."""
        _assert_linear(_answer, name, unit)


def _turn(name: str, unit: str, alternatives: int) -> Callable[[], object]:
    """A turn answering a readback with "no, " and ``unit`` repeated to the limit, with
    ``alternatives`` more hypotheses as long (told apart by leading fillers)."""
    primitive = _PRIMITIVES[name]
    assert isinstance(primitive, CapturePrimitive)
    said, *others = (
        "uh " * n + "no " + long_utterance(unit, LIMIT - 3 - 3 * n) for n in range(alternatives + 1)
    )
    raw = {"transcription": said, "alternatives": [{"transcription": t} for t in others]}
    params = primitive.params_model.model_validate({**raw, **_EXTRA.get(name, {})})
    value, parts = _HELD[name]
    state = CaptureState(held=HeldValue(value, value, parts, 0.9))
    return lambda: advance(primitive, params, state)


class TestNBestWork:
    """A turn costs the work of its hypotheses, each read once: linear in their number."""

    @pytest.mark.parametrize("unit", ["five five four ", "not five five five ", "j o h n "])
    @pytest.mark.parametrize("name", sorted(_HELD))
    def test_answer_turn_is_linear_in_hypotheses(self, name: str, unit: str) -> None:
        """Eleven hypotheses cost at most eleven times one, plus a constant."""
        one = calls_made(_turn(name, unit, alternatives=0))
        eleven = calls_made(_turn(name, unit, alternatives=10))
        assert eleven <= 11 * one + _SLACK, f"{name}: one hypothesis {one} calls, 11: {eleven}"


class _TooManyParses(Exception):
    """The search has gone far past the bound: stop it rather than wait minutes."""


@contextmanager
def _counted_parses(stop_after: int) -> Iterator[list[int]]:
    """Count ``phonenumbers.parse`` calls; raise once there are ``stop_after`` of them."""
    real = phonenumbers.parse
    count = [0]

    def parse(*args: Any, **kwargs: Any) -> phonenumbers.PhoneNumber:
        count[0] += 1
        if count[0] > stop_after:
            raise _TooManyParses
        return real(*args, **kwargs)

    phonenumbers.parse = parse
    try:
        yield count
    finally:
        phonenumbers.parse = real


# A read parses at most: the plain reading and 16 tens readings; again for the run a
# self-correction replaced, with that run and the spliced number; and the final reading. Each
# parse may retry "00..." as "+...".
_MAX_PARSES = 2 * (2 * (1 + 16) + 2 + 1)


class TestPhoneSearch:
    """capture_phone's search for tens read apart calls phonenumbers a bounded number of times."""

    def _parses(self, text: str) -> int:
        params = CapturePhoneParams(transcription=text)
        with _counted_parses(stop_after=10 * _MAX_PARSES) as count:
            try:
                CapturePhone().read(text, params, None)
            except _TooManyParses:
                pass
        return count[0]

    def test_repeated_tens_are_bounded(self) -> None:
        """ "twenty one" said 30 times (the issue's case) makes a bounded number of calls."""
        assert self._parses("twenty one " * 30) <= _MAX_PARSES

    @given(unit=adversarial_units())
    def test_any_repeated_phrase_is_bounded(self, unit: str) -> None:
        """Any adversarial phrase repeated to the limit makes a bounded number of calls."""
        assert self._parses(long_utterance(unit, LIMIT)) <= _MAX_PARSES

    @given(unit=adversarial_units())
    def test_corrected_tens_are_bounded(self, unit: str) -> None:
        """A self-correction after a long run searches both runs, still bounded."""
        text = long_utterance("twenty one ", LIMIT // 2) + "sorry " + long_utterance(unit, 900)
        assert self._parses(text) <= _MAX_PARSES


def _widest_choice(text: str) -> tuple[CapturePrimitive[Any], Any]:
    """capture_choice at the schema's limits: 20 options of 11 names of 98 characters, each a
    run of the utterance's words spelled backwards: as long as a window of the utterance and
    of the same letters, so no cheap bound rules a window out and every ratio is computed."""
    primitive = _PRIMITIVES["capture_choice"]
    assert isinstance(primitive, CapturePrimitive)
    said = text.split()

    def name(option: int, index: int) -> str:
        run = "".join(said[(option + index + n) % len(said)] for n in range(len(said)))
        backwards = run[::-1][:96]
        return " ".join(backwards[part : part + 32] for part in range(0, 96, 32))

    options = [
        {
            "id": f"o{option}",
            "label": name(option, 0),
            "synonyms": [name(option, i) for i in range(1, 11)],
        }
        for option in range(20)
    ]
    params = primitive.params_model.model_validate({"transcription": text, "options": options})
    return primitive, params


@contextmanager
def _counted_ratios() -> Iterator[list[int]]:
    """Count the SequenceMatcher comparisons made (``ratio`` and ``quick_ratio``)."""
    count = [0]
    originals = {name: getattr(SequenceMatcher, name) for name in ("ratio", "quick_ratio")}

    def counting(real: Callable[[SequenceMatcher[str]], float]) -> Callable[..., float]:
        def compare(self: SequenceMatcher[str]) -> float:
            count[0] += 1
            return real(self)

        return compare

    for name, real in originals.items():
        setattr(SequenceMatcher, name, counting(real))
    try:
        yield count
    finally:
        for name, real in originals.items():
            setattr(SequenceMatcher, name, real)


# The calls of one reading at the schema's limits, the budget's comparisons included: before
# the budget, 11.2 million (6.2 s); with it about 150 thousand.
_CHOICE_CALLS = 300_000
# Twelve words (the most choice compares nearly) of 24 letters: 299 characters, read inline.
_TWELVE = " ".join(
    (f"{word}{word[::-1]}" * 5)[:24]
    for word in (
        "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()
    )
)


class TestChoiceWork:
    """capture_choice's close matching does a bounded number of comparisons per reading,
    however many options and names the params carry."""

    def test_comparisons_are_bounded_at_the_schema_limits(self) -> None:
        primitive, params = _widest_choice(_TWELVE)
        with _counted_ratios() as count:
            primitive.read(_TWELVE, params, None)
        assert count[0] <= choice.MAX_COMPARISONS

    def test_calls_are_bounded_at_the_schema_limits(self) -> None:
        """All the calls of a reading, the comparisons' insides too, stay under a bound."""
        primitive, params = _widest_choice(_TWELVE)
        assert calls_made(lambda: primitive.read(_TWELVE, params, None)) <= _CHOICE_CALLS
