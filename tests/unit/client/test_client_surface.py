"""The public surface of voicecore.client: small, sorted, and all importable."""

from __future__ import annotations

import voicecore.client


class TestSurface:
    """What orchestration may import."""

    def test_all_sorted_and_present(self) -> None:
        """__all__ is sorted and every name in it exists."""
        names = voicecore.client.__all__
        assert names == sorted(names)
        assert all(hasattr(voicecore.client, name) for name in names)

    def test_exact_surface(self) -> None:
        """Exactly the clients, the breaker, the policies and the client errors are exported."""
        assert voicecore.client.__all__ == [
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
