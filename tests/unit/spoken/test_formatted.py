"""The rules that read what formatting ASRs write as what the caller said."""

from __future__ import annotations

from tests._cases import cases
from voicecore.spoken.digits import is_digit_word
from voicecore.spoken.formatted import (
    clock_figures,
    digit_homophones,
    figure_scale,
    hyphen_spelled,
    meridiem_homophones,
    zero_homophones,
    zero_letters,
)


@cases(
    "token, expected",
    [
        ("c-h-e-n", ["c", "h", "e", "n"]),
        ("r-o-w-n", ["r", "o", "w", "n"]),
        ("x-ray", None),
        ("e-mail", None),
        ("kl-358", None),
        ("a", None),
        ("-a-b", None),
    ],
)
def test_hyphen_spelled(token: str, expected: list[str] | None) -> None:
    """Only single letters joined by hyphens are a spelling."""
    assert hyphen_spelled(token) == expected


@cases(
    "tokens, expected",
    [
        ("1230 in the afternoon", "12:30 in the afternoon"),
        ("830 in the morning", "8:30 in the morning"),
        ("830 am", "8:30 am"),
        ("830 a m", "8:30 a m"),
        ("830pm", "8:30pm"),
        ("3.30 pm", "3:30 pm"),
        ("at 3.30", "at 3:30"),
        ("1130 tonight", "11:30 tonight"),
        ("2024", "2024"),
        ("2024 was a good year", "2024 was a good year"),
        ("2460 in the morning", "2460 in the morning"),
        ("3.75 pm", "3.75 pm"),
        ("25.30 pm", "25.30 pm"),
        ("30 in the morning", "30 in the morning"),
    ],
)
def test_clock_figures(tokens: str, expected: str) -> None:
    """A clock written without its colon gets one, where a time is said."""
    assert clock_figures(tokens.split()) == expected.split()


@cases(
    "tokens, expected",
    [
        ("seven ate six seven won two three for", "seven eight six seven one two three four"),
        ("for one five", "four one five"),
        ("to", "two"),
        ("send it to 415", "send it to 415"),
        ("five to ten", "five two ten"),
        ("for to", "four two"),
        ("it's for to", "it's for to"),
        ("i need for tickets", "i need for tickets"),
        ("one two for boy", "one two for boy"),
    ],
)
def test_digit_homophones(tokens: str, expected: str) -> None:
    """Homophones are digits among digits, open to the end of the utterance on each side."""
    assert digit_homophones(tokens.split(), is_digit_word) == expected.split()


@cases(
    "token, expected",
    [
        ("515205767o40", "515205767040"),
        ("2o19", "2019"),
        ("o42", "042"),
        ("1oo3", "1003"),
        ("5o", "5o"),
        ("o", "o"),
        ("oak", "oak"),
        ("5os", "5os"),
        ("4111", "4111"),
    ],
)
def test_zero_letters(token: str, expected: str) -> None:
    """A figure with "o" among two digits or more has zeros there; nothing else changes."""
    assert zero_letters(token) == expected


@cases(
    "token, expected",
    [
        ("8-hundred", ["8", "hundred"]),
        ("12-thousand", ["12", "thousand"]),
        ("1.5-million", ["1.5", "million"]),
        ("3-lakh", ["3", "lakh"]),
        ("1-800", None),
        ("kl-358", None),
        ("8-ball", None),
        ("hundred-8", None),
    ],
)
def test_figure_scale(token: str, expected: list[str] | None) -> None:
    """Only a figure hyphenated to a scale word is split."""
    assert figure_scale(token) == expected


@cases(
    "tokens, expected",
    [
        ("one three three or six", "one three three oh six"),
        ("two six of one eight", "two six oh one eight"),
        ("three zero three all three", "three zero three oh three"),
        ("4 or 5", "4 oh 5"),
        ("four or more", "four or more"),
        ("one of them", "one of them"),
        ("or one two", "or one two"),
        ("one two or", "one two or"),
    ],
)
def test_zero_homophones(tokens: str, expected: str) -> None:
    """ "or", "of", "all" are "oh" only with a digit on each side."""
    assert zero_homophones(tokens.split(), is_digit_word) == expected.split()


@cases(
    "tokens, expected",
    [
        ("140 mm", "140 am"),
        ("9.15 mm please", "9.15 am please"),
        ("mm 140", "mm 140"),
        ("yes mm", "yes mm"),
    ],
)
def test_meridiem_homophones(tokens: str, expected: str) -> None:
    """ "mm" is "am" only straight after a figure."""
    assert meridiem_homophones(tokens.split()) == expected.split()
