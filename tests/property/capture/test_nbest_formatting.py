"""An n-best list that repeats one hearing, written differently, gives that hearing one vote."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voicecore.capture import CaptureState
from voicecore.capture._machine import advance
from voicecore.primitives.digits import CaptureDigits, CaptureDigitsParams
from voicecore.primitives.email import CaptureEmail, CaptureEmailParams
from voicecore.spoken.number_words import DIGIT_NAMES

CONFIDENCES = st.floats(0.0, 1.0, allow_nan=False)
# A top confidence of 0 means the ASR gave none, which the top's copy in the list then gives
# (Google's convention): only a given one is held fixed here.
TOP_CONFIDENCES = st.floats(0.01, 1.0, allow_nan=False)


@st.composite
def codes_said(draw: st.DrawFn) -> str:
    """A short code said as digit names and figures ("four 2 seven")."""
    digits = draw(st.text("0123456789", min_size=1, max_size=6))
    return " ".join(draw(st.sampled_from([d, DIGIT_NAMES[int(d)]])) for d in digits)


@st.composite
def reformatted(draw: st.DrawFn, text: str) -> str:
    """``text`` written as another formatting ASR would: case, commas, hyphens, an end mark."""
    words = text.split()
    cased = [draw(st.sampled_from([w, w.upper(), w.capitalize()])) for w in words]
    joints = [draw(st.sampled_from([" ", ", ", "-", " - "])) for _ in cased[1:]]
    written = cased[0] + "".join(j + w for j, w in zip(joints, cased[1:], strict=True))
    return written + draw(st.sampled_from(["", ".", "?", "!", "..."]))


@given(
    data=st.data(),
    said=st.lists(codes_said(), min_size=1, max_size=4),
    top=TOP_CONFIDENCES,
    confidences=st.lists(CONFIDENCES, min_size=4, max_size=4),
)
def test_a_reformatted_copy_adds_no_confidence(
    data: st.DataObject, said: list[str], top: float, confidences: list[float]
) -> None:
    """Adding a hypothesis that differs from another only in case and punctuation, and reads
    the same, changes neither the value chosen nor its confidence; one whose marks change
    what it reads ("six-one" is read as a code of letters) is a reading of its own."""
    alternatives = [
        {"transcription": text, "confidence": confidence}
        for text, confidence in zip(said[1:], confidences, strict=False)
    ]
    base = {"transcription": said[0], "asr_confidence": top}
    copied = data.draw(st.sampled_from(said))
    copy_text = data.draw(reformatted(copied))
    copy = {"transcription": copy_text, "confidence": confidences[-1]}
    before = advance(
        CaptureDigits(),
        CaptureDigitsParams.model_validate({**base, "alternatives": alternatives}),
        CaptureState(),
    )
    after = advance(
        CaptureDigits(),
        CaptureDigitsParams.model_validate({**base, "alternatives": [*alternatives, copy]}),
        CaptureState(),
    )
    copy_reads = _read(copy_text)
    if copy_reads != _read(copied):
        assert after.value is not None
        heard: set[str | None] = {after.value.value, *(c.value for c in after.value.candidates)}
        assert copy_reads in heard
        return
    assert after.value == before.value
    assert after.confidence == before.confidence


def _read(text: str) -> str | None:
    """What ``text`` alone reads as a code."""
    params = CaptureDigitsParams.model_validate({"transcription": text, "asr_confidence": 1.0})
    turn = advance(CaptureDigits(), params, CaptureState())
    return turn.value.value if turn.value is not None else None


NAMES = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6)


@given(first=NAMES, last=NAMES, top=TOP_CONFIDENCES, other=TOP_CONFIDENCES)
def test_a_copy_whose_marks_change_the_reading_votes_apart(
    first: str, last: str, top: float, other: float
) -> None:
    """ "mary ann@x.com" and "mary-ann@x.com" differ only in a mark but read two addresses:
    both stay, the chosen one and the other as its candidate, each with its own evidence."""
    params = CaptureEmailParams.model_validate(
        {
            "transcription": f"{first} {last}@example.com",
            "asr_confidence": top,
            "alternatives": [{"transcription": f"{first}-{last}@example.com", "confidence": other}],
        }
    )
    alone = [
        advance(
            CaptureEmail(),
            CaptureEmailParams.model_validate({"transcription": text, "asr_confidence": 1.0}),
            CaptureState(),
        )
        for text in (params.transcription, params.alternatives[0].transcription)
    ]
    readings = {turn.value.value for turn in alone if turn.value is not None}
    turn = advance(CaptureEmail(), params, CaptureState())
    assert turn.value is not None
    heard = {turn.value.value, *(c.value for c in turn.value.candidates)}
    assert heard == readings
