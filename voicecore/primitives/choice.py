"""``capture_choice``: one of the options the caller is offered, by name, synonym or position.

The request passes ``options`` (each an ``id``, a ``label`` and ``synonyms``); ``value`` is the
chosen option's ``id`` and its label is read back. A caller names an option ("the large one",
a synonym), says its place ("the second one", "the last one", "number two"), or says it
nearly: close spellings ("master card") and words that sound alike ("Stephen" for "Steven")
match too, less certainly.

"Neither", "none of them" is its own answer: no value, ``reason`` ``none``, and no attempt
counted as failed, so the agent can offer something else. Said to the readback ("no, none of
them", "neither") it turns the option read back down and is the same answer: ``none``, no
attempt spent.
Two options equally close ("red or blue", "pizza" between two pizzas) are no value with
``reason`` ``ambiguous``, the two ids in ``candidates`` and a ``question`` naming both labels,
which the turn's prompt asks. The agent's question was ambiguous, not the caller: no attempt is
spent (at a readback too, which it turns down), and the two stay in question for the next turn,
where a place counts among them ("the first one": the first of the two) and a close match
chooses between them, while an option named whole, or a close match when neither of the two
is, still chooses any option. The same two in question again spend an attempt (and stay in
question). Any other turn ends the question: "none of them", a turn without a value, a failed
attempt, another option chosen; "the first one" then counts among all the options again.
"None of them" and ambiguous answers are free only ``max_unclear`` times per capture; past
that each spends an attempt, so the capture ends within ``max_attempts`` more.

Matching, in order: an option's name said whole (the longest name said wins); "neither"; a
place; then close and sound-alike names and a distinctive word of a longer name ("pizza",
"Tuesday" of "Tuesday at 2 pm"), for an utterance of at most ``_MAX_FUZZY_WORDS`` words. A name
turned down ("not blue", "I don't want the large", "I can't do Monday", "anything but", "instead
of", "no large") or used as a verb ("to check my balance") is no choice, in every kind of match.
A sound-alike shares its first letter and most of its spelling with the name, and is less
certain (0.75) than a place, so its readback is confirmed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from functools import cached_property
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, field_validator

from voicecore._json import JsonValue
from voicecore.capture import CaptureParams, CapturePrimitive, HeldValue, Reading, Reply
from voicecore.primitive import PrimitiveContext, PrimitiveParams, PrimitiveResult
from voicecore.spoken.number_words import ORDINALS, UNITS
from voicecore.spoken.tokens import after_correction, drop_fillers, strip_carrier, words

__all__ = [
    "MAX_COMPARISONS",
    "CaptureChoice",
    "CaptureChoiceParams",
    "ChoiceOption",
    "phonetic_key",
]

_Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]

_NAMED = 1.0
_BY_PLACE = 0.95
# A sound-alike is a guess: below 0.8, the certainty a readback is asked at.
_SOUNDS_ALIKE = 0.75
_PART_SAID = 0.7
_CLOSE_ENOUGH = 0.8
# A sound-alike also shares its first letter and is this close in spelling ("cash" and
# "check", "fill" and "blue" share a key, nothing more).
_SOUNDS_ALIKE_RATIO = 0.6
# Two options whose scores differ by less than this are equally close.
_TIE = 0.03
# Close and sound-alike matching compares every window of the utterance with every name:
# bounded to the short answers callers give, so a long utterance costs no more than a scan.
_MAX_FUZZY_WORDS = 12
# Words of a name compared nearly: a longer name is matched on its first words (said whole,
# every word counts).
_MAX_NAME_WORDS = 6
#: The string comparisons one reading may make: a constant, so 20 options of 11 long names
#: cost no more than a few; past it the closest name found so far is the answer.
MAX_COMPARISONS = 100
_NONE = re.compile(
    r"^(?:neither|none|nothing|not any)(?: one)?(?: of (?:them|those|these|the above|it))?"
    r"(?: (?:thanks|thank you|please))?$"
)
_NOUNS = [["one"], ["option"], ["choice"], ["item"]]
# Words said around a choice, not of its name: no partial match on them.
_TALK = frozenset({"one", "option", "choice", "item", "please", "the", "i'll", "take", "number"})
_TALK |= frozenset({"want", "like", "i'd", "with", "pick", "choose", "think", "that", "this"})
_NUMBERED = re.compile(r"(?:\b(?:number|option|choice|item) |#)(?P<n>\w+)\b")
# ("rather than" is a self-correction marker: what follows it is all that is read.)
_ARTICLES = frozenset({"the", "a", "an"})
_NEGATIONS: tuple[tuple[str, ...], ...] = (
    ("not",),
    ("instead", "of"),
    ("anything", "but"),
    *((word,) for word in ("don't", "dont", "can't", "cant", "cannot", "won't", "never")),
)
# Words between a negation and the name it turns down: "don't want the large", "can't do Monday".
_NEGATED_VERBS = frozenset({"want", "do", "like", "need", "take", "choose", "pick", "get", "have"})
# After "to", a name followed by one of these is a verb: "to check my balance".
_OBJECT_AFTER = [[word] for word in ("my", "your", "our", "his", "her", "their", "it", "the")]
# Words of a longer name too common to choose it alone ("Tuesday at 2 pm": "at").
_FUNCTION_WORDS = _TALK | _ARTICLES | {"at", "on", "in", "for", "and", "of", "by", "to", "or"}
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_SOUND_GROUPS = ("bfpv", "cgjkqsxz", "dt", "l", "mn", "r")
_SOUND_CODES = {
    letter: str(code) for code, group in enumerate(_SOUND_GROUPS, 1) for letter in group
}


class ChoiceOption(PrimitiveParams):
    """One option offered: its ``id`` (answered as ``value``), ``label`` (read back) and
    other names a caller may use."""

    id: str = Field(min_length=1, max_length=64)
    label: _Name
    synonyms: tuple[_Name, ...] = Field(default=(), max_length=10)

    @field_validator("label", "synonyms")
    @classmethod
    def _has_words(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for name in (value,) if isinstance(value, str) else value:
            if not words(name):
                raise ValueError(f"{name!r} has no word a caller could say")
        return value

    @property
    def names(self) -> list[list[str]]:
        """The label and synonyms as the words a caller says."""
        return [drop_fillers(words(name)) for name in (self.label, *self.synonyms)]

    @cached_property
    def spoken(self) -> tuple[_Spoken, ...]:
        """The names as close matching compares them, worked out once per options given."""
        return tuple(_Spoken.of(name[:_MAX_NAME_WORDS]) for name in self.names)


@dataclass(frozen=True, slots=True)
class _Spoken:
    """A name's words (at most ``_MAX_NAME_WORDS``), them joined, and their sound-alike key."""

    words: tuple[str, ...]
    joined: str
    key: str

    @classmethod
    def of(cls, said: list[str]) -> _Spoken:
        return cls(tuple(said), "".join(said), phonetic_key(said))


class CaptureChoiceParams(CaptureParams):
    """Params of ``capture_choice``: the capture params and the options offered (1 to 20,
    ids unique)."""

    options: tuple[ChoiceOption, ...] = Field(min_length=1, max_length=20)

    @field_validator("options")
    @classmethod
    def _ids_are_unique(cls, options: tuple[ChoiceOption, ...]) -> tuple[ChoiceOption, ...]:
        ids = [option.id for option in options]
        if len(set(ids)) != len(ids):
            raise ValueError("option ids must be unique")
        return options

    @property
    def compared_chars(self) -> int:
        """The characters of every option's names: close matching compares each hypothesis
        with all of them, so the turn counts them with the utterance's to decide whether it
        reads off the event loop."""
        return sum(
            len(name) for option in self.options for name in (option.label, *option.synonyms)
        )


class CaptureChoice(CapturePrimitive[CaptureChoiceParams]):
    """Capture one of the ``options`` offered, by name, synonym or place ("the second one").

    Without a value the reason says why: ``none`` (the caller wants none of them),
    ``ambiguous`` (two options equally close), ``no_such_option`` ("the fifth one" of three)
    or ``no_value_heard``.
    """

    name: ClassVar[str] = "capture_choice"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Capture one of the options offered, by name, synonym, place or a close match."
    )
    noun: ClassVar[str] = "choice"
    params_model = CaptureChoiceParams

    async def execute(self, params: CaptureChoiceParams, ctx: PrimitiveContext) -> PrimitiveResult:
        """One turn of the capture; the options in question are kept between turns, and shown
        in ``data.candidates``, not as a ``partial`` value."""
        result = await super().execute(params, ctx)
        result.data.pop("partial", None)
        return result

    def read(self, text: str, params: CaptureChoiceParams, partial: str | None) -> Reading:
        """Read the option chosen in ``text``; ``partial`` is the options still in question
        after an ambiguous answer (their ids), which are chosen between first."""
        # The options in question are asked about for one turn: every reading replaces them.
        return replace(self._read_among(text, params, partial), replaces_partial=True)

    def _read_among(self, text: str, params: CaptureChoiceParams, partial: str | None) -> Reading:
        tokens = strip_carrier(after_correction(drop_fillers(words(text))))
        options = params.options
        among_all = _read(tokens, options)
        in_question = _in_question(partial, options)
        if in_question and (among_all.value is None or among_all.certainty < _NAMED):
            between = _read(tokens, in_question)
            if between.value is not None:
                chosen = next(option for option in options if option.id == between.value)
                return _chosen(chosen, options, between.certainty)
        if among_all.partial and set(_in_question(among_all.partial, options)) == set(in_question):
            return replace(among_all, answered=False)  # the question asked again: an attempt
        return among_all

    def correct(self, held: HeldValue, reply: Reply, params: CaptureChoiceParams) -> Reading | None:
        """ "No, the other one": of two options, the one not held."""
        said = drop_fillers(words(reply.edit_text))
        others = [option for option in params.options if option.id != held.value]
        if said[-2:] != ["other", "one"] or len(others) != 1:
            return None
        return _chosen(others[0], params.options, _NAMED)


def _read(tokens: list[str], options: Sequence[ChoiceOption]) -> Reading:
    """The option of ``options`` the words choose (see the module docstring for the order)."""
    named = _named(tokens, options)
    if named is not None:
        return named
    if _NONE.match(" ".join(tokens)):
        return Reading(value=None, reason="none", answered=True)
    place = _place(tokens, len(options))
    if place is not None:
        return _by_place(place, options)
    if 0 < len(tokens) <= _MAX_FUZZY_WORDS:
        return _closest(tokens, options)
    return Reading(value=None, reason="no_value_heard", certainty=0.0)


def _in_question(partial: str | None, options: Sequence[ChoiceOption]) -> tuple[ChoiceOption, ...]:
    """The options an earlier ambiguous answer left in question (``partial``, their ids as a
    JSON list), in the order its question named them; none without one."""
    by_id = {option.id: option for option in options}
    ids = json.loads(partial) if partial else []
    return tuple(by_id[id_] for id_ in ids if id_ in by_id)


def _chosen(option: ChoiceOption, options: Sequence[ChoiceOption], certainty: float) -> Reading:
    position = next(index for index, offered in enumerate(options, 1) if offered is option)
    return Reading(
        value=option.id,
        readback=option.label,
        parts={"label": option.label, "position": position},
        certainty=certainty,
    )


def _ambiguous(first: ChoiceOption, second: ChoiceOption) -> Reading:
    """Two options equally close: an answer (no attempt spent) that keeps both in question
    for the next turn (their ids as ``partial``)."""
    candidates: list[JsonValue] = [first.id, second.id]
    question = f"Did you mean {first.label} or {second.label}?"
    return Reading(
        value=None,
        reason="ambiguous",
        parts={"candidates": candidates, "question": question},
        partial=json.dumps(candidates),
        answered=True,
    )


def _named(tokens: list[str], options: Sequence[ChoiceOption]) -> Reading | None:
    """The option whose name is said whole (the longest name said), unless turned down."""
    best: dict[str, int] = {}
    for option in options:
        for name in option.names:
            for start in _occurrences(tokens, name):
                if not _refused(tokens, start, start + len(name)):
                    best[option.id] = max(best.get(option.id, 0), len(name))
    if not best:
        return None
    ranked = sorted(options, key=lambda option: -best.get(option.id, 0))
    if len(best) > 1 and best[ranked[0].id] == best[ranked[1].id]:
        return _ambiguous(ranked[0], ranked[1])
    return _chosen(ranked[0], options, _NAMED)


def _occurrences(tokens: Sequence[str], name: Sequence[str]) -> list[int]:
    size = len(name)
    first = name[0]
    return [
        start
        for start, token in enumerate(tokens)
        if token == first and list(tokens[start : start + size]) == list(name)
    ]


def _refused(tokens: Sequence[str], start: int, end: int) -> bool:
    """Whether the words ``tokens[start:end]`` are no choice: turned down, or a verb."""
    verb = tokens[start - 1 : start] == ["to"] and tokens[end : end + 1] in _OBJECT_AFTER
    return verb or _turned_down(tokens, start)


def _turned_down(tokens: Sequence[str], start: int) -> bool:
    """Whether the name at ``start`` is turned down: after "not", "instead of", "anything
    but", "don't", "can't" (a verb and "the" between: "don't want the large"), or right
    after "no" ("no large"; "no, the large" answers with the large)."""
    end = start
    while end > 0 and tokens[end - 1] in _ARTICLES:
        end -= 1
    if end == start and tokens[end - 1 : end] == ["no"]:
        return True
    for _ in range(2):
        if any(tuple(tokens[max(0, end - len(words)) : end]) == words for words in _NEGATIONS):
            return True
        if end == 0 or tokens[end - 1] not in _NEGATED_VERBS:
            return False
        end -= 1
    return False


def _place(tokens: list[str], count: int) -> int | None:
    """The 1-based place said ("the second one", "the last one", "number two", "2"), or None.

    A place word counts after "the" or before "one"/"option" ("the first", "second option"),
    or alone; a bare number only alone.
    """
    numbered = _NUMBERED.search(" ".join(tokens))
    if numbered is not None and (place := _number(numbered["n"])) is not None:
        return place  # else "option" is a noun ("the last option please"): read on
    places = {"last": count, "latter": count, "former": 1} | ORDINALS
    said = [index for index, token in enumerate(tokens) if token in places]
    if len(said) == 1:
        index = said[0]
        marked = tokens[index - 1 : index] == ["the"] or tokens[index + 1 : index + 2] in _NOUNS
        if marked or len(tokens) == 1:
            return places[tokens[index]]
    return _number(tokens[0]) if len(tokens) == 1 else None


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return UNITS.get(word)


def _by_place(place: int, options: Sequence[ChoiceOption]) -> Reading:
    if not 1 <= place <= len(options):
        return Reading(value=None, reason="no_such_option", parts={"heard_position": place})
    return _chosen(options[place - 1], options, _BY_PLACE)


def _closest(tokens: list[str], options: Sequence[ChoiceOption]) -> Reading:
    """The option whose name is said nearly: spelled close, or sounding the same."""
    said = _Said(tokens)
    scores = sorted(
        ((_closeness(said, option), index) for index, option in enumerate(options)),
        key=lambda scored: (-scored[0], scored[1]),
    )
    (best, first), *rest = scores
    if best == 0.0:
        return Reading(value=None, reason="no_value_heard", certainty=0.0)
    if rest and best - rest[0][0] < _TIE:
        return _ambiguous(options[first], options[rest[0][1]])
    return _chosen(options[first], options, best)


class _Said:
    """The utterance as close matching compares it: its words, their sound-alike keys (each
    computed once, not once per name), which are refused, and what is left of the
    comparisons' budget."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.keys = [phonetic_key([token]) for token in tokens]
        self.refused = [_refused(tokens, start, start + 1) for start in range(len(tokens))]
        self.content = {
            token
            for token, refused in zip(tokens, self.refused, strict=True)
            if not refused
            and len(token) > 2
            and token not in _FUNCTION_WORDS
            and not token.isdigit()
        }
        self.comparisons_left = MAX_COMPARISONS

    def compare(self, matcher: SequenceMatcher[str], floor: float) -> float:
        """``matcher``'s ratio, or 0.0 when it cannot reach ``floor`` (told by the cheap
        upper bounds first) or the budget is spent."""
        if matcher.real_quick_ratio() < floor or self.comparisons_left <= 0:
            return 0.0
        self.comparisons_left -= 1
        if matcher.quick_ratio() < floor or self.comparisons_left <= 0:
            return 0.0
        self.comparisons_left -= 1
        return matcher.ratio()


def _closeness(said: _Said, option: ChoiceOption) -> float:
    """How nearly the utterance says one of the option's names: a window spelled close (a
    ratio of at least ``_CLOSE_ENOUGH``), sounding the same, or a distinctive word of the
    name said; 0.0 for none. A window starting with a refused word counts for nothing."""
    best = 0.0
    tokens = said.tokens
    for name in option.spoken:
        part = _part_said(said, name)
        matcher = SequenceMatcher(None, "", name.joined, autojunk=False)
        ratio = 0.0
        for size in range(max(1, len(name.words) - 1), len(name.words) + 2):
            for start in range(len(tokens) - size + 1):
                if any(said.refused[start : start + size]):
                    continue
                window = "".join(tokens[start : start + size])
                alike = (
                    window[:1] == name.joined[:1]
                    and " ".join(said.keys[start : start + size]) == name.key
                )
                # A ratio counts from _CLOSE_ENOUGH, from _SOUNDS_ALIKE_RATIO for a
                # sound-alike, and any better one grades a word of the name said.
                floor = max(ratio, _SOUNDS_ALIKE_RATIO if alike or part else _CLOSE_ENOUGH)
                matcher.set_seq1(window)
                said_ratio = said.compare(matcher, floor)
                ratio = max(ratio, said_ratio)
                if alike and said_ratio >= _SOUNDS_ALIKE_RATIO:
                    best = max(best, _SOUNDS_ALIKE)
        if ratio >= _CLOSE_ENOUGH:
            best = max(best, ratio)
        if part:  # the closer the whole name, the surer
            best = max(best, _PART_SAID + (1 - _PART_SAID) * max(part, ratio))
    return best


def _part_said(said: _Said, name: _Spoken) -> float:
    """ "pizza" of "large pizza", "Tuesday" of "Tuesday at 2 pm": the share of a longer name
    (its characters) that its distinctive words said make up; 0.0 for none said."""
    if len(name.words) < 2:
        return 0.0
    shared = said.content.intersection(name.words)
    if not shared:
        return 0.0
    return sum(len(word) for word in shared) / len(name.joined)


def phonetic_key(said: Sequence[str]) -> str:
    """A sound-alike key of words: Soundex-like consonant codes (the first letter's too) and
    the count of vowel groups, so "steven" and "stephen", "katie" and "cady" share one, and
    "got" and "katie" do not."""
    keys = []
    for word in said:
        text = re.sub(r"[^a-z]", "", word.replace("ph", "f"))
        codes = ""
        last = ""
        for letter in text:
            code = _SOUND_CODES.get(letter, "")
            if code and code != last:
                codes += code
            if letter not in "hw":
                last = code
        syllables = len(_VOWEL_GROUPS.findall(text))
        keys.append(f"{codes[:4] or text[:1]}{syllables}")
    return " ".join(keys)
