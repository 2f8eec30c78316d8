"""The server's Prometheus metrics, read straight from its registry after real calls."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Cardinality, Status
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest as StdHealthRequest
from grpclib.metadata import Deadline
from prometheus_client import CollectorRegistry

from tests._fakes import FakeClock
from tests._waiting import until
from tests.fuzz._wire import raw_call
from voicecore import _metrics
from voicecore._auth import new_token, tokens_file_line
from voicecore._call import CallInfo, current_call
from voicecore._headers import ARRIVAL_TOO_LATE, HeaderProblem
from voicecore._in_memory import in_memory_store
from voicecore._json import struct_from_dict
from voicecore._metrics import UNKNOWN
from voicecore._proto.voicecore.v1 import (
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    ExecutionMetadata,
    ListPrimitivesRequest,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.capture import InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.registry import default_registry
from voicecore.server import VoiceCoreServer
from voicecore.service import VoiceCoreService
from voicecore.stores import Store

SERVICE = "voicecore.v1.VoiceCoreService"
BAD_TE = HeaderProblem(200, Status.INVALID_ARGUMENT, 'te should be "trailers"')


class Running:
    """A server on 127.0.0.1 with its own registry, and a channel to it."""

    def __init__(self, server: VoiceCoreServer, registry: CollectorRegistry) -> None:
        self.server = server
        self.registry = registry
        self.channel = Channel("127.0.0.1", server.port)
        self.stub = VoiceCoreServiceStub(self.channel)

    def value(self, name: str, **labels: str) -> float:
        """A sample's value; 0 when the series does not exist (yet)."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def grpc(self, name: str, method: str, **labels: str) -> float:
        return self.value(
            name, grpc_type="unary", grpc_service=SERVICE, grpc_method=method, **labels
        )


async def _running(**overrides: object) -> Running:
    settings = Settings.model_validate(
        {"host": "127.0.0.1", "port": 0, "debug_primitives": True, **overrides}
    )
    registry = CollectorRegistry()
    server = VoiceCoreServer(settings, metrics_registry=registry)
    await server.start()
    return Running(server, registry)


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    served = await _running()
    try:
        yield served
    finally:
        served.channel.close()
        await served.server.stop(grace_period=0)


def _headers(grpc_timeout: bytes | None = None) -> list[tuple[bytes, bytes]]:
    """A debug_sleep call's request headers, as a raw HTTP/2 client sends them."""
    headers = [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        (b":path", f"/{SERVICE}/ExecutePrimitive".encode()),
        (b":authority", b"127.0.0.1"),
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
    ]
    return headers + ([(b"grpc-timeout", grpc_timeout)] if grpc_timeout else [])


def _body() -> bytes:
    message = bytes(_turn("debug_sleep", seconds=30))
    return b"\x00" + len(message).to_bytes(4, "big") + message


def _turn(
    objective_type: str, conversation_id: str = "c", **params: object
) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type=objective_type,
        params=struct_from_dict(params),
        conversation_id=conversation_id,
    )


class TestGrpcServerMetrics:
    async def test_a_unary_call_is_counted_by_the_convention(self, running: Running) -> None:
        """started, handled{OK}, one message each way and one observed duration."""
        await running.stub.list_primitives(ListPrimitivesRequest())
        method = "ListPrimitives"
        assert running.grpc("grpc_server_started_total", method) == 1
        assert running.grpc("grpc_server_handled_total", method, grpc_code="OK") == 1
        assert running.grpc("grpc_server_handled_total", method, grpc_code="UNKNOWN") == 0
        assert running.grpc("grpc_server_msg_received_total", method) == 1
        assert running.grpc("grpc_server_msg_sent_total", method) == 1
        assert running.grpc("grpc_server_handling_seconds_count", method) == 1

    async def test_every_code_is_a_series_from_the_start(self, running: Running) -> None:
        """Series exist at zero before any call, so rate() sees the first one."""
        assert (
            running.registry.get_sample_value(
                "grpc_server_handled_total",
                {
                    "grpc_type": "server_stream",
                    "grpc_service": SERVICE,
                    "grpc_method": "StreamEvents",
                    "grpc_code": "DEADLINE_EXCEEDED",
                },
            )
            == 0
        )

    async def test_a_server_stream_counts_each_message(self, running: Running) -> None:
        """A replayed StreamEvents sends one message per event."""
        await running.stub.execute_primitive(_turn("debug_echo", text="hi"))
        events = [
            event
            async for event in running.stub.stream_events(StreamEventsRequest(replay_only=True))
        ]
        labels = {"grpc_type": "server_stream", "grpc_service": SERVICE}
        sent = running.value("grpc_server_msg_sent_total", grpc_method="StreamEvents", **labels)
        assert sent == len(events) == 2  # started, completed

    async def test_an_unknown_method_is_one_label_value(self, running: Running) -> None:
        """Whatever path a client calls, it is counted under unknown/unknown, UNIMPLEMENTED."""
        for path in ("/no.Such/Thing", "/other/path"):
            with pytest.raises(GRPCError):  # grpclib answers without a content-type
                async with running.channel.request(
                    path, Cardinality.UNARY_UNARY, ListPrimitivesRequest, ListPrimitivesRequest
                ) as stream:
                    await stream.send_message(ListPrimitivesRequest(), end=True)
                    await stream.recv_message()
        labels = {"grpc_type": "unary", "grpc_service": UNKNOWN, "grpc_method": UNKNOWN}
        assert running.value("grpc_server_started_total", **labels) == 2
        handled = running.value("grpc_server_handled_total", grpc_code="UNIMPLEMENTED", **labels)
        assert handled == 2
        assert running.value("voicecore_admission_refusals_total", reason="unknown_method") == 2

    async def test_a_spent_deadline_is_deadline_exceeded(self, running: Running) -> None:
        """A call that outlives its deadline ends DEADLINE_EXCEEDED (a raw client that waits
        for the server's answer rather than resetting at its own deadline)."""
        outcome = await raw_call(
            "127.0.0.1", running.server.port, _headers(grpc_timeout=b"50m"), _body(), timeout=10
        )
        assert outcome.grpc_status == Status.DEADLINE_EXCEEDED.value
        code = "DEADLINE_EXCEEDED"
        assert running.grpc("grpc_server_handled_total", "ExecutePrimitive", grpc_code=code) == 1

    async def test_bad_headers_are_counted_with_their_status(self, running: Running) -> None:
        """A request without te: trailers is INVALID_ARGUMENT, refused for its headers."""
        headers = [(k, v) for k, v in _headers() if k != b"te"]
        outcome = await raw_call("127.0.0.1", running.server.port, headers, _body(), timeout=10)
        assert outcome.grpc_status == Status.INVALID_ARGUMENT.value
        code = "INVALID_ARGUMENT"
        assert running.grpc("grpc_server_handled_total", "ExecutePrimitive", grpc_code=code) == 1
        assert running.value("voicecore_admission_refusals_total", reason="headers") == 1

    async def test_a_call_the_client_cancels_is_cancelled(self, running: Running) -> None:
        """No trailers are sent for a reset stream: it still counts, as CANCELLED."""
        call = asyncio.create_task(running.stub.execute_primitive(_turn("debug_sleep", seconds=30)))
        await until(lambda: len(running.server._admission.unary) == 1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await until(
            lambda: (
                running.grpc("grpc_server_handled_total", "ExecutePrimitive", grpc_code="CANCELLED")
                == 1
            )
        )

    async def test_draining_refusals_are_counted(self, running: Running) -> None:
        """A call refused while draining is UNAVAILABLE with the reason draining."""
        running.server._admission.draining = True
        with pytest.raises(GRPCError) as info:
            await running.stub.execute_primitive(_turn("debug_echo"))
        assert info.value.status is Status.UNAVAILABLE
        assert (
            running.grpc("grpc_server_handled_total", "ExecutePrimitive", grpc_code="UNAVAILABLE")
            == 1
        )
        assert running.value("voicecore_admission_refusals_total", reason="draining") == 1

    async def test_overload_refusals_are_counted(self) -> None:
        """Past max_concurrent_calls (and a connection's share): RESOURCE_EXHAUSTED, by reason."""
        served = await _running(max_concurrent_calls=1)
        try:
            slow = asyncio.create_task(
                served.stub.execute_primitive(_turn("debug_sleep", seconds=30))
            )
            await until(lambda: len(served.server._admission.unary) == 1)
            with pytest.raises(GRPCError):
                await served.stub.execute_primitive(_turn("debug_echo"))
            assert served.value("voicecore_admission_refusals_total", reason="overloaded") == 1
            slow.cancel()
        finally:
            served.channel.close()
            await served.server.stop(grace_period=0)

    async def test_a_connections_share_refusal_is_counted(self) -> None:
        """One connection past its share: RESOURCE_EXHAUSTED, reason connection_share."""
        served = await _running(max_concurrent_calls=4, max_calls_per_connection=1)
        try:
            slow = asyncio.create_task(
                served.stub.execute_primitive(_turn("debug_sleep", seconds=30))
            )
            await until(lambda: len(served.server._admission.unary) == 1)
            with pytest.raises(GRPCError):
                await served.stub.execute_primitive(_turn("debug_echo"))
            assert (
                served.value("voicecore_admission_refusals_total", reason="connection_share") == 1
            )
            slow.cancel()
        finally:
            served.channel.close()
            await served.server.stop(grace_period=0)

    async def test_auth_refusals_are_counted(self, tmp_path: Path) -> None:
        """A call without a token is UNAUTHENTICATED, refused in the RecvRequest listener."""
        tokens = tmp_path / "tokens"
        tokens.write_text(tokens_file_line(new_token(), "acme", frozenset({"execute"})) + "\n")
        served = await _running(auth_tokens_file=tokens)
        try:
            with pytest.raises(GRPCError) as info:
                await served.stub.execute_primitive(_turn("debug_echo"))
            assert info.value.status is Status.UNAUTHENTICATED
            code = "UNAUTHENTICATED"
            assert served.grpc("grpc_server_handled_total", "ExecutePrimitive", grpc_code=code) == 1
            assert served.value("voicecore_admission_refusals_total", reason="unauthenticated") == 1
        finally:
            served.channel.close()
            await served.server.stop(grace_period=0)

    async def test_health_is_counted_under_its_own_service(self, running: Running) -> None:
        """The standard health service has its own labels."""
        await HealthStub(running.channel).Check(StdHealthRequest())
        labels = {
            "grpc_type": "unary",
            "grpc_service": "grpc.health.v1.Health",
            "grpc_method": "Check",
        }
        assert running.value("grpc_server_handled_total", grpc_code="OK", **labels) == 1


class TestVoicecoreMetrics:
    async def test_calls_by_objective_outcome_and_state(self, running: Running) -> None:
        """Success and error code per objective type; an unknown type is one label value."""
        await running.stub.execute_primitive(_turn("debug_echo", text="hi"))
        await running.stub.execute_primitive(_turn("no_such_primitive_abc"))
        await running.stub.execute_primitive(_turn("another_unknown_xyz"))
        calls = "voicecore_calls_total"
        assert (
            running.value(calls, objective_type="debug_echo", outcome="success", state="COMPLETED")
            == 1
        )
        unknown = running.value(
            calls,
            objective_type=UNKNOWN,
            outcome="PRIMITIVE_NOT_FOUND",
            state="PRIMITIVE_STATE_UNSPECIFIED",
        )
        assert unknown == 2
        assert running.value("voicecore_primitive_seconds_count", objective_type="debug_echo") == 1
        assert running.value("voicecore_events_appended_total", type="primitive.started") == 3

    async def test_retries_and_replays(self, running: Running) -> None:
        """A transient failure retried is counted; a repeated idempotency key is a replay."""
        flaky = _turn("debug_flaky", failures=1)
        flaky.idempotency_key = "k1"
        first = await running.stub.execute_primitive(flaky)
        assert first.success
        await running.stub.execute_primitive(flaky)
        assert running.value("voicecore_primitive_retries_total", objective_type="debug_flaky") == 1
        assert (
            running.value("voicecore_idempotent_replays_total", objective_type="debug_flaky") == 1
        )

    async def test_a_capture_offered_corrected_and_completed(self, running: Running) -> None:
        """Confidence of the offered value, the correction, the completion and its attempts."""
        stub, email = running.stub, "capture_email"
        offered = await stub.execute_primitive(_turn(email, transcription="john at gmail dot com"))
        assert offered.metadata is not None and offered.metadata.state.name == "NEEDS_CONFIRMATION"
        corrected = await stub.execute_primitive(
            _turn(email, transcription="no, it's jane at gmail dot com")
        )
        assert corrected.metadata is not None
        await stub.execute_primitive(_turn(email, transcription="yes"))
        labels = {"objective_type": email}
        offers = running.value("voicecore_confirmation_confidence_count", **labels)
        assert offers >= 1
        assert running.value("voicecore_capture_corrections_total", **labels) == 1
        assert running.value("voicecore_capture_results_total", result="completed", **labels) == 1
        assert running.value("voicecore_capture_attempts_count", **labels) == 1
        assert running.value("voicecore_capture_attempts_sum", **labels) == 2  # value, correction

    async def test_turns_per_completed_capture(self, running: Running) -> None:
        """Every turn counts, confirmations and unclear answers too (attempts do not); a
        replayed answer is not counted again."""
        email = "capture_email"
        for said in ("john at gmail dot com", "hmm"):
            await running.stub.execute_primitive(_turn(email, transcription=said))
        confirmed = _turn(email, transcription="yes")
        confirmed.idempotency_key = "yes-1"
        for _ in range(2):
            answer = await running.stub.execute_primitive(confirmed)
            assert answer.metadata is not None and answer.metadata.state.name == "COMPLETED"
        await running.stub.execute_primitive(
            _turn(email, "other", transcription="jo at gmail dot com", require_confirmation=False)
        )
        labels = {"objective_type": email}
        assert running.value("voicecore_capture_turns_count", **labels) == 2
        assert running.value("voicecore_capture_turns_sum", **labels) == 3 + 1
        assert running.value("voicecore_capture_turns_bucket", le="1.0", **labels) == 1
        assert running.value("voicecore_capture_attempts_sum", **labels) == 1 + 1

    async def test_a_failed_capture_is_counted(self, running: Running) -> None:
        """A capture that runs out of attempts is a failed result."""
        for _ in range(3):
            response = await running.stub.execute_primitive(
                _turn("capture_email", transcription="mumble", max_attempts=2)
            )
            if response.metadata is not None and response.metadata.state.name == "FAILED":
                break
        failed = running.value(
            "voicecore_capture_results_total", objective_type="capture_email", result="failed"
        )
        assert failed == 1

    async def test_a_held_capture_that_expires_is_counted(self) -> None:
        """The memory store forgets a held capture past capture_ttl: an expired result, of
        its objective type, counted when the store next writes."""
        clock = FakeClock()
        settings = Settings(host="127.0.0.1", port=0, debug_primitives=True)
        service = VoiceCoreService(
            default_registry(debug_primitives=True),
            settings=settings,
            captures=InMemoryCaptureStore(ttl=60.0, clock=clock),
        )
        registry = CollectorRegistry()
        server = VoiceCoreServer(settings, service, metrics_registry=registry)
        await server.start()
        served = Running(server, registry)
        try:
            offered = await served.stub.execute_primitive(
                _turn("capture_email", "a", transcription="john at gmail dot com")
            )
            assert offered.metadata is not None
            assert offered.metadata.state.name == "NEEDS_CONFIRMATION"
            clock.advance(61.0)
            await served.stub.execute_primitive(_turn("capture_phone", "b", transcription="5"))
            labels = {"objective_type": "capture_email", "result": "expired"}
            assert served.value("voicecore_capture_results_total", **labels) == 1
            phone = {"objective_type": "capture_phone", "result": "expired"}
            assert served.value("voicecore_capture_results_total", **phone) == 0
        finally:
            served.channel.close()
            await server.stop(grace_period=0)

    async def test_event_log_gauges_are_read_at_scrape(self, running: Running) -> None:
        """Size, oldest and newest sequence of the log, and live followers."""
        await running.stub.execute_primitive(_turn("debug_echo"))
        last = running.server.service.events.last_sequence
        assert running.value("voicecore_event_log_last_sequence") == last
        assert running.value("voicecore_event_log_events") == 2
        assert running.value("voicecore_event_log_oldest_sequence") == last - 1
        assert running.value("voicecore_event_log_bytes") > 0
        assert running.value("voicecore_event_followers") == 0


class TestOutsideAServer:
    def test_hooks_do_nothing_without_a_call_record(self) -> None:
        """The in-process client runs the same code: its hooks find no record and do nothing."""
        assert _metrics._current.get() is None
        _metrics.note_refusal("draining")
        assert _metrics.note_problem(ARRIVAL_TOO_LATE) is ARRIVAL_TOO_LATE
        _metrics.observe_event("primitive.started", "debug_echo")
        response = ExecutePrimitiveResponse(success=True, metadata=ExecutionMetadata())
        _metrics.observe_turn(_turn("debug_echo"), response)

    def test_a_header_problem_sets_the_status_and_reason(self) -> None:
        """A spent deadline is DEADLINE_EXCEEDED (reason deadline), bad headers are headers."""
        for problem, reason in ((ARRIVAL_TOO_LATE, "deadline"), (BAD_TE, "headers")):
            record = _metrics.CallRecord("/p", None, None, None)
            context = contextvars.copy_context()
            context.run(_metrics._current.set, record)
            context.run(_metrics.note_problem, problem)
            assert (record.status, record.refusal) == (problem.status, reason)

    def test_an_event_log_without_extras_shows_its_last_sequence(self) -> None:
        """A log that offers only last_sequence (another backend) gives that gauge alone."""

        class Minimal:
            last_sequence = 7

        registry = CollectorRegistry()
        _metrics.ServerMetrics(registry, {}, event_log=Minimal())
        assert registry.get_sample_value("voicecore_event_log_last_sequence") == 7
        assert registry.get_sample_value("voicecore_event_log_events") is None
        assert registry.get_sample_value("voicecore_event_followers") is None

    def test_an_empty_log_has_no_events(self) -> None:
        """Before the first append the log holds none."""
        registry = CollectorRegistry()
        _metrics.ServerMetrics(registry, {}, event_log=InMemoryEventLog())
        assert registry.get_sample_value("voicecore_event_log_events") == 0

    def test_a_lost_state_of_no_capture_key_is_unknown(self) -> None:
        """A key the store was given directly (not a capture's) is counted as unknown."""
        registry = CollectorRegistry()
        metrics = _metrics.ServerMetrics(registry, {}, event_log=InMemoryEventLog())
        metrics.capture_lost(("c", "x"), "evicted")
        labels = {"objective_type": UNKNOWN, "result": "evicted"}
        assert registry.get_sample_value("voicecore_capture_results_total", labels) == 1

    def test_only_an_in_memory_store_reports_lost_captures(self) -> None:
        """A store with no listeners of its own (neither in memory nor Redis): none added."""

        class Shared:
            captures = InMemoryCaptureStore()
            events = InMemoryEventLog()

        memory = in_memory_store(Settings())
        for store, listening in ((memory, 1), (Shared(), 0)):
            _, metrics = _metrics.observability(
                Settings(),
                default_registry(),
                (),
                store.events,
                {},
                CollectorRegistry(),
                cast(Store, store),
            )
            assert metrics is not None
            assert len(store.captures.on_lost) == listening

    def test_a_reset_at_the_deadline_is_deadline_exceeded(self) -> None:
        """A call reset with its deadline spent is DEADLINE_EXCEEDED; before it, CANCELLED."""
        for seconds, status in ((0.0, Status.DEADLINE_EXCEEDED), (60.0, Status.CANCELLED)):
            context = contextvars.copy_context()
            call = CallInfo(deadline=Deadline.from_timeout(seconds))
            context.run(current_call.set, call)
            assert context.run(_metrics._ended_without_trailers) is status

    def test_peer_and_path_fallbacks(self) -> None:
        """No :path header is the empty path; a stream without a connection has no peer."""
        assert _metrics._path([("content-type", "application/grpc")]) == ""
        assert _metrics._peer(object()) == ""


class TestWithoutAccessLog:
    async def test_metrics_alone(self) -> None:
        """Metrics on, access log off: calls are counted all the same."""
        served = await _running(access_log=False)
        try:
            await served.stub.list_primitives(ListPrimitivesRequest())
            handled = served.grpc("grpc_server_handled_total", "ListPrimitives", grpc_code="OK")
            assert handled == 1
        finally:
            served.channel.close()
            await served.server.stop(grace_period=0)
