"""Where the state calls share lives: one ``Store`` per service, in memory or on Redis.

``Store`` is the seam (``voicecore.stores._seam`` describes the commit); ``MemoryStore`` keeps
everything in this process.
"""

from __future__ import annotations

from voicecore.stores._memory import MemoryStore
from voicecore.stores._seam import (
    Committed,
    Conflict,
    Erasure,
    Outcome,
    Replay,
    StagedCaptures,
    Store,
    StoreOpenError,
    StoreUnavailableError,
    TurnContendedError,
    TurnWrites,
)

__all__ = [
    "Committed",
    "Conflict",
    "Erasure",
    "MemoryStore",
    "Outcome",
    "Replay",
    "StagedCaptures",
    "Store",
    "StoreOpenError",
    "StoreUnavailableError",
    "TurnContendedError",
    "TurnWrites",
]
