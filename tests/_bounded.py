"""Run code that might never end (a reader looping in place) so that a test fails instead."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

__all__ = ["RanAway", "bounded"]

T = TypeVar("T")

#: Far more calls than any reading of a short utterance makes (tens of thousands at most).
CALLS = 2_000_000


class RanAway(AssertionError):
    """The work made more calls than it was allowed: a loop that does not advance."""


def bounded(work: Callable[[], T], calls: int = CALLS) -> T:
    """``work()``, stopped with ``RanAway`` once it has made ``calls`` calls (Python or builtin).

    Work is counted, not timed, so the bound fails a runaway loop on any machine, at once
    and before it fills memory, without a slow run ever failing it.
    """
    made = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal made
        if event in ("call", "c_call"):
            made += 1
            if made > calls:
                raise RanAway(f"more than {calls} calls: a loop that does not advance")

    sys.setprofile(count)
    try:
        return work()
    finally:
        sys.setprofile(None)
