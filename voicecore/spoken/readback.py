"""Saying spelled values back: one character at a time, symbols by name, digits as words."""

from __future__ import annotations

from voicecore.spoken.number_words import DIGIT_NAMES
from voicecore.spoken.symbols import SYMBOL_NAMES

__all__ = ["say_characters", "say_grouped"]


def _say(char: str) -> str:
    if "0" <= char <= "9":  # not isdigit(): "²" is a digit to Python, not to a caller
        return DIGIT_NAMES[int(char)]
    return SYMBOL_NAMES.get(char, char)


def say_characters(text: str) -> str:
    """ "j.smith2" -> "j dot s m i t h two"."""
    return " ".join(_say(char) for char in text)


def say_grouped(text: str, size: int) -> str:
    """Characters in groups of ``size`` separated by commas, so TTS pauses between groups."""
    groups = [text[start : start + size] for start in range(0, len(text), size)]
    return ", ".join(say_characters(group) for group in groups)
