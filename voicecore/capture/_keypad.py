"""Keypad input (DTMF): the ``dtmf`` param and the one rule for reading it.

A capture that can take keypad input (digits, phone, number, amount) and ``confirm`` accept
``dtmf``, the keys the caller pressed this turn ("4155550182#"), instead of or beside a
transcription. The rule, the same for every capture:

- ``#`` ends the entry: it and anything after it are ignored ("4155550182#" is "4155550182").
  ``capture_card`` is the exception: there each ``#`` ends a part of one entry
  ("4111111111111111#1228#123#": number, expiry, CVV), read in order as if keyed in turns.
- ``*`` starts the entry over: only the keys after the last ``*`` count, and digits kept from
  earlier turns (a partial value) are dropped ("415*650#" is "650"). An entry that ends with
  ``*`` ("*", "415*") only starts over: the partial value is dropped, no attempt is spent, and
  the turn is INCOMPLETE with reason ``started_over``. ``capture_amount`` is the
  exception: there ``*`` is the decimal point ("12*50#" is 12.50), the usual IVR convention,
  since a keypad has no "." key.
- Answering a readback, a bare ``1`` is yes and a bare ``2`` is no: the whole ``dtmf`` is
  that one key, with no ``#``. A terminated entry (``1#``, ``2#``) is a value like any other,
  so a one-digit value can be typed at its readback: the same value typed again is a yes, a
  different one a correction. An entry ending with ``*`` ("*", "415*#") is "no, start over":
  the held value is rejected exactly as a bare no is (an attempt is spent, reason
  ``rejected``), not counted as an answer not understood. Any other entry is read as a new
  value; one that reads as none is an answer not understood. (In ``capture_amount``, where
  ``*`` is the decimal point, an entry ending with ``*`` reads as no amount, so it is not
  understood.) ``confirm`` reads ``1`` as yes and ``2`` as no, with or without ``#``.
- Keys are exact: the entry is one hypothesis of its own with weight 1.0 (and certainty 1.0),
  never mixed with ASR words.
- **Keys win.** When ``dtmf`` has keys before any ``#``, the turn is the keypad entry alone
  and the transcription is not read: the keys are the caller's exact signal, while what an
  ASR transcribes during a keypad entry is the tones, silence or background talk; voting both
  would let a misheard word lower the keys' confidence or, worse, outvote them. A ``dtmf``
  with no keys ("" or "#") is no keypad input: the transcription is read as usual.

``A``-``D`` are keypad characters (accepted on the wire) that no capture reads: an entry with
them gives no value (reason ``invalid_keys``).
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, model_validator

from voicecore.capture._params import CaptureParams, UtteranceParams
from voicecore.primitive import PrimitiveParams

__all__ = [
    "KEYPAD_WEIGHT",
    "NO_KEY",
    "STARTED_OVER",
    "YES_KEY",
    "KeypadCaptureParams",
    "KeypadInput",
    "after_restart",
    "keypad_entry",
    "readback_key",
]

#: An entry's weight in the vote: keys are what the caller pressed, not a guess.
KEYPAD_WEIGHT: Final = 1.0
#: The reason of a value turn whose entry ends with "*": start over, nothing else.
STARTED_OVER: Final = "started_over"
YES_KEY: Final = "1"
NO_KEY: Final = "2"
_END_KEY: Final = "#"
_RESTART_KEY: Final = "*"
_MAX_KEYS: Final = 64
_MAX_TRANSCRIPTION: Final = 2000


class KeypadInput(PrimitiveParams):
    """The ``dtmf`` param: keys the caller pressed this turn (``0``-``9``, ``*``, ``#``,
    ``A``-``D``). With it the transcription may be left out (it defaults to "")."""

    transcription: str = Field(default="", max_length=_MAX_TRANSCRIPTION)
    dtmf: str | None = Field(
        default=None,
        max_length=_MAX_KEYS,
        pattern=r"^[0-9*#A-D]*$",
        description='Keys pressed this turn: "#" ends the entry, "*" starts it over (the '
        'decimal point in an amount). At a readback a bare "1" (no "#") is yes, a bare "2" no, '
        'an entry ending in "*" is no (start over); "1#", "2#" are values. Keys win over the '
        "transcription.",
    )

    @model_validator(mode="after")
    def _heard_or_pressed(self) -> KeypadInput:
        if "transcription" not in self.model_fields_set and self.dtmf is None:
            raise ValueError("transcription or dtmf is required")
        return self


class KeypadCaptureParams(KeypadInput, CaptureParams):
    """The capture params with ``dtmf``: the base of the params of a capture that can take
    keypad input."""


def keypad_entry(params: UtteranceParams) -> str | None:
    """The keys of this turn's entry, up to the first ``#``; None without keypad input (no
    ``dtmf`` param, or no key before ``#``)."""
    if not isinstance(params, KeypadInput) or params.dtmf is None:
        return None
    keys = params.dtmf.partition(_END_KEY)[0]
    return keys or None


def readback_key(params: UtteranceParams) -> str | None:
    """``YES_KEY`` or ``NO_KEY`` when the whole ``dtmf`` is that one key (no ``#``): the only
    entries that answer a readback yes or no; None otherwise ("1#" is a value)."""
    if isinstance(params, KeypadInput) and params.dtmf in (YES_KEY, NO_KEY):
        return params.dtmf
    return None


def after_restart(keys: str) -> tuple[str, bool]:
    """The keys after the last ``*`` and whether there was one (the entry started over)."""
    _, restart, after = keys.rpartition(_RESTART_KEY)
    return after, bool(restart)
