"""Tokens, fillers, self-corrections and carrier phrases."""

from __future__ import annotations

import re
from typing import cast

import pytest

from voicecore.spoken import tokens as tokens_module
from voicecore.spoken.tokens import (
    NAME_CARRIER,
    after_correction,
    after_last_carrier,
    drop_fillers,
    has_correction,
    replaced_by_correction,
    strip_carrier,
    strip_sign_off,
    without_opening_oh,
    words,
)


class TestWords:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("My email is John.Smith@Gmail.com.", ["my", "email", "is", "john.smith@gmail.com"]),
            ("Call (415) 555-2671, please!", ["call", "415", "555-2671", "please"]),
            ("it\u2019s +44 7700", ["it's", "+44", "7700"]),
            ("  ", []),
        ],
    )
    def test_splits_and_strips_sentence_punctuation(self, text: str, expected: list[str]) -> None:
        """Words are lower-case, sentence punctuation goes, inner punctuation stays."""
        assert words(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Oh, it's 4 1 5.", ["it's", "4", "1", "5"]),
            ("oh, four one five", ["four", "one", "five"]),
            ("Uh, oh. Four", ["uh", "four"]),
            ("oh four one five", ["oh", "four", "one", "five"]),
            ("one, oh, five", ["one", "oh", "five"]),
            ("Oh.", ["oh"]),
            ("Oh, oh, five", ["oh", "five"]),  # one interjection; the second "oh" is a zero
        ],
    )
    def test_an_opening_oh_with_a_pause_is_no_token(self, text: str, expected: list[str]) -> None:
        """ "Oh," opening the text is an interjection; "oh" with no pause, among digits or
        alone is kept (a zero)."""
        assert words(text) == expected


class TestFillers:
    def test_drops_hesitations(self) -> None:
        """Hesitation sounds are removed, other words kept in order."""
        assert drop_fillers(["uh", "five", "um", "five", "hmm", "er"]) == ["five", "five"]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("oh my cell is five", "my cell is five"),
            ("uh oh yeah it's five", "yeah it's five"),
            ("oh helen hill", "helen hill"),
            ("oh four one five", "oh four one five"),
            ("oh double five", "oh double five"),
            ("oh point five", "oh point five"),
            ("oh p thomas", "oh p thomas"),
            ("oh 415", "oh 415"),
            ("oh", "oh"),
            ("my number is oh my", "my number is oh my"),
        ],
    )
    def test_an_opening_oh_before_a_word_is_a_filler(self, text: str, expected: str) -> None:
        """An opening "oh" before a word that no zero opens goes; before a number, a digit,
        "point" or a letter it may be a zero (or the letter O) and stays; elsewhere it stays."""
        assert drop_fillers(text.split()) == expected.split()


class TestAfterCorrection:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("five five five no wait four one five", "four one five"),
            ("mary at yahoo i mean mary at gmail", "mary at gmail"),
            ("a b c sorry a b d", "a b d"),
            ("one two scratch that three four", "three four"),
            ("john at gmail dot com sorry", "john at gmail dot com"),
            ("no it's j o n", "no it's j o n"),
            ("one actually two wait three", "three"),
        ],
    )
    def test_keeps_what_follows_the_last_marker(self, text: str, expected: str) -> None:
        """The last correction marker wins; "no" alone is not a marker."""
        assert after_correction(text.split()) == expected.split()


class TestHasCorrection:
    @pytest.mark.parametrize(
        ("text", "said"),
        [
            ("five five five no wait four one five", True),
            ("one two or rather three four", True),
            ("john at gmail dot com sorry", True),
            ("no it's j o n", False),
            ("", False),
        ],
    )
    def test_finds_a_marker_anywhere(self, text: str, said: bool) -> None:
        """Any marker of the list counts, at any place; "no" alone does not."""
        assert has_correction(text.split()) is said


class TestReplacedByCorrection:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("two six seven one sorry two six seven two", "two six seven one"),
            ("a no wait b i mean c", "b"),
            ("one two three", ""),
            ("one two three sorry", ""),
            ("sorry one two three", ""),
        ],
    )
    def test_what_the_last_correction_replaced(self, text: str, expected: str) -> None:
        """The tokens before the last marker that has words after it; none without one."""
        assert replaced_by_correction(text.split()) == expected.split()


class TestStripCarrier:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("my email is a at b dot com", "a at b dot com"),
            ("my work email address is a", "a"),
            ("it's j o h n", "j o h n"),
            ("yeah sure it is five", "five"),
            ("but my address is 822 washington street", "822 washington street"),
            ("you can reach me at five", "five"),
            ("the number is four", "four"),
            ("that's spelled j o n", "j o n"),
            ("oh two three", "oh two three"),
            ("john at gmail", "john at gmail"),
            ("yep-00", "yep-00"),
            ("so-and-so at gmail", "so-and-so at gmail"),
        ],
    )
    def test_drops_leading_carrier_phrases(self, text: str, expected: str) -> None:
        """Leading carrier phrases go; the value itself (even "oh") stays."""
        assert strip_carrier(text.split()) == expected.split()


class TestAfterLastCarrier:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("but you at it's karen", "karen"),
            ("you have the order number is 2 6", "2 6"),
            ("you have this is it's susan", "susan"),
            ("it's karen", ""),
            ("so karen", ""),
            ("but you at it's", ""),
            ("zzz its its its", ""),
        ],
    )
    def test_what_follows_the_last_carrier(self, text: str, expected: str) -> None:
        """The words after the last carrier said after other words, carriers chained there
        stripped; nothing when the carrier opens the text, is an opening word, or ends it."""
        assert after_last_carrier(text.split()) == expected.split()

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("but you at it's karen", "karen"),
            ("look my account is locked", ""),
            ("you have my name is susan", "susan"),
            ("so i'm john", "john"),
        ],
    )
    def test_a_narrower_carrier(self, text: str, expected: str) -> None:
        """Only the carriers given mark where the value starts ("my account is" names none)."""
        assert after_last_carrier(text.split(), NAME_CARRIER) == expected.split()

    @pytest.mark.parametrize("count", [100, 1000])
    def test_work_grows_linearly(self, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
        """A run of carriers ("zzz its its ...") is read in one pass: two carrier matches a
        word at most (re-stripping the rest at each word matched count**2 / 2 times)."""
        calls = 0

        class Counting:
            def __init__(self, pattern: re.Pattern[str]) -> None:
                self.pattern = pattern

            def match(self, text: str, pos: int) -> re.Match[str] | None:
                nonlocal calls
                calls += 1
                return self.pattern.match(text, pos)

        monkeypatch.setattr(tokens_module, "_CARRIER", Counting(tokens_module._CARRIER))
        narrow = cast(re.Pattern[str], Counting(NAME_CARRIER))
        assert after_last_carrier(["zzz", *["its"] * count], narrow) == []
        assert calls <= 2 * (count + 1)


class TestStripSignOff:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("one two three i think", "one two three"),
            ("nancy harris speaking", "nancy harris"),
            ("john here thank you", "john"),
            ("a b c i i believe", "a b c i"),
            ("five i think so thanks", "five"),
            ("a b c i", "a b c i"),
            ("please", "please"),
            ("i think", "i think"),
        ],
    )
    def test_drops_what_follows_the_value(self, text: str, expected: str) -> None:
        """Hedges, thanks and "speaking" after the value go, however many; a letter "i" of
        the value stays, and so does one token at least."""
        assert strip_sign_off(text.split()) == expected.split()


class TestWithoutOpeningOh:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("oh four one five", "four one five"),
            ("Uh, oh one nine", "uh one nine"),
            ("one oh five", None),
            ("oh", None),
            ("uh um", None),
            ("", None),
        ],
    )
    def test_the_words_without_the_oh_opening_them(self, text: str, expected: str | None) -> None:
        """The "oh" that opens the text (after fillers) goes; None without one, or when the
        "oh" is all that is said."""
        assert without_opening_oh(text) == expected
