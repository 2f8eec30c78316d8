"""capture_email: caller-style utterances, written addresses, failures and partial edits."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests._bounded import bounded
from tests._cases import cases
from tests._replies import answer_turn, held_value, reply_of
from voicecore.primitive import PrimitiveState
from voicecore.primitives.email import CaptureEmail, CaptureEmailParams, _written_candidates

PRIMITIVE = CaptureEmail()


def read(text: str) -> str | None:
    return PRIMITIVE.read(text, CaptureEmailParams(transcription=text), None).value


CALLER_CASES = [
    ("john dot smith at gmail dot com", "john.smith@gmail.com"),
    ("my email is john dot smith at gmail dot com", "john.smith@gmail.com"),
    ("it's j o h n at g mail dot com", "john@gmail.com"),
    ("uh my email address is mary at yahoo dot com", "mary@yahoo.com"),
    ("yeah it's bob underscore jones at hotmail dot com", "bob_jones@hotmail.com"),
    ("jane dash doe at outlook dot com", "jane-doe@outlook.com"),
    ("jane hyphen doe at outlook dot com", "jane-doe@outlook.com"),
    ("sam plus news at gmail dot com", "sam+news@gmail.com"),
    ("b as in boy o b at aol dot com", "bob@aol.com"),
    ("s as in sam m i t h at gmail dot com", "smith@gmail.com"),
    ("alpha bravo charlie at outlook dot com", "abc@outlook.com"),
    ("mike at gmail dot com", "mike@gmail.com"),
    ("john smith at gmail dot com", "johnsmith@gmail.com"),
    ("john twenty three at gmail dot com", "john23@gmail.com"),
    ("j smith one nine eight four at yahoo dot com", "jsmith1984@yahoo.com"),
    ("double l o y d at gmail dot com", "lloyd@gmail.com"),
    ("mary at yahoo dot com no wait mary at hotmail dot com", "mary@hotmail.com"),
    ("mary at yahoo i mean mary at gmail dot com", "mary@gmail.com"),
    ("you can reach me at info at acme dot co dot uk", "info@acme.co.uk"),
    ("send it to billing at acme dot org please", "billing@acme.org"),
    ("john at gmail", "john@gmail.com"),
    ("john at gmail dotcom", "john@gmail.com"),
    ("the email is sales at my company dot io", "sales@mycompany.io"),
    ("a b c at a b c dot e d u", "abc@abc.edu"),
    ("first dot last at university dot edu", "first.last@university.edu"),
    ("um er john at gmail dot com", "john@gmail.com"),
    ("It's John.Smith@Gmail.com.", "john.smith@gmail.com"),
    ("my email is jsmith@example.org thanks", "jsmith@example.org"),
    ("jay oh aitch en at gmail dot com", "john@gmail.com"),
    ("capital j o h n at gmail dot com", "john@gmail.com"),
    ("one two three at gmail dot com", "123@gmail.com"),
    ("john at the rate gmail dot com", "john@gmail.com"),
    ("john at sign gmail dot com", "john@gmail.com"),
    ("john at icloud dot com thank you", "john@icloud.com"),
    ("that's j dot doe at company dot net", "j.doe@company.net"),
    ("sure it is tom at verizon dot net", "tom@verizon.net"),
    ("k as in kilo a t e at gmail dot com", "kate@gmail.com"),
    ("support at x y z dot com", "support@xyz.com"),
    ("matt at gmail dot com", "matt@gmail.com"),
    ("cat at gmail dot com", "cat@gmail.com"),
    ("jo period smith at gmail period com", "jo.smith@gmail.com"),
    ("my e-mail is pat at aol dot com", "pat@aol.com"),
    # three words are a local part said as words; the talk is still cut before them
    ("mary ann smith at gmail dot com", "maryannsmith@gmail.com"),
    ("so i think the best one is big blue fan at yahoo dot com", "bigbluefan@yahoo.com"),
]

FAILURES = [
    ("", "no_value_heard"),
    ("um", "no_value_heard"),
    ("john smith", "no_at_sign"),
    ("at gmail dot com", "no_at_sign"),
    ("john at dot com", "invalid_email"),
    ("Bob@abc.c is invalid", "no_at_sign"),
    # more than three whole words before "at": talk an ASR misheard, not a local part
    ("okay so you could write to me at gmail dot com", "invalid_email"),
    ("well my mail and then carter at outlook dot com", "invalid_email"),
    ("You have your address there at Yahoo.com.", "invalid_email"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_address(self, text: str, expected: str) -> None:
        """A caller's way of saying an address yields the canonical lower-case address."""
        assert read(text) == expected


class TestFailures:
    @cases(("text", "reason"), FAILURES)
    def test_no_value_with_a_reason(self, text: str, reason: str) -> None:
        """Without a usable address the reading has no value and says why."""
        reading = PRIMITIVE.read(text, CaptureEmailParams(transcription=text), None)
        assert (reading.value, reading.reason) == (None, reason)


class TestReading:
    def test_readback_spells_the_local_part(self) -> None:
        """The local part is spelled, common domains said as words."""
        text = "john dot smith at gmail dot com"
        reading = PRIMITIVE.read(text, CaptureEmailParams(transcription=text), None)
        assert reading.readback == "j o h n dot s m i t h at gmail dot com"
        assert reading.parts == {"local": "john.smith", "domain": "gmail.com"}
        assert 0.0 < reading.certainty <= 1.0

    def test_unknown_domain_is_spelled(self) -> None:
        """A domain label that is not a common word is spelled too."""
        text = "a at xq dot com"
        reading = PRIMITIVE.read(text, CaptureEmailParams(transcription=text), None)
        assert reading.readback == "a at x q dot com"


class TestCorrect:
    @cases(
        ("held", "answer", "expected"),
        [
            ("jfmith@gmail.com", "s as in sam", "jsmith@gmail.com"),
            ("john@gmail.com", "no it's j o n not j o h n", "jon@gmail.com"),
            ("jon@gmail.com", "the last letter is m", "jom@gmail.com"),
            ("john@hotmail.com", "it's gmail not hotmail", "john@gmail.com"),
            ("john@gmail.com", "it's yahoo dot com", "john@yahoo.com"),
            ("john@gmail.com", "the domain is outlook dot com", "john@outlook.com"),
            ("john@gmail.com", "at icloud", "john@icloud.com"),
        ],
    )
    def test_edits_the_held_address(self, held: str, answer: str, expected: str) -> None:
        """A partial correction edits the held address."""
        reading = PRIMITIVE.correct(
            held_value(held), reply_of(answer), CaptureEmailParams(transcription=answer)
        )
        assert reading is not None and reading.value == expected

    def test_local_part_with_a_dot_is_not_a_domain(self) -> None:
        """ "jon dot smith" ends in no known top-level domain: not a new domain."""
        answer = "it's jon dot smith"
        reading = PRIMITIVE.correct(
            held_value("john@gmail.com"), reply_of(answer), CaptureEmailParams(transcription=answer)
        )
        assert reading is None or reading.value != "john@jon.smith"

    def test_a_new_value_is_not_an_edit(self) -> None:
        """An answer that is not a partial edit returns None."""
        answer = "yes that's right"
        assert (
            PRIMITIVE.correct(
                held_value("a@b.com"), reply_of(answer), CaptureEmailParams(transcription=answer)
            )
            is None
        )


# The written-address pattern the reader once ran with finditer (quadratic on long runs).
_WRITTEN_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-.]+")


class TestThroughTheMachine:
    """Answers to the readback of a held address, the whole turn as the service runs it."""

    HELD = held_value("john@gmail.com", local="john", domain="gmail.com")

    def turn(self, said: str) -> tuple[PrimitiveState, str | None, str | None]:
        params = CaptureEmailParams(transcription=said)
        turn = bounded(lambda: answer_turn(PRIMITIVE, params, self.HELD))
        return turn.state, turn.reason, turn.value.value if turn.value else None

    @cases(
        ("said", "expected"),
        [
            ("no, not h, n", "jonn@gmail.com"),
            ("not h, it's n", "jonn@gmail.com"),
            ("no, that's not h, it's n", "jonn@gmail.com"),
        ],
    )
    def test_not_x_y_replaces_x(self, said: str, expected: str) -> None:
        """ "not X, Y" edits the held address though the "not" was read as the answer's no
        (the rest alone was read as a new local part: "hn@gmail.com")."""
        assert self.turn(said) == (PrimitiveState.NEEDS_CONFIRMATION, None, expected)

    def test_not_the_whole_local_part_then_another(self) -> None:
        """ "not j o h n, j o n" (the comma unheard: runs of unequal length back to back)
        rejects the whole local part and gives the new one, not "johnjon@gmail.com"."""
        assert self.turn("not j o h n, j o n") == (
            PrimitiveState.NEEDS_CONFIRMATION,
            None,
            "jon@gmail.com",
        )

    def test_not_a_part_then_a_longer_run_is_not_understood(self) -> None:
        """ "not j o h, j o n" rejects a part with a run of another length: which letters
        change is unclear, so the address is kept and asked about again."""
        assert self.turn("not j o, j o n") == (
            PrimitiveState.NEEDS_CONFIRMATION,
            "unclear_answer",
            "john@gmail.com",
        )

    def test_an_opener_before_an_edit_is_not_the_address(self) -> None:
        """ "well, the last letter is m" edits the local part, as "well" opens a digit edit."""
        assert self.turn("well, the last letter is m") == (
            PrimitiveState.NEEDS_CONFIRMATION,
            None,
            "johm@gmail.com",
        )

    @cases("said", ["the last letter was n", "the last letter is n"])
    def test_an_edit_that_changes_nothing_is_unclear(self, said: str) -> None:
        """An edit that leaves the local part as it is is no yes (it once confirmed the
        address), and is not tried on the domain ("john@gmail.con"): the address is kept."""
        assert self.turn(said) == (
            PrimitiveState.NEEDS_CONFIRMATION,
            "unclear_answer",
            "john@gmail.com",
        )

    def test_a_thousand_in_a_correction_is_read_to_its_end(self) -> None:
        """ "change a thousand to b" edits nothing here, and the turn ends (it looped forever)
        with the address kept."""
        assert self.turn("no, change a thousand to b") == (
            PrimitiveState.NEEDS_CONFIRMATION,
            "unclear_answer",
            "john@gmail.com",
        )


class TestWrittenCandidates:
    """Written addresses are found in one pass, exactly where the pattern finds them."""

    @given(st.text(alphabet="ab1._%+-@ é", max_size=30))
    def test_same_as_the_pattern(self, text: str) -> None:
        """Every candidate, in order, is what the regex search for local@domain finds."""
        expected = [match.group() for match in _WRITTEN_EMAIL.finditer(text)]
        assert list(_written_candidates(text)) == expected

    def test_many_ats_without_a_dot(self) -> None:
        """ "at" said hundreds of times is no address (and is read in one pass)."""
        text = "at " * 600
        reading = PRIMITIVE.read(text, CaptureEmailParams(transcription=text), None)
        assert reading.value is None


@cases(
    ("said", "expected"),
    [
        ("it's j o n", "jon@gmail.com"),
        ("see oh en", "con@gmail.com"),
        ("it's p e t e r dash one three", "peter-13@gmail.com"),
        ("it's j", None),
        ("one three", None),
        ("p e t e r at", None),
    ],
)
def test_a_local_part_said_alone_replaces_the_held_one(said: str, expected: str | None) -> None:
    """Two or more characters of a local part, letters among them, replace the held local part;
    a single letter, digits alone or a stray "at" do not."""
    held = held_value("john@gmail.com", local="john", domain="gmail.com")
    reading = PRIMITIVE.correct(held, reply_of(said), CaptureEmailParams(transcription=said))
    assert (reading.value if reading else None) == expected
