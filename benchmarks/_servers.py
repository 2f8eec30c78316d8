"""Start, probe and stop the servers under test; read their CPU time and memory from /proc.

The processes themselves are the test suite's one launcher (``tests._servers.ServerProcess``);
this module adds what only the benchmarks need: CPU pinning, grpcio stubs, a readiness probe
that any server (voicecore or the grpcio reference) answers.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from benchmarks/: the launcher lives in tests/
    sys.path.insert(0, str(ROOT))

from _secure import Access  # noqa: E402

from tests._servers import ServerProcess, free_port  # noqa: E402

__all__ = [
    "ServerSpec",
    "Running",
    "free_port",
    "generate_stubs",
    "pb2",
    "start",
    "taskset_prefix",
]

PROTO = ROOT / "proto" / "voicecore" / "v1" / "voice_core.proto"
SERVER_CPU = 0
LOAD_CPU = 1


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """One server to measure: a table label, the command that runs it on ``port``, and what
    a client needs to reach it (TLS, a token)."""

    label: str
    argv: tuple[str, ...]  # "{port}" is replaced by the port
    access: Access = Access()

    def command(self, port: int) -> list[str]:
        """The argv with the port filled in."""
        return [part.replace("{port}", str(port)) for part in self.argv]


@dataclass(slots=True)
class Running:
    """A started server process."""

    spec: ServerSpec
    port: int
    process: ServerProcess
    started: float = field(default_factory=time.perf_counter)

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far."""
        return self.process.cpu_seconds()

    def rss_mb(self) -> float:
        """Resident set size in MB (VmRSS of /proc/PID/status)."""
        return self.process.rss_mb()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not drain within 5 s."""
        self.process.stop(grace=5.0)


def taskset_prefix(cpu: int) -> list[str]:
    """``taskset -c CPU`` when the machine has that CPU and taskset works, else nothing."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    probe = subprocess.run(["taskset", "-c", str(cpu), "true"], capture_output=True, check=False)
    return ["taskset", "-c", str(cpu)] if probe.returncode == 0 else []


def generate_stubs() -> Path:
    """protobuf and grpcio stubs of our proto, generated now into a temporary ``vcref`` package.

    The proto is copied under another folder name so that the generated module does not collide
    with the ``voicecore`` package; the wire names (``voicecore.v1.*``) are unchanged.
    """
    out = Path(tempfile.mkdtemp(prefix="voicecore-bench-"))
    source = out / "src" / "vcref"
    source.mkdir(parents=True)
    shutil.copy(PROTO, source / "voice_core.proto")
    (out / "vcref").mkdir()
    (out / "vcref" / "__init__.py").write_text("")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{out / 'src'}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            "vcref/voice_core.proto",
        ],
        check=True,
    )
    return out


def pb2(stubs: Path) -> tuple[ModuleType, ModuleType]:
    """The generated ``voice_core_pb2`` and ``voice_core_pb2_grpc`` modules."""
    if str(stubs) not in sys.path:
        sys.path.insert(0, str(stubs))
    return (
        importlib.import_module("vcref.voice_core_pb2"),
        importlib.import_module("vcref.voice_core_pb2_grpc"),
    )


def start(spec: ServerSpec, stubs: Path, *, timeout: float = 30.0) -> Running:
    """Start ``spec`` pinned to the server CPU and wait until it answers a call."""
    port = free_port()
    command = [*taskset_prefix(SERVER_CPU), *spec.command(port)]
    process = ServerProcess(command, port, cwd=ROOT, stderr=None)  # a failing server says why
    running = Running(spec, port, process)
    deadline = time.monotonic() + timeout
    while not _answers(spec.access, port, stubs):
        if process.exit_code() is not None or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"{spec.label} did not start: {' '.join(command)}")
        time.sleep(0.05)
    return running


def _answers(access: Access, port: int, stubs: Path) -> bool:
    messages, services = pb2(stubs)
    with access.channel(f"127.0.0.1:{port}") as channel:
        stub: Any = services.VoiceCoreServiceStub(channel)
        request = messages.ExecutePrimitiveRequest(objective_type="debug_echo")
        try:
            response = stub.ExecutePrimitive(request, timeout=1.0, metadata=access.headers())
        except grpc.RpcError:
            return False
        return bool(response.success)
