"""The Voice Core client orchestration imports: a sick or absent server degrades, never hangs.

``VoiceCoreClient`` talks gRPC; ``InProcessClient`` runs Voice Core in this process behind the
same interface (``VoiceCoreClientBase``); ``VoiceCoreClient.from_env()`` picks one from the
``VOICE_CORE_*`` variables. Every call has a deadline; ``execute`` retries safe failures under one
idempotency key within a retry budget and goes through a per-target ``CircuitBreaker``.
"""

from __future__ import annotations

from voicecore.client._base import VoiceCoreClientBase
from voicecore.client._breaker import (
    BreakerConfig,
    BreakerState,
    CallOutcome,
    CircuitBreaker,
    CircuitOpenError,
    RateWindow,
)
from voicecore.client._config import ClientConfig, StreamPolicy
from voicecore.client._errors import (
    EventsEvictedError,
    EventStreamUnavailableError,
    VoiceCoreCallError,
)
from voicecore.client._grpc import VoiceCoreClient
from voicecore.client._inprocess import InProcessClient
from voicecore.client._retry import RetryBudget, RetryPolicy
from voicecore.errors import VoiceCoreClientError

__all__ = [
    "BreakerConfig",
    "BreakerState",
    "CallOutcome",
    "CircuitBreaker",
    "CircuitOpenError",
    "ClientConfig",
    "EventStreamUnavailableError",
    "EventsEvictedError",
    "InProcessClient",
    "RateWindow",
    "RetryBudget",
    "RetryPolicy",
    "StreamPolicy",
    "VoiceCoreCallError",
    "VoiceCoreClient",
    "VoiceCoreClientBase",
    "VoiceCoreClientError",
]
