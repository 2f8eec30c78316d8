"""Traces of real calls: a server on 127.0.0.1, the SDK's in-memory exporter, one trace id."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from grpclib.client import Channel
from loguru import logger
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from tests._otel import recorded_spans, span_named, texts_of
from voicecore._logging import configure_logging
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ExecutePrimitiveRequest,
    VoiceCoreServiceStub,
)
from voicecore._tracing import PRIMITIVE_SPAN, RETRY_EVENT
from voicecore.client import VoiceCoreClient
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

pytestmark = pytest.mark.integration

EXECUTE = "voicecore.v1.VoiceCoreService/ExecutePrimitive"
INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{INCOMING_TRACE}-{INCOMING_SPAN}-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


@pytest.fixture
async def server(spans: InMemorySpanExporter) -> AsyncIterator[VoiceCoreServer]:
    settings = Settings(
        host="127.0.0.1",
        port=0,
        debug_primitives=True,
        retry_backoff_initial=0.001,
        retry_backoff_max=0.001,
        retry_backoff_jitter=0,
    )
    running = VoiceCoreServer(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop(grace_period=0.5)


@pytest.fixture
async def stub(server: VoiceCoreServer) -> AsyncIterator[VoiceCoreServiceStub]:
    async with Channel("127.0.0.1", server.port) as channel:
        yield VoiceCoreServiceStub(channel)


@pytest.fixture
def records() -> Iterator[list[dict[str, object]]]:
    """Every log record as the JSON sink would write it, at DEBUG and above."""
    captured: list[dict[str, object]] = []
    configure_logging("DEBUG", json=True)
    sink = logger.add(lambda m: captured.append(json.loads(m)["record"]), serialize=True)
    yield captured
    logger.remove(sink)
    logger.remove()
    logger.disable("voicecore")
    logging.basicConfig(handlers=[], force=True)


def _request(objective_type: str, **params: object) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type=objective_type,
        conversation_id="trace-conv",
        params=Struct.from_dict(dict(params)),
    )


class TestServerSpans:
    async def test_an_incoming_traceparent_is_continued_and_is_the_trace_id(
        self,
        stub: VoiceCoreServiceStub,
        spans: InMemorySpanExporter,
        records: list[dict[str, object]],
    ) -> None:
        """A traceparent's trace id is the server span's, the response's and the log line's;
        the server span is its child, the primitive span the server span's."""
        response = await stub.execute_primitive(
            _request("debug_echo", word="hi"), metadata={"traceparent": TRACEPARENT}
        )
        assert response.metadata is not None
        assert response.metadata.trace_id == INCOMING_TRACE
        finished = spans.get_finished_spans()
        server = span_named(finished, EXECUTE)
        primitive = span_named(finished, PRIMITIVE_SPAN)
        assert server.kind is SpanKind.SERVER and primitive.kind is SpanKind.INTERNAL
        assert server.parent is not None and server.parent.is_remote
        assert format_span_id(server.parent.span_id) == INCOMING_SPAN
        assert primitive.parent is not None
        assert primitive.parent.span_id == server.context.span_id
        assert {format_trace_id(s.context.trace_id) for s in finished} == {INCOMING_TRACE}
        logged = [r for r in records if r["message"] == "primitive executed"]
        assert [r["extra"]["trace_id"] for r in logged] == [INCOMING_TRACE]  # type: ignore[index]

    async def test_server_span_follows_the_rpc_conventions(
        self, stub: VoiceCoreServiceStub, spans: InMemorySpanExporter
    ) -> None:
        """Span name and rpc.method are the full method, rpc.system.name grpc, status OK."""
        await stub.execute_primitive(_request("debug_echo", word="hi"))
        server = span_named(spans.get_finished_spans(), EXECUTE)
        attributes = dict(server.attributes or {})
        assert attributes["rpc.system.name"] == "grpc"
        assert attributes["rpc.method"] == EXECUTE
        assert attributes["rpc.status_code"] == "OK"
        assert attributes["network.peer.address"] == "127.0.0.1"
        assert isinstance(attributes["network.peer.port"], int)
        assert "error.type" not in attributes
        assert server.status.status_code is StatusCode.UNSET

    async def test_without_a_trace_id_the_call_takes_the_spans(
        self, stub: VoiceCoreServiceStub, spans: InMemorySpanExporter
    ) -> None:
        """With no traceparent and no trace-id, voicecore's trace id is the trace's."""
        response = await stub.execute_primitive(_request("debug_echo", word="hi"))
        assert response.metadata is not None
        server = span_named(spans.get_finished_spans(), EXECUTE)
        assert response.metadata.trace_id == format_trace_id(server.context.trace_id)
        assert server.parent is None

    async def test_a_trace_id_of_the_callers_own_is_an_attribute(
        self, stub: VoiceCoreServiceStub, spans: InMemorySpanExporter
    ) -> None:
        """A trace id the caller named (field) stays voicecore's, and the spans carry it."""
        request = _request("debug_echo", word="hi")
        request.trace_id = "order-1234"
        response = await stub.execute_primitive(request, metadata={"traceparent": TRACEPARENT})
        assert response.metadata is not None and response.metadata.trace_id == "order-1234"
        finished = spans.get_finished_spans()
        for name in (EXECUTE, PRIMITIVE_SPAN):
            span = span_named(finished, name)
            assert (span.attributes or {})["voicecore.trace_id"] == "order-1234"
            assert format_trace_id(span.context.trace_id) == INCOMING_TRACE


class TestPrimitiveSpans:
    async def test_primitive_span_has_type_state_and_retries(
        self, stub: VoiceCoreServiceStub, spans: InMemorySpanExporter
    ) -> None:
        """Two transient failures: retry count 2 and one span event per retry."""
        response = await stub.execute_primitive(_request("debug_flaky", failures=2))
        assert response.success and response.metadata is not None
        primitive = span_named(spans.get_finished_spans(), PRIMITIVE_SPAN)
        attributes = dict(primitive.attributes or {})
        assert attributes["voicecore.objective_type"] == "debug_flaky"
        assert attributes["voicecore.state"] == response.metadata.state.name
        assert attributes["voicecore.retry_count"] == 2
        assert attributes["voicecore.replayed"] is False
        retries = [e for e in primitive.events if e.name == RETRY_EVENT]
        assert [dict(e.attributes or {}) for e in retries] == [
            {"voicecore.retry_count": 1, "error.type": "TransientPrimitiveError"},
            {"voicecore.retry_count": 2, "error.type": "TransientPrimitiveError"},
        ]
        assert primitive.status.status_code is StatusCode.UNSET

    async def test_a_failed_turn_is_an_error_span_named_by_its_code(
        self, stub: VoiceCoreServiceStub, spans: InMemorySpanExporter
    ) -> None:
        """An unknown objective type fails the turn: error.type is its error code."""
        response = await stub.execute_primitive(_request("no_such_primitive"))
        assert not response.success and response.error is not None
        primitive = span_named(spans.get_finished_spans(), PRIMITIVE_SPAN)
        assert (primitive.attributes or {})["error.type"] == response.error.code.name
        assert primitive.status.status_code is StatusCode.ERROR
        server = span_named(spans.get_finished_spans(), EXECUTE)
        assert (server.attributes or {})["rpc.status_code"] == "OK"

    async def test_no_captured_value_in_any_span(
        self, stub: VoiceCoreServiceStub, spans: InMemorySpanExporter
    ) -> None:
        """Captures of a known email and phone: neither appears in any attribute or event."""
        email = await stub.execute_primitive(
            _request("capture_email", transcription="zebulon dot quist at example dot com")
        )
        phone = await stub.execute_primitive(
            _request(
                "capture_phone", transcription="four one five five five five two six seven one"
            )
        )
        assert email.data is not None and phone.data is not None
        assert email.data.to_dict()["value"] == "zebulon.quist@example.com"
        heard_phone = str(phone.data.to_dict()["value"])
        texts = texts_of(spans.get_finished_spans())
        assert "voicecore.state" in texts  # the search below reads the real attributes
        for secret in ("zebulon", "quist", heard_phone, "5552671"):
            assert secret not in texts


def _by_kind(spans: InMemorySpanExporter, kind: SpanKind) -> ReadableSpan:
    found = [s for s in spans.get_finished_spans() if s.kind is kind]
    assert len(found) == 1, [s.name for s in found]
    return found[0]


class TestClientToServer:
    async def test_client_server_and_primitive_spans_make_one_trace(
        self, server: VoiceCoreServer, spans: InMemorySpanExporter
    ) -> None:
        """VoiceCoreClient -> server -> primitive: one trace id, each span the next one's
        parent, and that trace id is the response's."""
        async with VoiceCoreClient(f"127.0.0.1:{server.port}") as client:
            response = await client.execute("debug_echo", {"word": "hi"}, conversation_id="c")
        assert response.success and response.metadata is not None
        client_span = _by_kind(spans, SpanKind.CLIENT)
        server_span = _by_kind(spans, SpanKind.SERVER)
        primitive = span_named(spans.get_finished_spans(), PRIMITIVE_SPAN)
        assert client_span.name == server_span.name == EXECUTE
        assert client_span.parent is None
        assert server_span.parent is not None
        assert server_span.parent.span_id == client_span.context.span_id
        assert primitive.parent is not None
        assert primitive.parent.span_id == server_span.context.span_id
        trace_ids = {format_trace_id(s.context.trace_id) for s in spans.get_finished_spans()}
        assert trace_ids == {response.metadata.trace_id}
        attributes = dict(client_span.attributes or {})
        assert attributes["rpc.status_code"] == "OK"
        assert attributes["server.port"] == server.port
        assert attributes["voicecore.client.attempts"] == 1
        assert client_span.status.status_code is StatusCode.UNSET

    async def test_the_applications_span_is_the_parent(
        self, server: VoiceCoreServer, spans: InMemorySpanExporter
    ) -> None:
        """Called inside the application's own span: the call joins that trace."""
        async with VoiceCoreClient(f"127.0.0.1:{server.port}") as client:
            with trace.get_tracer("agent").start_as_current_span("agent turn") as turn:
                response = await client.execute("debug_echo", {"word": "hi"}, conversation_id="c")
        client_span = _by_kind(spans, SpanKind.CLIENT)
        assert client_span.parent is not None
        assert client_span.parent.span_id == turn.get_span_context().span_id
        assert response.metadata is not None
        assert response.metadata.trace_id == format_trace_id(turn.get_span_context().trace_id)

    async def test_a_turn_the_server_failed_is_a_completed_rpc(
        self, server: VoiceCoreServer, spans: InMemorySpanExporter
    ) -> None:
        """success=false from the server: rpc.status_code OK, the error code as an attribute."""
        async with VoiceCoreClient(f"127.0.0.1:{server.port}") as client:
            response = await client.execute("no_such_primitive", conversation_id="c")
        assert response.error is not None
        client_span = _by_kind(spans, SpanKind.CLIENT)
        attributes = dict(client_span.attributes or {})
        assert attributes["rpc.status_code"] == "OK"
        assert attributes["voicecore.error_code"] == response.error.code.name
        assert client_span.status.status_code is StatusCode.UNSET

    async def test_a_trace_id_the_caller_names_is_kept_and_recorded(
        self, server: VoiceCoreServer, spans: InMemorySpanExporter
    ) -> None:
        """execute(trace_id=...) keeps it as voicecore's; the spans still share one trace."""
        async with VoiceCoreClient(f"127.0.0.1:{server.port}") as client:
            response = await client.execute(
                "debug_echo", {"word": "hi"}, conversation_id="c", trace_id="order-1234"
            )
        assert response.metadata is not None and response.metadata.trace_id == "order-1234"
        client_span = _by_kind(spans, SpanKind.CLIENT)
        assert (client_span.attributes or {})["voicecore.trace_id"] == "order-1234"
        trace_ids = {s.context.trace_id for s in spans.get_finished_spans()}
        assert trace_ids == {client_span.context.trace_id}
