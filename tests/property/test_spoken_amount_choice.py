"""Round trips of capture_amount and capture_choice: a valid value rendered the ways callers say
it and formatting ASRs write it is captured back exactly.

The renderings come from generators written here (and the number words of
``test_spoken_numbers_dates``), independent of the parsers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.property.test_spoken_numbers_dates import below_hundred, cardinal_words, ordinal_words
from voicecore._json import JsonValue
from voicecore.capture import CaptureKey, InMemoryCaptureStore, run_turn
from voicecore.primitive import PrimitiveContext, PrimitiveState
from voicecore.primitives.amount import CaptureAmount, CaptureAmountParams
from voicecore.primitives.choice import CaptureChoice, CaptureChoiceParams

AMOUNT = CaptureAmount()
CHOICE = CaptureChoice()
_OPENINGS = ["", "uh ", "it's ", "it's about ", "um, that's ", "The total is "]
_CLOSINGS = ["", ".", " please", ", i think"]
_WORDS = (
    "apple pear plum cherry walnut almond cedar maple willow river harbor meadow canyon summit "
    "violet amber silver copper marble velvet window garden kitchen balcony terrace lantern"
).split()


def written(dollars: int, cents: int) -> list[str]:
    """How a formatting ASR writes the amount."""
    plain = f"{dollars}.{cents:02d}"
    grouped = f"{dollars:,}.{cents:02d}"
    forms = [plain, f"${plain}", f"${grouped}", f"{grouped} dollars", f"${grouped}."]
    if cents == 0:
        forms += [f"${dollars:,}", f"{dollars} dollars"]
    if dollars % 100 == 0 and cents == 0 and dollars:
        forms.append(f"${dollars // 1000}k" if dollars % 1000 == 0 else f"${dollars / 1000}k")
    return forms


def spoken(dollars: int, cents: int, with_and: bool) -> list[str]:
    """How a caller says the amount."""
    unit = "dollar" if dollars == 1 else "dollars"
    cent_unit = "cent" if cents == 1 else "cents"
    whole = f"{cardinal_words(dollars, with_and)} {unit}"
    if cents == 0:
        return [whole, f"{cardinal_words(dollars, with_and)} bucks"]
    forms = [
        f"{whole} and {below_hundred(cents)} {cent_unit}",
        f"{whole} {below_hundred(cents)}",
    ]
    if dollars == 0:
        forms.append(f"{below_hundred(cents)} {cent_unit}")
    if 1 <= dollars <= 99:  # a price: "twelve fifty", "three oh five"
        pair = below_hundred(cents) if cents >= 10 else f"oh {below_hundred(cents)}"
        forms.append(f"{below_hundred(dollars)} {pair}")
    return forms


@st.composite
def said_amounts(draw: st.DrawFn) -> tuple[str, str]:
    """An amount (below ten million) and one way it is said or written, with talk around it."""
    dollars = draw(st.integers(min_value=0, max_value=9_999_999))
    cents = draw(st.integers(min_value=0 if dollars else 1, max_value=99))
    forms = written(dollars, cents) + spoken(dollars, cents, draw(st.booleans()))
    form = draw(st.sampled_from(forms))
    said = draw(st.sampled_from(_OPENINGS)) + form + draw(st.sampled_from(_CLOSINGS))
    return said, f"{dollars}.{cents:02d}"


@given(said_amounts())
def test_an_amount_said_is_captured_back(case: tuple[str, str]) -> None:
    said, value = case
    params = CaptureAmountParams(transcription=said)
    reading = AMOUNT.read(said, params, None)
    assert reading.value == value, said
    assert reading.parts == {"currency": "USD"}


def figures_with_scales(dollars: int, hyphen: bool) -> str:
    """Whole units as a formatting ASR writes them when the caller says scale words: figures
    between the words ("5 thousand 6 hundred 12"), or hyphened to them ("5-thousand")."""
    thousands, rest = divmod(dollars, 1000)
    hundreds, units = divmod(rest, 100)
    joint = "-" if hyphen else " "
    parts = [f"{thousands}{joint}thousand"] * bool(thousands)
    parts += [f"{hundreds}{joint}hundred"] * bool(hundreds)
    parts += [str(units)] * bool(units)
    return " ".join(parts)


@st.composite
def formatted_amounts(draw: st.DrawFn) -> tuple[str, str]:
    """An amount and how a formatting ASR writes it: scale words among figures, cents written
    as a figure before "cents" (alone, or after whole units: "$40 and 25 cents")."""
    dollars = draw(st.integers(min_value=0, max_value=999_999))
    cents = draw(st.integers(min_value=0 if dollars >= 100 else 1, max_value=99))
    cent_unit = "cent" if cents == 1 else "cents"
    forms = []
    if dollars >= 100:
        scaled = figures_with_scales(dollars, draw(st.booleans()))
        forms.append(f"{scaled} dollars and {cents} {cent_unit}" if cents else f"{scaled} dollars")
        if not cents:
            forms.append(scaled)
    if dollars and cents:
        forms += [
            f"${dollars} and {cents} {cent_unit}",
            f"{dollars} dollars and {cents} {cent_unit}",
        ]
    if not dollars:
        forms.append(f"{cents} {cent_unit}")
    form = draw(st.sampled_from(forms))
    said = draw(st.sampled_from(_OPENINGS)) + form + draw(st.sampled_from(_CLOSINGS))
    return said, f"{dollars}.{cents:02d}"


@given(formatted_amounts())
def test_an_amount_a_formatting_asr_writes_with_words_is_captured_back(
    case: tuple[str, str],
) -> None:
    said, value = case
    reading = AMOUNT.read(said, CaptureAmountParams(transcription=said), None)
    assert (reading.value, reading.certainty) == (value, 1.0), said


@st.composite
def offered_choices(draw: st.DrawFn) -> tuple[list[dict[str, Any]], int, str]:
    """Options with distinct labels of one or two words, one chosen, and how it is said."""
    count = draw(st.integers(min_value=2, max_value=8))
    labels = draw(
        st.lists(
            st.lists(st.sampled_from(_WORDS), min_size=1, max_size=2, unique=True).map(" ".join),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    options = [{"id": f"id-{index}", "label": label.title()} for index, label in enumerate(labels)]
    chosen = draw(st.integers(min_value=0, max_value=count - 1))
    place = chosen + 1
    forms = [
        labels[chosen],
        labels[chosen].upper(),
        f"the {labels[chosen]} one",
        f"the {ordinal_words(place)} one",
        f"number {place}",
        f"option {below_hundred(place)}",
    ]
    if place == count:
        forms.append("the last one")
    form = draw(st.sampled_from(forms))
    said = draw(st.sampled_from(_OPENINGS)) + form + draw(st.sampled_from(_CLOSINGS))
    return options, chosen, said


@given(offered_choices())
def test_a_choice_said_is_captured_back(case: tuple[list[dict[str, Any]], int, str]) -> None:
    options, chosen, said = case
    params = CaptureChoiceParams.model_validate({"transcription": said, "options": options})
    reading = CHOICE.read(said, params, None)
    assert reading.value == options[chosen]["id"], said
    assert reading.readback == options[chosen]["label"]


_NONE_SAID = st.builds(
    "{}{}{}{}{}".format,
    st.sampled_from(["", "uh ", "um, ", "Well, "]),
    st.sampled_from(["neither", "none", "nothing", "Neither", "None"]),
    st.sampled_from(["", " one"]),
    st.sampled_from(["", " of them", " of those", " of these", " of the above"]),
    st.sampled_from(["", ".", ", thanks", " please", ", thank you."]),
)
_COLOURS = [{"id": colour, "label": colour.title()} for colour in ("red", "green", "blue")]


async def _emit(event_type: str, payload: Mapping[str, JsonValue]) -> int:
    return 0


async def _turns(said: list[str], max_attempts: int) -> tuple[list[PrimitiveState], dict[str, Any]]:
    """Each turn's state over one conversation, and the last turn's data with ``stored``:
    whether the capture is still kept after it."""
    store = InMemoryCaptureStore()
    ctx = PrimitiveContext(
        objective_type=CHOICE.name,
        trace_id="0" * 32,
        emit=_emit,
        captures=store,
        conversation_id="call-none",
    )
    states: list[PrimitiveState] = []
    data: dict[str, Any] = {}
    for text in said:
        params = CaptureChoiceParams.model_validate(
            {"transcription": text, "options": _COLOURS, "max_attempts": max_attempts}
        )
        result = await run_turn(CHOICE, params, ctx)
        states.append(result.state)
        data = dict(result.data)
    data["stored"] = await store.get(CaptureKey("call-none", CHOICE.name, ctx.tenant)) is not None
    return states, data


_FREE_ANSWERS = CaptureChoiceParams.model_fields["max_unclear"].default


@given(_NONE_SAID, st.integers(min_value=1, max_value=5), st.data())
def test_none_of_them_is_an_answer_not_a_failed_attempt(
    said: str, max_attempts: int, data: st.DataObject
) -> None:
    """ "Neither" / "none of them", up to ``max_unclear`` times (the default, 2) after turns
    not understood short of the last attempt, is INCOMPLETE with reason none and counts no
    failed attempt: the capture stays open, and an option named next is still read in the same
    attempt; one more spends an attempt (so a capture always ends)."""
    missed = data.draw(st.integers(min_value=0, max_value=max_attempts - 1))
    nones = data.draw(st.integers(min_value=1, max_value=_FREE_ANSWERS + 1))
    turns = ["hmm"] * missed + [said] * nones + ["blue"]
    states, last = asyncio.run(_turns(turns, max_attempts))
    spent = nones - min(nones, _FREE_ANSWERS)
    if missed + spent >= max_attempts:  # the last attempt failed
        assert states[-2] is PrimitiveState.FAILED, said
        return
    assert states[missed:-1] == [PrimitiveState.INCOMPLETE] * nones, said
    assert states[-1] is PrimitiveState.NEEDS_CONFIRMATION
    assert (last["value"], last["attempts"]) == ("blue", missed + spent + 1)
    assert last["stored"]


@given(_NONE_SAID)
def test_none_of_them_is_acknowledged(said: str) -> None:
    """The turn's prompt takes the answer, it does not say it was not caught."""
    states, last = asyncio.run(_turns([said], 3))
    assert (states, last["reason"]) == ([PrimitiveState.INCOMPLETE], "none")
    assert last["prompt"] == "Okay, none of those." and "value" not in last


@given(
    st.sampled_from(["", "$", "€"]),
    st.integers(min_value=1, max_value=60).flatmap(
        lambda size: st.text(alphabet="0123456789", min_size=size, max_size=size)
    ),
    st.text(alphabet="0123456789.,", max_size=40),
    st.sampled_from(["", "k", " dollars", " cents", " grand"]),
)
def test_no_run_of_digits_makes_the_reading_fail(
    symbol: str, digits: str, rest: str, unit: str
) -> None:
    """A run of digits of any length, separators and a unit read as a value or a reason."""
    text = f"{symbol}{digits}{rest}{unit}"
    reading = CaptureAmount().read(text, CaptureAmountParams(transcription=text), None)
    assert reading.value is not None or reading.reason
