"""Prompts that say what went wrong, where the machine knows more than "I didn't catch that".

``run_turn`` asks ``precise_prompt`` first and falls back to its general prompts:

- an answer to the readback the machine did not understand keeps the value and asks about it
  again, telling the caller how to correct it;
- a value heard but not valid says what was heard ("I heard 555 123 4567, but that doesn't
  look like a valid phone number");
- a number outside the accepted range says so;
- a keypad entry that only starts over ("*") asks for the value afresh;
- "none of them", a choice's answer without a value, is acknowledged, not asked again.
"""

from __future__ import annotations

from voicecore.capture._keypad import STARTED_OVER
from voicecore.capture._machine import Turn
from voicecore.primitive import PrimitiveState

__all__ = ["precise_prompt", "said_digits"]

# Reasons a reading gives while the caller is still saying the value: nothing went wrong yet.
_NOT_WRONG = frozenset({"no_value_heard", "too_few_digits", "incomplete_value"})
_US_LENGTH = 10  # 415 555 0182
_NONE_CHOSEN = "none"  # capture_choice's reason for "none of them", an answered reading


def precise_prompt(turn: Turn, noun: str, purpose: str) -> str | None:
    """The prompt for ``turn`` when it is more precise than the general one, else None.

    ``purpose`` is the clause the prompt ends its question with (", so we can ...").
    """
    if turn.state is PrimitiveState.NEEDS_CONFIRMATION and turn.reason == "unclear_answer":
        assert turn.value is not None  # an unclear answer keeps the held value
        return (
            f"Sorry, I didn't catch what to change. I have your {noun} as "
            f"{turn.value.readback}{purpose}. Is that right? If not, please say just the "
            "part that's wrong."
        )
    if turn.state is PrimitiveState.INCOMPLETE and turn.reason == _NONE_CHOSEN:
        return "Okay, none of those."
    if turn.state is PrimitiveState.INCOMPLETE and turn.reason == STARTED_OVER:
        return f"Okay, let's start over. What is your {noun}{purpose}?"
    if turn.state is not PrimitiveState.INCOMPLETE or turn.reason in _NOT_WRONG or turn.partial:
        return None
    again = f"Could you tell me your {noun} again{purpose}?"
    heard = turn.heard.get("heard")
    if turn.reason == "out_of_range" and isinstance(heard, str) and heard:
        return f"I heard {heard}, but that's outside what I can accept. {again}"
    digits = turn.heard.get("digits")
    if isinstance(digits, str) and digits.lstrip("+"):
        return f"I heard {said_digits(digits)}, but that doesn't look like a valid {noun}. {again}"
    return None


def said_digits(digits: str) -> str:
    """Digits in the groups people say them in: "5551234567" -> "555 123 4567", a leading
    country code 1 apart, otherwise threes with no digit left alone at the end."""
    sign = "+" if digits.startswith("+") else ""
    body = digits.lstrip("+")
    head: list[str] = []
    if len(body) == _US_LENGTH + 1 and body.startswith("1"):
        head, body = ["1"], body[1:]
    if len(body) == _US_LENGTH:
        groups = [body[:3], body[3:6], body[6:]]
    else:
        groups = [body[start : start + 3] for start in range(0, len(body), 3)]
        if len(groups) > 1 and len(groups[-1]) == 1:
            groups[-2:] = [groups[-2] + groups[-1]]
    return sign + " ".join([*head, *groups])
