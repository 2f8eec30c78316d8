"""The in-memory backends of the three seams, built from ``Settings``: one home for the defaults.

``VoiceCoreService`` uses each one that it is not given. They keep everything in this process, so
two replicas do not share captures, records or events; a shared backend replaces them.
"""

from __future__ import annotations

from voicecore.capture import InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.idempotency import InMemoryIdempotencyStore
from voicecore.stores import MemoryStore

__all__ = ["in_memory_captures", "in_memory_events", "in_memory_idempotency", "in_memory_store"]


def in_memory_store(
    settings: Settings,
    *,
    events: InMemoryEventLog | None = None,
    captures: InMemoryCaptureStore | None = None,
    idempotency: InMemoryIdempotencyStore | None = None,
) -> MemoryStore:
    """The three in-memory backends behind one commit; each not given is built from ``settings``."""
    return MemoryStore(
        events if events is not None else in_memory_events(settings),
        captures if captures is not None else in_memory_captures(settings),
        idempotency if idempotency is not None else in_memory_idempotency(settings),
    )


def in_memory_events(settings: Settings) -> InMemoryEventLog:
    """An event log bounded by ``event_retention`` events and ``event_retention_bytes``."""
    return InMemoryEventLog(
        settings.event_retention, retention_bytes=settings.event_retention_bytes
    )


def in_memory_captures(settings: Settings) -> InMemoryCaptureStore:
    """Held captures bounded by count and bytes, each forgotten ``capture_ttl`` after its turn."""
    return InMemoryCaptureStore(
        max_entries=settings.capture_max_entries,
        max_bytes=settings.capture_max_bytes,
        ttl=settings.capture_ttl,
    )


def in_memory_idempotency(settings: Settings) -> InMemoryIdempotencyStore:
    """Responses recorded in their wire form, bounded by count, bytes and ``idempotency_ttl``."""
    return InMemoryIdempotencyStore(
        max_entries=settings.idempotency_max_entries,
        max_bytes=settings.idempotency_max_bytes,
        ttl=settings.idempotency_ttl,
    )
