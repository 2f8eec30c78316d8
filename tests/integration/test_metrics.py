"""Metrics end to end: a real Prometheus scrapes a real server, and curl reads /metrics."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path

import pytest

from tests._prometheus import PROMETHEUS, running_prometheus
from tests._servers import HOST, free_port, start_server
from tests.integration.test_workers import fleet
from voicecore.client import VoiceCoreClient

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EMAIL = {"transcription": "john at gmail dot com"}


async def _drive(target: str) -> None:
    """Three email captures and one turn of a type the server does not know."""
    async with VoiceCoreClient(target) as client:
        for conversation in ("a", "b", "c"):
            response = await client.execute("capture_email", EMAIL, conversation_id=conversation)
            assert response.success
        unknown = await client.execute("capture_nothing_such", conversation_id="d")
        assert unknown.error is not None and unknown.error.code.name == "PRIMITIVE_NOT_FOUND"


@pytest.mark.skipif(not os.path.exists(PROMETHEUS), reason="Debian's prometheus not installed")
class TestRealPrometheus:
    async def test_counters_read_back_through_the_query_api(self, tmp_path: Path) -> None:
        """Prometheus scrapes the metrics port; its query API gives the calls made."""
        metrics_port = free_port()
        async with start_server("--metrics-port", str(metrics_port)) as server:
            async with running_prometheus([f"{HOST}:{metrics_port}"], tmp_path) as prometheus:
                await prometheus.wait_for('up{job="voicecore"}', 1)
                await _drive(server.target)
                handled = (
                    'grpc_server_handled_total{grpc_service="voicecore.v1.VoiceCoreService",'
                    'grpc_method="ExecutePrimitive",grpc_type="unary",grpc_code="OK"}'
                )
                await prometheus.wait_for(handled, 4)
                captured = (
                    'voicecore_calls_total{objective_type="capture_email",outcome="success",'
                    'state="NEEDS_CONFIRMATION"}'
                )
                await prometheus.wait_for(captured, 3)
                unknown = 'sum(voicecore_calls_total{objective_type="unknown"})'
                await prometheus.wait_for(unknown, 1)
                offered = 'voicecore_confirmation_confidence_count{objective_type="capture_email"}'
                await prometheus.wait_for(offered, 3)


class TestCurlExample:
    async def test_metrics_curl_shows_the_calls(self) -> None:
        """examples/metrics_curl.sh prints the handled calls and the turns, nothing at zero."""
        metrics_port = free_port()
        async with start_server("--metrics-port", str(metrics_port)) as server:
            await _drive(server.target)
            process = await asyncio.create_subprocess_exec(
                "bash",
                str(ROOT / "examples" / "metrics_curl.sh"),
                f"{HOST}:{metrics_port}",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            async with asyncio.timeout(60):
                stdout, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
        lines = stdout.decode().splitlines()
        assert (
            'grpc_server_handled_total{grpc_code="OK",grpc_method="ExecutePrimitive",'
            'grpc_service="voicecore.v1.VoiceCoreService",grpc_type="unary"} 4.0'
        ) in lines
        assert (
            'voicecore_calls_total{objective_type="capture_email",outcome="success",'
            'state="NEEDS_CONFIRMATION"} 3.0'
        ) in lines
        assert not [line for line in lines if line.endswith(" 0.0")]


def _two_free_ports() -> int:
    """A port P such that P and P + 1 are both free right now."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row")


async def _page(port: int) -> str:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    page = (await reader.read()).decode()
    writer.close()
    return page


class TestWorkers:
    async def test_each_worker_serves_its_own_metrics_port(self, tmp_path: Path) -> None:
        """serve --workers 2 --metrics-port P: the workers answer on P and P + 1, each with
        the calls it served."""
        port = _two_free_ports()
        async with fleet(tmp_path, "--metrics-port", str(port), workers=2):
            pages = [await _page(port), await _page(port + 1)]
        for page in pages:
            assert page.startswith("HTTP/1.1 200 OK")
            served = re.search(
                r'grpc_server_handled_total\{grpc_code="OK",grpc_method="ExecutePrimitive",'
                r'grpc_service="voicecore.v1.VoiceCoreService",grpc_type="unary"\} (\d+)\.0',
                page,
            )
            assert served is not None and int(served.group(1)) >= 1
