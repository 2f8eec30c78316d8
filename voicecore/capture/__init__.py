"""Capture: one value (an email, a phone number, a date) got from the caller over turns.

A capture primitive subclasses ``CapturePrimitive`` and says how to read one ASR hypothesis
(``read``, returning a ``Reading``) and, optionally, how a reply to the readback edits the held
value (``correct``, given a ``Reply``); one that can take keypad input takes
``KeypadCaptureParams`` (the ``dtmf`` param, read by ``read_keys``: the one rule is in
``voicecore.capture._keypad``). The rest is shared by every capture: the n-best vote
(``rank``), the state machine (ask, read back, confirm, correct, give up after
``max_attempts``), the store that keeps a ``CaptureState`` between turns (``CaptureStore``;
``InMemoryCaptureStore`` by default) and the events (``CAPTURE_EVENT_TYPES``). ``run_turn``
runs one turn; its module (``voicecore.capture._turn``) describes it step by step.

Everything a custom capture primitive needs is importable from here and ``voicecore.primitive``.
"""

from __future__ import annotations

from voicecore.capture._confidence import calibrated
from voicecore.capture._events import (
    CAPTURE_EVENT_TYPES,
    CONFIRMED,
    CORRECTED,
    FAILED,
    REJECTED,
    VALUE_CAPTURED,
)
from voicecore.capture._keypad import (
    KEYPAD_WEIGHT,
    NO_KEY,
    YES_KEY,
    KeypadCaptureParams,
    KeypadInput,
    keypad_entry,
)
from voicecore.capture._nbest import Hypothesis, Ranked, Vote, hypotheses, rank
from voicecore.capture._params import (
    SUPPORTED_LOCALES,
    Alternative,
    CaptureParams,
    UtteranceParams,
)
from voicecore.capture._primitive import CapturePrimitive
from voicecore.capture._reading import Answer, Reading, Reply
from voicecore.capture._state import Candidate, CaptureState, HeldValue
from voicecore.capture._store import CaptureKey, CaptureStore, InMemoryCaptureStore, state_size
from voicecore.capture._turn import INLINE_READ_CHARS, READ_WORKERS, redact, run_turn

__all__ = [
    "Alternative",
    "Answer",
    "CAPTURE_EVENT_TYPES",
    "CONFIRMED",
    "CORRECTED",
    "Candidate",
    "CaptureKey",
    "CaptureParams",
    "CapturePrimitive",
    "CaptureState",
    "CaptureStore",
    "FAILED",
    "HeldValue",
    "Hypothesis",
    "INLINE_READ_CHARS",
    "InMemoryCaptureStore",
    "KEYPAD_WEIGHT",
    "KeypadCaptureParams",
    "KeypadInput",
    "NO_KEY",
    "READ_WORKERS",
    "REJECTED",
    "Ranked",
    "Reading",
    "Reply",
    "SUPPORTED_LOCALES",
    "UtteranceParams",
    "VALUE_CAPTURED",
    "Vote",
    "YES_KEY",
    "calibrated",
    "hypotheses",
    "keypad_entry",
    "rank",
    "redact",
    "run_turn",
    "state_size",
]
