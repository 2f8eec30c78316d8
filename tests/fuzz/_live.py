"""A live server for the fuzzer: ``voicecore serve`` in a subprocess, watched from outside.

The subprocess (not an in-process server) is what lets the fuzzer see a crash (the process is
gone, with its exit status), read the server's own memory (``VmRSS`` of its pid) and measure
its event loop alone: the ticker runs inside it (see ``serve_with_ticker.py``) and reports
late wake-ups through a file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest as StandardCheckRequest
from grpclib.health.v1.health_pb2 import HealthCheckResponse as StandardCheckResponse

from tests._servers import free_port, wait_serving
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
        self.host = "127.0.0.1"
        self.port = 0
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None
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
        return None if self._proc is None else self._proc.poll()

    async def wait_exit(self, seconds: float) -> int | None:
        """The exit status if the process ends within ``seconds``, else None."""
        for _ in range(max(1, round(seconds / 0.05))):
            code = self.exit_code()
            if code is not None:
                return code
            await asyncio.sleep(0.05)
        return self.exit_code()

    async def start(self) -> None:
        """Start a fresh server process and wait until its HealthCheck answers SERVING."""
        await self.stop()
        self.starts += 1
        self.port = free_port()
        self._lag_path = Path(self._lag_dir.name) / f"lag-{self.starts}.txt"
        self._lag_path.touch()
        self._lag_read = 0
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
            "VOICECORE_FUZZ_LAG_FILE": str(self._lag_path),
            "VOICECORE_FUZZ_LAG_REPORT_MS": str(self.report_lag_ms),
        }
        args = ["serve", "--host", self.host, "--port", str(self.port), "--grace-period", "0"]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.serve_with_ticker", *args, *self.serve_args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await wait_serving(self.host, self.port)
        self.channel = Channel(self.host, self.port)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s: a stalled server may never see the SIGTERM."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        for _ in range(30):
            if proc.poll() is not None:
                return
            await asyncio.sleep(0.1)
        proc.kill()
        proc.wait()

    def close(self) -> None:
        """Remove the lag files (call after ``stop()``)."""
        self._lag_dir.cleanup()

    def rss_mb(self) -> float:
        """The server's resident memory in MiB, from ``/proc/<pid>/status`` (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS line")  # only a zombie has none

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
