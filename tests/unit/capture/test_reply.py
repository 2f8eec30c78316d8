"""What the machine hands ``correct``: the held value and each hypothesis' reply as understood."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from voicecore.capture import (
    Alternative,
    Answer,
    CaptureParams,
    CapturePrimitive,
    CaptureState,
    HeldValue,
    Reading,
    Reply,
)
from voicecore.capture._machine import advance

HELD = HeldValue("1234", "one two three four", {"length": 4}, 0.9)


class Recorder(CapturePrimitive[CaptureParams]):
    """A capture that edits nothing and remembers what ``correct`` was given."""

    name = "recorder"
    version = "0.0.1"
    description = "records replies (tests)"
    params_model: ClassVar[type[CaptureParams]] = CaptureParams

    def __init__(self) -> None:
        self.given: list[tuple[HeldValue, Reply]] = []

    def read(self, text: str, params: CaptureParams, partial: str | None) -> Reading:
        return Reading(None, reason="no_value_heard", certainty=0.0)

    def correct(self, held: HeldValue, reply: Reply, params: CaptureParams) -> Reading | None:
        self.given.append((held, reply))
        return None


def replies(transcription: str, *alternatives: str) -> list[tuple[HeldValue, Reply]]:
    recorder = Recorder()
    params: dict[str, Any] = {
        "transcription": transcription,
        "alternatives": [Alternative(transcription=text) for text in alternatives],
    }
    advance(recorder, CaptureParams(**params), CaptureState(held=HELD))
    return recorder.given


class TestReply:
    @pytest.mark.parametrize(
        ("said", "answer", "opening", "text"),
        [
            ("no, not 1235", Answer.NO, ("no", "not"), "1235"),
            ("No, it's 1235", Answer.NO, ("no", "it's"), "1235"),
            ("yes but the last one is 5", Answer.YES, ("yes", "but"), "the last one is 5"),
            ("the last one is 5", Answer.UNCLEAR, (), "the last one is 5"),
        ],
    )
    def test_reply_splits_the_answer_head_from_the_edit(
        self, said: str, answer: Answer, opening: tuple[str, ...], text: str
    ) -> None:
        """The held value, the yes/no head, the words that opened the reply and the rest."""
        [(held, reply)] = replies(said)
        assert (held, reply.answer, reply.opening, reply.text) == (HELD, answer, opening, text)

    def test_each_hypothesis_has_its_own_reply(self) -> None:
        """An alternative's opening is its own, not the transcription's."""
        given = replies("know what", "not 1235")
        assert [(reply.opening, reply.text) for _, reply in given] == [
            ((), "know what"),
            (("not",), "1235"),
        ]

    @pytest.mark.parametrize(
        ("said", "edit_text"),
        [
            ("no, not 1235", "not 1235"),
            ("not 1235", "not 1235"),
            ("not, uh, 1235", "not 1235"),
            ("that's not 1235", "not 1235"),
            ("No, it's 1235", "1235"),
            ("not quite, 1235", "1235"),
            ("the last one is not 5", "the last one is not 5"),
        ],
    )
    def test_an_edit_keeps_the_not_that_closed_the_head(self, said: str, edit_text: str) -> None:
        """ "not" ends a no and opens "not X, Y" at once: the edit's words have it back."""
        [(_, reply)] = replies(said)
        assert reply.edit_text == edit_text

    def test_a_bare_answer_asks_for_no_edit(self) -> None:
        """A yes or no with nothing after it is not handed to correct()."""
        assert replies("yes") == [] and replies("no") == []
