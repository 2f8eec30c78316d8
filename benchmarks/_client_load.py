"""Load from the project's own client: ``VoiceCoreClient`` calls, as many as it can make.

h2load measures the server; this measures what an application sees through ``VoiceCoreClient``
(its TLS and token handling included), in this Python process, on the load CPU.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import Any

from _servers import Running

from voicecore.client import ClientConfig, VoiceCoreClient

__all__ = ["ClientResult", "client_calls"]


@dataclass(frozen=True, slots=True)
class ClientResult:
    """One run of ``client_calls``."""

    rps: float
    p50_ms: float
    p99_ms: float
    calls: int


def client_calls(
    server: Running, params: dict[str, Any], *, seconds: float, concurrency: int = 16
) -> ClientResult:
    """capture_email through one ``VoiceCoreClient`` with ``concurrency`` calls in flight, for
    ``seconds`` (after a short warm-up); every call must succeed."""
    return asyncio.run(_run(server, params, seconds, concurrency))


async def _run(
    server: Running, params: dict[str, Any], seconds: float, concurrency: int
) -> ClientResult:
    access = server.spec.access
    config = ClientConfig.model_validate(
        {"endpoint": f"127.0.0.1:{server.port}", "tls_ca": access.ca, "auth_token": access.token}
    )
    latencies: list[float] = []
    async with VoiceCoreClient(config=config) as client:

        async def worker(index: int, until: float, record: bool) -> None:
            turn = 0
            while time.perf_counter() < until:
                turn += 1
                started = time.perf_counter()
                response = await client.execute(
                    "capture_email", params, conversation_id=f"client-{index}-{turn}"
                )
                if not response.success:
                    raise RuntimeError(f"{server.spec.label}: a client call failed: {response}")
                if record:
                    latencies.append((time.perf_counter() - started) * 1000)

        warm_up = time.perf_counter() + 0.5
        await asyncio.gather(*(worker(i, warm_up, False) for i in range(concurrency)))
        started = time.perf_counter()
        await asyncio.gather(*(worker(i, started + seconds, True) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return ClientResult(len(latencies) / elapsed, quantiles[49], quantiles[98], len(latencies))
