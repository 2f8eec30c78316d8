"""Yes, no, or unclear: the many ways callers answer "is that right?".

``understand`` reads the head of an utterance, a run of answer phrases ("yes", "that's
right", "uh huh", "nope", "not quite", "i'm not sure") with fillers and self-repairs ("wait",
"i mean") between them, and returns the last answer in it (people repair forward: "no wait,
yes"; "yeah, no" means no). Negation turns a yes into a no ("that's not right", "not
really", "isn't correct"). What follows the head is the **remainder**: "no, it's j o h n" is a
no with the remainder "j o h n", which the capture machine reads as a correction. An utterance
with no answer head ("s as in sam") is unclear, and all of it is the remainder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voicecore.spoken.tokens import words

__all__ = ["Answer", "YesNo", "understand"]


class Answer(StrEnum):
    """What the caller meant."""

    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class YesNo:
    """An answer, how sure the reading is (0..1; 0 when unclear), and the words after it.

    ``contrast`` says the remainder was introduced by "but", "except", "although": in "yes,
    but the last digit is wrong" the yes does not confirm the value as it stands.
    """

    answer: Answer
    certainty: float
    remainder: str
    contrast: bool = False


_Phrases = dict[tuple[str, ...], tuple[Answer, float]]


def _phrases(answer: Answer, certainty: float, *texts: str) -> _Phrases:
    return {tuple(text.split()): (answer, certainty) for text in texts}


_YES = Answer.YES
_NO = Answer.NO
_SOUND_ALIKE = 0.6
_UNCLEAR = Answer.UNCLEAR

#: "correct" and "incorrect" as ASRs mishear them ("Direct.", "indirect."): guesses, and only
#: as the whole answer (fillers aside): "direct me to billing" is no yes.
_SOUND_ALIKES: _Phrases = {
    **_phrases(_YES, _SOUND_ALIKE, "direct", "that's direct", "it's direct"),
    **_phrases(_NO, _SOUND_ALIKE, "indirect", "that's indirect", "it's indirect"),
}

_TABLE: _Phrases = {
    **_phrases(_YES, 1.0, "yes", "yep", "yup", "correct", "exactly", "absolutely", "definitely"),
    **_phrases(_YES, 1.0, "affirmative", "confirmed", "i confirm", "confirm", "precisely"),
    **_phrases(_YES, 1.0, "that's correct", "that is correct", "thats correct", "it's correct"),
    **_phrases(_YES, 1.0, "that's right", "that is right", "thats right", "it's right"),
    **_phrases(_YES, 1.0, "you got it", "you got it right", "you're right", "you are right"),
    **_phrases(_YES, 1.0, "that's it", "that is it", "that's the one", "spot on", "indeed"),
    **_phrases(_YES, 1.0, "of course", "certainly", "perfect", "yes please", "yes sir"),
    **_phrases(_YES, 1.0, "yes ma'am", "you bet", "bingo", "all correct", "true"),
    **_phrases(_YES, 0.9, "yeah", "yea", "sure", "sounds good", "sounds right", "looks good"),
    **_phrases(_YES, 0.9, "that works", "that's fine", "that's true", "all good", "right on"),
    **_phrases(_YES, 0.8, "ya", "yah", "uh huh", "uh-huh", "mhm", "mm hmm", "mm-hmm", "mmhmm"),
    **_phrases(_YES, 0.8, "ok", "okay", "alright", "all right", "right", "good", "great"),
    **_phrases(_YES, 0.8, "go ahead", "go for it", "that'll work", "that will work"),
    **_phrases(_YES, 0.8, "fine", "i think so", "i believe so", "pretty much", "yes it is"),
    **_phrases(_YES, 0.6, "i guess", "i guess so", "probably", "i suppose", "i suppose so"),
    **_phrases(_NO, 1.0, "no", "nope", "nah", "negative", "incorrect", "wrong", "false"),
    **_phrases(_NO, 1.0, "that's incorrect", "that is incorrect", "that's wrong", "not at all"),
    **_phrases(_NO, 1.0, "that is wrong", "thats wrong", "it's wrong", "no way", "no sir"),
    **_phrases(_NO, 1.0, "absolutely not", "definitely not", "of course not", "certainly not"),
    **_phrases(_NO, 1.0, "not even close", "no ma'am", "negatory", "you got it wrong"),
    **_phrases(_NO, 1.0, "you got that wrong", "i don't think so", "i dont think so"),
    **_phrases(_NO, 1.0, "don't think so", "i don't believe so", "that's not it"),
    **_phrases(_NO, 0.9, "uh uh", "uh-uh", "nuh uh", "nuh-uh", "unh unh", "mm mm"),
    **_phrases(_NO, 0.9, "not quite", "not really", "not exactly", "wrong one"),
    **_phrases(_NO, 0.8, "almost", "nearly", "close", "close but no", "i guess not"),
    **_phrases(_UNCLEAR, 0.0, "yes and no", "not sure", "i'm not sure", "im not sure"),
    **_phrases(_UNCLEAR, 0.0, "i am not sure", "not certain", "i don't know", "i dont know"),
    **_phrases(_UNCLEAR, 0.0, "don't know", "dunno", "no idea", "maybe", "perhaps", "possibly"),
    **_phrases(_UNCLEAR, 0.0, "kind of", "sort of", "kinda", "sorta", "what", "pardon"),
    **_phrases(_UNCLEAR, 0.0, "pardon me", "excuse me", "come again", "say again", "huh"),
    **_phrases(_UNCLEAR, 0.0, "say that again", "repeat that", "can you repeat that"),
    **_phrases(_UNCLEAR, 0.0, "could you repeat that", "i didn't catch that", "who knows"),
}
# "that's the right number", "it's the correct one": a yes that names what it confirms.
_TABLE.update(
    {
        (*subject.split(), "the", adjective, noun): (_YES, 1.0)
        for subject in ("that's", "thats", "that is", "it's", "its", "it is", "this is")
        for adjective in ("right", "correct")
        for noun in ("one", "number", "name", "email", "address", "code", "spelling", "zip")
    }
)
_LONGEST_PHRASE = max(len(phrase) for phrase in _TABLE)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Between answer phrases: hesitations, and self-repair markers ("no wait, yes").
_SKIPPED = _word_set(
    "uh um umm uhm er erm ah oh hmm hm well so like wait sorry actually oops hey thanks please"
)
_SKIPPED_PAIRS = frozenset({("i", "mean"), ("i", "meant"), ("hold", "on"), ("thank", "you")})

# "that's | it's | you're ..." + negator + softener + yes phrase: "that's not quite right".
_SUBJECTS = frozenset(
    {("that's",), ("thats",), ("it's",), ("its",), ("that", "is"), ("it", "is"), ("that",)}
    | {("it",), ("this", "is"), ("you're",), ("you", "are"), ("that", "was"), ("it", "was")}
)
_NEGATORS = _word_set("not isn't isnt ain't aint wasn't wasnt aren't doesn't don't never")
_SOFTENERS = _word_set("quite really exactly entirely totally completely even very so")
_NEGATED_CERTAINTY = 0.9
_MIXED_FACTOR = 0.75

# Leading words of the remainder that only introduce the correction: "no, it's j o h n".
_CONNECTIVES = (
    ("it", "should", "be"),
    ("should", "be"),
    ("change", "it", "to"),
    ("it", "is"),
    ("that", "is"),
    ("i", "said"),
    ("make", "it"),
    ("make", "that"),
    ("it's",),
    ("its",),
    ("that's",),
    ("thats",),
    ("and",),
)
# Connectives that turn a yes into "yes, but": what follows is a correction.
_CONTRASTS = frozenset({"but", "except", "although", "though", "however", "only"})


def understand(text: str) -> YesNo:
    """Read ``text`` as a yes, a no or unclear, with the words that follow the answer."""
    tokens = words(text)
    answers, end = _read_head(tokens)
    guessed = _SOUND_ALIKES.get(tuple(t for t in tokens if t not in _SKIPPED))
    if not answers and guessed is not None:
        return YesNo(*guessed, remainder="")
    rest = tokens[end:]
    contrast = bool(rest) and rest[0] in _CONTRASTS
    remainder = " ".join(_strip_connectives(rest[contrast:]))
    if not answers:
        return YesNo(Answer.UNCLEAR, 0.0, remainder, contrast)
    answer, certainty = answers[-1]
    if answer is not Answer.UNCLEAR and len({a for a, _ in answers}) > 1:
        certainty *= _MIXED_FACTOR
    return YesNo(answer, certainty, remainder, contrast)


def _read_head(tokens: list[str]) -> tuple[list[tuple[Answer, float]], int]:
    """The answers at the start of ``tokens`` and where the head ends."""
    answers: list[tuple[Answer, float]] = []
    index = 0
    while index < len(tokens):
        # Answers first: "uh huh" is a yes, not a filler and a "huh".
        found = _answer_at(tokens, index)
        if found is not None:
            answers.append(found[:2])
            index += found[2]
            continue
        skipped = _skipped_at(tokens, index)
        if not skipped:
            break
        index += skipped
    return answers, index


def _skipped_at(tokens: list[str], index: int) -> int:
    if tuple(tokens[index : index + 2]) in _SKIPPED_PAIRS:
        return 2
    return 1 if tokens[index] in _SKIPPED else 0


def _answer_at(tokens: list[str], index: int) -> tuple[Answer, float, int] | None:
    """The longest answer starting at ``index``: a phrase of the table or a negation."""
    phrase = _phrase_at(tokens, index)
    negation = _negation_at(tokens, index)
    if negation is not None and (phrase is None or negation[2] > phrase[2]):
        return negation
    return phrase


def _phrase_at(tokens: list[str], index: int) -> tuple[Answer, float, int] | None:
    for length in range(min(_LONGEST_PHRASE, len(tokens) - index), 0, -1):
        meaning = _TABLE.get(tuple(tokens[index : index + length]))
        if meaning is not None:
            return meaning[0], meaning[1], length
    return None


def _negation_at(tokens: list[str], index: int) -> tuple[Answer, float, int] | None:
    """``[subject] negator [softeners] [yes phrase]``: "that's not right", "not really"."""
    start = index
    for length in (2, 1):
        if tuple(tokens[index : index + length]) in _SUBJECTS:
            index += length
            break
    if index >= len(tokens) or tokens[index] not in _NEGATORS:
        return None
    index += 1
    while index < len(tokens) and tokens[index] in _SOFTENERS:
        index += 1
    negated = _phrase_at(tokens, index)
    if negated is not None and negated[0] is Answer.YES:
        index += negated[2]
    return Answer.NO, _NEGATED_CERTAINTY, index - start


def _strip_connectives(tokens: list[str]) -> list[str]:
    for connective in _CONNECTIVES:
        if tuple(tokens[: len(connective)]) == connective:
            return tokens[len(connective) :]
    return tokens
