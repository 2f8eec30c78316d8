"""A small asyncio TCP proxy on 127.0.0.1 that injects faults between a client and a server.

toxiproxy does not install here and ``tc netem`` does not work on this kernel (NOTES.md), so
the integration tests put this between the client and a real server. Faults:

* ``refuse = True``: new connections are reset as soon as they are accepted;
* ``refuse_next = n``: the next ``n`` connections are reset that way, later ones pass;
* ``delay``: seconds added before each forwarded chunk, both directions;
* ``hold_responses()``: server-to-client bytes are buffered until ``release_responses()``,
  so a test can let a request reach the server and lose the answer;
* ``reset_all()``: every open connection is reset (RST) on both sides, like a crashed router.

It is bounded: at most ``max_connections`` at once (more are refused), and ``aclose`` (or the
``async with`` block) ends every task it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Coroutine
from types import TracebackType
from typing import Self

__all__ = ["FaultProxy"]

_CHUNK = 65536


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN: SO_LINGER with a zero timeout, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``target_host:target_port`` with injectable faults."""

    def __init__(self, target_host: str, target_port: int, *, max_connections: int = 64) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.max_connections = max_connections
        self.refuse = False
        self.refuse_next = 0
        self.delay = 0.0
        self.accepted = 0
        self._responses_flowing = asyncio.Event()
        self._responses_flowing.set()
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port the proxy listens on (chosen by the OS)."""
        assert self._server is not None, "start the proxy first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:port`` for a client."""
        return f"127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop listening, reset every connection and wait for the pumps to end."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self.reset_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def hold_responses(self) -> None:
        """Buffer server-to-client bytes from now on."""
        self._responses_flowing.clear()

    def release_responses(self) -> None:
        """Let buffered and new server-to-client bytes through."""
        self._responses_flowing.set()

    def reset_all(self) -> int:
        """Reset every open connection on both sides; returns how many there were."""
        pairs = list(self._pairs)
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)
        self._pairs.clear()
        return len(pairs)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.refuse or self.refuse_next > 0 or len(self._pairs) >= self.max_connections:
            self.refuse_next = max(0, self.refuse_next - 1)
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            _reset(writer)
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        upstream = self._spawn(self._pump(reader, up_writer, hold=False))
        downstream = self._spawn(self._pump(up_reader, writer, hold=True))
        await asyncio.gather(upstream, downstream, return_exceptions=True)
        if pair in self._pairs:
            self._pairs.discard(pair)
            writer.close()
            up_writer.close()

    def _spawn(self, coro: Coroutine[object, object, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, hold: bool
    ) -> None:
        try:
            while data := await reader.read(_CHUNK):
                if self.delay:
                    await asyncio.sleep(self.delay)
                if hold:
                    await self._responses_flowing.wait()
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass
