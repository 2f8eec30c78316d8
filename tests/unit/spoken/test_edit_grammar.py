"""One correction grammar for spelled letters and digits: every shape and verb edits both."""

from __future__ import annotations

import pytest

from voicecore.spoken.digit_edits import edit_digits
from voicecore.spoken.edit_grammar import ARTICLES, after_verb, replacement_sides, trimmed
from voicecore.spoken.edits import edit_spelled, spelled_edit
from voicecore.spoken.tokens import words

HELD_LETTERS = "john"
HELD_GROUPS = ("415", "555", "2671")


def edit_letters(text: str) -> str | None:
    return edit_spelled(HELD_LETTERS, words(text))


def edit_number(text: str) -> str | None:
    return edit_digits(HELD_GROUPS, words(text))


# Each shape of a replacement, said of a spelled "john" (h -> n) and of 415 555 2671 (7 -> 9).
REPLACEMENTS = [
    ("change h to n", "change the seven to a nine"),
    ("replace h with n", "replace the seven with a nine"),
    ("make h into n", "make the seven into a nine"),
    ("switch h for n", "switch the seven for a nine"),
    ("swap h with n", "swap the seven with a nine"),
    ("change h by n", "change seven by nine"),
    ("h should be n", "seven should be nine"),
    ("h is supposed to be n", "seven is supposed to be nine"),
    ("n not h", "nine not seven"),
    ("n instead of h", "nine instead of seven"),
    ("n rather than h", "nine rather than seven"),
    ("not h, n", "not seven, nine"),
    ("no, not h but n", "no, not seven but nine"),
    ("it's not h it's n", "it's not seven it's nine"),
]
# Each verb that sets a place, said of the last letter of "john" and the last digit.
POSITION_VERBS = ["is", "should be", "must be", "needs to be", "is supposed to be", "was"]


class TestSameGrammarForLettersAndDigits:
    @pytest.mark.parametrize(("letters", "digits"), REPLACEMENTS)
    def test_replacement_edits_both(self, letters: str, digits: str) -> None:
        """A shape that replaces a run of digits replaces a run of letters too."""
        assert (edit_letters(letters), edit_number(digits)) == ("jonn", "4155552691")

    @pytest.mark.parametrize("verb", POSITION_VERBS)
    def test_position_verb_edits_both(self, verb: str) -> None:
        """A verb that sets the last digit sets the last letter too."""
        assert edit_letters(f"the last letter {verb} m") == "johm"
        assert edit_number(f"the last digit {verb} two") == "4155552672"

    @pytest.mark.parametrize(
        "letters",
        ["not h", "not q, n", "change q to n", "q is supposed to be n", "not j o j o n"],
    )
    def test_runs_not_held_are_no_letter_edit(self, letters: str) -> None:
        """No new run, an old run the value does not have, or a part and a run of another
        length said back to back: no edit."""
        assert edit_letters(letters) is None

    @pytest.mark.parametrize("letters", ["not j o h n j o n", "not j o h n, j o n"])
    def test_not_the_whole_value_then_a_run_replaces_it(self, letters: str) -> None:
        """ "not j o h n, j o n" (the comma is not in the words): the first run is all of the
        value held, so the comma ended it and the run after it is the new value."""
        assert edit_letters(letters) == "jon"


class TestGrammar:
    def test_sides_in_the_order_tried(self) -> None:
        """ "change X to Y" splits are tried before "should be", then "not"."""
        sides = replacement_sides("change a to b should be c not d".split())
        assert sides == [
            (["a"], ["b", "should", "be", "c", "not", "d"]),
            (["change", "a", "to", "b"], ["c", "not", "d"]),
            (["d"], ["change", "a", "to", "b", "should", "be", "c"]),
        ]

    def test_no_split_at_the_edges(self) -> None:
        """A marker needs words on both sides."""
        assert replacement_sides(["not", "seven"]) == []
        assert replacement_sides(["seven", "not"]) == []

    @pytest.mark.parametrize(
        ("said", "after"),
        [("is supposed to be n", 4), ("should be n", 2), ("is n", 1), ("n", 0)],
    )
    def test_longest_verb_is_skipped(self, said: str, after: int) -> None:
        """ "is supposed to be" is one verb, not "is" and three words of the value."""
        assert after_verb(said.split(), 0) == after


class TestOneOpenerSet:
    # Each word an answer may open with before an edit, said before the same two edits.
    OPENERS = ["no", "sorry", "well", "actually", "wait", "yes", "ok", "so", "and", "but"]

    @pytest.mark.parametrize("opener", OPENERS)
    def test_an_opener_opens_both(self, opener: str) -> None:
        """ "sorry, the last letter is m" edits the letters as "sorry, the last digit is two"
        edits the digits (letters once had their own, shorter list: the name became "M")."""
        assert edit_letters(f"{opener}, the last letter is m") == "johm"
        assert edit_number(f"{opener}, the last digit is two") == "4155552672"

    def test_a_closing_you_is_the_letter_u_in_a_spelling(self) -> None:
        """ "you" closes a digit edit ("thank you"), and is the letter u in a spelled one."""
        assert trimmed(["no", "h", "you"]) == ["h"]
        assert trimmed(["no", "h", "you"], spelled=True) == ["h", "you"]
        assert edit_letters("not h n, it's n you") == "jonu"
        assert edit_number("the last digit is two thank you") == "4155552672"

    def test_one_home_for_articles(self) -> None:
        """The articles digits skip; letters skip them but "a", the letter a."""
        assert ARTICLES == {"a", "an", "the"}
        assert edit_number("change the seven to a nine") == "4155552691"
        assert edit_spelled("jon", words("change the o to a")) == "jan"


class TestAnEditThatChangesNothing:
    @pytest.mark.parametrize("verb", POSITION_VERBS)
    def test_is_no_letter_edit(self, verb: str) -> None:
        """ "the last letter was n" of "john" edits nothing: no edit, so the answer stays
        unclear (it once came back as "john", which the machine took for a yes)."""
        assert edit_letters(f"the last letter {verb} n") is None
        assert spelled_edit(HELD_LETTERS, words(f"the last letter {verb} n")) == HELD_LETTERS

    def test_is_a_digit_edit_as_it_always_was(self) -> None:
        """Digits keep their behaviour: the number as it is, which the machine takes as said
        again."""
        assert edit_number("the last digit was one") == "4155552671"
