"""Every capture ends by its ``max_turns``-th turn, whatever the caller says or keys.

Partial values and keypad restarts spend no attempt, so before ``max_turns`` a caller could
keep a capture open for ever ("4 1 5", "*", "4 1 5", ...); the entries below mix them with
values, yes, no and answers not understood, spoken and keyed, for primitives with partial
values (phone, digits, card).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from voicecore.capture import CaptureState
from voicecore.capture._machine import advance
from voicecore.primitive import PrimitiveState
from voicecore.primitives.card import CaptureCard, CaptureCardParams
from voicecore.primitives.digits import CaptureDigits, CaptureDigitsParams
from voicecore.primitives.phone import CapturePhone, CapturePhoneParams

PRIMITIVES: list[tuple[Any, Any, dict[str, Any]]] = [
    (CapturePhone(), CapturePhoneParams, {}),
    (CaptureDigits(), CaptureDigitsParams, {"min_length": 6, "max_length": 6}),
    (CaptureCard(), CaptureCardParams, {}),
]
ENTRIES = st.sampled_from(
    [
        {"dtmf": "*"},
        {"dtmf": "415*"},
        {"dtmf": "415"},
        {"dtmf": "555"},
        {"dtmf": "1"},
        {"dtmf": "2"},
        {"transcription": "four one five"},
        {"transcription": "five five five"},
        {"transcription": "four one five five five five zero one eight two"},
        {"transcription": "one two three four five six"},
        {"transcription": "yes"},
        {"transcription": "no"},
        {"transcription": "hmm"},
        {"transcription": "start over"},
        {"transcription": ""},
    ]
)


@given(
    primitive=st.sampled_from(PRIMITIVES),
    max_turns=st.integers(1, 12),
    max_attempts=st.integers(1, 10),
    confirm=st.booleans(),
    data=st.data(),
)
def test_a_capture_ends_by_its_last_turn(
    primitive: tuple[Any, Any, dict[str, Any]],
    max_turns: int,
    max_attempts: int,
    confirm: bool,
    data: st.DataObject,
) -> None:
    reader, params_type, extra = primitive
    entries = data.draw(st.lists(ENTRIES, min_size=max_turns, max_size=max_turns))
    state = CaptureState()
    for taken, entry in enumerate(entries, start=1):
        params = params_type.model_validate(
            {
                **extra,
                **entry,
                "max_turns": max_turns,
                "max_attempts": max_attempts,
                "max_unclear": 10,
                "require_confirmation": confirm,
            }
        )
        turn = advance(reader, params, state)
        if turn.kept is None:
            assert turn.state in {PrimitiveState.COMPLETED, PrimitiveState.FAILED}
            return
        assert turn.kept.turns == taken  # the kept state counts the turn
        state = turn.kept
    raise AssertionError(f"still {turn.state.name} after {max_turns} turns: {entries}")
