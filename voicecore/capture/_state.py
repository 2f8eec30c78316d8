"""What a capture keeps between turns: the value waiting for confirmation, or a partial one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voicecore._json import JsonValue

__all__ = ["Candidate", "CaptureState", "HeldValue"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """Another reading of the turn, with its confidence."""

    value: str
    confidence: float


@dataclass(frozen=True, slots=True)
class HeldValue:
    """A value read from the caller: canonical value, how to say it, its parts and confidence."""

    value: str
    readback: str
    parts: Mapping[str, JsonValue]
    confidence: float
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class CaptureState:
    """What a capture keeps between turns.

    ``attempt`` is the attempt in progress (1-based); ``held`` the value waiting for the
    caller's confirmation; ``partial`` an incomplete value that later turns complete, and
    ``partial_readback`` how to say it; ``unclear`` how many answers to the readback of
    ``held`` were not understood (bounded by ``CaptureParams.max_unclear``); ``answered`` how
    many answers without a value ("none of them", two options equally close) spent no attempt
    (bounded by ``CaptureParams.max_unclear`` too); ``turns`` how many turns the capture has
    taken (every one, confirmations and unclear answers included).
    """

    attempt: int = 1
    held: HeldValue | None = None
    partial: str | None = None
    partial_readback: str = ""
    unclear: int = 0
    answered: int = 0
    turns: int = 0
