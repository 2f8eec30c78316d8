"""The primitive contract: what every primitive is (a name, a version, a params model, its event
types and ``execute``) and what it is given (``PrimitiveContext``).

The contract knows no primitive family: a primitive that keeps state between turns (the capture
primitives of ``voicecore.capture``) finds it in ``PrimitiveContext.captures``, a ``StateStore``.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict

from voicecore._json import JsonValue
from voicecore._proto.voicecore.v1 import PrimitiveState

__all__ = [
    "EmitEvent",
    "JsonValue",
    "Primitive",
    "PrimitiveContext",
    "PrimitiveParams",
    "PrimitiveResult",
    "PrimitiveState",
    "StateStore",
]

EmitEvent: TypeAlias = Callable[[str, Mapping[str, JsonValue]], Awaitable[object]]
"""Emits an event of a type with a payload: it reaches the log when the turn commits, with the
turn's other writes (so a turn computed again, or replayed, emits nothing twice)."""


StateT = TypeVar("StateT")


class StateStore(Protocol[StateT]):
    """Where a primitive's state lives between the turns of a conversation.

    A backend (in memory, shared) implements these three calls for one type of state, which it
    may keep in its own form; the in-memory one for captures is
    ``voicecore.capture.InMemoryCaptureStore``.
    """

    async def get(self, key: Hashable) -> StateT | None:
        """The state kept for ``key``, or None (never kept, ended, or expired)."""
        ...

    async def put(self, key: Hashable, state: StateT) -> None:
        """Keep ``state`` for ``key``, replacing what was there."""
        ...

    async def delete(self, key: Hashable) -> None:
        """Forget ``key``; no error if nothing is kept."""
        ...


class PrimitiveParams(BaseModel):
    """Base of every params model: frozen, and unknown keys are errors that name the key."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, slots=True)
class PrimitiveContext:
    """What a primitive knows about the call it runs in.

    ``emit`` appends an event that already carries the conversation, trace id and objective
    type; ``captures`` keeps state between turns (each primitive family its own type of state,
    hence ``Any`` here: ``voicecore.capture`` keeps a ``CaptureState`` per conversation and
    objective).
    """

    objective_type: str
    trace_id: str
    emit: EmitEvent
    captures: StateStore[Any]
    conversation_id: str = ""
    purpose: str = ""
    #: The caller's tenant: a conversation id names a different conversation in each tenant.
    tenant: str = ""
    #: How many times this call has been retried before the current try (0 on the first).
    retry_count: int = 0


@dataclass(slots=True)
class PrimitiveResult:
    """The outcome of one turn: the response ``data`` and the metadata the primitive decides.

    ``turns`` is how many turns the primitive's task has taken, this one included (a capture
    counts from its first turn): the server's metrics observe it when the task completes.
    """

    data: dict[str, JsonValue] = field(default_factory=dict)
    state: PrimitiveState = PrimitiveState.COMPLETED
    confidence: float = 0.0
    attempt: int = 1
    turns: int = 1


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
