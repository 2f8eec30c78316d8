"""Client spans when the server cannot answer: attempts as events, the status, the off path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from grpclib import GRPCError
from grpclib.const import Status
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from tests._otel import recorded_spans, span_named
from tests._servers import free_port
from voicecore._limits import MAX_OBJECTIVE_TYPE
from voicecore._proto.voicecore.v1 import ErrorCode
from voicecore.client import BreakerConfig, ClientConfig, RetryPolicy, VoiceCoreClient
from voicecore.client._tracing import (
    _MAX_OBJECTIVE_TYPE,
    ATTEMPT_FAILED,
    EXECUTE,
    _status_of,
)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


async def _no_wait(seconds: float) -> None:
    """Backoffs pass at once."""


def _client(port: int, **config: object) -> VoiceCoreClient:
    return VoiceCoreClient(
        f"127.0.0.1:{port}", config=ClientConfig.model_validate(config), sleep=_no_wait
    )


def _client_span(spans: InMemorySpanExporter) -> ReadableSpan:
    found = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert len(found) == 1
    return found[0]


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A loopback port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


class TestClientSpanWithoutAnAnswer:
    async def test_every_failed_attempt_is_an_event_and_the_span_an_error(
        self, spans: InMemorySpanExporter
    ) -> None:
        """Nobody listening: three attempts, three events, UNAVAILABLE, an error span."""
        async with _client(free_port(), retry=RetryPolicy(max_attempts=3)) as client:
            response = await client.execute("capture_email", conversation_id="c")
        assert response.error is not None and response.error.code is ErrorCode.UNAVAILABLE
        span = _client_span(spans)
        assert span.name == EXECUTE
        attributes = dict(span.attributes or {})
        assert attributes["voicecore.client.attempts"] == 3
        assert attributes["rpc.status_code"] == attributes["error.type"] == "UNAVAILABLE"
        assert attributes["server.address"] == "127.0.0.1"
        assert span.status.status_code is StatusCode.ERROR
        events = [dict(e.attributes or {}) for e in span.events if e.name == ATTEMPT_FAILED]
        assert events == [
            {"voicecore.client.attempt": n, "rpc.status_code": "UNAVAILABLE"} for n in (1, 2, 3)
        ]
        assert response.metadata is not None
        assert response.metadata.trace_id == format_trace_id(span.context.trace_id)

    async def test_a_deadline_passed_is_deadline_exceeded(
        self, spans: InMemorySpanExporter, silent_port: int
    ) -> None:
        """A server that never answers: the client's deadline ends the call."""
        async with _client(silent_port, retry=RetryPolicy(max_attempts=1)) as client:
            response = await client.execute("capture_email", conversation_id="c", timeout=0.2)
        assert response.error is not None and response.error.code is ErrorCode.TIMEOUT
        attributes = dict(_client_span(spans).attributes or {})
        assert attributes["rpc.status_code"] == attributes["error.type"] == "DEADLINE_EXCEEDED"

    async def test_a_call_the_open_breaker_refused_sent_nothing(
        self, spans: InMemorySpanExporter
    ) -> None:
        """Breaker open: no attempt, no rpc.status_code, error.type is the client's code."""
        config = {
            "retry": RetryPolicy(max_attempts=1),
            "breaker": BreakerConfig(failure_threshold=1),
        }
        async with _client(free_port(), **config) as client:
            await client.execute("capture_email", conversation_id="c")
            spans.clear()
            response = await client.execute("capture_email", conversation_id="c")
        assert response.error is not None
        assert response.error.code is ErrorCode.CIRCUIT_BREAKER_OPEN
        span = _client_span(spans)
        attributes = dict(span.attributes or {})
        assert attributes["voicecore.client.attempts"] == 0
        assert "rpc.status_code" not in attributes
        assert attributes["error.type"] == "CIRCUIT_BREAKER_OPEN"
        assert span.status.status_code is StatusCode.ERROR

    async def test_a_long_objective_type_is_cut_at_the_request_bound(
        self, spans: InMemorySpanExporter
    ) -> None:
        """The client cannot know the server's types: it keeps at most 128 characters."""
        async with _client(free_port(), retry=RetryPolicy(max_attempts=1)) as client:
            await client.execute("a" * 100 + "b" * 5000, conversation_id="c")
        attributes = dict(_client_span(spans).attributes or {})
        assert attributes["voicecore.objective_type"] == "a" * 100 + "b" * 28
        assert _MAX_OBJECTIVE_TYPE == MAX_OBJECTIVE_TYPE  # the client's copy of the bound


class TestTracingOff:
    async def test_without_a_provider_execute_makes_no_span(self) -> None:
        """No provider: execute runs as before, with a trace id of its own making."""
        async with _client(free_port(), retry=RetryPolicy(max_attempts=2)) as client:
            response = await client.execute("capture_email", conversation_id="c")
        assert response.error is not None and response.error.code is ErrorCode.UNAVAILABLE
        assert response.metadata is not None and len(response.metadata.trace_id) == 32
        assert not trace.get_current_span().get_span_context().is_valid

    async def test_a_provider_named_by_the_environment_is_asked_for(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """OTEL_PYTHON_TRACER_PROVIDER set: the provider the API loads from it traces."""
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        monkeypatch.setattr("voicecore._trace._PROVIDER_FROM_ENV", True)
        monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
        async with _client(free_port(), retry=RetryPolicy(max_attempts=1)) as client:
            await client.execute("capture_email", conversation_id="c")
        assert [s.name for s in exporter.get_finished_spans()] == [EXECUTE]


class TestTraceparent:
    def test_metadata_carries_the_running_spans_traceparent(
        self, spans: InMemorySpanExporter
    ) -> None:
        """Inside a span the metadata has its traceparent; the span's ids and flags."""
        client = VoiceCoreClient("127.0.0.1:1")
        with trace.get_tracer("test").start_as_current_span("turn") as span:
            metadata = client._metadata("t")
        context = span.get_span_context()
        ids = f"{format_trace_id(context.trace_id)}-{format_span_id(context.span_id)}"
        assert metadata["traceparent"] == f"00-{ids}-{context.trace_flags:02x}"
        assert context.trace_flags.sampled

    def test_tracing_off_sends_no_traceparent(self) -> None:
        """No provider, no span: the metadata is as before."""
        assert "traceparent" not in VoiceCoreClient("127.0.0.1:1")._metadata("t")


class TestStatusOf:
    @pytest.mark.parametrize(
        ("exc", "status"),
        [
            (GRPCError(Status.RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED"),
            (TimeoutError(), "DEADLINE_EXCEEDED"),
            (asyncio.CancelledError(), "CANCELLED"),
            (ConnectionRefusedError(), "UNAVAILABLE"),
            (RuntimeError(), "UNKNOWN"),
        ],
    )
    def test_each_failure_has_its_grpc_status(self, exc: BaseException, status: str) -> None:
        """What the client saw, named as gRPC statuses are."""
        assert _status_of(exc) == status


def test_spans_helper_finds_one(spans: InMemorySpanExporter) -> None:
    """span_named fails unless exactly one span has the name (the tests above rely on it)."""
    with trace.get_tracer("test").start_as_current_span("once"):
        pass
    assert span_named(spans.get_finished_spans(), "once").name == "once"
    with pytest.raises(AssertionError):
        span_named(spans.get_finished_spans(), "twice")
