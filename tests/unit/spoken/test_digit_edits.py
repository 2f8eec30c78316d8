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


class TestNotFirst:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("not five five five, five five four", "4155542671"),
            ("no, not five five five but five five four", "4155542671"),
            ("not 555, it's five five four", "4155542671"),
            ("it's not five five five it's five five four", "4155542671"),
            ("no that's not two six seven one it's two six seven two", "4155552672"),
            ("not four one five six one seven", "6175552671"),
            ("not seven, nine", "4155552691"),
        ],
    )
    def test_old_run_first_is_replaced(self, text: str, expected: str) -> None:
        """ "not X, Y" edits like "Y not X", with or without words between the runs."""
        assert edit(text) == expected

    def test_same_as_new_first(self) -> None:
        """Both orders of one correction give the same number."""
        assert edit("not two six, three six") == edit("three six not two six") == "4155553671"

    @pytest.mark.parametrize(
        "text",
        [
            "not five five five five five",  # runs of unequal length, back to back
            "not five five five",  # no new run
            "not four one five five five five two six seven one",  # the number itself
            "not the area code",
            "not three, four",  # a run the number does not have
        ],
    )
    def test_unclear_not_first_is_not_an_edit(self, text: str) -> None:
        """Without two clear runs, the old one held, there is nothing to edit."""
        assert edit(text) is None


class TestNotAnEdit:
    @pytest.mark.parametrize(
        "text",
        ["yes", "no", "six one seven five five five two six seven one", "the cat is black", ""],
    )
    def test_other_answers(self, text: str) -> None:
        """Answers and whole new numbers are not partial edits."""
        assert edit(text) is None
