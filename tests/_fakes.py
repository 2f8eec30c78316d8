"""Test doubles shared across the suite: one home for each, so they cannot drift apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from voicecore.capture import CaptureParams, CapturePrimitive, HeldValue, Reading, Reply

__all__ = ["FakeClock", "FourDigits"]

DIGITS = "0123456789"
_LAST_DIGIT = re.compile(r"(?:the )?last (?:one|digit) is (\d)")


@dataclass
class FakeClock:
    """Monotonic seconds that move only when the test says: set ``now`` or call ``advance``."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += seconds


class FourDigits(CapturePrimitive[CaptureParams]):
    """A fake capture: a value is exactly four digits; fewer are kept as a partial.

    ``correct`` understands "last digit is N"; a "?" in the text lowers the certainty.
    """

    name = "capture_fake"
    version = "0.0.1"
    description = "four digits (tests)"
    noun = "code"
    params_model: ClassVar[type[CaptureParams]] = CaptureParams

    def read(self, text: str, params: CaptureParams, partial: str | None) -> Reading:
        digits = (partial or "") + "".join(ch for ch in text if ch in DIGITS)
        if not digits or digits == partial:
            return Reading(None, reason="no_value_heard", certainty=0.0)
        if len(digits) < 4:
            return Reading(None, " ".join(digits), reason="too_few_digits", partial=digits)
        if len(digits) > 4:
            return Reading(None, reason="too_many_digits", certainty=0.0)
        certainty = 0.5 if "?" in text else 1.0
        return Reading(digits, " ".join(digits), {"length": 4}, certainty)

    def correct(self, held: HeldValue, reply: Reply, params: CaptureParams) -> Reading | None:
        match = _LAST_DIGIT.search(reply.text)
        if match is None:
            return None
        value = held.value[:-1] + match.group(1)
        return Reading(value, " ".join(value), {"length": 4})
