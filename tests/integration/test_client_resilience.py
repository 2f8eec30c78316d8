"""VoiceCoreClient against an absent, then a real server, directly or through the fault proxy.

The breaker story (UNAVAILABLE, then CIRCUIT_BREAKER_OPEN without touching the network, then
HALF_OPEN and CLOSED once the server is up) and retries that apply a turn exactly once.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
import pytest_asyncio

from tests._servers import RunningServer, free_port, start_server
from tests._waiting import until
from tests.faultproxy import FaultProxy
from voicecore._proto.voicecore.v1 import ErrorCode, Event, ExecutePrimitiveResponse
from voicecore.client import (
    BreakerConfig,
    BreakerState,
    ClientConfig,
    RetryPolicy,
    VoiceCoreClient,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

# Short backoffs and open interval keep the tests quick; the logic is the default's.
FAST = ClientConfig(
    breaker=BreakerConfig(open_seconds=0.5),
    retry=RetryPolicy(initial_backoff=0.01, max_backoff=0.05),
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    async with start_server("--debug-primitives") as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def proxy(server: RunningServer) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(server.host, server.port) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def direct(server: RunningServer) -> AsyncIterator[VoiceCoreClient]:
    """A client that bypasses the proxy, to look at the server's event log."""
    async with VoiceCoreClient(server.target) as client:
        yield client


def error_code(response: ExecutePrimitiveResponse) -> ErrorCode | None:
    """The response's error code, or None on success."""
    return response.error.code if response.error is not None else None


def attempts(response: ExecutePrimitiveResponse) -> int:
    """Attempts the client made for a failure it produced itself."""
    assert response.metadata is not None
    return response.metadata.retry_count + 1


async def has_completed(client: VoiceCoreClient, conversation_id: str) -> bool:
    """The conversation's turn has run to its end on the server (its response may be held)."""
    return any(e.type == "primitive.completed" for e in await events_of(client, conversation_id))


async def events_of(client: VoiceCoreClient, conversation_id: str) -> list[Event]:
    """The conversation's events as the server keeps them."""
    stream = client.stream_events(conversation_id, follow=False)
    async with aclosing(stream) as events:
        return [event async for event in events]


async def started_count(client: VoiceCoreClient, conversation_id: str) -> int:
    """How many times the server began a turn in the conversation."""
    return sum(e.type == "primitive.started" for e in await events_of(client, conversation_id))


class TestBreakerAgainstAbsentServer:
    """No server: UNAVAILABLE until 5 attempts failed, then fast CIRCUIT_BREAKER_OPEN; recovery."""

    async def test_open_then_recover(self) -> None:
        """The full story on one port: dead, open, server starts, half-open, closed."""
        port = free_port()
        transitions: list[tuple[BreakerState, BreakerState]] = []
        client = VoiceCoreClient(
            f"127.0.0.1:{port}",
            config=FAST,
            on_breaker_transition=lambda old, new: transitions.append((old, new)),
        )
        async with client:
            failed = [await client.execute("debug_echo", {}, conversation_id="c") for _ in range(2)]
            assert [error_code(r) for r in failed] == [ErrorCode.UNAVAILABLE] * 2
            assert sum(attempts(r) for r in failed) == 5
            durations = []
            for _ in range(10):
                started = time.perf_counter()
                fast = await client.execute("debug_echo", {}, conversation_id="c")
                durations.append(time.perf_counter() - started)
                assert error_code(fast) is ErrorCode.CIRCUIT_BREAKER_OPEN
            # Generous, and a median so a busy shared runner cannot flake it: this only proves
            # there is no network wait (typically ~50 us here; a refused connect takes ms).
            assert statistics.median(durations) < 0.05
            async with start_server("--debug-primitives", port=port):
                await until(lambda: client.breaker.state is not BreakerState.OPEN, timeout=5)
                for _ in range(2):
                    ok = await client.execute("debug_echo", {}, conversation_id="c")
                    assert ok.success
        assert transitions == [
            (BreakerState.CLOSED, BreakerState.OPEN),
            (BreakerState.OPEN, BreakerState.HALF_OPEN),
            (BreakerState.HALF_OPEN, BreakerState.CLOSED),
        ]

    async def test_open_breaker_opens_no_connection(self, proxy: FaultProxy) -> None:
        """With the breaker open, calls reach no socket: the proxy accepts nothing more."""
        proxy.refuse = True
        async with VoiceCoreClient(proxy.endpoint, config=FAST) as client:
            for _ in range(2):
                await client.execute("debug_echo", {}, conversation_id="c")
            assert client.breaker.state is BreakerState.OPEN
            connections = proxy.accepted
            for _ in range(20):
                response = await client.execute("debug_echo", {}, conversation_id="c")
                assert error_code(response) is ErrorCode.CIRCUIT_BREAKER_OPEN
            assert proxy.accepted == connections == 5


class TestRetriesApplyOnce:
    """Retries carry one idempotency key, so the server applies the turn once."""

    async def test_refused_connections_retried(
        self, proxy: FaultProxy, direct: VoiceCoreClient
    ) -> None:
        """Two refused connections, then success: three connections, one turn."""
        proxy.refuse_next = 2
        conv = uuid.uuid4().hex
        async with VoiceCoreClient(proxy.endpoint, config=FAST) as client:
            response = await client.execute("debug_echo", {"x": 1}, conversation_id=conv)
        assert response.success
        assert proxy.accepted == 3
        assert await started_count(direct, conv) == 1

    async def test_lost_response_replayed(self, proxy: FaultProxy, direct: VoiceCoreClient) -> None:
        """The server ran the turn but the answer was lost: the retry gets the recorded one."""
        conv = uuid.uuid4().hex
        proxy.hold_responses()
        async with VoiceCoreClient(proxy.endpoint, config=FAST) as client:
            call = asyncio.create_task(
                client.execute(
                    "capture_email",
                    {"transcription": "ann at example dot com"},
                    conversation_id=conv,
                )
            )
            await until(lambda: has_completed(direct, conv))
            assert proxy.reset_all() >= 1
            proxy.release_responses()
            response = await call
        assert response.success and response.metadata is not None
        assert response.metadata.replayed
        assert await started_count(direct, conv) == 1

    async def test_slow_network_times_out(self, proxy: FaultProxy) -> None:
        """A network slower than the deadline gives TIMEOUT, not a hang and not a retry."""
        proxy.delay = 0.5
        async with VoiceCoreClient(proxy.endpoint, config=FAST) as client:
            response = await client.execute(
                "debug_echo", {}, conversation_id=uuid.uuid4().hex, timeout=0.3
            )
        assert error_code(response) is ErrorCode.TIMEOUT
        assert attempts(response) == 1

    async def test_flaky_primitive_retried_by_server(
        self, proxy: FaultProxy, direct: VoiceCoreClient
    ) -> None:
        """debug_flaky failing twice is retried inside the server: one call, one turn."""
        conv = uuid.uuid4().hex
        async with VoiceCoreClient(proxy.endpoint, config=FAST) as client:
            response = await client.execute("debug_flaky", {"failures": 2}, conversation_id=conv)
        assert response.success and response.metadata is not None
        assert response.metadata.retry_count == 2
        assert proxy.accepted == 1
        assert await started_count(direct, conv) == 1

    async def test_exhausted_flaky_not_retried_by_client(
        self, proxy: FaultProxy, direct: VoiceCoreClient
    ) -> None:
        """An INTERNAL answer may have applied the turn: the client does not repeat it."""
        conv = uuid.uuid4().hex
        async with VoiceCoreClient(proxy.endpoint, config=FAST) as client:
            response = await client.execute("debug_flaky", {"failures": 5}, conversation_id=conv)
            assert error_code(response) is ErrorCode.INTERNAL
            assert client.breaker.consecutive_failures == 1
        assert await started_count(direct, conv) == 1
