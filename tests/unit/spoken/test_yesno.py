"""voicecore.spoken.yesno: yes, no or unclear, and the words after the answer."""

from __future__ import annotations

import pytest

from voicecore.spoken.yesno import Answer, understand

YES = [
    "yes",
    "Yes.",
    "YES!",
    "yeah",
    "yep",
    "yup",
    "correct",
    "that's right",
    "That is correct.",
    "sure",
    "absolutely",
    "uh huh",
    "uh-huh",
    "mm hmm",
    "exactly",
    "you got it",
    "um yes that is correct thank you",
    "yes please",
    "I think so",
    "okay",
    "no wait, yes",
    "yes it is",
]
NO = [
    "no",
    "No.",
    "nope",
    "nah",
    "that's wrong",
    "not quite",
    "not really",
    "not exactly",
    "that's not right",
    "that is not correct",
    "that isn't right",
    "it's not",
    "incorrect",
    "uh uh",
    "I don't think so",
    "absolutely not",
    "yeah no",
    "yes, sorry, no",
    "wrong",
]
UNCLEAR = [
    "",
    "   ",
    "maybe",
    "I'm not sure",
    "not sure",
    "what?",
    "I don't know",
    "yes and no",
    "can you repeat that",
    "s as in sam",
    "the weather is nice",
    "uh",
]


class TestAnswers:
    @pytest.mark.parametrize("text", YES)
    def test_yes(self, text: str) -> None:
        """The common ways of saying yes read as yes, with some certainty."""
        said = understand(text)
        assert said.answer is Answer.YES
        assert 0.0 < said.certainty <= 1.0

    @pytest.mark.parametrize("text", NO)
    def test_no(self, text: str) -> None:
        """The common ways of saying no, negated yeses included, read as no."""
        said = understand(text)
        assert said.answer is Answer.NO
        assert 0.0 < said.certainty <= 1.0

    @pytest.mark.parametrize("text", UNCLEAR)
    def test_unclear(self, text: str) -> None:
        """Hedges, questions and other talk are unclear, with no certainty."""
        said = understand(text)
        assert said.answer is Answer.UNCLEAR
        assert said.certainty == 0.0

    def test_plain_answers_are_surer_than_hedged_ones(self) -> None:
        """ "yes" is read with more certainty than "i guess"; "no" more than "yeah no"."""
        assert understand("yes").certainty > understand("I guess").certainty
        assert understand("no").certainty > understand("yeah no").certainty


class TestSoundAlikes:
    @pytest.mark.parametrize(
        ("text", "said", "answer"),
        [
            ("Direct.", "Correct.", Answer.YES),
            ("that's direct", "that's correct", Answer.YES),
            ("uh, it's direct", "uh, it's correct", Answer.YES),
            ("Indirect.", "Incorrect.", Answer.NO),
            ("that's indirect", "that's incorrect", Answer.NO),
        ],
    )
    def test_correct_and_incorrect_misheard_are_guesses(
        self, text: str, said: str, answer: Answer
    ) -> None:
        """ASRs write a lone "correct" as "direct" and "incorrect" as "indirect": read so, less
        sure than the words themselves."""
        heard = understand(text)
        plain = understand(said)
        assert heard.answer is answer is plain.answer
        assert heard.certainty < plain.certainty

    @pytest.mark.parametrize(
        "text", ["direct me to billing", "direct debit", "it's indirect costs"]
    )
    def test_only_as_the_whole_answer(self, text: str) -> None:
        """A sound-alike is a guess only when it is all the caller said (fillers aside)."""
        assert understand(text).answer is Answer.UNCLEAR


class TestRemainder:
    @pytest.mark.parametrize(
        ("text", "answer", "remainder"),
        [
            ("no it's j o h n", Answer.NO, "j o h n"),
            ("No, it is john@gmail.com.", Answer.NO, "john@gmail.com"),
            ("nope, that's 4 1 5", Answer.NO, "4 1 5"),
            ("no, it should be tuesday", Answer.NO, "tuesday"),
            ("not quite, the last letter is n", Answer.NO, "the last letter is n"),
            ("yes, but the last name is Smith", Answer.YES, "the last name is smith"),
            ("uh, no, j o h n", Answer.NO, "j o h n"),
        ],
    )
    def test_words_after_the_answer(self, text: str, answer: Answer, remainder: str) -> None:
        """What follows the answer, without "it's"/"but", is the remainder."""
        said = understand(text)
        assert (said.answer, said.remainder) == (answer, remainder)

    @pytest.mark.parametrize(
        ("text", "contrast"),
        [
            ("yes but the last digit is wrong", True),
            ("yeah except it's j o n", True),
            ("yes, although the spelling is off", True),
            ("yes that's my name", False),
            ("no it's j o n", False),
        ],
    )
    def test_contrast(self, text: str, contrast: bool) -> None:
        """A remainder opened by "but"/"except"/"although" is marked as a contrast."""
        assert understand(text).contrast is contrast

    @pytest.mark.parametrize(
        "text", ["that's the right number", "it's the correct one", "go ahead", "that will work"]
    )
    def test_more_yes_forms(self, text: str) -> None:
        """A yes that names what it confirms, or tells the agent to go on, is a yes."""
        said = understand(text)
        assert (said.answer, said.remainder) == (Answer.YES, "")

    def test_unclear_text_is_all_remainder(self) -> None:
        """Without an answer head, the whole utterance is the remainder."""
        assert understand("s as in sam").remainder == "s as in sam"

    def test_bare_answers_have_no_remainder(self) -> None:
        """A plain answer, with fillers and thanks, leaves nothing over."""
        assert understand("um, yes, thank you").remainder == ""
        assert understand("no no no").remainder == ""
