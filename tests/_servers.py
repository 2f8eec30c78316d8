"""The one server launcher: a server subprocess on 127.0.0.1, watched from outside, always stopped.

Integration tests start ``python -m voicecore serve`` with ``start_server``; the fuzzer
(``tests/fuzz/_live.py``) and the benchmarks (``benchmarks/_servers.py``) start their own
commands with ``ServerProcess`` and read its exit status, memory and CPU time the same way.
A subprocess is what lets them see a crash (the exit status), measure the server alone, and
count its coverage (coverage starts in every child Python, see pyproject's ``patch``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grpclib.client import Channel

from voicecore._proto.voicecore.v1 import VoiceCoreServiceStub

__all__ = [
    "HOST",
    "RunningServer",
    "ServerProcess",
    "free_port",
    "serve_command",
    "start_server",
    "wait_serving",
]

HOST = "127.0.0.1"
_START_TIMEOUT = 20.0
_POLL_SECONDS = 0.05


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def serve_command(
    port: int, *extra_args: str, module: str = "voicecore", grace_period: str = "1"
) -> list[str]:
    """``python -m MODULE serve`` on 127.0.0.1:``port`` (MODULE may wrap voicecore's CLI)."""
    return [
        sys.executable,
        "-m",
        module,
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--grace-period",
        grace_period,
        *extra_args,
    ]


class ServerProcess:
    """A started server subprocess listening (once it is up) on 127.0.0.1:``port``.

    Its output goes nowhere unless ``stdout``/``stderr`` say otherwise: a test reads the server
    through its answers and its exit status, not its log.
    """

    def __init__(
        self,
        argv: Sequence[str],
        port: int,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdout: int | IO[bytes] | None = subprocess.DEVNULL,
        stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    ) -> None:
        self.host = HOST
        self.port = port
        self.process = subprocess.Popen(
            list(argv),
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )

    @property
    def target(self) -> str:
        """``host:port`` as grpcurl and grpcio spell it."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def exit_code(self) -> int | None:
        """None while the process runs; its exit status (negative: killed by that signal)."""
        return self.process.poll()

    async def wait_exit(self, seconds: float) -> int | None:
        """The exit status if the process ends within ``seconds``, else None."""
        for _ in range(max(1, round(seconds / _POLL_SECONDS))):
            code = self.exit_code()
            if code is not None:
                return code
            await asyncio.sleep(_POLL_SECONDS)
        return self.exit_code()

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not drained within ``grace`` seconds."""
        if self.exit_code() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self._kill()

    async def stop_async(self, grace: float = 10.0) -> None:
        """``stop`` without blocking the event loop while the server drains."""
        if self.exit_code() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        if await self.wait_exit(grace) is None:
            self._kill()

    def _kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def rss_mb(self) -> float:
        """Resident memory in MiB, from ``/proc/<pid>/status`` (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS line")  # only a zombie has none

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")


async def wait_serving(
    host: str,
    port: int,
    timeout: float = _START_TIMEOUT,
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Poll the custom HealthCheck (over TLS given ``ssl_context``) until it answers SERVING;
    raises TimeoutError."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                async with Channel(host, port, ssl=ssl_context) as channel:
                    health = await VoiceCoreServiceStub(channel).health_check(timeout=1.0)
                    if health.status == "SERVING":
                        return
            except (OSError, TimeoutError, ConnectionError):
                pass
            await asyncio.sleep(_POLL_SECONDS)


@dataclass(frozen=True)
class RunningServer:
    """A started ``voicecore serve`` subprocess."""

    host: str
    port: int
    proc: ServerProcess

    @property
    def target(self) -> str:
        """``host:port`` as grpcurl and grpcio spell it."""
        return f"{self.host}:{self.port}"


@asynccontextmanager
async def start_server(
    *extra_args: str,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
) -> AsyncIterator[RunningServer]:
    """Run ``python -m voicecore serve`` on 127.0.0.1 until the block ends, then SIGTERM it.

    A TLS server (``--tls-cert``) is waited for through ``ssl_context``, a client context
    that trusts it (and holds a client certificate for mTLS).
    """
    port = port or free_port()
    server = ServerProcess(serve_command(port, *extra_args), port, env=env, stderr=stderr)
    try:
        await wait_serving(HOST, port, ssl_context=ssl_context)
        yield RunningServer(HOST, port, server)
    finally:
        await server.stop_async()
