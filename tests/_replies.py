"""Arguments for calling a capture primitive's ``correct`` directly, as the machine would."""

from __future__ import annotations

from voicecore._json import JsonValue
from voicecore.capture import Answer, HeldValue, Reply


def held_value(value: str, **parts: JsonValue) -> HeldValue:
    """``value`` held for confirmation, with its type-specific ``parts``."""
    return HeldValue(value, "", parts, 1.0)


def reply_of(text: str) -> Reply:
    """A reply with no yes/no head: all of ``text`` may edit the held value."""
    return Reply(Answer.UNCLEAR, text, text)
