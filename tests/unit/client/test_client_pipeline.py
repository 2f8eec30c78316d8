"""The client's layering (deadline, retry, breaker, call) over a scripted transport, no network."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from loguru import logger

from tests._fakes import FakeClock
from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    DeleteConversationResponse,
    Error,
    ErrorCode,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    HealthCheckResponse,
    ListPrimitivesResponse,
    StreamEventsRequest,
)
from voicecore.client import (
    BreakerConfig,
    BreakerState,
    ClientConfig,
    EventsEvictedError,
    EventStreamUnavailableError,
    StreamPolicy,
    VoiceCoreCallError,
    VoiceCoreClientBase,
)

Step = BaseException | ExecutePrimitiveResponse
Connection = Sequence[Event | BaseException]
OK = ExecutePrimitiveResponse(success=True)


class ScriptedClient(VoiceCoreClientBase):
    """A client whose transport replays a script instead of talking to a server."""

    def __init__(
        self,
        steps: Sequence[Step] = (),
        connections: Sequence[Connection] = (),
        config: ClientConfig | None = None,
    ) -> None:
        self.clock = FakeClock()
        self.slept: list[float] = []
        self.transitions: list[tuple[BreakerState, BreakerState]] = []
        super().__init__(
            config or ClientConfig(),
            clock=self.clock,
            sleep=self._no_sleep,
            on_breaker_transition=lambda old, new: self.transitions.append((old, new)),
        )
        self.steps = list(steps)
        self.connections = list(connections)
        self.requests: list[ExecutePrimitiveRequest] = []
        self.stream_requests: list[int] = []
        self.deletes: list[DeleteConversationRequest] = []

    async def _no_sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def aclose(self) -> None:
        """Nothing to close."""

    async def _send_execute(
        self, request: ExecutePrimitiveRequest, time_left: float
    ) -> ExecutePrimitiveResponse:
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else OK
        if isinstance(step, BaseException):
            raise step
        return step

    async def _open_events(
        self, request: StreamEventsRequest, timeout: float | None
    ) -> AsyncIterator[Event | None]:
        self.stream_requests.append(request.after_sequence)
        connection = self.connections.pop(0)
        if connection and isinstance(connection[0], ConnectionRefusedError):
            raise connection[0]
        yield None
        for item in connection:
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _send_health(self, time_left: float) -> HealthCheckResponse:
        step = self.steps.pop(0) if self.steps else None
        if isinstance(step, BaseException):
            raise step
        return HealthCheckResponse(status="SERVING")

    async def _send_list(self, time_left: float) -> ListPrimitivesResponse:
        step = self.steps.pop(0) if self.steps else None
        if isinstance(step, BaseException):
            raise step
        return ListPrimitivesResponse()

    async def _send_delete(
        self, request: DeleteConversationRequest, time_left: float
    ) -> DeleteConversationResponse:
        self.deletes.append(request)
        step = self.steps.pop(0) if self.steps else None
        if isinstance(step, BaseException):
            raise step
        return DeleteConversationResponse(sequence=7)


def state_of(client: VoiceCoreClientBase) -> BreakerState:
    """The breaker state, read through a call so the type checker does not pin it."""
    return client.breaker.state


def refused() -> ConnectionRefusedError:
    """What connecting to a port nobody listens on raises."""
    return ConnectionRefusedError(111, "Connect call failed")


async def code_of(client: VoiceCoreClientBase, timeout: float | None = None) -> ErrorCode | None:
    """Execute once; the error code, or None on success."""
    response = await client.execute("debug_echo", {}, conversation_id="c", timeout=timeout)
    return response.error.code if response.error else None


class TestExecuteRetries:
    """Safe failures are retried under one idempotency key; the rest are not."""

    async def test_retried_until_success(self) -> None:
        """Two resets, then an answer: the caller sees the answer."""
        client = ScriptedClient([StreamTerminatedError("reset"), refused(), OK])
        assert await code_of(client) is None
        assert len(client.requests) == 3
        assert len(client.slept) == 2

    async def test_same_idempotency_key_every_attempt(self) -> None:
        """A generated key is shared by all attempts of one call and differs between calls."""
        client = ScriptedClient([refused(), OK, OK])
        await client.execute("debug_echo", {}, conversation_id="c")
        await client.execute("debug_echo", {}, conversation_id="c")
        keys = [r.idempotency_key for r in client.requests]
        assert keys[0] == keys[1] != keys[2]
        assert all(keys)

    async def test_given_key_and_trace_sent(self) -> None:
        """A caller's idempotency key and trace id are sent as given."""
        client = ScriptedClient()
        await client.execute(
            "debug_echo", {}, conversation_id="c", idempotency_key="k1", trace_id="a" * 32
        )
        assert client.requests[0].idempotency_key == "k1"
        assert client.requests[0].trace_id == "a" * 32

    @pytest.mark.parametrize(
        "step",
        [
            GRPCError(Status.INTERNAL),
            TimeoutError(),
            ExecutePrimitiveResponse(success=False, error=Error(code=ErrorCode.INTERNAL)),
        ],
        ids=["status INTERNAL", "deadline", "server INTERNAL response"],
    )
    async def test_unsafe_failures_not_retried(self, step: Step) -> None:
        """Failures that may have applied the turn, or ate the deadline, get one attempt."""
        client = ScriptedClient([step, OK])
        assert await code_of(client) is not None
        assert len(client.requests) == 1

    async def test_gives_up_after_three(self) -> None:
        """Three unreachable attempts give UNAVAILABLE, not an exception."""
        client = ScriptedClient([refused()] * 4)
        assert await code_of(client) is ErrorCode.UNAVAILABLE
        assert len(client.requests) == 3

    async def test_budget_stops_retry_storm(self) -> None:
        """Once half the retry tokens are spent, failures are no longer retried."""
        config = ClientConfig(breaker=BreakerConfig(failure_threshold=None))
        client = ScriptedClient([refused()] * 100, config=config)
        for _ in range(5):
            await code_of(client)
        attempts_before = len(client.requests)
        await code_of(client)
        assert len(client.requests) == attempts_before + 1


class TestBreakerLayering:
    """Each attempt passes the breaker; a retry never passes an open one."""

    async def test_dead_server_sequence(self) -> None:
        """UNAVAILABLE until five attempts failed, then CIRCUIT_BREAKER_OPEN without calling."""
        client = ScriptedClient([refused()] * 100)
        codes = [await code_of(client) for _ in range(4)]
        assert codes == [ErrorCode.UNAVAILABLE] * 2 + [ErrorCode.CIRCUIT_BREAKER_OPEN] * 2
        assert len(client.requests) == 5
        assert state_of(client) is BreakerState.OPEN

    async def test_recovery_after_open_interval(self) -> None:
        """After the open interval two successful calls close the breaker again."""
        client = ScriptedClient([refused()] * 5)
        for _ in range(3):
            await code_of(client)
        client.clock.now += 30
        assert state_of(client) is BreakerState.HALF_OPEN
        assert await code_of(client) is None
        assert await code_of(client) is None
        assert state_of(client) is BreakerState.CLOSED
        assert client.transitions == [
            (BreakerState.CLOSED, BreakerState.OPEN),
            (BreakerState.OPEN, BreakerState.HALF_OPEN),
            (BreakerState.HALF_OPEN, BreakerState.CLOSED),
        ]

    async def test_caller_mistakes_do_not_open(self) -> None:
        """INVALID_PARAMS and PRIMITIVE_NOT_FOUND answers never open the breaker."""
        mistakes = [
            ExecutePrimitiveResponse(success=False, error=Error(code=code))
            for code in (ErrorCode.INVALID_PARAMS, ErrorCode.PRIMITIVE_NOT_FOUND) * 5
        ]
        client = ScriptedClient(mistakes)
        for _ in range(10):
            await code_of(client)
        assert state_of(client) is BreakerState.CLOSED

    @pytest.mark.parametrize("status", [Status.UNAUTHENTICATED, Status.PERMISSION_DENIED])
    async def test_refused_credentials_once_each_breaker_closed(self, status: Status) -> None:
        """A refused credential is the caller's configuration: one attempt per call, no retry,
        and however many calls fail so, the breaker stays closed and the budget untouched."""
        client = ScriptedClient([GRPCError(status, "refused")] * 20)
        for _ in range(20):
            response = await client.execute("debug_echo", conversation_id="c")
            assert response.error is not None
            assert response.error.code is ErrorCode.INVALID_PARAMS
            assert not response.error.retryable
            assert response.error.message.startswith(f"gRPC {status.name}: refused")
        assert len(client.requests) == 20
        assert client.slept == []
        assert state_of(client) is BreakerState.CLOSED
        assert client.breaker.consecutive_failures == 0
        assert client.retry_budget.tokens == client.retry_budget.max_tokens

    async def test_a_bad_trace_id_is_the_callers_error(self) -> None:
        """A non-ASCII trace id is INVALID_PARAMS at once: nothing sent, breaker untouched."""
        client = ScriptedClient()
        for _ in range(10):
            response = await client.execute("debug_echo", conversation_id="c", trace_id="caf\u00e9")
            assert response.error is not None
            assert response.error.code == ErrorCode.INVALID_PARAMS
            assert "trace_id" in response.error.message
        assert client.requests == []
        assert state_of(client) is BreakerState.CLOSED

    async def test_arguments_that_fail_to_encode_do_not_open(self) -> None:
        """A ValueError raised while sending (bad metadata) is INVALID_PARAMS, not a failure."""
        client = ScriptedClient([ValueError("Invalid metadata value")] * 10)
        codes = [await code_of(client) for _ in range(10)]
        assert codes == [ErrorCode.INVALID_PARAMS] * 10
        assert state_of(client) is BreakerState.CLOSED

    async def test_a_bad_trace_id_for_events_raises(self) -> None:
        """stream_events refuses an invalid trace id before connecting."""
        with pytest.raises(ValueError, match="trace_id"):
            ScriptedClient().stream_events(trace_id="x" * 129)

    async def test_caller_cancellation_propagates_and_is_ignored(self) -> None:
        """Cancelling the caller raises CancelledError and leaves no failure behind."""
        client = ScriptedClient([asyncio.CancelledError()] * 10)
        for _ in range(10):
            with pytest.raises(asyncio.CancelledError):
                await code_of(client)
        assert state_of(client) is BreakerState.CLOSED
        assert client.breaker.consecutive_failures == 0


class TestDeadline:
    """Every call ends by its deadline."""

    async def test_hanging_transport_times_out(self) -> None:
        """A transport that never answers gives TIMEOUT at the deadline (outer guard)."""

        class Hanging(ScriptedClient):
            async def _send_execute(
                self, request: ExecutePrimitiveRequest, time_left: float
            ) -> ExecutePrimitiveResponse:
                await asyncio.Event().wait()
                raise AssertionError("unreachable")

        client = Hanging()
        assert await code_of(client, timeout=0.05) is ErrorCode.TIMEOUT

    async def test_deadline_spent_before_first_attempt(self) -> None:
        """A deadline already past when the attempt starts gives TIMEOUT without a call."""
        client = ScriptedClient()
        assert await code_of(client, timeout=1e-9) is ErrorCode.TIMEOUT
        assert client.requests == []

    async def test_caller_timeout_sent_to_server(self) -> None:
        """An explicit timeout travels as timeout_seconds; none sends 0 (server default)."""
        client = ScriptedClient()
        await code_of(client, timeout=2.5)
        await code_of(client)
        assert [r.timeout_seconds for r in client.requests] == [2.5, 0.0]


class TestHealthAndList:
    """health() never raises; list_primitives() raises one clear error."""

    async def test_health_unreachable(self) -> None:
        """An unreachable server reads NOT_SERVING with the reason."""
        client = ScriptedClient([refused()])
        health = await client.health()
        assert health.status == "NOT_SERVING"
        assert health.components["client"].startswith("UNAVAILABLE")

    async def test_health_ok(self) -> None:
        """A reachable server's answer is passed through."""
        assert (await ScriptedClient().health()).status == "SERVING"

    async def test_list_failure_raises(self) -> None:
        """list_primitives raises VoiceCoreCallError carrying the code."""
        client = ScriptedClient([refused()] * 3)
        with pytest.raises(VoiceCoreCallError) as failed:
            await client.list_primitives()
        assert failed.value.code is ErrorCode.UNAVAILABLE


def event(sequence: int) -> Event:
    """An event with just a sequence."""
    return Event(sequence=sequence, type="primitive.started")


async def collect(client: ScriptedClient, after: int = 0) -> list[int]:
    """The sequences a followed stream yields until it ends."""
    async with aclosing(client.stream_events(after_sequence=after)) as events:
        return [e.sequence async for e in events]


class TestResumableStream:
    """stream_events resumes after drops: no gap, no duplicate, bounded patience."""

    async def test_resumes_after_last_yielded(self) -> None:
        """A reset mid-stream reconnects with after_sequence = the last event yielded."""
        client = ScriptedClient(
            connections=[
                [event(1), event(2), StreamTerminatedError("reset")],
                [event(3)],
            ]
        )
        assert await collect(client) == [1, 2, 3]
        assert client.stream_requests == [0, 2]

    async def test_duplicates_dropped(self) -> None:
        """Events at or below the resume point are not yielded twice."""
        client = ScriptedClient(connections=[[event(5), refused()], [event(4), event(5), event(6)]])
        assert await collect(client, after=3) == [5, 6]

    async def test_an_event_out_of_order_is_an_error(self) -> None:
        """An event below the last one yielded on the same stream is a server bug: skipped, and
        logged as an ERROR with both sequences, never dropped in silence."""
        client = ScriptedClient(connections=[[event(1), event(3), event(2), event(4)]])
        errors: list[dict[str, object]] = []
        sink = logger.add(lambda m: errors.append(m.record["extra"]), level="ERROR")
        logger.enable("voicecore")  # a library's logs are off until the application turns them on
        try:
            assert await collect(client) == [1, 3, 4]
        finally:
            logger.disable("voicecore")
            logger.remove(sink)
        assert errors == [{"sequence": 2, "after_sequence": 3, "type": "primitive.started"}]

    async def test_refused_reconnects_then_gives_up(self) -> None:
        """Reconnecting stops after max_reconnects failures in a row with a clear error."""
        config = ClientConfig(stream=StreamPolicy(max_reconnects=2))
        client = ScriptedClient(
            connections=[[event(1), refused()], [refused()], [refused()], [refused()]],
            config=config,
        )
        with pytest.raises(EventStreamUnavailableError) as gave_up:
            await collect(client)
        assert gave_up.value.after_sequence == 1
        assert len(client.slept) == 2

    async def test_evicted_range_raised(self) -> None:
        """OUT_OF_RANGE from the server raises EventsEvictedError, not a silent skip."""
        client = ScriptedClient(connections=[[GRPCError(Status.OUT_OF_RANGE, "evicted")]])
        with pytest.raises(EventsEvictedError) as evicted:
            await collect(client, after=7)
        assert evicted.value.after_sequence == 7

    async def test_non_retryable_raised(self) -> None:
        """A status a reconnect cannot fix raises VoiceCoreCallError at once."""
        client = ScriptedClient(connections=[[GRPCError(Status.UNAUTHENTICATED, "no")]])
        with pytest.raises(VoiceCoreCallError):
            await collect(client)
