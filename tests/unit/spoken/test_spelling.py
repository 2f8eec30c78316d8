"""Letters, NATO, symbols, digit runs, composition, readback and partial edits."""

from __future__ import annotations

import pytest

from tests._bounded import bounded
from voicecore.spoken.compose import Piece, compose, joined, says_characters
from voicecore.spoken.digits import digit_run, say_digits
from voicecore.spoken.edits import edit_spelled
from voicecore.spoken.letters import spoken_letters
from voicecore.spoken.readback import say_characters, say_grouped
from voicecore.spoken.symbols import spoken_symbol


class TestDigitRun:
    @pytest.mark.parametrize(
        ("spoken", "digits"),
        [
            ("five five five one two one two", "5551212"),
            ("oh two three", "023"),
            ("double five", "55"),
            ("triple seven", "777"),
            ("double oh seven", "007"),
            ("twenty twenty four", "2024"),
            ("four fifteen", "415"),
            ("one eight hundred five five five", "1800555"),
            ("a hundred", "100"),
            ("a thousand", "1000"),
            ("a thousand twenty four", "1024"),
            ("a thousand two hundred five", "1205"),
            ("four hundred fifteen", "415"),
            ("one hundred and five", "105"),
            ("two thousand twenty four", "2024"),
            ("nineteen eighty four", "1984"),
            ("nine oh two one oh", "90210"),
            ("forty", "40"),
            ("415 555", "415555"),
        ],
    )
    def test_reads_voice_habits(self, spoken: str, digits: str) -> None:
        """Digit strings read as callers say them, not as quantities."""
        assert digit_run(spoken.split())[0] == digits

    def test_o_as_in_is_the_letter(self) -> None:
        """ "oh as in oscar" starts no run, though "oh" alone is a zero."""
        assert digit_run(["oh", "as", "in", "oscar"]) == ("", 0)

    def test_stops_at_a_word(self) -> None:
        """The run ends at the first word that is not a digit word."""
        assert digit_run(["five", "five", "thanks"]) == ("55", 2)

    @pytest.mark.parametrize(
        ("spoken", "start", "read"),
        [
            ("hundred five thanks", 0, ("105", 2)),
            ("hundred", 0, ("100", 1)),
            ("it's hundred and five thanks", 1, ("105", 4)),
            ("hundred twenty", 0, ("120", 2)),
        ],
    )
    def test_run_opened_by_hundred_ends_at_its_last_word(
        self, spoken: str, start: int, read: tuple[str, int]
    ) -> None:
        """ "hundred" alone reads as "a hundred"; the end index counts the words said."""
        assert digit_run(spoken.split(), start) == read

    def test_o_is_zero_only_when_asked(self) -> None:
        """The letter "o" is a zero only with o_is_zero."""
        assert digit_run(["o", "two"], o_is_zero=True)[0] == "02"
        assert digit_run(["o", "two"])[0] == ""


class TestLetters:
    @pytest.mark.parametrize(
        ("spoken", "letters"),
        [
            ("j o h n", "john"),
            ("jay oh aitch en", "john"),
            ("b as in boy o b", "bob"),
            ("s for sam", "s"),
            ("m like mary", "m"),
            ("alpha bravo charlie", "abc"),
            ("double l", "ll"),
            ("double u i l l", "will"),
            ("double you e b", "web"),
            ("capital j", "j"),
            ("see you", "cu"),
        ],
    )
    def test_reads_spellings(self, spoken: str, letters: str) -> None:
        """Letters, letter names, "as in" spellings and NATO words are read as letters."""
        assert spoken_letters(spoken.split()) == letters

    def test_rejects_ordinary_words(self) -> None:
        """A run with an ordinary word is not a spelling."""
        assert spoken_letters(["j", "hello"]) is None


class TestSymbols:
    @pytest.mark.parametrize(
        ("spoken", "symbol", "length"),
        [
            ("dot", ".", 1),
            ("at sign", "@", 2),
            ("under score", "_", 2),
            ("hyphen", "-", 1),
            ("dash", "-", 1),
            ("plus", "+", 1),
            ("slash", "/", 1),
            ("hello", "", 0),
        ],
    )
    def test_reads_symbol_words(self, spoken: str, symbol: str, length: int) -> None:
        """Symbol words map to their symbol and the tokens they take."""
        assert spoken_symbol(spoken.split(), 0) == (symbol, length)


class TestCompose:
    @pytest.mark.parametrize(
        ("spoken", "written"),
        [
            ("j o h n dot smith one two", "john.smith12"),
            ("a one b two", "a1b2"),
            ("g mail dot com", "gmail.com"),
            ("mike", "mike"),
            ("b oh b", "bob"),
            ("jane underscore doe", "jane_doe"),
        ],
    )
    def test_mixes_letters_digits_symbols_words(self, spoken: str, written: str) -> None:
        """Spelled letters, digit runs, symbols and whole words join into one string."""
        assert joined(compose(spoken.split())) == written

    @pytest.mark.parametrize("o_is_zero", [False, True])
    @pytest.mark.parametrize(
        ("spoken", "pieces"),
        [
            ("a thousand", [Piece("digits", "1000")]),
            ("a hundred", [Piece("digits", "100")]),
            ("b a thousand", [Piece("letters", "b"), Piece("digits", "1000")]),
            ("change a thousand to b", [Piece("word", "change"), Piece("digits", "1000")]),
        ],
    )
    def test_a_thousand_is_a_number_and_the_reading_ends(
        self, spoken: str, pieces: list[Piece], o_is_zero: bool
    ) -> None:
        """ "a thousand" is 1000 (it read nothing and looped forever on one token)."""
        read = bounded(lambda: compose(spoken.split(), o_is_zero=o_is_zero))
        assert read[: len(pieces)] == pieces

    def test_nato_needs_a_spelled_run_unless_asked(self) -> None:
        """A lone NATO word is a word ("mike"), a letter when nato is set."""
        assert joined(compose(["mike"], nato=True)) == "m"


class TestReadback:
    def test_says_characters(self) -> None:
        """Characters are said one by one, digits as words, symbols by name."""
        assert say_characters("j.s_2") == "j dot s underscore two"

    def test_groups(self) -> None:
        """Grouped readback separates groups with commas."""
        assert say_grouped("90210", 3) == "nine zero two, one zero"
        assert say_digits("07") == "zero seven"


class TestEdits:
    @pytest.mark.parametrize(
        ("held", "answer", "edited"),
        [
            ("jfmith", "s as in sam", "jsmith"),
            ("john", "no it's j o n not j o h n", "jon"),
            ("jon", "the last letter is m", "jom"),
            ("jon", "the first letter should be d", "don"),
            ("john", "change h to n", "jonn"),
            ("jon", "yes", None),
            ("smith", "s as in sam", None),
            ("peter-12", "the last digit is three", "peter-13"),
            ("a1b2c", "the first number is 7", "a7b2c"),
            ("peter-12", "the last digit is b", None),
            ("peter", "the last digit is three", None),
        ],
    )
    def test_partial_corrections(self, held: str, answer: str, edited: str | None) -> None:
        """Answers that fix part of a spelling edit it; others are not edits."""
        assert edit_spelled(held, answer.split()) == edited


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("it's p e t e r dash one three", True),
        ("the last one is 9", True),
        ("that's not my email", False),
        ("a different one i think", True),
        ("i said a different address", False),
        ("", False),
    ],
)
def test_says_characters(said: str, expected: bool) -> None:
    """Letters spelled or digits said are characters of a value; the words "a", "i" are not."""
    assert says_characters(said.split()) is expected
