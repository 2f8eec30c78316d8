"""capture_name: spelled and said names, capitalisation, readback and partial edits."""

from __future__ import annotations

from tests._bounded import bounded
from tests._cases import cases
from tests._replies import answer_turn, held_value, reply_of
from voicecore.primitive import PrimitiveState
from voicecore.primitives.name import CaptureName, CaptureNameParams

PRIMITIVE = CaptureName()


def read(text: str) -> str | None:
    return PRIMITIVE.read(text, CaptureNameParams(transcription=text), None).value


CALLER_CASES = [
    ("j o h n", "John"),
    ("it's j o h n", "John"),
    ("my name is john", "John"),
    ("my name is john smith", "John Smith"),
    ("john j o h n", "John"),
    ("it's john spelled j o n", "Jon"),
    ("s as in sam m i t h", "Smith"),
    ("b as in boy r o w n", "Brown"),
    ("sierra mike india tango hotel", "Smith"),
    ("my last name is s m i t h", "Smith"),
    ("that's spelled k a t e", "Kate"),
    ("jay oh aitch en", "John"),
    ("capital j o n", "Jon"),
    ("double l o y d", "Lloyd"),
    ("o'brien", "O'Brien"),
    ("this is mary-jane", "Mary-Jane"),
    ("i'm bob thanks", "Bob"),
    ("call me jay", "Jay"),
    ("uh it's um maria", "Maria"),
    ("john smith no wait jon smith", "Jon Smith"),
    ("k a t e no wait k a t i e", "Katie"),
    ("m c d o n a l d", "Mcdonald"),
    ("yeah my name is anna", "Anna"),
    ("sure it's p e t e r", "Peter"),
    ("the name is lee", "Lee"),
    ("first name is sarah", "Sarah"),
    ("you can call me liz", "Liz"),
    ("my first name is a n n", "Ann"),
    ("z o e", "Zoe"),
    ("x a v i e r", "Xavier"),
    ("i am david", "David"),
    ("this is michael", "Michael"),
    ("mike", "Mike"),
    ("it's mike as in m i k e", "Mike"),
    ("g r a c e please", "Grace"),
    ("oh, nancy harris speaking, okay bye", "Nancy Harris"),
    ("ellen e l l e n", "Ellen"),
    ("c as in charlie h r i s", "Chris"),
    ("t o m", "Tom"),
    ("hello it's dan", "Dan"),
    ("my name is jean-luc", "Jean-Luc"),
    ("r o s e", "Rose"),
    ("well it's emma", "Emma"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_name(self, text: str, expected: str) -> None:
        """A spelled or said name yields the capitalised name; a spelling wins."""
        assert read(text) == expected


class TestReading:
    def test_readback_spells(self) -> None:
        """The readback spells each word of the name."""
        text = "john smith"
        reading = PRIMITIVE.read(text, CaptureNameParams(transcription=text), None)
        assert reading.readback == "j o h n, s m i t h"

    def test_spelled_is_more_certain_than_said(self) -> None:
        """A spelled name is more certain than one only said."""
        spelled = PRIMITIVE.read("j o n", CaptureNameParams(transcription="j o n"), None)
        said = PRIMITIVE.read("jon", CaptureNameParams(transcription="jon"), None)
        assert spelled.certainty > said.certainty

    @cases(
        ("text", "reason"),
        [("", "no_value_heard"), ("my name is", "no_value_heard"), ("one two", "invalid_name")],
    )
    def test_no_name(self, text: str, reason: str) -> None:
        """Without a name the reading has no value and a reason."""
        reading = PRIMITIVE.read(text, CaptureNameParams(transcription=text), None)
        assert (reading.value, reading.reason) == (None, reason)


class TestCorrect:
    @cases(
        ("held", "answer", "expected"),
        [
            ("Jofn", "s as in sam", "Josn"),
            ("John", "no it's j o n not j o h n", "Jon"),
            ("Jon", "the last letter is e", "Joe"),
            ("Smyth", "it's i not y", "Smith"),
        ],
    )
    def test_edits_the_held_name(self, held: str, answer: str, expected: str) -> None:
        """A partial correction edits the held name."""
        reading = PRIMITIVE.correct(
            held_value(held), reply_of(answer), CaptureNameParams(transcription=answer)
        )
        assert reading is not None and reading.value == expected

    def test_position_said_with_an_article(self) -> None:
        """ "the last letter is an e" sets the letter after the article."""
        answer = "the last letter is an e"
        reading = PRIMITIVE.correct(
            held_value("Jon"), reply_of(answer), CaptureNameParams(transcription=answer)
        )
        assert reading is not None and reading.value == "Joe"

    def test_yes_is_not_an_edit(self) -> None:
        """ "yes" is not a partial edit."""
        assert (
            PRIMITIVE.correct(
                held_value("Jon"), reply_of("yes"), CaptureNameParams(transcription="yes")
            )
            is None
        )


class TestNotNames:
    @cases("text", ["n", "the last letter is n"])
    def test_a_letter_alone_is_not_a_name(self, text: str) -> None:
        """One letter is an initial at most, not a name."""
        assert read(text) is None

    def test_a_thousand_is_not_a_name(self) -> None:
        """ "a thousand" is no name, and is read to its end (it once looped forever)."""
        text = "a thousand"
        reading = bounded(lambda: PRIMITIVE.read(text, CaptureNameParams(transcription=text), None))
        assert (reading.value, reading.reason) == (None, "invalid_name")

    @cases("text", ["it's spelled differently", "my name", "the spelling", "except the spelling"])
    def test_talk_about_a_name_is_not_a_name(self, text: str) -> None:
        """Words about the name ("spelled differently", "my name") are not read as a name."""
        assert read(text) is None

    def test_apostrophe_is_spelled(self) -> None:
        """ "o apostrophe b r i e n" keeps the apostrophe."""
        assert read("my last name is o apostrophe b r i e n") == "O'Brien"


class TestThroughTheMachine:
    @cases(
        ("said", "expected"),
        [
            ("no, not h, n", "Jonn"),
            ("not h, it's n", "Jonn"),
            ("no, not j, d", "Dohn"),
            ("not j o h n, j o n", "Jon"),  # once "Johnjon": the comma ends the rejected run
        ],
    )
    def test_not_x_y_replaces_x(self, said: str, expected: str) -> None:
        """ "not X, Y" edits the held name though the "not" was read as the answer's no."""
        turn = answer_turn(PRIMITIVE, CaptureNameParams(transcription=said), held_value("John"))
        assert turn.value is not None and turn.value.value == expected

    @cases(
        "said",
        ["sorry, the last letter is m", "well, the last letter is m", "ok the last letter is m"],
    )
    def test_an_opener_before_an_edit_is_not_the_name(self, said: str) -> None:
        """The words an edit opens with are the digits' own: "sorry, the last letter is m"
        edits "John" (the name once became "M")."""
        turn = answer_turn(PRIMITIVE, CaptureNameParams(transcription=said), held_value("John"))
        assert turn.value is not None and turn.value.value == "Johm"

    @cases("said", ["the last letter was n", "the last letter is n"])
    def test_an_edit_that_changes_nothing_is_unclear(self, said: str) -> None:
        """An edit that leaves "John" as it is neither confirms it nor is a new name: "John"
        is kept and asked about again."""
        turn = answer_turn(PRIMITIVE, CaptureNameParams(transcription=said), held_value("John"))
        assert turn.value is not None
        assert (turn.state, turn.reason, turn.value.value) == (
            PrimitiveState.NEEDS_CONFIRMATION,
            "unclear_answer",
            "John",
        )
