"""CoalescingTransport: same bytes in the same order, fewer writes; back-pressure kept."""

from __future__ import annotations

import asyncio
from typing import Any

from voicecore._transport import FLUSH_AT_BYTES, CoalescingServer, CoalescingTransport


class _RecordingTransport(asyncio.Transport):
    """Records each write; closing state is settable."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0


class _DuckTransport:
    """Has a transport's methods without subclassing asyncio.Transport, as uvloop's."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


async def _next_turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class TestCoalescingTransport:
    async def test_writes_of_one_turn_reach_the_socket_as_one_write_in_order(self) -> None:
        """Three frames written in one turn are passed on once, concatenated in order."""
        inner = _RecordingTransport()
        outer = CoalescingTransport(inner)
        for frame in (b"headers", b"data", b"trailers"):
            outer.write(frame)
        assert inner.writes == []
        await _next_turn()
        assert inner.writes == [b"headersdatatrailers"]

    async def test_writes_of_later_turns_are_sent_separately(self) -> None:
        """A write after the flush starts a new batch."""
        inner = _RecordingTransport()
        outer = CoalescingTransport(inner)
        outer.write(b"one")
        await _next_turn()
        outer.write(bytearray(b"two"))
        await _next_turn()
        assert inner.writes == [b"one", b"two"]

    async def test_a_large_backlog_is_passed_on_at_once(self) -> None:
        """Past the threshold the socket transport gets the bytes now, so it can push back."""
        inner = _RecordingTransport()
        outer = CoalescingTransport(inner)
        outer.write(b"x" * FLUSH_AT_BYTES)
        assert inner.writes == [b"x" * FLUSH_AT_BYTES]
        assert outer.get_write_buffer_size() == 0

    async def test_close_sends_what_is_pending_first(self) -> None:
        """close() flushes, then closes the socket transport."""
        inner = _RecordingTransport()
        outer = CoalescingTransport(inner)
        outer.write(b"goaway")
        outer.close()
        assert inner.writes == [b"goaway"]
        assert outer.is_closing()
        await _next_turn()
        assert inner.writes == [b"goaway"]

    async def test_abort_drops_what_is_pending(self) -> None:
        """abort() discards pending bytes, as a socket transport's abort does."""
        inner = _RecordingTransport()
        outer = CoalescingTransport(inner)
        outer.write(b"lost")
        outer.abort()
        await _next_turn()
        assert inner.writes == []
        assert inner.aborted

    async def test_extra_info_comes_from_the_socket_transport(self) -> None:
        """Peer address lookups (grpclib's Peer) see the wrapped transport's info."""
        outer = CoalescingTransport(_RecordingTransport())
        assert outer.get_extra_info("peername") == ("127.0.0.1", 1)
        assert outer.get_extra_info("missing", "default") == "default"


class TestCoalescingServer:
    async def test_wraps_transports_that_are_not_asyncio_subclasses(self) -> None:
        """A uvloop-like transport is accepted and receives the server's SETTINGS frame."""
        protocol = CoalescingServer([])._protocol_factory()
        inner = _DuckTransport()
        protocol.connection_made(inner)  # type: ignore[arg-type]
        await _next_turn()
        assert len(inner.writes) == 1
        assert inner.writes[0][3] == 0x4  # HTTP/2 frame type SETTINGS
