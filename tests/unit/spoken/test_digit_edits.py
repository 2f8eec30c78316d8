"""Partial corrections of a held digit string: positions, named groups, "X not Y"."""

from __future__ import annotations

import pytest

from voicecore.spoken.digit_edits import edit_digits
from voicecore.spoken.tokens import words

GROUPS = ("415", "555", "2671")


def edit(text: str, groups: tuple[str, ...] = GROUPS) -> str | None:
    return edit_digits(groups, words(text))


class TestPositions:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("the last digit is two", "4155552672"),
            ("no the last digit should be two", "4155552672"),
            ("last one is a two", "4155552672"),
            ("the last four are one two one two", "4155551212"),
            ("the last four digits are one two one two please", "4155551212"),
            ("the last two digits are oh five", "4155552605"),
            ("the first three are six one seven", "6175552671"),
            ("the second digit is two", "4255552671"),
            ("the first digit is supposed to be five", "5155552671"),
        ],
    )
    def test_sets_the_positions_said(self, text: str, expected: str) -> None:
        """An ordinal (and a count) place the digits said over the held ones."""
        assert edit(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "the last four are one two one",  # three digits for four places
            "the last digit is two three",
            "the last digit is two and thanks for asking",
            "the eleventh digit is two",
            "the last is two",
        ],
    )
    def test_counts_must_agree(self, text: str) -> None:
        """A count that the digits said do not fill, or an unclear place, is not an edit."""
        assert edit(text) is None


class TestGroups:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("the area code is six one seven", "6175552671"),
            ("no the area code should be six one seven", "6175552671"),
            ("area code six one seven", "6175552671"),
            ("the prefix is five five four", "4155542671"),
            ("the last part is one two one two", "4155551212"),
        ],
    )
    def test_replaces_the_named_group(self, text: str, expected: str) -> None:
        """A named group said in full replaces that group."""
        assert edit(text) == expected

    def test_group_said_in_part_is_not_an_edit(self) -> None:
        """An area code of two digits does not fit a three-digit group."""
        assert edit("the area code is six one") is None


class TestReplacements:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("it's five five four not five five five", "4155542671"),
            ("five five four instead of five five five", "4155542671"),
            ("five five five should be five five four", "4155542671"),
            ("change the seven to a nine", "4155552691"),
            ("replace two six with three six", "4155553671"),
            ("no it's six one seven not four one five", "6175552671"),
        ],
    )
    def test_replaces_the_old_run(self, text: str, expected: str) -> None:
        """The run said as wrong is replaced by the run said as right."""
        assert edit(text) == expected

    def test_ambiguous_run_is_not_an_edit(self) -> None:
        """A digit held twice cannot be placed."""
        assert edit("change the five to a six") is None

    def test_run_not_held_is_not_an_edit(self) -> None:
        """Replacing digits the number does not have is not an edit."""
        assert edit("it's three not eight") is None

    def test_group_start_disambiguates(self) -> None:
        """ "five five five" occurs twice in 4155552671; the group it is wins."""
        assert edit("change five five five to two two two") == "4152222671"


class TestNotAnEdit:
    @pytest.mark.parametrize(
        "text",
        ["yes", "no", "six one seven five five five two six seven one", "the cat is black", ""],
    )
    def test_other_answers(self, text: str) -> None:
        """Answers and whole new numbers are not partial edits."""
        assert edit(text) is None
