"""voicecore.spoken.numbers: cardinals, ordinals, years, digit strings, decimals, search."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voicecore.spoken.numbers import (
    cardinal,
    decimal_string,
    digit_string,
    find_numbers,
    is_number_word,
    ordinal,
    spoken_number,
    year,
)
from voicecore.spoken.tokens import words


class TestCardinal:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("zero", 0),
            ("seven", 7),
            ("two hundred and fifty four", 254),
            ("eleven hundred", 1100),
            ("twenty one hundred and eleven", 2111),
            ("a hundred", 100),
            ("a thousand", 1000),
            ("one million one hundred fifty six thousand one hundred seventy three", 1156173),
            ("nine trillion seven hundred eighty nine billion", 9_789_000_000_000),
            (
                "ten quadrillion ten trillion ten million one hundred thousand ten",
                10010000010100010,
            ),
            ("twenty one crore ninety eight lakh thirty six thousand", 219836000),
            ("twenty-five", 25),
            ("1250", 1250),
            ("1 million", 1_000_000),
            ("12 hundred", 1200),
            ("12 hundred and fifty", 1250),
            ("1 million 200 thousand", 1_200_000),
            ("1 thousand 5 hundred", 1500),
            ("2 hundred thousand", 200_000),
            ("3 lakh", 300_000),
            ("1,000 million", 10**9),
            ("twelve hundred thousand", 1_200_000),
            ("one million and five", 1_000_005),
            ("9" * 28, int("9" * 28)),
        ],
    )
    def test_reads_whole_cardinals(self, text: str, expected: int) -> None:
        """Every token spells one number, including scales text2num does not know."""
        assert cardinal(words(text)) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "hello",
            "one one",
            "trillion trillion",
            "two trillion three trillion",
            "and five",
            "20 24",
            "5 hundred 3 hundred",
            "12 hundred and",
            "hundred 5",
            "1 thousand 1 million",
            "5 million 2000 thousand",
            "1 thousand 50 hundred",
            "1 thousand 5 hundred 1000",
            "1000 hundred",
            "0 hundred",
            "05 hundred",
            "twenty twelve",
            "twenty 5",
            "1 hundred and and 5",
            "9" * 29,
            "1" * 20 + " billion",
        ],
    )
    def test_rejects_what_is_not_one_cardinal(self, text: str) -> None:
        """Repeated units, scales out of order and stray words are not a cardinal."""
        assert cardinal(words(text)) is None


class TestOrdinalAndYear:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("first", 1),
            ("twenty fifth", 25),
            ("thirty first", 31),
            ("25th", 25),
            ("2nd", 2),
            ("sixtieth", 60),
            ("sixty-first", 61),
            ("hundredth", 100),
            ("one hundred and first", 101),
            ("a thousandth", 1000),
        ],
    )
    def test_reads_ordinals(self, text: str, expected: int) -> None:
        """Spoken and written ordinals give their number."""
        assert ordinal(words(text)) == expected

    @pytest.mark.parametrize("text", ["twenty five", "first first", "one two third", "and first"])
    def test_what_is_no_ordinal(self, text: str) -> None:
        """A plain cardinal, or an ordinal after words that are no cardinal, is no ordinal."""
        assert ordinal(words(text)) is None

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("twenty twelve", 2012),
            ("twenty twenty four", 2024),
            ("nineteen oh five", 1905),
            ("nineteen hundred", 1900),
            ("two thousand and nine", 2009),
            ("two thousand twelve", 2012),
            ("twenty one hundred", 2100),
            ("1994", 1994),
        ],
    )
    def test_reads_years_as_callers_say_them(self, text: str, expected: int) -> None:
        """Century-and-pair, "oh", "hundred" and full cardinals all make years."""
        assert year(words(text)) == expected

    @pytest.mark.parametrize("text", ["sixty five", "thousand twelve", "nineteen five", "5000"])
    def test_rejects_non_years(self, text: str) -> None:
        """Two-digit numbers, a bare scale and out-of-range values are no year."""
        assert year(words(text)) is None


class TestDigitString:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("one oh five", "105"),
            ("double seven", "77"),
            ("triple zero one", "0001"),
            ("four fifteen", "415"),
            ("nine oh two one oh", "90210"),
        ],
    )
    def test_reads_grouped_digits(self, text: str, expected: str) -> None:
        """ "oh", "double", "triple" and two-digit groups join into one digit string."""
        assert digit_string(words(text)) == expected

    def test_dangling_double_is_no_digit_string(self) -> None:
        """ "double" with nothing after it is not a digit."""
        assert digit_string(words("seven double")) is None


class TestSpokenNumber:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("minus seven", "-7"),
            ("negative twelve", "-12"),
            ("three point one four", "3.14"),
            ("point five", "0.5"),
            ("three and a half", "3.5"),
            ("two and a quarter", "2.25"),
            ("1,250", "1250"),
            ("-3.5", "-3.5"),
            ("twenty twenty four", "2024"),
            ("3.5 million", "3500000"),
            ("3 point 5 million", "3500000"),
            ("minus one point two five billion", "-1250000000"),
            ("1,250.5 thousand", "1250500"),
            ("-3.5 lakh", "-350000"),
        ],
    )
    def test_reads_signed_and_decimal_values(self, text: str, expected: str) -> None:
        """Signs, decimals spoken digit by digit and "and a half" give decimal values."""
        value = spoken_number(words(text))
        assert value is not None
        assert decimal_string(value) == expected

    @pytest.mark.parametrize("text", ["5 hundred 3 hundred", "20 24 hundred", "1 hundred 2 3"])
    def test_figures_and_scales_that_are_no_cardinal_are_no_digit_groups(self, text: str) -> None:
        """Not 51003100: a scale word among figures says a cardinal or nothing."""
        assert spoken_number(words(text)) is None

    @pytest.mark.parametrize(
        "text", ["9" * 40, "-" + "9" * 29, "0." + "1" * 29, "9" * 28 + ".5", "a million point"]
    )
    def test_more_digits_than_the_precision_is_no_number(self, text: str) -> None:
        """A value a decimal cannot keep exactly is none, never a rounded one."""
        assert spoken_number(words(text)) is None

    def test_unknown_words_are_no_number(self) -> None:
        """Text without number words has no value."""
        assert spoken_number(words("hello there")) is None


class TestFindNumbers:
    def test_finds_the_number_in_a_sentence(self) -> None:
        """A carrier phrase around a number does not change it."""
        [found] = find_numbers(words("it's about a hundred and twenty"))
        assert found.value == Decimal(120)

    def test_splits_numbers_joined_by_and(self) -> None:
        """ "five and six" is two numbers, not a failed cardinal."""
        values = [span.value for span in find_numbers(words("five and six"))]
        assert values == [Decimal(5), Decimal(6)]

    @pytest.mark.parametrize("text", ["the blue one", "that one please", "which one"])
    def test_one_after_a_determiner_is_a_pronoun(self, text: str) -> None:
        """ "the blue one" names a thing, not the number 1."""
        assert find_numbers(words(text)) == []

    def test_oh_alone_is_an_interjection(self) -> None:
        """ "oh" with no other number word is not zero."""
        assert find_numbers(words("oh i see")) == []

    def test_is_number_word_knows_written_forms(self) -> None:
        """Digits, written ordinals and hyphenated number words are number words."""
        assert all(is_number_word(t) for t in ["42", "1,250", "25th", "twenty-five", "oh"])
        assert not is_number_word("hello")


class TestDecimalString:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("3.50", "3.5"), ("1E+3", "1000"), ("-0", "0"), ("42", "42"), ("0.000", "0")],
    )
    def test_is_plain_and_minimal(self, value: str, expected: str) -> None:
        """No exponent, no trailing zeros, no negative zero."""
        assert decimal_string(Decimal(value)) == expected
