"""The non-unary measurements: StreamEvents delivery, memory with held captures, start-up time."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import grpc
from _load import grpc_body, run_h2load
from _servers import ROOT, SERVER_CPU, Running, free_port, pb2, taskset_prefix

from tests._servers import ServerProcess, serve_command

__all__ = ["event_latency", "event_rate", "held_captures_rss", "startup_seconds"]


def _stub(stubs: Path, channel: Any) -> Any:
    return pb2(stubs)[1].VoiceCoreServiceStub(channel)


async def _last_sequence(stubs: Path, port: int) -> int:
    messages, _ = pb2(stubs)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = messages.ExecutePrimitiveRequest(objective_type="debug_echo")
        response = await _stub(stubs, channel).ExecutePrimitive(request)
        return int(response.metadata.last_event_sequence)


def event_rate(server: Running, stubs: Path, body: Path, *, calls: int) -> float:
    """Events/s one subscriber receives while it replays a log filled by ``calls`` echo calls."""
    run_h2load(server, body, seconds=max(1.0, calls / 1500))
    return asyncio.run(_replay_rate(server.port, stubs))


async def _replay_rate(port: int, stubs: Path) -> float:
    messages, _ = pb2(stubs)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = messages.StreamEventsRequest(after_sequence=0, replay_only=True)
        received, first = 0, 0.0
        async for _event in _stub(stubs, channel).StreamEvents(request):
            received += 1
            if received == 1:
                first = time.perf_counter()
        return (received - 1) / (time.perf_counter() - first) if received > 1 else 0.0


def event_latency(server: Running, stubs: Path, folder: Path, *, seconds: float) -> list[float]:
    """Emit-to-receive latencies (ms) of live events at about 1,000 events/s (500 echo calls/s)."""
    return asyncio.run(_follow(server, stubs, folder, seconds))


async def _follow(server: Running, stubs: Path, folder: Path, seconds: float) -> list[float]:
    messages, _ = pb2(stubs)
    after = await _last_sequence(stubs, server.port)
    body = grpc_body(
        messages.ExecutePrimitiveRequest(objective_type="debug_echo").SerializeToString(),
        folder,
        "echo-empty",
    )
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        request = messages.StreamEventsRequest(after_sequence=after)
        stream = _stub(stubs, channel).StreamEvents(request)

        async def collect() -> None:
            async for event in stream:
                received = time.time()
                latencies.append((received - event.time.seconds - event.time.nanos / 1e9) * 1000)

        collector = asyncio.create_task(collect())
        await asyncio.to_thread(run_h2load, server, body, seconds=seconds, rate=500)
        await asyncio.sleep(0.2)
        stream.cancel()
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
    return latencies


def held_captures_rss(server: Running, stubs: Path, *, count: int) -> tuple[float, int]:
    """RSS (MB) after ``count`` capture_email turns held in NEEDS_CONFIRMATION; how many were."""
    held = asyncio.run(_hold_captures(server.port, stubs, count))
    return server.rss_mb(), held


async def _hold_captures(port: int, stubs: Path, count: int) -> int:
    messages, _ = pb2(stubs)
    held = 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = _stub(stubs, channel)

        async def one(index: int) -> bool:
            request = messages.ExecutePrimitiveRequest(
                objective_type="capture_email", conversation_id=f"bench-{index}"
            )
            request.params.update(
                {"transcription": f"user{index} at example dot com", "require_confirmation": True}
            )
            response = await stub.ExecutePrimitive(request, timeout=30)
            return bool(response.success and response.metadata.state == 2)  # NEEDS_CONFIRMATION

        for start in range(0, count, 64):
            results = await asyncio.gather(*(one(i) for i in range(start, min(count, start + 64))))
            held += sum(results)
    return held


# grpcio waits about a second (its initial reconnect backoff) before it tries a refused address
# again; without these options the figure measured that backoff, not the server.
_EAGER_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 10),
    ("grpc.min_reconnect_backoff_ms", 10),
    ("grpc.max_reconnect_backoff_ms", 50),
]


def startup_seconds(stubs: Path) -> float:
    """Seconds from spawning ``voicecore serve`` to its standard health check answering SERVING."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    port = free_port()
    command = [*taskset_prefix(SERVER_CPU), *serve_command(port)]
    started = time.perf_counter()
    process = ServerProcess(command, port, cwd=ROOT)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=_EAGER_RECONNECT) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.perf_counter() - started < 30:
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return time.perf_counter() - started
                except grpc.RpcError:
                    pass
                time.sleep(0.01)
        raise RuntimeError("voicecore serve did not report SERVING within 30 s")
    finally:
        process.stop(grace=10.0)


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method) of ``values``."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]
