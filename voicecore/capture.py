"""The capture state machine and the store that keeps it between turns.

FIRST CUT (single turn): chooses among hypotheses and reports NEEDS_CONFIRMATION, COMPLETED or
INCOMPLETE. The multi-turn machine of DESIGN.md section 3 replaces ``run_turn``'s body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from voicecore.primitives.base import (
    JsonValue,
    PrimitiveContext,
    PrimitiveResult,
    PrimitiveState,
)

if TYPE_CHECKING:
    from voicecore.primitives._capture import CaptureParams, CapturePrimitive

__all__ = ["CaptureKey", "CaptureStore", "InMemoryCaptureStore", "run_turn"]


@dataclass(frozen=True, slots=True)
class CaptureKey:
    """Capture state is kept per conversation and primitive."""

    conversation_id: str
    objective_type: str


class CaptureStore(Protocol):
    """Where capture state lives between turns."""

    async def get(self, key: CaptureKey) -> Any | None: ...
    async def put(self, key: CaptureKey, state: Any) -> None: ...
    async def delete(self, key: CaptureKey) -> None: ...


class InMemoryCaptureStore:
    """A dict; the multi-turn issue bounds it."""

    def __init__(self) -> None:
        self._states: dict[CaptureKey, Any] = {}

    async def get(self, key: CaptureKey) -> Any | None:
        return self._states.get(key)

    async def put(self, key: CaptureKey, state: Any) -> None:
        self._states[key] = state

    async def delete(self, key: CaptureKey) -> None:
        self._states.pop(key, None)


async def run_turn(
    primitive: CapturePrimitive[Any], params: CaptureParams, ctx: PrimitiveContext
) -> PrimitiveResult:
    """Run one turn of a capture."""
    reading = primitive.read(params.transcription, params, None)
    data: dict[str, JsonValue] = {"attempts": 1}
    if reading.value is None:
        data["reason"] = reading.reason or "no_value_heard"
        return PrimitiveResult(data=data, state=PrimitiveState.INCOMPLETE, confidence=0.0)
    data.update(value=reading.value, readback=reading.readback, **dict(reading.parts))
    await ctx.emit("capture.value_captured", {"objective_type": ctx.objective_type})
    state = (
        PrimitiveState.NEEDS_CONFIRMATION
        if params.require_confirmation
        else PrimitiveState.COMPLETED
    )
    confidence = reading.certainty * (params.asr_confidence or 1.0)
    return PrimitiveResult(data=data, state=state, confidence=confidence)


