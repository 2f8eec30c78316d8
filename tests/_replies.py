"""A held value and a reply as the capture machine hands them to ``correct``, and the machine's
whole turn answering the readback of a held value."""

from __future__ import annotations

from typing import TypeVar

from voicecore._json import JsonValue
from voicecore.capture import CaptureParams, CapturePrimitive, CaptureState, HeldValue, Reply
from voicecore.capture._machine import Turn, advance
from voicecore.spoken.yesno import understand

ParamsT = TypeVar("ParamsT", bound=CaptureParams)


def held_value(value: str, **parts: JsonValue) -> HeldValue:
    """``value`` held for confirmation, with its type-specific ``parts``."""
    return HeldValue(value, "", parts, 1.0)


def reply_of(said: str) -> Reply:
    """The reply the capture machine hands ``correct`` for the answer ``said``: its yes/no
    head read by ``understand``, as the machine reads it, and the words after it."""
    return Reply.understood(said, understand(said))


def answer_turn(primitive: CapturePrimitive[ParamsT], params: ParamsT, held: HeldValue) -> Turn:
    """The turn in which the caller answers the readback of ``held`` with
    ``params.transcription``: the whole machine, as the service runs it."""
    return advance(primitive, params, CaptureState(held=held))
