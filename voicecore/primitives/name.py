"""``capture_name``: a name, spelled ("j o h n", "s as in sam", NATO) or said as words."""

from __future__ import annotations

import re

from voicecore.capture import CaptureParams, CapturePrimitive, HeldValue, Reading, Reply
from voicecore.primitives._dates.vocabulary import MONTH_WORDS, WEEKDAYS
from voicecore.spoken.compose import Piece, compose
from voicecore.spoken.edits import edit_spelled
from voicecore.spoken.readback import say_characters
from voicecore.spoken.tokens import (
    NAME_CARRIER,
    NAMING_CARRIER,
    after_correction,
    after_last_carrier,
    drop_fillers,
    strip_carrier,
    strip_sign_off,
    words,
)

__all__ = ["CaptureName", "CaptureNameParams"]

_SPELLED = 0.95
_SAID = 0.8
#: A name read after talk the words around it could not place ("but you at it's karen"):
#: the opening was misheard, so the name is read back, never taken as it stands.
_AFTER_OPENING = 0.5
_MAX_WORDS = 4
# Words that are not names: what a caller says about a name rather than the name itself.
_NOT_NAMES = frozenset(
    """
    a an the my your his her our their its it it's this that these those is are was were be
    i'm im that's thats here's there's
    am of to in on at by for with from and or but except not no yes yeah ok okay so just
    name names spelled spelling spell differently different wrong right correct letter
    letters first last middle full surname number email address phone what
    """.split()
)
_NAME_WORD = re.compile(r"^[a-z][a-z'\-]*$")
_CALENDAR_WORDS = MONTH_WORDS | frozenset(WEEKDAYS)
_WRITTEN_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019\-]*")
_CAPITALISE = re.compile(r"(^|[\-' ])([a-z])")


class CaptureNameParams(CaptureParams):
    """Params of ``capture_name``: the shared capture params."""


def capitalised(name: str) -> str:
    """ "o'brien" -> "O'Brien", "mary-jane smith" -> "Mary-Jane Smith"."""
    return _CAPITALISE.sub(lambda match: match.group(1) + match.group(2).upper(), name.lower())


def _spelled_runs(pieces: list[Piece]) -> list[str]:
    """Runs of spelled letters; a run of one letter is an initial, not a spelling."""
    runs: list[str] = []
    current = ""
    for piece in pieces:
        if piece.kind == "letters" or (piece.kind == "symbol" and piece.text in "-'" and current):
            current += piece.text
            continue
        if current:
            runs.append(current)
        current = ""
    if current:
        runs.append(current)
    return [run for run in runs if len(run) > 1]


def _is_name_word(word: str) -> bool:
    return _NAME_WORD.match(word) is not None and word not in _NOT_NAMES


def _name_from(tokens: list[str]) -> tuple[str | None, float]:
    """The name spelled in ``tokens`` (preferred), else the words said."""
    pieces = compose(tokens)
    if any(piece.kind == "digits" for piece in pieces):
        return None, 0.0
    spelled = _spelled_runs(pieces)
    if spelled:
        return " ".join(spelled), _SPELLED
    said = tokens
    if len(said) == 1 and len(said[0]) == 1:
        return None, 0.0  # a letter alone is no name ("the last letter is n", its carrier cut)
    if not said or len(said) > _MAX_WORDS or not all(_is_name_word(word) for word in said):
        return None, 0.0
    return " ".join(said), _SAID


def _name_after_opening(text: str, tokens: list[str]) -> tuple[str | None, float]:
    """The name after the last carrier that introduces one, when the words before it read
    as no name: "But you at it's Karen." (Whisper heard "yeah" as "you at"). After a carrier
    that says a name follows ("my name is") any name words do; after one that introduces
    anything ("it's", "this is"), words said, not spelled, count only when ``text`` writes
    them as a name, capitalised among lower-case words: "Honestly it's great." names no one.
    """
    name, _ = _name_from(after_last_carrier(tokens, NAMING_CARRIER))
    if name is not None:
        return name, _AFTER_OPENING
    name, certainty = _name_from(after_last_carrier(tokens, NAME_CARRIER))
    if name is None or (certainty == _SAID and not set(name.split()) <= _capitalised_in(text)):
        return None, 0.0
    return name, _AFTER_OPENING


def _capitalised_in(text: str) -> frozenset[str]:
    """The words ``text`` writes with a capital and then lower case ("Karen"), lower-cased;
    none when no word is written in lower case (all capitals or title case marks no name).
    Days and months are written so by rule, not as names ("Maybe it's Tuesday.")."""
    written = _WRITTEN_WORD.findall(text.replace("\u2019", "'"))
    if not any(word[0].islower() for word in written):
        return frozenset()
    return (
        frozenset(word.lower() for word in written if word[0].isupper() and not word[1:].isupper())
        - _CALENDAR_WORDS
    )


def name_reading(name: str, certainty: float) -> Reading:
    """The reading of a lower-case ``name``: capitalised, read back letter by letter."""
    value = capitalised(name)
    readback = ", ".join(say_characters(part) for part in name.split())
    return Reading(
        value=value,
        readback=readback,
        parts={"words": len(value.split())},
        certainty=certainty,
    )


class CaptureName(CapturePrimitive[CaptureNameParams]):
    """Captures a name spelled letter by letter ("j o h n", "s as in sam", NATO) or said.

    A spelling wins over the words around it ("john, j o h n"); a name only said as words
    is less certain, since its spelling was guessed by the ASR.
    """

    name = "capture_name"
    version = "1.0.0"
    description = "Capture a name spelled or said by the caller."
    noun = "name"
    params_model = CaptureNameParams

    def read(self, text: str, params: CaptureNameParams, partial: str | None) -> Reading:
        """Read one hypothesis as a name."""
        tokens = strip_sign_off(strip_carrier(after_correction(drop_fillers(words(text)))))
        if not tokens:
            return Reading(value=None, reason="no_value_heard", certainty=0.0)
        name, certainty = _name_from(tokens)
        if name is None:  # "but you at it's karen": a misheard opening before a carrier
            name, certainty = _name_after_opening(text, tokens)
        if name is None:
            return Reading(value=None, reason="invalid_name", certainty=0.0)
        return name_reading(name, certainty)

    def correct(
        self,
        held: HeldValue,
        reply: Reply,
        params: CaptureNameParams,
    ) -> Reading | None:
        """Edit the held name in part ("s as in sam", "it's j o n not j o h n")."""
        edited = edit_spelled(held.value.lower(), drop_fillers(words(reply.edit_text)))
        return name_reading(edited, _SPELLED) if edited else None
