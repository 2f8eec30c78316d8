"""Unary load from h2load: pre-encoded gRPC request bodies, per-request latencies from its log."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _servers import LOAD_CPU, Running, taskset_prefix

__all__ = ["LoadResult", "ensure_h2load", "grpc_body", "run_h2load"]

PATH = "/voicecore.v1.VoiceCoreService/ExecutePrimitive"
_SUMMARY = re.compile(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One h2load run against one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    succeeded: int
    total: int
    server_cpu: float  # share of one core the server used during the run


def ensure_h2load() -> str:
    """The h2load path; installs Debian's nghttp2-client when it is missing (we are root)."""
    found = shutil.which("h2load")
    if found:
        return found
    print("h2load is missing: apt-get install -y nghttp2-client", flush=True)
    subprocess.run(["apt-get", "install", "-y", "nghttp2-client"], check=True)
    found = shutil.which("h2load")
    if not found:
        raise RuntimeError("h2load is still missing after installing nghttp2-client")
    return found


def grpc_body(message: bytes, folder: Path, name: str) -> Path:
    """A gRPC length-prefixed frame of ``message`` (uncompressed), written to a file."""
    path = folder / f"{name}.grpc"
    path.write_bytes(b"\x00" + len(message).to_bytes(4, "big") + message)
    return path


def run_h2load(
    server: Running,
    body: Path,
    *,
    seconds: float,
    rate: int | None = None,
    paced_streams: int = 1,
    connections: int = 4,
) -> LoadResult:
    """Drive ``server`` for ``seconds``: as fast as it goes, or at ``rate`` requests/s.

    At a rate, each of the ``connections`` has ``paced_streams`` requests in flight at most: 1
    (the main table) waits for an answer before the next request; more keeps the schedule while
    answers are late (open-loop, as long as that many are enough). h2load paces its
    connections in step, so several connections send their requests together, a burst each
    tick: one connection measures a call's own latency at a light rate."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "requests.log"
        command = [
            *taskset_prefix(LOAD_CPU),
            ensure_h2load(),
            *(
                ["-c", str(connections), "-m", str(paced_streams), f"--rps={rate / connections:g}"]
                if rate
                else ["-c", str(connections), "-m", "8"]
            ),
            f"--duration={int(seconds * 1000)}ms",
            "--warm-up-time=500ms",
            f"--data={body}",
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
            *(f"-H{name}: {value}" for name, value in server.spec.access.headers()),
            f"--log-file={log}",
            f"{server.spec.access.scheme}://127.0.0.1:{server.port}{PATH}",
        ]
        cpu_before = server.cpu_seconds()
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        cpu = (server.cpu_seconds() - cpu_before) / (seconds + 0.5)
        durations = [int(line.split("\t")[2]) / 1000 for line in log.read_text().splitlines()]
    match = _SUMMARY.search(output)
    if match is None or not durations:
        raise RuntimeError(f"unexpected h2load output:\n{output}")
    total, done, succeeded = (int(group) for group in match.groups())
    quantiles = statistics.quantiles(durations, n=100, method="inclusive")
    return LoadResult(
        rps=done / seconds,
        p50_ms=quantiles[49],
        p99_ms=quantiles[98],
        succeeded=succeeded,
        total=total,
        server_cpu=cpu,
    )
