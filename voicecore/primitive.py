"""What every primitive is: a name, a version, a params model, its event types and ``execute``."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Generic, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict

from voicecore._json import JsonValue
from voicecore._proto.voicecore.v1 import PrimitiveState

if TYPE_CHECKING:
    from voicecore.capture import CaptureStore

__all__ = [
    "EmitEvent",
    "JsonValue",
    "Primitive",
    "PrimitiveContext",
    "PrimitiveParams",
    "PrimitiveResult",
    "PrimitiveState",
]

EmitEvent: TypeAlias = Callable[[str, Mapping[str, JsonValue]], Awaitable[int]]
"""Appends an event of a type with a payload to the log; returns its sequence."""


class PrimitiveParams(BaseModel):
    """Base of every params model: frozen, and unknown keys are errors that name the key."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class PrimitiveContext:
    """What a primitive knows about the call it runs in.

    ``emit`` appends an event that already carries the conversation, trace id and objective
    type; ``captures`` holds multi-turn capture state keyed by conversation and objective.
    """

    objective_type: str
    trace_id: str
    emit: EmitEvent
    captures: CaptureStore
    conversation_id: str = ""
    purpose: str = ""
    #: How many times this call has been retried before the current try (0 on the first).
    retry_count: int = 0


@dataclass(slots=True)
class PrimitiveResult:
    """The outcome of one turn: the response ``data`` and the metadata the primitive decides."""

    data: dict[str, JsonValue] = field(default_factory=dict)
    state: PrimitiveState = PrimitiveState.COMPLETED
    confidence: float = 0.0
    attempt: int = 1


ParamsT = TypeVar("ParamsT", bound=PrimitiveParams)


class Primitive(abc.ABC, Generic[ParamsT]):
    """One capture or check an agent needs in one conversational turn.

    Subclasses set the class attributes and implement ``execute``. Raise
    ``voicecore.errors.TransientPrimitiveError`` for a failure worth retrying; any other
    exception is a bug and reaches the caller as ``INTERNAL``.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    params_model: ClassVar[type[PrimitiveParams]]
    event_types: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    async def execute(self, params: ParamsT, ctx: PrimitiveContext) -> PrimitiveResult:
        """Run one turn with validated ``params``."""
