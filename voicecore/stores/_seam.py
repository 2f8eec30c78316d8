"""The one write path of the state calls share: a turn's writes, committed together or not at all.

A turn reads the capture states it needs (``Store.load``, through ``StagedCaptures``, the
``StateStore`` a primitive is given) and stages everything it writes: the capture states (or
their deletion), with the version each was read at; its events; and, with an idempotency key,
a ``Claim`` with the response to record. ``Store.commit`` then applies all of it atomically:

1. a record under the claim's key wins: nothing is written, the record comes back (``Replay``);
2. a capture whose version moved since the turn read it: nothing is written (``Conflict``), and
   the executor runs the turn again on the new state;
3. otherwise the states, the record and the events are written together (``Committed``), the
   events numbered by the commit, strictly increasing across every writer of the store.

No backend holds a lock while a turn is computed, so a replica that dies mid-turn leaves nothing
to clean up, and a turn is never half-written.

``Store.erase`` (``DeleteConversation``) is the other write: atomically, it forgets one
conversation's capture states and idempotency records, deletes its events from the log (but
earlier erasure events) and appends the erasure event, whose payload holds only the counts. A
turn that read a state before the erasure then meets a ``Conflict`` and runs on a fresh state;
a retry under a forgotten key runs again.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from voicecore.capture import CaptureState
from voicecore.capture._store import CaptureWrite, Versioned
from voicecore.errors import PrimitiveError, VoicecoreError
from voicecore.events import EventLog, NewEvent
from voicecore.idempotency import Claim, Record

__all__ = [
    "Committed",
    "Conflict",
    "Erasure",
    "Outcome",
    "Replay",
    "StagedCaptures",
    "Store",
    "StoreOpenError",
    "StoreUnavailableError",
    "TurnContendedError",
    "TurnWrites",
]


@dataclass(frozen=True, slots=True)
class TurnWrites:
    """Everything one turn writes, committed together."""

    events: tuple[NewEvent, ...]
    captures: tuple[CaptureWrite, ...] = ()
    claim: Claim | None = None


@dataclass(frozen=True, slots=True)
class Committed:
    """The turn is written; ``sequences`` are its events', in order."""

    sequences: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Conflict:
    """A capture the turn read was written meanwhile: nothing is written; compute again."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The claim's key was applied already: nothing is written; answer with ``record``."""

    record: Record


Outcome: TypeAlias = Committed | Conflict | Replay


@dataclass(frozen=True, slots=True)
class Erasure:
    """What ``Store.erase`` removed, and the sequence of the erasure event it appended."""

    sequence: int
    events: int
    captures: int
    records: int

    def payload(self) -> dict[str, int]:
        """The erasure event's payload: counts, never a value."""
        return {
            "events_deleted": self.events,
            "captures_forgotten": self.captures,
            "records_forgotten": self.records,
        }


class Store(Protocol):
    """The state shared by calls: capture states, idempotency records and the event log."""

    @property
    def events(self) -> EventLog:
        """The event log, for replay and follow (its writes come through ``commit``)."""
        ...

    async def load(self, key: Hashable) -> Versioned:
        """The capture state kept for ``key`` and its version."""
        ...

    async def commit(self, turn: TurnWrites) -> Outcome:
        """Write ``turn`` atomically, or nothing (see the module docstring)."""
        ...

    async def erase(self, event: NewEvent) -> Erasure | None:
        """Erase ``event``'s conversation in ``event``'s tenant and append ``event`` (an
        ``ERASURE_EVENT``; its payload is set to ``Erasure.payload``), atomically; None, and
        nothing written, when the conversation holds nothing (see the module docstring)."""
        ...

    async def reachable(self) -> bool:
        """Whether the store answers now (health)."""
        ...

    async def aclose(self) -> None:
        """Let go of what the store holds (connections, tasks)."""
        ...


class StoreOpenError(VoicecoreError):
    """The configured store cannot be used at start: a bad URL, no answer, a wrong password."""


class StoreUnavailableError(PrimitiveError):
    """The store did not answer in time: nothing of the turn is known to be written; a retry
    with the same idempotency key is safe."""

    code = "UNAVAILABLE"
    retryable = True


class TurnContendedError(PrimitiveError):
    """Other turns of the same capture kept committing first: try again."""

    code = "UNAVAILABLE"
    retryable = True

    def __init__(self, tries: int) -> None:
        super().__init__(f"the capture changed under this turn {tries} times; try again")


class StagedCaptures:
    """The ``StateStore`` a primitive is given for one try of a turn: reads go to the store (and
    remember the version read), writes are staged until the turn commits."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._read: dict[Hashable, int] = {}
        self._staged: dict[Hashable, CaptureState | None] = {}

    async def get(self, key: Hashable) -> CaptureState | None:
        """The state this turn sees: what it staged, or what the store keeps."""
        if key in self._staged:
            return self._staged[key]
        kept = await self._store.load(key)
        self._read.setdefault(key, kept.version)
        return kept.state

    async def put(self, key: Hashable, state: CaptureState) -> None:
        """Stage ``state`` for ``key``."""
        self._staged[key] = state

    async def delete(self, key: Hashable) -> None:
        """Stage forgetting ``key``."""
        self._staged[key] = None

    def writes(self) -> tuple[CaptureWrite, ...]:
        """The staged writes, each with the version it was read at (None: not read)."""
        return tuple(
            CaptureWrite(key, state, self._read.get(key)) for key, state in self._staged.items()
        )
