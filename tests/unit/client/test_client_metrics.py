"""The client's Prometheus metrics, read from an injected registry after scripted calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from prometheus_client import REGISTRY, CollectorRegistry

from tests._fakes import FakeClock
from voicecore._proto.voicecore.v1 import (
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
    InProcessClient,
    RetryPolicy,
    VoiceCoreClientBase,
)
from voicecore.client._breaker import CircuitOpenError
from voicecore.client._errors import EventsEvictedError
from voicecore.client._metrics import ClientMetrics, grpc_code
from voicecore.config import Settings
from voicecore.errors import EventRangeError

OK = ExecutePrimitiveResponse(success=True)
EXECUTE = {"grpc_type": "unary", "grpc_service": "voicecore.v1.VoiceCoreService"}


class Scripted(VoiceCoreClientBase):
    """A client whose attempts raise or return what the script says."""

    def __init__(
        self,
        steps: Sequence[BaseException | ExecutePrimitiveResponse],
        registry: CollectorRegistry | None,
        config: ClientConfig | None = None,
    ) -> None:
        self.clock = FakeClock()
        super().__init__(
            config or ClientConfig(endpoint="scripted:1"),
            clock=self.clock,
            sleep=self._no_sleep,
            metrics_registry=registry,
        )
        self.steps = list(steps)

    async def _no_sleep(self, seconds: float) -> None:
        """Backoffs pass at once."""

    async def aclose(self) -> None:
        """Nothing to close."""

    async def _send_execute(
        self, request: ExecutePrimitiveRequest, time_left: float
    ) -> ExecutePrimitiveResponse:
        step = self.steps.pop(0) if self.steps else OK
        if isinstance(step, BaseException):
            raise step
        return step

    def _open_events(self, request: object, timeout: float | None) -> object:  # type: ignore[override]
        raise NotImplementedError

    async def _send_health(self, time_left: float) -> HealthCheckResponse:
        return HealthCheckResponse(status="SERVING")

    async def _send_list(self, time_left: float) -> ListPrimitivesResponse:
        return ListPrimitivesResponse()

    async def _send_delete(self, request: object, time_left: float) -> object:  # type: ignore[override]
        raise NotImplementedError


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def unavailable() -> GRPCError:
    return GRPCError(Status.UNAVAILABLE, "down")


class TestAttempts:
    async def test_each_attempt_is_one_rpc_with_its_code(self) -> None:
        """A retried call: two attempts, UNAVAILABLE then OK, and one retry."""
        registry = CollectorRegistry()
        client = Scripted([unavailable(), OK], registry)
        assert (await client.execute("debug_echo", conversation_id="c")).success
        labels = {**EXECUTE, "grpc_method": "ExecutePrimitive"}
        assert value(registry, "grpc_client_started_total", **labels) == 2
        assert value(registry, "grpc_client_handled_total", grpc_code="UNAVAILABLE", **labels) == 1
        assert value(registry, "grpc_client_handled_total", grpc_code="OK", **labels) == 1
        assert value(registry, "grpc_client_msg_sent_total", **labels) == 2
        assert value(registry, "grpc_client_msg_received_total", **labels) == 1
        assert value(registry, "grpc_client_handling_seconds_count", **labels) == 2
        retries = value(
            registry,
            "voicecore_client_retries_total",
            target="scripted:1",
            grpc_method="ExecutePrimitive",
        )
        assert retries == 1

    async def test_list_primitives_has_its_method_label(self) -> None:
        """ListPrimitives attempts are labelled with their own method."""
        registry = CollectorRegistry()
        await Scripted([], registry).list_primitives()
        labels = {**EXECUTE, "grpc_method": "ListPrimitives", "grpc_code": "OK"}
        assert value(registry, "grpc_client_handled_total", **labels) == 1

    async def test_a_cancelled_attempt_counts_as_cancelled(self) -> None:
        """The caller's own cancellation still ends the attempt's series."""
        registry = CollectorRegistry()
        client = Scripted([asyncio.CancelledError()], registry)
        with pytest.raises(asyncio.CancelledError):
            await client.execute("debug_echo", conversation_id="c")
        labels = {**EXECUTE, "grpc_method": "ExecutePrimitive", "grpc_code": "CANCELLED"}
        assert value(registry, "grpc_client_handled_total", **labels) == 1

    @pytest.mark.parametrize(
        ("exc", "code"),
        [
            (GRPCError(Status.INVALID_ARGUMENT), Status.INVALID_ARGUMENT),
            (TimeoutError(), Status.DEADLINE_EXCEEDED),
            (StreamTerminatedError("reset"), Status.CANCELLED),
            (ConnectionRefusedError(), Status.UNAVAILABLE),
            (EventRangeError("evicted"), Status.OUT_OF_RANGE),
            (CircuitOpenError("t", BreakerState.OPEN, 1.0), Status.UNAVAILABLE),
            (ValueError(), Status.UNKNOWN),
        ],
    )
    def test_codes_of_exceptions(self, exc: BaseException, code: Status) -> None:
        """What the client saw, as the gRPC code the convention labels it with."""
        assert grpc_code(exc) is code


STREAM = {
    "grpc_type": "server_stream",
    "grpc_service": "voicecore.v1.VoiceCoreService",
    "grpc_method": "StreamEvents",
}
HEALTH = {**EXECUTE, "grpc_method": "HealthCheck"}


class Streaming(Scripted):
    """A client whose streams yield what ``connections`` say, one list per stream opened (an
    exception in it ends that stream), and whose health check raises ``health_fails``."""

    def __init__(
        self,
        connections: list[list[Event | BaseException]],
        registry: CollectorRegistry,
        health_fails: BaseException | None = None,
    ) -> None:
        super().__init__([], registry)
        self.connections = connections
        self.health_fails = health_fails

    async def _open_events(  # type: ignore[override]
        self, request: StreamEventsRequest, timeout: float | None
    ) -> AsyncIterator[Event | None]:
        yield None
        for item in self.connections.pop(0):
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _send_health(self, time_left: float) -> HealthCheckResponse:
        if self.health_fails is not None:
            raise self.health_fails
        return await super()._send_health(time_left)


def events(*sequences: int) -> list[Event | BaseException]:
    return [Event(sequence=sequence, type="primitive.started") for sequence in sequences]


class TestHealthCheck:
    async def test_a_health_check_is_one_unary_rpc(self) -> None:
        """HealthCheck by the same convention as the other unary calls, OK."""
        registry = CollectorRegistry()
        assert (await Streaming([], registry).health()).status == "SERVING"
        assert value(registry, "grpc_client_started_total", **HEALTH) == 1
        assert value(registry, "grpc_client_handled_total", grpc_code="OK", **HEALTH) == 1
        assert value(registry, "grpc_client_msg_sent_total", **HEALTH) == 1
        assert value(registry, "grpc_client_msg_received_total", **HEALTH) == 1
        assert value(registry, "grpc_client_handling_seconds_count", **HEALTH) == 1

    async def test_a_failed_health_check_has_its_code(self) -> None:
        """An unreachable server: NOT_SERVING for the caller, UNAVAILABLE in the metrics."""
        registry = CollectorRegistry()
        client = Streaming([], registry, health_fails=ConnectionRefusedError())
        assert (await client.health()).status == "NOT_SERVING"
        assert value(registry, "grpc_client_handled_total", grpc_code="UNAVAILABLE", **HEALTH) == 1
        assert value(registry, "grpc_client_msg_received_total", **HEALTH) == 0


class TestEventStreams:
    async def test_a_replay_counts_each_event_and_ends_ok(self) -> None:
        """One stream: started and its request sent once, one received per event, OK."""
        registry = CollectorRegistry()
        client = Streaming([events(1, 2, 3)], registry)
        got = [event.sequence async for event in client.stream_events(follow=False)]
        assert got == [1, 2, 3]
        assert value(registry, "grpc_client_started_total", **STREAM) == 1
        assert value(registry, "grpc_client_msg_sent_total", **STREAM) == 1
        assert value(registry, "grpc_client_msg_received_total", **STREAM) == 3
        assert value(registry, "grpc_client_handled_total", grpc_code="OK", **STREAM) == 1
        assert value(registry, "grpc_client_handling_seconds_count", **STREAM) == 1

    async def test_a_stream_the_caller_stops_is_cancelled_at_once(self) -> None:
        """Closing the stream early ends the call there: handled CANCELLED, not left open."""
        registry = CollectorRegistry()
        client = Streaming([events(1, 2, 3)], registry)
        async with aclosing(client.stream_events()) as stream:
            assert (await anext(stream)).sequence == 1
            assert (
                value(registry, "grpc_client_handled_total", grpc_code="CANCELLED", **STREAM) == 0
            )
        assert value(registry, "grpc_client_handled_total", grpc_code="CANCELLED", **STREAM) == 1
        assert value(registry, "grpc_client_msg_received_total", **STREAM) == 1

    async def test_each_resumed_stream_is_an_rpc_of_its_own(self) -> None:
        """A dropped stream ends UNAVAILABLE; its resumption is another RPC, here OK."""
        registry = CollectorRegistry()
        drop = GRPCError(Status.UNAVAILABLE, "dropped")
        client = Streaming([[*events(1), drop], events(2)], registry)
        got = [event.sequence async for event in client.stream_events(follow=False)]
        assert got == [1, 2]
        assert value(registry, "grpc_client_started_total", **STREAM) == 2
        assert value(registry, "grpc_client_handled_total", grpc_code="UNAVAILABLE", **STREAM) == 1
        assert value(registry, "grpc_client_handled_total", grpc_code="OK", **STREAM) == 1
        assert value(registry, "grpc_client_msg_received_total", **STREAM) == 2

    async def test_a_stream_past_the_log_is_out_of_range(self) -> None:
        """Evicted events (the in-process client raises EventRangeError): OUT_OF_RANGE."""
        registry = CollectorRegistry()
        client = Streaming([[EventRangeError("evicted")]], registry)
        with pytest.raises(EventsEvictedError):
            async for _ in client.stream_events(after_sequence=5):
                pass
        assert value(registry, "grpc_client_handled_total", grpc_code="OUT_OF_RANGE", **STREAM) == 1

    async def test_any_async_iterator_is_counted(self) -> None:
        """Messages that are not a generator (nothing to close) are counted all the same."""

        class Two:
            def __init__(self) -> None:
                self.left = [None, Event(sequence=1), Event(sequence=2)]

            def __aiter__(self) -> Two:
                return self

            async def __anext__(self) -> Event | None:
                if not self.left:
                    raise StopAsyncIteration
                return self.left.pop(0)

        registry = CollectorRegistry()
        metrics = ClientMetrics(registry, "x:1")
        got = [message async for message in metrics.stream("StreamEvents", Two())]
        assert len(got) == 3
        assert value(registry, "grpc_client_msg_received_total", **STREAM) == 2
        assert value(registry, "grpc_client_handled_total", grpc_code="OK", **STREAM) == 1

    async def test_the_in_process_client_counts_a_real_stream(self) -> None:
        """Through the service itself: one turn's two events, received and counted."""
        registry = CollectorRegistry()
        settings = Settings(debug_primitives=True)
        async with InProcessClient(settings=settings, metrics_registry=registry) as client:
            await client.execute("debug_echo", {"text": "hi"}, conversation_id="c")
            got = [event.type async for event in client.stream_events("c", follow=False)]
        assert got == ["primitive.started", "primitive.completed"]
        assert value(registry, "grpc_client_msg_received_total", **STREAM) == 2
        assert value(registry, "grpc_client_handled_total", grpc_code="OK", **STREAM) == 1


class TestBreakerAndBudget:
    async def test_breaker_state_transitions_and_fast_fails(self) -> None:
        """Open after one failure: state gauge, transition, and the next attempt fails fast."""
        registry = CollectorRegistry()
        config = ClientConfig(
            endpoint="b:1",
            breaker=BreakerConfig(failure_threshold=1),
            retry=RetryPolicy(max_attempts=1),
        )
        client = Scripted([unavailable()], registry, config)
        assert value(registry, "voicecore_client_breaker_state", target="b:1", state="CLOSED") == 1
        await client.execute("debug_echo", conversation_id="c")
        await client.execute("debug_echo", conversation_id="c")
        state = {"target": "b:1"}
        assert value(registry, "voicecore_client_breaker_state", state="OPEN", **state) == 1
        assert value(registry, "voicecore_client_breaker_state", state="CLOSED", **state) == 0
        moved = value(
            registry,
            "voicecore_client_breaker_transitions_total",
            from_state="CLOSED",
            to_state="OPEN",
            **state,
        )
        assert moved == 1
        assert value(registry, "voicecore_client_fast_fails_total", **state) == 1

    async def test_retry_budget_refusals(self) -> None:
        """With the budget spent, a retryable failure is not retried, and that is counted."""
        registry = CollectorRegistry()
        config = ClientConfig(
            endpoint="r:1",
            breaker=BreakerConfig(failure_threshold=None),
            retry=RetryPolicy(max_attempts=2, budget_max_tokens=1, budget_token_ratio=0.1),
        )
        client = Scripted([unavailable()], registry, config)
        await client.execute("debug_echo", conversation_id="c")
        assert value(registry, "voicecore_client_retry_budget_refusals_total", target="r:1") == 1


class TestRegistry:
    async def test_clients_share_a_registrys_families(self) -> None:
        """Two clients on one registry: no duplicate-series error, told apart by target."""
        registry = CollectorRegistry()
        Scripted([], registry, ClientConfig(endpoint="a:1"))
        Scripted([], registry, ClientConfig(endpoint="b:1"))
        for target in ("a:1", "b:1"):
            assert value(registry, "voicecore_client_breaker_state", target=target, state="CLOSED")

    async def test_none_is_a_registry_of_the_clients_own(self) -> None:
        """metrics_registry=None: not the global registry, but one only this client holds."""
        client = Scripted([], None, ClientConfig(endpoint="own:1"))
        assert (await client.execute("debug_echo", conversation_id="c")).success
        assert client.metrics.registry is not REGISTRY
        state = {"target": "own:1", "state": "CLOSED"}
        assert REGISTRY.get_sample_value("voicecore_client_breaker_state", state) is None
        labels = {**EXECUTE, "grpc_method": "ExecutePrimitive", "grpc_code": "OK"}
        assert value(client.metrics.registry, "grpc_client_handled_total", **labels) == 1

    async def test_the_global_registry_is_the_default(self) -> None:
        """Without a registry given, the metrics go where start_http_server finds them."""
        async with InProcessClient(config=ClientConfig(endpoint="global-default:1")) as client:
            assert client.metrics.registry is REGISTRY
        state = {"target": "global-default:1", "state": "CLOSED"}
        assert REGISTRY.get_sample_value("voicecore_client_breaker_state", state) == 1

    def test_metrics_object_alone(self) -> None:
        """ClientMetrics can be made for a registry and target directly."""
        registry = CollectorRegistry()
        ClientMetrics(registry, "x:1").fast_fail()
        assert value(registry, "voicecore_client_fast_fails_total", target="x:1") == 1
