"""The ``/metrics`` endpoint: a server's Prometheus registry over plain HTTP, beside gRPC.

A small HTTP/1.1 server on the event loop (``asyncio.start_server``): no thread, no
dependency; a scrape renders the registry in the loop, about a millisecond. One request per
connection, ``GET`` or ``HEAD`` of ``/metrics``; anything else is refused. What is counted is
``voicecore._metrics``'s; with ``--workers`` each worker serves its own port (``for_worker``).
"""

from __future__ import annotations

import asyncio
from typing import Final

from loguru import logger
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from voicecore.config import Settings

__all__ = ["MetricsEndpoint", "for_worker"]

_REQUEST_LIMIT: Final = 8 * 1024
_REQUEST_TIMEOUT: Final = 5.0


class MetricsEndpoint:
    """``GET /metrics`` over plain HTTP/1.1 on the event loop, one request per connection."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self.registry = registry
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; ``port`` is the bound port afterwards (0 picks a free one)."""
        self._server = await asyncio.start_server(
            self._answer, self.host, self.port, limit=_REQUEST_LIMIT
        )
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("serving metrics", host=self.host, port=self.port, path="/metrics")

    async def stop(self) -> None:
        """Stop listening and end the connections still open."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_REQUEST_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            writer.write(self._response(head))
            await writer.drain()
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
        ):
            pass  # a client that sends no whole request in time, or leaves, gets nothing
        finally:
            writer.close()

    def _response(self, head: bytes) -> bytes:
        method, _, rest = head.partition(b" ")
        target = rest.split(b" ", 1)[0].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            return _http(405, b"text/plain", b"only GET\n", head_only=False)
        if target != b"/metrics":
            return _http(404, b"text/plain", b"see /metrics\n", head_only=method == b"HEAD")
        body = generate_latest(self.registry)
        return _http(200, CONTENT_TYPE_LATEST.encode(), body, head_only=method == b"HEAD")


_REASONS: Final = {200: b"OK", 404: b"Not Found", 405: b"Method Not Allowed"}


def _http(status: int, content_type: bytes, body: bytes, *, head_only: bool) -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n" % (
        status,
        _REASONS[status],
        content_type,
        len(body),
    )
    return head + b"\r\n" + (b"" if head_only else body)


def for_worker(settings: Settings, index: int) -> Settings:
    """Worker ``index``'s settings under ``--workers``: its metrics on ``metrics_port + index``.

    Each worker is scraped as a target of its own, rather than the parent adding the workers'
    counts up: the parent serves nothing, and prometheus-client's multiprocess mode would lose
    the per-process collectors and the event log's gauges (a scrape cannot sum them).
    """
    if not settings.metrics_port:
        return settings
    return settings.model_copy(update={"metrics_port": settings.metrics_port + index})
