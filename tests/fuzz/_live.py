"""A live server for the fuzzer: ``voicecore serve`` in a subprocess, watched from outside.

It is started by the suite's one launcher (``tests._servers.ServerProcess``). The subprocess
(not an in-process server) is what lets the fuzzer see a crash (the process is gone, with its
exit status), read the server's own memory (``VmRSS`` of its pid) and measure its event loop
alone: the ticker runs inside it (see ``serve_with_ticker.py``) and reports late wake-ups
through a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest as StandardCheckRequest
from grpclib.health.v1.health_pb2 import HealthCheckResponse as StandardCheckResponse

from tests._servers import HOST, ServerProcess, free_port, serve_command, wait_serving
from voicecore._proto.voicecore.v1 import VoiceCoreServiceStub

__all__ = ["LiveServer", "Stall"]

REPO_ROOT = Path(__file__).resolve().parents[2]
_PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Stall:
    """One late wake-up of the server's loop ticker: wall lag and loop-thread CPU in it."""

    lag_ms: float
    cpu_ms: float


class LiveServer:
    """``python -m voicecore serve`` (through the ticker wrapper) on 127.0.0.1.

    ``start()`` may be called again after a crash or a kill: it starts a fresh process on a
    fresh port and a fresh lag file.
    """

    def __init__(self, *serve_args: str, report_lag_ms: float = 20.0) -> None:
        self.serve_args = serve_args
        self.report_lag_ms = report_lag_ms
        self.host = HOST
        self.port = 0
        self.starts = 0
        self._proc: ServerProcess | None = None
        self._lag_dir = tempfile.TemporaryDirectory(prefix="voicecore-fuzz-")
        self._lag_path = Path(self._lag_dir.name) / "lag-0.txt"
        self._lag_read = 0
        self.channel: Channel | None = None

    @property
    def target(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._proc is not None
        return self._proc.pid

    def exit_code(self) -> int | None:
        """None while the process runs; its exit status (negative: killed by that signal)."""
        return None if self._proc is None else self._proc.exit_code()

    async def wait_exit(self, seconds: float) -> int | None:
        """The exit status if the process ends within ``seconds``, else None."""
        return None if self._proc is None else await self._proc.wait_exit(seconds)

    async def start(self) -> None:
        """Start a fresh server process and wait until its HealthCheck answers SERVING."""
        await self.stop()
        self.starts += 1
        self.port = free_port()
        self._lag_path = Path(self._lag_dir.name) / f"lag-{self.starts}.txt"
        self._lag_path.touch()
        self._lag_read = 0
        env = {
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "VOICECORE_FUZZ_LAG_FILE": str(self._lag_path),
            "VOICECORE_FUZZ_LAG_REPORT_MS": str(self.report_lag_ms),
        }
        command = serve_command(
            self.port, *self.serve_args, module="tests.fuzz.serve_with_ticker", grace_period="0"
        )
        self._proc = ServerProcess(command, self.port, env=env)
        await wait_serving(self.host, self.port)
        self.channel = Channel(self.host, self.port)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s: a stalled server may never see the SIGTERM."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        proc, self._proc = self._proc, None
        if proc is not None:
            await proc.stop_async(grace=3.0)

    def close(self) -> None:
        """Remove the lag files (call after ``stop()``)."""
        self._lag_dir.cleanup()

    def rss_mb(self) -> float:
        """The server's resident memory in MiB, from ``/proc/<pid>/status`` (VmRSS)."""
        assert self._proc is not None
        return self._proc.rss_mb()

    def new_stalls(self) -> list[Stall]:
        """Late wake-ups the ticker wrote since the last call."""
        with self._lag_path.open(encoding="ascii") as lag_file:
            lag_file.seek(self._lag_read)
            text = lag_file.read()
        complete = text[: text.rfind("\n") + 1]  # a line still being written waits for next time
        self._lag_read += len(complete)
        return [Stall(*map(float, line.split())) for line in complete.splitlines()]

    async def custom_health(self) -> str:
        """The project's HealthCheck status over the long-lived channel (a cheap barrier)."""
        assert self.channel is not None
        stub = VoiceCoreServiceStub(self.channel)
        return (await stub.health_check(timeout=_PROBE_TIMEOUT)).status

    async def probe(self) -> str:
        """Both health checks on a fresh connection: "" if both say SERVING, else what failed."""
        try:
            async with Channel(self.host, self.port) as channel:
                standard = await HealthStub(channel).Check(
                    StandardCheckRequest(), timeout=_PROBE_TIMEOUT
                )
                custom = await VoiceCoreServiceStub(channel).health_check(timeout=_PROBE_TIMEOUT)
        except (OSError, TimeoutError, ConnectionError) as exc:
            return f"health probe failed: {type(exc).__name__}"
        except Exception as exc:  # a GRPCError or a protocol error: the server answered badly
            return f"health probe failed: {exc!r}"
        if standard is None or standard.status != StandardCheckResponse.SERVING:
            return f"grpc.health.v1 Check said {standard!r}"
        if custom.status != "SERVING":
            return f"HealthCheck said {custom.status!r}"
        return ""
