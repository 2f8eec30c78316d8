"""The /metrics endpoint: plain HTTP on the server's event loop, started and stopped with it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from grpclib.client import Channel
from loguru import logger
from prometheus_client import CollectorRegistry, Counter

from tests._servers import free_port
from voicecore import _metrics_endpoint
from voicecore._logging import configure_logging
from voicecore._metrics_endpoint import MetricsEndpoint
from voicecore._proto.voicecore.v1 import ListPrimitivesRequest, VoiceCoreServiceStub
from voicecore.cli import build_parser
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer


async def _http(port: int, request: bytes) -> bytes:
    """What the server answers to ``request``, read until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


def _get(path: str, method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


@pytest.fixture
async def endpoint() -> Iterator[MetricsEndpoint]:  # type: ignore[misc]
    registry = CollectorRegistry()
    Counter("probe_total", "A counter to find in the page.", registry=registry).inc(3)
    served = MetricsEndpoint(registry, "127.0.0.1", 0)
    await served.start()
    try:
        yield served
    finally:
        await served.stop()


class TestEndpoint:
    async def test_get_metrics_is_the_registry_in_text_format(
        self, endpoint: MetricsEndpoint
    ) -> None:
        """GET /metrics answers 200 with the Prometheus text format, then closes."""
        answer = await _http(endpoint.port, _get("/metrics"))
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"Content-Type: text/plain; version=" in head
        assert f"Content-Length: {len(body)}".encode() in head
        assert b"probe_total 3.0" in body

    async def test_a_query_string_is_ignored(self, endpoint: MetricsEndpoint) -> None:
        """Prometheus may add parameters; the path is what counts."""
        answer = await _http(endpoint.port, _get("/metrics?x=1"))
        assert answer.startswith(b"HTTP/1.1 200 OK")

    async def test_head_has_no_body(self, endpoint: MetricsEndpoint) -> None:
        """HEAD answers the headers only."""
        answer = await _http(endpoint.port, _get("/metrics", "HEAD"))
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"\r\n\r\n")

    async def test_other_paths_and_methods_are_refused(self, endpoint: MetricsEndpoint) -> None:
        """Another path is 404, another method 405."""
        assert (await _http(endpoint.port, _get("/"))).startswith(b"HTTP/1.1 404 Not Found")
        post = await _http(endpoint.port, _get("/metrics", "POST"))
        assert post.startswith(b"HTTP/1.1 405 Method Not Allowed")

    async def test_a_cut_request_gets_nothing(self, endpoint: MetricsEndpoint) -> None:
        """A client that closes before its request ends is dropped without an answer."""
        reader, writer = await asyncio.open_connection("127.0.0.1", endpoint.port)
        writer.write(b"GET /metrics HTTP/1.1\r\n")
        writer.write_eof()
        assert await reader.read() == b""
        writer.close()

    async def test_a_silent_client_is_dropped(
        self, endpoint: MetricsEndpoint, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A connection that sends no request is closed after the request timeout."""
        monkeypatch.setattr(_metrics_endpoint, "_REQUEST_TIMEOUT", 0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", endpoint.port)
        assert await reader.read() == b""
        writer.close()

    async def test_stop_twice_is_harmless(self) -> None:
        """Stopping a stopped (or never started) endpoint does nothing."""
        served = MetricsEndpoint(CollectorRegistry(), "127.0.0.1", 0)
        await served.stop()
        await served.start()
        await served.stop()
        await served.stop()


class TestServerEndpoint:
    async def test_metrics_port_serves_the_servers_registry_until_drain(self) -> None:
        """With metrics_port set a server serves its calls' metrics; after stop, nothing."""
        port = free_port()
        settings = Settings(port=0, metrics_port=port)
        server = VoiceCoreServer(settings)
        await server.start()
        try:
            channel = Channel("127.0.0.1", server.port)
            await VoiceCoreServiceStub(channel).list_primitives(ListPrimitivesRequest())
            channel.close()
            page = await _http(port, _get("/metrics"))
            assert (
                b'grpc_server_handled_total{grpc_code="OK",grpc_method="ListPrimitives",'
                b'grpc_service="voicecore.v1.VoiceCoreService",grpc_type="unary"} 1.0'
            ) in page
        finally:
            await server.stop(grace_period=0)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    async def test_two_servers_in_one_process_do_not_collide(self) -> None:
        """Each server has a registry of its own: no duplicate-series error, no shared counts."""
        first = VoiceCoreServer(Settings(port=0, metrics_port=free_port()))
        second = VoiceCoreServer(Settings(port=0, metrics_port=free_port()))
        assert first.metrics is not None and second.metrics is not None
        assert first.metrics.registry is not second.metrics.registry

    async def test_metrics_are_off_by_default(self) -> None:
        """Without metrics_port (or a registry) nothing is counted or served."""
        server = VoiceCoreServer(Settings(port=0))
        assert (server.metrics, server.metrics_endpoint) == (None, None)

    async def test_nothing_observed_without_metrics_or_access_log(self) -> None:
        """Metrics off and the access log off: calls run with no observer at all."""
        server = VoiceCoreServer(Settings(port=0, access_log=False))
        assert server._server.observer is None


class TestFlags:
    def test_serve_flags(self) -> None:
        """--metrics-port, --metrics-host and --no-access-log reach the settings' names."""
        args = build_parser().parse_args(
            ["serve", "--metrics-port", "9464", "--metrics-host", "0.0.0.0", "--no-access-log"]
        )
        assert (args.metrics_port, args.metrics_host, args.access_log) == (9464, "0.0.0.0", False)

    def test_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """VOICECORE_METRICS_PORT and VOICECORE_ACCESS_LOG set the same settings."""
        monkeypatch.setenv("VOICECORE_METRICS_PORT", "9464")
        monkeypatch.setenv("VOICECORE_ACCESS_LOG", "false")
        settings = Settings()
        assert (settings.metrics_port, settings.access_log) == (9464, False)


@pytest.fixture
def records() -> Iterator[list[dict[str, object]]]:
    """Every log record as the JSON sink would write it, at INFO and above."""
    captured: list[dict[str, object]] = []
    configure_logging("INFO", json=True)
    sink = logger.add(lambda m: captured.append(json.loads(m)["record"]), serialize=True)
    yield captured
    logger.remove(sink)
    logger.remove()
    logger.disable("voicecore")


class TestAccessLog:
    async def test_one_line_per_call_without_values(self, records: list[dict[str, object]]) -> None:
        """A capture's line names method, type, state, code, duration, trace id and peer."""
        from voicecore._json import struct_from_dict
        from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest

        server = VoiceCoreServer(Settings(port=0))
        await server.start()
        try:
            channel = Channel("127.0.0.1", server.port)
            request = ExecutePrimitiveRequest(
                objective_type="capture_email",
                params=struct_from_dict({"transcription": "secret dot person at gmail dot com"}),
                conversation_id="conv-secret",
                trace_id="access-trace",
            )
            await VoiceCoreServiceStub(channel).execute_primitive(request)
            channel.close()
        finally:
            await server.stop(grace_period=0)
        lines = [r for r in records if r["message"] == "call"]
        assert len(lines) == 1
        extra = lines[0]["extra"]
        assert isinstance(extra, dict)
        assert extra["method"] == "/voicecore.v1.VoiceCoreService/ExecutePrimitive"
        assert (extra["objective_type"], extra["state"], extra["code"]) == (
            "capture_email",
            "NEEDS_CONFIRMATION",
            "OK",
        )
        assert extra["trace_id"] == "access-trace"
        assert str(extra["peer"]).startswith("127.0.0.1:")
        assert isinstance(extra["duration_ms"], float)
        assert lines[0]["level"] == {"icon": "ℹ️", "name": "INFO", "no": 20}
        dumped = json.dumps(lines)
        assert "secret" not in dumped

    async def test_refused_calls_have_their_line(self, records: list[dict[str, object]]) -> None:
        """A call to an unknown method is logged with its code and the peer."""
        from grpclib.const import Cardinality

        server = VoiceCoreServer(Settings(port=0))
        await server.start()
        try:
            channel = Channel("127.0.0.1", server.port)
            with pytest.raises(Exception):  # noqa: B017 grpclib's client errors vary
                async with channel.request(
                    "/x/y", Cardinality.UNARY_UNARY, ListPrimitivesRequest, ListPrimitivesRequest
                ) as stream:
                    await stream.send_message(ListPrimitivesRequest(), end=True)
                    await stream.recv_message()
            channel.close()
        finally:
            await server.stop(grace_period=0)
        (line,) = [r for r in records if r["message"] == "call"]
        extra = line["extra"]
        assert isinstance(extra, dict)
        assert (extra["method"], extra["code"]) == ("/x/y", "UNIMPLEMENTED")
        assert str(extra["peer"]).startswith("127.0.0.1:")

    async def test_no_access_log_writes_no_line(self, records: list[dict[str, object]]) -> None:
        """access_log=False: calls are not logged."""
        server = VoiceCoreServer(Settings(port=0, access_log=False))
        await server.start()
        try:
            channel = Channel("127.0.0.1", server.port)
            await VoiceCoreServiceStub(channel).list_primitives(ListPrimitivesRequest())
            channel.close()
        finally:
            await server.stop(grace_period=0)
        assert not [r for r in records if r["message"] == "call"]


class TestWorkers:
    def test_each_worker_has_its_own_metrics_port(self) -> None:
        """Worker i serves its metrics on metrics_port + i, each a scrape target."""
        settings = Settings(metrics_port=9464)
        assert [_metrics_endpoint.for_worker(settings, i).metrics_port for i in range(3)] == [
            9464,
            9465,
            9466,
        ]

    def test_metrics_off_stay_off(self) -> None:
        """Without metrics_port no worker serves metrics."""
        assert _metrics_endpoint.for_worker(Settings(), 2).metrics_port == 0

    def test_the_ports_must_fit(self) -> None:
        """The last worker's metrics port must exist."""

        class SharedStore(Settings):
            @property
            def store_is_shared(self) -> bool:
                return True  # several workers need one (Redis); its kind does not matter here

        assert SharedStore(metrics_port=65534, workers=2).metrics_port == 65534
        with pytest.raises(ValueError, match="one metrics port per worker"):
            SharedStore(metrics_port=65535, workers=2)
