"""capture_card's events: a card in a payload is its number masked to the last four, never a
token.

``run_turn`` writes a value into an event payload as ``redact(value)``, which for a card is a
token's first letters: safe, and useless to whoever reads the events. A card turn runs on a
store that remembers the state it read (the held card a "no" rejects or a correction
replaces) and holds its events back; when the turn is done, each redacted token is replaced by
the masked number of the card it seals.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from voicecore._json import JsonValue
from voicecore.capture import CaptureState
from voicecore.primitive import EmitEvent, StateStore

__all__ = ["HeldEvents", "SeenStates"]

# The payload keys ``run_turn`` writes a redacted value into.
_REDACTED: Final = frozenset({"value_redacted", "previous_redacted"})
_UNKNOWN: Final = "***"


@dataclass
class SeenStates:
    """The ``StateStore`` a card turn runs on: ``store``, remembering the states read."""

    store: StateStore[Any]
    read: list[CaptureState] = field(default_factory=list)

    async def get(self, key: Hashable) -> CaptureState | None:
        state: CaptureState | None = await self.store.get(key)
        if state is not None:
            self.read.append(state)
        return state

    async def put(self, key: Hashable, state: CaptureState) -> None:
        await self.store.put(key, state)

    async def delete(self, key: Hashable) -> None:
        await self.store.delete(key)


@dataclass
class HeldEvents:
    """A turn's events, held until ``release`` emits them with the cards shown masked."""

    held: list[tuple[str, Mapping[str, JsonValue]]] = field(default_factory=list)

    async def emit(self, event_type: str, payload: Mapping[str, JsonValue]) -> None:
        self.held.append((event_type, payload))

    async def release(self, emit: EmitEvent, shown: Mapping[str, str]) -> None:
        """Emit the held events in order; a redacted value becomes what ``shown`` maps it to
        (``***`` if it maps nothing: never the redacted token)."""
        for event_type, payload in self.held:
            await emit(
                event_type,
                {
                    key: shown.get(value, _UNKNOWN)
                    if key in _REDACTED and isinstance(value, str)
                    else value
                    for key, value in payload.items()
                },
            )
