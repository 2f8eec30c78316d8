"""Per-connection HTTP/2 guards: a stream limit, flood budgets, and cleanup of reset streams.

One client connection must not cost the server more than it is worth. Three guards:

- **Streams per connection.** The limit is advertised as ``SETTINGS_MAX_CONCURRENT_STREAMS``
  (h2 advertises 100 unless told otherwise). h2 enforces it too: a client that opens more streams
  than it was allowed gets GOAWAY (PROTOCOL_ERROR), as h2 cannot refuse a single stream.
- **Flood budgets**, counted per connection over a window (``H2Limits.window`` seconds) from the
  frame headers the client sends, before h2 parses them (nginx, Netty and Tomcat bound the same
  things). *Resets*: RST_STREAM frames, less the streams the server completed in the window, may
  not exceed ``max_resets`` (the rapid-reset attack, CVE-2023-44487, completes none).
  *Control frames*: SETTINGS, PING, PRIORITY, WINDOW_UPDATE, CONTINUATION, DATA with no payload
  that does not end the stream, and unknown frame types, less one per completed stream and one
  per 16 KiB the server sent (window updates answer data), may not exceed
  ``max_control_frames``. Past either budget the connection gets GOAWAY (ENHANCE_YOUR_CALM) and
  is closed; its calls are cancelled.
- **One turn at a time.** h2 parses a HEADERS frame in about a quarter of a millisecond of pure
  Python, and one read can hold a thousand of them, each starting a call. So one loop turn
  guards and parses at most ``SLICE_BYTES`` and ``FRAMES_PER_TURN`` frame headers of a
  connection's data; the rest waits for the next turn (the connection's reading is paused once
  more than a few slices wait), so other connections and calls get the loop in between, and a
  flood costs at most one turn's parsing past its budget. Measured with 100 capture calls
  pipelined in one write: a timer's longest delay was 52-62 ms parsed all at once, 46-61 ms at
  32 frames a turn (16 calls start together), 16-22 ms at 8. All connections together take
  at most ``CONNECTION_TURNS_PER_LOOP_TURN`` such turns per loop turn (``TurnBudget``, round
  robin), so many connections cannot fill a loop turn either: 10 connections with 50 calls
  each took the longest timer delay from 175-199 ms to 32-34 ms. The flood budgets stay per
  connection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from grpclib.config import Configuration
from grpclib.metadata import Deadline
from grpclib.protocol import AbstractHandler, H2Protocol, Stream
from grpclib.server import Handler, request_handler
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import UnknownFrameReceived
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes
from loguru import logger

from voicecore._headers import ARRIVAL_TOO_LATE, HeaderProblem, header_problem, refuse, restamped
from voicecore._metrics import CallObserver, note_problem

__all__ = [
    "FRAMES_PER_TURN",
    "CONNECTION_TURNS_PER_LOOP_TURN",
    "ConnectionCount",
    "MAX_HEADER_LIST_BYTES",
    "SLICE_BYTES",
    "FloodGuard",
    "FrameScanner",
    "GuardedHandler",
    "GuardedProtocol",
    "H2Limits",
    "TurnBudget",
]

#: One loop turn guards and parses at most this many bytes and frame headers of a connection's
#: data (see the module docstring).
SLICE_BYTES: Final = 16 * 1024
FRAMES_PER_TURN: Final = 8
#: Connection turns all connections together take per loop turn (``TurnBudget``).
CONNECTION_TURNS_PER_LOOP_TURN: Final = 2
#: Above this many bytes waiting to be parsed, the connection's reading is paused.
_PAUSE_READING_AT: Final = 4 * SLICE_BYTES
#: The request header list h2 decodes at most (its default); advertised, so that a client
#: knows a larger one ends the connection.
MAX_HEADER_LIST_BYTES: Final = 64 * 1024
#: One control frame is refunded per this many bytes the server sent.
_REFUND_BYTES: Final = 16 * 1024
_PREFACE_BYTES: Final = 24  # "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HEADER_BYTES: Final = 9
_DATA, _HEADERS, _RST_STREAM, _CONTINUATION = 0x0, 0x1, 0x3, 0x9
_CONTROL_TYPES: Final = frozenset({0x2, 0x4, 0x6, 0x8, _CONTINUATION})  # PRIORITY SETTINGS PING WU
_END_STREAM: Final = 0x1
_END_HEADERS: Final = 0x4


@dataclass(frozen=True)
class H2Limits:
    """What one connection may do: streams at once, and frames per window (see the module)."""

    max_streams: int = 100
    window: float = 10.0
    max_resets: int = 200
    max_control_frames: int = 1000
    #: Seconds a header block (HEADERS and its CONTINUATIONs) may take to arrive whole.
    header_timeout: float = 1.0
    #: Connections the server holds at once; more are closed as they open.
    max_connections: int = 2000


class FrameScanner:
    """Reads the frame headers (type, flags, length) out of a client's byte stream, in pieces.

    Skips the connection preface first; keeps a partial header or the rest of a payload
    between pieces, so data may be cut anywhere.
    """

    def __init__(self) -> None:
        self._skip = _PREFACE_BYTES
        self._header = bytearray()

    def frames(self, data: bytes | memoryview) -> Iterator[tuple[int, int, int, int]]:
        """The ``(type, flags, length, end)`` of each frame whose header ends in ``data``;
        ``end`` is where in ``data`` that header ends (the scanner has read up to there)."""
        pos, end = 0, len(data)
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                continue
            take = min(_HEADER_BYTES - len(self._header), end - pos)
            self._header += data[pos : pos + take]
            pos += take
            if len(self._header) < _HEADER_BYTES:
                return
            length = int.from_bytes(self._header[:3], "big")
            kind, flags = self._header[3], self._header[4]
            self._header.clear()
            self._skip = length
            yield kind, flags, length, pos


@dataclass
class ConnectionCount:
    """The connections one server holds open, shared by their protocols."""

    open: int = 0


class FloodGuard:
    """Counts one connection's resets and control frames per window; says when it is abusive."""

    def __init__(self, limits: H2Limits) -> None:
        self.limits = limits
        self._scanner = FrameScanner()
        self._window_start = float("-inf")
        self._resets = self._control = self._completed = 0
        self._sent_at_start = 0
        self._block_bytes = 0
        #: Loop time at which the header block still arriving began, or None.
        self.header_block_since: float | None = None

    def stream_completed(self) -> None:
        """A stream ended without being reset by the client: it earns back one of each."""
        self._completed += 1

    def receive(
        self,
        data: bytes | memoryview,
        now: float,
        bytes_sent: int,
        max_frames: int | None = None,
    ) -> tuple[str | None, int]:
        """Count the frames in ``data``: the budget it exhausts (or None), and how many bytes
        of ``data`` were read, which is all of it unless ``max_frames`` headers came first.

        ``now`` is the loop time and ``bytes_sent`` the DATA bytes the server has sent on this
        connection so far.
        """
        if now - self._window_start >= self.limits.window:
            self._window_start, self._sent_at_start = now, bytes_sent
            self._resets = self._control = self._completed = 0
        refund = self._completed + (bytes_sent - self._sent_at_start) // _REFUND_BYTES
        counted = 0
        for kind, flags, length, end in self._scanner.frames(data):
            if self._header_block_too_large(kind, flags, length, now):
                return "oversized header block", end
            if kind == _RST_STREAM:
                self._resets += 1
                if self._resets - self._completed > self.limits.max_resets:
                    return "rapid reset", end
            elif _is_control(kind, flags, length):
                self._control += 1
                if self._control - refund > self.limits.max_control_frames:
                    return "control frame flood", end
            counted += 1
            if counted == max_frames:
                return None, end
        return None, len(data)

    def _header_block_too_large(self, kind: int, flags: int, length: int, now: float) -> bool:
        """Follow the header block being received; True once it outgrows the header list
        limit (h2 buffers up to 64 CONTINUATION frames of 16 KiB before it decodes any)."""
        if kind == _HEADERS:
            self._block_bytes, self.header_block_since = 0, now
        elif kind != _CONTINUATION:
            return False
        self._block_bytes += length
        if flags & _END_HEADERS:
            self._block_bytes, self.header_block_since = 0, None
        return self._block_bytes > MAX_HEADER_LIST_BYTES


def _is_control(kind: int, flags: int, length: int) -> bool:
    if kind == _DATA:
        return length == 0 and not flags & _END_STREAM
    return kind in _CONTROL_TYPES or kind > _CONTINUATION


class GuardedHandler(Handler):
    """grpclib's request ``Handler`` that frees every stream once, and reports completions.

    ``on_completed`` is called for each stream whose handler task ended without the client
    resetting the stream (the flood guard's refund). ``observer`` (metrics, access log) sees
    every call's task, those refused here included.
    """

    def __init__(
        self, *args: Any, on_completed: Callable[[], None], observer: CallObserver | None = None
    ) -> None:
        super().__init__(*args)
        self._on_completed = on_completed
        self._observer = observer
        self._reset_by_peer: set[Stream] = set()

    def accept(self, stream: Stream, headers: Any, release_stream: Callable[[], Any]) -> None:
        release = _once(release_stream)
        problem = header_problem(headers)
        # The deadline runs from now, when the headers arrived, not from when the task starts.
        deadline = Deadline.from_headers(headers) if problem is None else None
        self.__gc_step__()
        handling = self._handle(stream, headers, problem, deadline, release)
        observer = self._observer
        task = (
            observer.spawn(self.loop, handling, stream, headers)
            if observer is not None
            else self.loop.create_task(handling)
        )
        self._tasks[stream] = task
        task.add_done_callback(partial(self._finished, stream, release))

    async def _handle(
        self,
        stream: Stream,
        headers: Any,
        problem: HeaderProblem | None,
        deadline: Deadline | None,
        release: Callable[[], None],
    ) -> None:
        """grpclib's request handler, but bad headers and a spent deadline are answered here
        (grpclib would answer UNKNOWN, or leave the stream unanswered)."""
        fresh = restamped(headers, deadline) if problem is None else None
        if fresh is None:
            try:
                await refuse(stream, note_problem(problem or ARRIVAL_TOO_LATE))
            finally:
                release()
            return
        await request_handler(
            self.mapping,
            stream,
            fresh,
            self.codec,
            self.status_details_codec,
            self.dispatch,
            release,
        )

    def cancel(self, stream: Stream) -> None:
        self._reset_by_peer.add(stream)
        if stream in self._tasks:  # grpclib pops it; a second reset would raise KeyError
            super().cancel(stream)

    def _finished(self, stream: Stream, release: Callable[[], None], _: asyncio.Task[None]) -> None:
        release()
        if stream in self._reset_by_peer:
            self._reset_by_peer.discard(stream)
        else:
            self._on_completed()


def _once(release_stream: Callable[[], Any]) -> Callable[[], None]:
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            release_stream()

    return release


class TurnBudget:
    """Connection turns (``FRAMES_PER_TURN`` frames each) all connections together may take
    in one loop turn; connections past it wait, in arrival order, for the next loop turns.

    Per-connection slicing alone lets N connections parse N slices in one loop turn: twenty
    connections flooding at once held the loop for hundreds of milliseconds.
    """

    def __init__(self, per_turn: int = CONNECTION_TURNS_PER_LOOP_TURN) -> None:
        self._per_turn = per_turn
        self._left = per_turn
        self._waiting: deque[GuardedProtocol] = deque()
        self._refill_scheduled = False

    def request(self, protocol: GuardedProtocol) -> None:
        """Let ``protocol`` (with fresh data) take a turn now if the budget allows, else queue
        it."""
        if self._left and not self._waiting:
            self._left -= 1
            self._schedule_refill()
            protocol.take_turn()
            return
        self.later(protocol)

    def later(self, protocol: GuardedProtocol) -> None:
        """Queue ``protocol`` for a turn (behind every connection already waiting)."""
        self._waiting.append(protocol)
        self._schedule_refill()

    def _schedule_refill(self) -> None:
        if not self._refill_scheduled:
            self._refill_scheduled = True
            # call_soon runs in the next loop turn: the boundary between two turns' budgets.
            asyncio.get_running_loop().call_soon(self._refill)

    def _refill(self) -> None:
        self._refill_scheduled = False
        self._left = self._per_turn
        # Only those waiting now: a protocol that asks again goes to the back of the queue.
        for _ in range(min(self._per_turn, len(self._waiting))):
            self._left -= 1
            self._waiting.popleft().take_turn()
        if self._waiting or self._left < self._per_turn:
            self._schedule_refill()


class GuardedProtocol(H2Protocol):
    """grpclib's server-side HTTP/2 protocol with the stream limit and the flood guard."""

    def __init__(
        self,
        handler: AbstractHandler,
        config: Configuration,
        h2_config: H2Configuration,
        *,
        limits: H2Limits,
        guard: FloodGuard,
        connections: ConnectionCount,
        turns: TurnBudget,
    ) -> None:
        super().__init__(handler, config, h2_config)
        self.limits = limits
        self.guard = guard
        self._connections = connections
        self._turns = turns
        self._received: deque[bytes] = deque()
        self._backlog = 0  # bytes received and not yet parsed
        self._offset = 0  # into self._received[0]
        self._turn_scheduled = False
        self._reading_paused = False
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._connections.open += 1
        self._h2.update_settings(
            {
                SettingCodes.MAX_CONCURRENT_STREAMS: self.limits.max_streams,
                SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST_BYTES,
            }
        )
        self.connection.flush()
        if self._connections.open > self.limits.max_connections:
            logger.debug("refusing a connection over the limit", limit=self.limits.max_connections)
            self._calm_down("too many connections", log=False)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connections.open -= 1
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    @property
    def _h2(self) -> H2Connection:
        # grpclib keeps the h2 connection private; GOAWAY and SETTINGS need it.
        connection: H2Connection = self.connection._connection
        return connection

    def data_received(self, data: bytes) -> None:
        self._received.append(data)
        self._backlog += len(data)
        if not self._turn_scheduled:
            self._turn_scheduled = True
            self._turns.request(self)

    def take_turn(self) -> None:
        """Guard and parse one turn's worth of the received data (see the module docstring);
        if more is waiting, ask the turn budget for another turn."""
        self._turn_scheduled = False
        if self.connection.is_closing():
            self._received.clear()
            return
        piece = self._next_piece()
        now = asyncio.get_running_loop().time()
        abuse, used = self.guard.receive(piece, now, self.connection.data_sent, FRAMES_PER_TURN)
        self._consumed(used)
        if abuse is not None:
            self._received.clear()
            self._calm_down(abuse)
            return
        self._feed(piece[:used])  # h2 copies what it buffers: no copy needed here
        self._watch_header_block()
        self._schedule_rest()

    def _watch_header_block(self) -> None:
        """A header block still arriving gets ``header_timeout`` to finish (no stream exists
        yet, so no request time limit applies), then the connection is closed."""
        since = self.guard.header_block_since
        if since is None or self._header_timer is not None:
            return
        loop = asyncio.get_running_loop()
        self._header_timer = loop.call_at(since + self.limits.header_timeout, self._header_due)

    def _header_due(self) -> None:
        self._header_timer = None
        since = self.guard.header_block_since
        if since is None or self.connection.is_closing():
            return
        if asyncio.get_running_loop().time() - since >= self.limits.header_timeout:
            self._calm_down("header block not finished in time")
        else:  # a later block began: give it its own time
            self._watch_header_block()

    def _next_piece(self) -> memoryview:
        head = memoryview(self._received[0])[self._offset :]
        return head[:SLICE_BYTES]

    def _consumed(self, used: int) -> None:
        self._backlog -= used
        self._offset += used
        if self._offset == len(self._received[0]):
            self._received.popleft()
            self._offset = 0

    def _schedule_rest(self) -> None:
        """Come back next turn while data waits; stop reading while more than a few slices
        wait (pausing costs two system calls, so not for the usual backlog of one read)."""
        if self.connection.is_closing():  # closing also drops grpclib's transport reference
            self._received.clear()
            return
        transport = self.connection._transport  # grpclib's; it does not pause reading itself
        if self._received:
            self._turn_scheduled = True
            self._turns.later(self)
        if not self._reading_paused and self._backlog > _PAUSE_READING_AT:
            transport.pause_reading()
            self._reading_paused = True
        elif self._reading_paused and not self._received:
            transport.resume_reading()
            self._reading_paused = False

    def _feed(self, data: bytes | memoryview) -> None:
        """grpclib's ``data_received``, but the GOAWAY of a protocol error is sent, and frame
        types grpclib does not know are ignored (it raises on them and loses the connection)."""
        try:
            events = self._h2.receive_data(data)  # grpclib's feed, which types data as bytes
        except ProtocolError:
            self.connection.flush()
            self.processor.close("Protocol error")
            return
        except UnicodeDecodeError:  # a header that is not ASCII: the request is malformed
            self._h2.close_connection(error_code=ErrorCodes.PROTOCOL_ERROR)
            self.connection.flush()
            self.processor.close("Protocol error: a header is not ASCII")
            return
        self.connection.flush()
        for event in events:
            if not isinstance(event, UnknownFrameReceived):
                self.processor.process(event)
        if not self.connection.is_closing():
            self.connection.flush()

    def _calm_down(self, abuse: str, *, log: bool = True) -> None:
        if log:
            addr = self.connection.get_peer().addr()
            peer = f"{addr[0]}:{addr[1]}" if addr else ""
            logger.warning("closing an abusive connection", abuse=abuse, peer=peer)
        self._h2.close_connection(error_code=ErrorCodes.ENHANCE_YOUR_CALM)
        self.connection.flush()
        self.processor.close(f"HTTP/2 {abuse}")
