"""What a capture primitive reads: one ASR hypothesis as a value (``Reading``), and an answer to
the readback of a held value as the machine understood it (``Reply``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from voicecore._json import JsonValue
from voicecore.spoken.tokens import drop_fillers, without_opening_oh, words
from voicecore.spoken.yesno import Answer, YesNo

__all__ = ["Answer", "Reading", "Reply", "read_past_opening_oh"]


@dataclass(frozen=True, slots=True)
class Reading:
    """What one hypothesis says.

    ``value`` is canonical (or None when nothing usable was heard, with a ``reason`` code);
    ``parts`` are the type-specific fields of ``data`` (without a value, a ``question`` str
    among them is the prompt: "Did you mean A or B?"); ``certainty`` (0..1) is how sure the
    parse is, independent of the ASR; ``partial`` is an incomplete value worth keeping for the
    next turn (six digits of a phone number), and ``readback`` then says that partial aloud.
    ``answered``: without a value, the caller still answered ("none of them" to a choice): the
    turn is INCOMPLETE with ``reason``, and no attempt is counted as failed; said to a readback,
    it turns the held value down (REJECTED) and the turn is the same, still without spending
    an attempt. Such answers are free only ``CaptureParams.max_unclear`` times per capture
    (``CaptureState.answered``); past that each spends an attempt, as a turn without a value.
    ``replaces_partial``: the reading says all the capture keeps for the next turn, its
    ``partial`` or nothing; what earlier turns kept does not outlive it (capture_choice's
    options in question are asked about for one turn only). An answer without a value always
    keeps only its own ``partial``.
    """

    value: str | None
    readback: str = ""
    parts: Mapping[str, JsonValue] = field(default_factory=dict)
    certainty: float = 1.0
    reason: str | None = None
    partial: str | None = None
    answered: bool = False
    replaces_partial: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """One hypothesis of an answer to the readback, as the capture machine understood it.

    ``answer`` is its yes/no head (``Answer.UNCLEAR`` when it has none: "s as in sam");
    ``text`` what follows the head, which may edit the held value ("no, it's j o h n" ->
    "j o h n"; all of it when unclear); ``said`` the whole hypothesis. A partial edit is read
    from ``edit_text``.
    """

    answer: Answer
    text: str
    said: str

    @classmethod
    def understood(cls, said: str, meant: YesNo) -> Reply:
        """The reply ``said`` makes, read as ``meant`` (``understand(said)``): its head's answer,
        and the words after the head, or all of them when it has none."""
        text = said if meant.answer is Answer.UNCLEAR else meant.remainder
        return cls(meant.answer, text, said)

    @property
    def opening(self) -> tuple[str, ...]:
        """The words said before ``text`` ("no", "that's not"); none when unclear.

        Worked out when asked (only a correction needs it), not on every reply of every turn.
        """
        if self.answer is Answer.UNCLEAR:
            return ()
        # ``text`` is the tail of the hypothesis' words, so what comes before it is the head.
        heard = words(self.said)
        return tuple(heard[: len(heard) - len(self.text.split())])

    @property
    def edit_text(self) -> str:
        """``text`` as a correction grammar reads it: with the "not" that ended the head put
        back, since "not" opens an edit as well as a no.

        "no, not h, n" is a no whose ``text`` is "h n", a new value; the edit it says is "not
        h, n" (replace h with n). Every ``correct`` reads this, not ``text``.
        """
        closed_by_not = drop_fillers(list(self.opening))[-1:] == ["not"]
        return f"not {self.text}" if closed_by_not else self.text


def read_past_opening_oh(text: str, read: Callable[[str], Reading]) -> Reading:
    """``read(text)``, or, when that gives no value and an "oh" opens ``text``, ``read`` of the
    words without it if that gives one: "oh" is a zero, or an interjection when only that
    reading holds a value ("oh i live at ...", "oh, a b c one two")."""
    reading = read(text)
    without_oh = without_opening_oh(text)
    if reading.value is None and without_oh is not None:
        other = read(without_oh)
        return other if other.value is not None else reading
    return reading
