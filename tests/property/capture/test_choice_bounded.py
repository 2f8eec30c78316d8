"""A capture_choice always ends: whatever the caller says, within ``2A + 3U`` turns
(``A`` = ``max_attempts``, ``U`` = ``max_unclear``), and never past ``max_attempts``.

Answers that spend no attempt ("none of them", two options equally close, an answer to the
readback not understood) are the turns that could repeat for ever; the sayings mix them with
choices, places, yes and no.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voicecore.capture import CaptureState
from voicecore.capture._machine import advance
from voicecore.primitive import PrimitiveState
from voicecore.primitives.choice import CaptureChoice, CaptureChoiceParams

CHOICE = CaptureChoice()
OPTIONS = [
    {"id": "red-car", "label": "Red car"},
    {"id": "blue-car", "label": "Blue car"},
    {"id": "red-boat", "label": "Red boat"},
    {"id": "blue-boat", "label": "Blue boat"},
]
SAYINGS = st.sampled_from(
    [
        "the car",  # ambiguous: two cars
        "the boat",
        "the red one",
        "red car",
        "blue boat",
        "the first one",
        "the second one",
        "the fifth one",  # no such option
        "neither",
        "none of them",
        "no, none of them",
        "yes, none of them",  # not understood at a readback
        "no, the blue one",
        "no, the other one",
        "hmm",
        "banana split",
        "no",
        "yes",
    ]
)


@given(
    max_attempts=st.integers(1, 4),
    max_unclear=st.integers(0, 3),
    confirm=st.booleans(),
    data=st.data(),
)
def test_a_choice_capture_ends_within_a_bound_the_params_give(
    max_attempts: int, max_unclear: int, confirm: bool, data: st.DataObject
) -> None:
    bound = 2 * max_attempts + 3 * max_unclear
    sayings = data.draw(st.lists(SAYINGS, min_size=bound, max_size=bound))
    state = CaptureState()
    for said in sayings:
        params = CaptureChoiceParams.model_validate(
            {
                "transcription": said,
                "options": OPTIONS,
                "max_attempts": max_attempts,
                "max_unclear": max_unclear,
                "require_confirmation": confirm,
            }
        )
        turn = advance(CHOICE, params, state)
        assert turn.attempt <= max_attempts
        assert (turn.kept is None) == (
            turn.state in {PrimitiveState.COMPLETED, PrimitiveState.FAILED}
        )
        if turn.kept is None:
            return
        state = turn.kept
    raise AssertionError(f"still {turn.state.name} after {bound} turns: {sayings}")
