"""``voicecore serve`` with OTEL_* variables exports its spans over OTLP/HTTP: a small receiver
on 127.0.0.1 decodes what arrives."""

from __future__ import annotations

import gzip
import queue
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from grpclib.client import Channel
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests._servers import start_server
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest, VoiceCoreServiceStub
from voicecore._tracing import PRIMITIVE_SPAN

pytestmark = pytest.mark.integration

EXECUTE = "voicecore.v1.VoiceCoreService/ExecutePrimitive"
INCOMING_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{INCOMING_TRACE}-b7ad6b7169203331-01"


class _Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP traces endpoint: each POST to /v1/traces is decoded and queued."""

    received: queue.Queue[tuple[str, ExportTraceServiceRequest]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.put((self.path, ExportTraceServiceRequest.FromString(body)))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what arrived, not the access log."""


@pytest.fixture
def receiver() -> Iterator[tuple[int, queue.Queue[tuple[str, ExportTraceServiceRequest]]]]:
    received: queue.Queue[tuple[str, ExportTraceServiceRequest]] = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class TestOtlpExport:
    async def test_serve_exports_its_spans_to_the_otlp_endpoint(
        self, receiver: tuple[int, queue.Queue[tuple[str, ExportTraceServiceRequest]]]
    ) -> None:
        """One traced call; when the server stops, its server and primitive spans have
        arrived at /v1/traces, in the caller's trace, from service "voicecore"."""
        port, received = receiver
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"}
        async with start_server("--debug-primitives", env=env) as server:
            async with Channel(server.host, server.port) as channel:
                response = await VoiceCoreServiceStub(channel).execute_primitive(
                    ExecutePrimitiveRequest(
                        objective_type="debug_echo", params=Struct.from_dict({"word": "hi"})
                    ),
                    metadata={"traceparent": TRACEPARENT},
                )
            assert response.metadata is not None
            assert response.metadata.trace_id == INCOMING_TRACE
            await server.proc.stop_async()  # the SDK exports what is left as the process exits
            assert server.proc.exit_code() == 0
        spans = {}
        while not received.empty():
            path, request = received.get_nowait()
            assert path == "/v1/traces"
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                assert resource["service.name"] == "voicecore"
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        spans[span.name] = span
        server_span, primitive = spans[EXECUTE], spans[PRIMITIVE_SPAN]
        assert server_span.trace_id.hex() == primitive.trace_id.hex() == INCOMING_TRACE
        assert primitive.parent_span_id == server_span.span_id
        attributes = {a.key: a.value.string_value for a in server_span.attributes}
        assert attributes["rpc.system.name"] == "grpc"
        assert attributes["rpc.status_code"] == "OK"


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A TCP port that takes connections (the kernel completes them) and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield listener.getsockname()[1]


class TestSilentCollector:
    async def test_serve_exits_soon_when_the_collector_never_answers(self, black_hole: int) -> None:
        """20 traced calls, then SIGTERM: the process exits by itself (status 0) within a
        grace far under Kubernetes' 30 s, instead of the SDK's 20 s of exit flush (an export
        hanging for its 10 s, then one more for the spans queued behind it)."""
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{black_hole}",
            # Export at once: SIGTERM finds an export hanging and spans queued behind it.
            "OTEL_BSP_SCHEDULE_DELAY": "1",
        }
        async with start_server("--debug-primitives", env=env) as server:
            async with Channel(server.host, server.port) as channel:
                stub = VoiceCoreServiceStub(channel)
                for _ in range(20):
                    await stub.execute_primitive(
                        ExecutePrimitiveRequest(
                            objective_type="debug_echo", params=Struct.from_dict({"word": "hi"})
                        )
                    )
            await server.proc.stop_async(grace=15.0)  # SIGKILL after 15 s: status -9
            assert server.proc.exit_code() == 0
