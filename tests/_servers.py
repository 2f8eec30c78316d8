"""Real voicecore servers for integration tests: the CLI as a subprocess on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from grpclib.client import Channel

from voicecore._proto.voicecore.v1 import VoiceCoreServiceStub

__all__ = ["RunningServer", "free_port", "start_server", "wait_serving"]

_START_TIMEOUT = 20.0


@dataclass(frozen=True)
class RunningServer:
    """A started server subprocess."""

    host: str
    port: int
    proc: asyncio.subprocess.Process

    @property
    def target(self) -> str:
        """``host:port`` as grpcurl and grpcio spell it."""
        return f"{self.host}:{self.port}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_serving(host: str, port: int, timeout: float = _START_TIMEOUT) -> None:
    """Poll the custom HealthCheck until it answers SERVING; raises TimeoutError."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                async with Channel(host, port) as channel:
                    health = await VoiceCoreServiceStub(channel).health_check(timeout=1.0)
                    if health.status == "SERVING":
                        return
            except (OSError, TimeoutError, ConnectionError):
                pass
            await asyncio.sleep(0.05)


@asynccontextmanager
async def start_server(
    *extra_args: str, port: int | None = None, env: Mapping[str, str] | None = None
) -> AsyncIterator[RunningServer]:
    """Run ``python -m voicecore serve`` on 127.0.0.1 until the block ends, then SIGTERM it."""
    port = port or free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicecore",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--grace-period",
        "1",
        *extra_args,
        env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_serving("127.0.0.1", port)
        yield RunningServer("127.0.0.1", port, proc)
    finally:
        await _terminate(proc)


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout=10.0)
    except TimeoutError:
        proc.kill()
        await proc.wait()
