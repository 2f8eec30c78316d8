"""A Prometheus of the test's own: Debian's ``prometheus`` scraping a test server every second.

``running_prometheus`` writes a scrape configuration into a temporary directory, starts
``/usr/bin/prometheus`` on a free loopback port with its storage there, waits until it is
ready, and always stops it. ``Prometheus.value`` asks its HTTP query API
(``/api/v1/query``) and ``Prometheus.wait_for`` polls until a query gives the expected value,
within a bound: the scrape that sees new counts comes within a second or two.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests._servers import HOST, free_port

__all__ = ["PROMETHEUS", "Prometheus", "running_prometheus"]

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
_READY_TIMEOUT = 30.0
_POLL_SECONDS = 0.2
_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: voicecore
    static_configs:
      - targets: [{targets}]
"""


@dataclass(frozen=True)
class Prometheus:
    """A running Prometheus's address, and its query API."""

    port: int

    def url(self, path: str, **query: str) -> str:
        encoded = f"?{urllib.parse.urlencode(query)}" if query else ""
        return f"http://{HOST}:{self.port}{path}{encoded}"

    async def value(self, query: str) -> float | None:
        """The instant query's single value, or None when it has no result (yet)."""
        answer = await asyncio.to_thread(_get_json, self.url("/api/v1/query", query=query))
        assert answer["status"] == "success", answer
        result = answer["data"]["result"]
        if not result:
            return None
        assert len(result) == 1, result
        return float(result[0]["value"][1])

    async def wait_for(self, query: str, expected: float, timeout: float = 30.0) -> None:
        """Poll ``query`` until it gives ``expected``; TimeoutError names the last value."""
        last: float | None = None
        try:
            async with asyncio.timeout(timeout):
                while (last := await self.value(query)) != expected:
                    await asyncio.sleep(_POLL_SECONDS)
        except TimeoutError:
            raise TimeoutError(f"{query} is {last}, not {expected}, after {timeout} s") from None


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def _ready(prometheus: Prometheus, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(_READY_TIMEOUT):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {process.returncode}")
            try:
                await asyncio.to_thread(_get_status, prometheus.url("/-/ready"))
                return
            except (urllib.error.URLError, ConnectionError):
                await asyncio.sleep(_POLL_SECONDS)


def _get_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status)


@asynccontextmanager
async def running_prometheus(targets: Sequence[str], directory: Path) -> AsyncIterator[Prometheus]:
    """A Prometheus scraping ``targets`` (``host:port``) every second; stopped on exit."""
    config = directory / "prometheus.yml"
    config.write_text(_CONFIG.format(targets=", ".join(f"'{target}'" for target in targets)))
    prometheus = Prometheus(free_port())
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--web.listen-address={HOST}:{prometheus.port}",
            f"--storage.tsdb.path={directory / 'data'}",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        await _ready(prometheus, process)
        yield prometheus
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 10)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        log.close()
