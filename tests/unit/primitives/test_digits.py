"""capture_digits: ZIP codes, order and confirmation codes, account numbers, lengths."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests._bounded import bounded
from tests._cases import cases
from tests._replies import answer_turn, held_value, reply_of
from voicecore.primitives.digits import CaptureDigits, CaptureDigitsParams

PRIMITIVE = CaptureDigits()


def read(
    text: str, partial: str | None = None, min_length: int = 1, max_length: int = 64
) -> str | None:
    params = CaptureDigitsParams(transcription=text, min_length=min_length, max_length=max_length)
    return PRIMITIVE.read(text, params, partial).value


CALLER_CASES = [
    ("nine oh two one oh", "90210"),
    ("my zip is nine oh two one oh", "90210"),
    ("my zip code is nine zero two one zero", "90210"),
    ("it's one oh oh oh one", "10001"),
    ("zip code six oh six one four", "60614"),
    ("nine four one oh five", "94105"),
    ("0 2 1 3 9", "02139"),
    ("90210", "90210"),
    ("the confirmation code is a b c one two three", "ABC123"),
    ("confirmation number x-ray seven seven two", "X772"),
    ("bravo alpha four five", "BA45"),
    ("alpha bravo charlie one two three", "ABC123"),
    ("b as in boy seven seven", "B77"),
    ("double five triple seven", "55777"),
    ("it's double oh seven", "007"),
    ("four fifteen", "415"),
    ("twenty twenty four", "2024"),
    ("my account number is one two three four five six seven eight", "12345678"),
    ("account number is one two three four, five six seven eight", "12345678"),
    ("uh one two three um four five six", "123456"),
    ("one two three no wait one two four", "124"),
    ("one two three sorry three two one", "321"),
    ("AB-1234", "AB1234"),
    ("order number AB1234", "AB1234"),
    ("the code is 4 8 1 5 1 6", "481516"),
    ("k seven q nine", "K7Q9"),
    ("it is z nine nine", "Z99"),
    ("the pin is four three two one", "4321"),
    ("yeah it's five five five one", "5551"),
    ("six dash four dash one", "641"),
    ("a one b two c three", "A1B2C3"),
    ("echo foxtrot one", "EF1"),
    ("m as in mary n as in nancy five", "MN5"),
    ("seven hundred", "700"),
    ("a hundred and five", "105"),
    ("one thousand", "1000"),
    ("tango five zulu", "T5Z"),
    ("sure it's three three four four", "3344"),
    ("p as in peter one oh one", "P101"),
    ("my member id is w nine eight seven", "W987"),
    ("nineteen eighty four", "1984"),
    ("eight six seven five three oh nine", "8675309"),
]


class TestCallerUtterances:
    @cases(("text", "expected"), CALLER_CASES)
    def test_reads_the_code(self, text: str, expected: str) -> None:
        """A caller's way of saying a code yields it upper-case without separators."""
        assert read(text) == expected


class TestZeroHeardAlike:
    @cases(
        ("text", "expected"),
        [
            ("my account is four four or two one", "44021"),
            ("the pin is nine of seven seven", "9077"),
            ("zip code nine all two one three", "90213"),
            ("confirmation seven seven or one or two", "770102"),
        ],
    )
    def test_or_between_digits_is_a_zero_less_certain(self, text: str, expected: str) -> None:
        """An ASR writes the zero "oh" as "or", "of", "all": read as the zero, less sure."""
        params = CaptureDigitsParams(transcription=text)
        reading = PRIMITIVE.read(text, params, None)
        assert reading.value == expected
        assert reading.certainty < PRIMITIVE.read(expected, params, None).certainty

    def test_or_beside_a_word_stays_a_word(self) -> None:
        params = CaptureDigitsParams(transcription="")
        reading = PRIMITIVE.read("four one five or so", params, None)
        assert (reading.value, reading.certainty) == ("415", 0.95)


class TestAThousand:
    def test_a_thousand_is_one_zero_zero_zero(self) -> None:
        """ "a thousand" is 1000 (its reading once looped forever, filling memory)."""
        assert bounded(lambda: read("a thousand")) == "1000"


class TestLengths:
    def test_too_short_is_partial(self) -> None:
        """A code shorter than min_length has no value and is kept as partial."""
        params = CaptureDigitsParams(transcription="nine oh two", min_length=5, max_length=5)
        reading = PRIMITIVE.read("nine oh two", params, None)
        assert (reading.value, reading.reason, reading.partial) == (None, "too_few_digits", "902")

    def test_partial_is_completed(self) -> None:
        """The next turn's characters follow the partial ones."""
        assert read("one oh", partial="902", min_length=5, max_length=5) == "90210"

    def test_too_long(self) -> None:
        """A code longer than max_length has no value."""
        params = CaptureDigitsParams(transcription="1234567", max_length=5)
        assert PRIMITIVE.read("1234567", params, None).reason == "too_many_digits"

    def test_min_above_max_is_invalid(self) -> None:
        """min_length greater than max_length is a params error."""
        with pytest.raises(ValidationError, match="min_length"):
            CaptureDigitsParams(transcription="x", min_length=6, max_length=5)


class TestReadbackAndEdits:
    def test_grouped_readback(self) -> None:
        """The code is read back one character at a time, in groups."""
        reading = PRIMITIVE.read("90210", CaptureDigitsParams(transcription="90210"), None)
        assert reading.readback == "nine zero two, one zero"

    def test_last_digit_edit(self) -> None:
        """ "the last digit is one" edits the held code."""
        answer = "the last digit is one"
        reading = PRIMITIVE.correct(
            held_value("90210"), reply_of(answer), CaptureDigitsParams(transcription=answer)
        )
        assert reading is not None and reading.value == "90211"

    @cases(
        ("held", "answer", "expected"),
        [
            ("90210", "the last digit is a five", "90215"),
            ("12345678", "the last four are one two one two", "12341212"),
            ("12345678", "it's six seven nine not six seven eight", "12345679"),
            ("AB123", "the last digit is a five", "AB125"),
        ],
    )
    def test_digit_edits(self, held: str, answer: str, expected: str) -> None:
        """Positions and runs of a held code are edited as said."""
        reading = PRIMITIVE.correct(
            held_value(held), reply_of(answer), CaptureDigitsParams(transcription=answer)
        )
        assert reading is not None and reading.value == expected

    @cases("text", ["", "hello there", "no wait"])
    def test_nothing_heard(self, text: str) -> None:
        """Without letters or digits there is no value."""
        assert read(text) is None


class TestThroughTheMachine:
    @cases(
        ("said", "expected"),
        [
            ("no, not eight, three", "12345"),
            ("not two eight, it's two three", "12345"),
        ],
    )
    def test_not_x_y_replaces_x(self, said: str, expected: str) -> None:
        """ "not X, Y" edits the held code though the "not" was read as the answer's no."""
        turn = answer_turn(PRIMITIVE, CaptureDigitsParams(transcription=said), held_value("12845"))
        assert turn.value is not None and turn.value.value == expected

    def test_not_x_y_replaces_a_letter(self) -> None:
        """ "no, not b, c" edits a held code of letters and digits too."""
        said = "no, not b, c"
        turn = answer_turn(PRIMITIVE, CaptureDigitsParams(transcription=said), held_value("AB123"))
        assert turn.value is not None and turn.value.value == "AC123"
