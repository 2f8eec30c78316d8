"""Fewer socket writes: grpclib's HTTP/2 output gathered per event-loop turn, sent in one write.

grpclib writes to the transport after every frame it builds: a unary response is three writes
(headers, data, trailers), so three ``send`` system calls, and an event stream is one per event.
``CoalescingTransport`` collects what is written during one turn of the event loop and hands it
to the socket transport once, at the start of the next turn; the bytes and their order are
unchanged. A large backlog is passed on at once, so the socket transport's own buffering and
its pause/resume signals (grpclib's write back-pressure) still work.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, cast

from grpclib.protocol import H2Protocol
from grpclib.server import Server

from voicecore._h2guard import (
    ConnectionCount,
    FloodGuard,
    GuardedHandler,
    GuardedProtocol,
    H2Limits,
    TurnBudget,
)
from voicecore._metrics import CallObserver

__all__ = ["CoalescingServer", "CoalescingTransport"]

#: Above this many pending bytes the write is passed on at once instead of at the next turn.
FLUSH_AT_BYTES: Final = 64 * 1024


class CoalescingTransport(asyncio.Transport):
    """A transport wrapper whose ``write`` is deferred to the next loop turn and merged."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._pending_bytes += len(data)
        if self._pending_bytes >= FLUSH_AT_BYTES:
            self.flush()

    def flush(self) -> None:
        """Pass everything pending to the socket transport now (as one write)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._pending_bytes = 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self._pending_bytes + self._transport.get_write_buffer_size()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()


class _CoalescingProtocol(GuardedProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, so no isinstance check.
        super().connection_made(CoalescingTransport(cast(asyncio.Transport, transport)))


class CoalescingServer(Server):
    """grpclib's ``Server`` whose connections write through a ``CoalescingTransport`` and are
    guarded per connection (``voicecore._h2guard``: stream limit, flood budgets). ``observer``
    sees every call (``voicecore._metrics``).

    With ``coalesce_writes=False`` (``Settings.coalesce_writes``) each frame is written to the
    socket as grpclib builds it; the guards stay.
    """

    def __init__(
        self,
        *args: Any,
        limits: H2Limits | None = None,
        coalesce_writes: bool = True,
        observer: CallObserver | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.observer = observer
        self.limits = limits or H2Limits()
        self.coalesce_writes = coalesce_writes
        self.connections = ConnectionCount()
        self.turns = TurnBudget()

    def _protocol_factory(self) -> H2Protocol:
        self.__gc_step__()
        guard = FloodGuard(self.limits)
        handler = GuardedHandler(
            self._mapping,
            self._codec,
            self._status_details_codec,
            self.__dispatch__,
            on_completed=guard.stream_completed,
            observer=self.observer,
        )
        self._handlers.add(handler)
        protocol = _CoalescingProtocol if self.coalesce_writes else GuardedProtocol
        return protocol(
            handler,
            self._config,
            self._h2_config,
            limits=self.limits,
            guard=guard,
            connections=self.connections,
            turns=self.turns,
        )
