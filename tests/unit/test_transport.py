"""CoalescingTransport: same bytes, fewer writes; the per-connection HTTP/2 guards."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from voicecore._h2guard import (
    FloodGuard,
    FrameScanner,
    GuardedHandler,
    GuardedProtocol,
    H2Limits,
    TurnBudget,
)
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


class _EofTransport(_RecordingTransport):
    """Also half-closes and pauses reading, recording both."""

    def __init__(self) -> None:
        super().__init__()
        self.eof = False
        self.reading = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading


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

    async def test_an_empty_write_schedules_nothing(self) -> None:
        """Writing no bytes leaves nothing pending and passes nothing on."""
        inner = _RecordingTransport()
        outer = CoalescingTransport(inner)
        outer.write(b"")
        assert outer.get_write_buffer_size() == 0
        await _next_turn()
        assert inner.writes == []

    async def test_pending_bytes_for_a_closed_socket_are_dropped(self) -> None:
        """If the socket transport closed meanwhile, the flush writes nothing to it."""
        inner = _RecordingTransport()
        outer = CoalescingTransport(inner)
        outer.write(b"late")
        inner.closed = True
        await _next_turn()
        assert inner.writes == []
        assert outer.get_write_buffer_size() == 0

    async def test_write_eof_sends_what_is_pending_first(self) -> None:
        """write_eof() flushes, then half-closes the socket transport."""
        inner = _EofTransport()
        outer = CoalescingTransport(inner)
        outer.write(b"last")
        assert outer.can_write_eof()
        outer.write_eof()
        assert (inner.writes, inner.eof) == ([b"last"], True)

    async def test_reading_state_is_the_socket_transports(self) -> None:
        """pause_reading and resume_reading reach the socket; is_reading reports it."""
        inner = _EofTransport()
        outer = CoalescingTransport(inner)
        outer.pause_reading()
        assert not outer.is_reading()
        outer.resume_reading()
        assert outer.is_reading()

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

    async def test_coalescing_waits_for_the_next_turn(self) -> None:
        """By default the SETTINGS frame reaches the socket only at the next loop turn."""
        protocol = CoalescingServer([])._protocol_factory()
        inner = _RecordingTransport()
        protocol.connection_made(inner)
        assert inner.writes == []

    async def test_without_coalescing_each_frame_is_written_at_once(self) -> None:
        """coalesce_writes=False: grpclib's SETTINGS and the guard's stream limit (a second
        SETTINGS) are two writes, made at once; coalesced they are one, a turn later."""
        protocol = CoalescingServer([], coalesce_writes=False)._protocol_factory()
        inner = _RecordingTransport()
        protocol.connection_made(inner)
        assert [frame[3] for frame in inner.writes] == [0x4, 0x4]  # HTTP/2 SETTINGS twice
        assert isinstance(protocol, GuardedProtocol)


_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def _frame(kind: int, payload: bytes = b"", flags: int = 0, stream_id: int = 0) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream_id.to_bytes(4, "big")


def _with_payload(kind: int, payload: bytes, flags: int = 0) -> bytes:
    return _frame(kind, payload, flags) + payload


class TestFrameScanner:
    def test_frames_are_found_however_the_bytes_are_cut(self) -> None:
        """Cut at every offset, the preface and payloads are skipped and each header read once."""
        stream = _PREFACE + _with_payload(0x4, b"") + _with_payload(0x0, b"x" * 40, 0x1)
        stream += _with_payload(0x6, b"12345678")
        expected = [(0x4, 0, 0), (0x0, 0x1, 40), (0x6, 0, 8)]
        for cut in range(len(stream) + 1):
            scanner = FrameScanner()
            found = [*scanner.frames(stream[:cut]), *scanner.frames(stream[cut:])]
            assert [frame[:3] for frame in found] == expected, cut

    def test_each_header_says_where_it_ends(self) -> None:
        """``end`` is the offset just past each frame header within the piece."""
        stream = _PREFACE + _with_payload(0x4, b"") + _with_payload(0x6, b"12345678")
        ends = [frame[3] for frame in FrameScanner().frames(stream)]
        assert ends == [len(_PREFACE) + 9, len(_PREFACE) + 9 + 9]


def _guard(**limits: Any) -> FloodGuard:
    guard = FloodGuard(H2Limits(**limits))
    assert guard.receive(_PREFACE, now=0.0, bytes_sent=0)[0] is None
    return guard


class TestFloodGuard:
    def test_resets_past_the_budget_are_a_rapid_reset(self) -> None:
        """The eleventh RST_STREAM with a budget of ten trips the guard, not the tenth."""
        guard = _guard(max_resets=10)
        reset = _with_payload(0x3, b"\x00\x00\x00\x08")
        assert guard.receive(reset * 10, now=0.0, bytes_sent=0)[0] is None
        assert guard.receive(reset, now=0.0, bytes_sent=0)[0] == "rapid reset"

    def test_completed_streams_earn_resets_back(self) -> None:
        """Resets of a client that completes as many streams are within budget."""
        guard = _guard(max_resets=1)
        reset = _with_payload(0x3, b"\x00\x00\x00\x08")
        for _ in range(50):
            guard.stream_completed()
            assert guard.receive(reset, now=0.0, bytes_sent=0)[0] is None

    def test_counts_start_again_each_window(self) -> None:
        """A new window forgets the old counts."""
        guard = _guard(max_control_frames=5, window=10.0)
        ping = _with_payload(0x6, b"12345678")
        assert guard.receive(ping * 5, now=1.0, bytes_sent=0)[0] is None
        assert guard.receive(ping * 5, now=12.0, bytes_sent=0)[0] is None
        assert guard.receive(ping, now=13.0, bytes_sent=0)[0] == "control frame flood"

    def test_data_sent_earns_window_updates_back(self) -> None:
        """One WINDOW_UPDATE per 16 KiB the server sent is not counted against the budget."""
        guard = _guard(max_control_frames=1)
        update = _with_payload(0x8, b"\x00\x00\x40\x00")
        assert guard.receive(update * 11, now=0.0, bytes_sent=10 * 16 * 1024)[0] is None
        assert guard.receive(update, now=0.0, bytes_sent=10 * 16 * 1024)[0] is not None

    @pytest.mark.parametrize(
        ("frame", "counted"),
        [
            (_with_payload(0x0, b""), True),  # empty DATA
            (_with_payload(0x0, b"", 0x1), False),  # empty DATA ending the stream
            (_with_payload(0x0, b"x"), False),  # DATA with data
            (_with_payload(0x1, b"\x82"), False),  # HEADERS
            (_with_payload(0x2, b"\x00" * 5), True),  # PRIORITY
            (_with_payload(0x9, b"\x82"), True),  # CONTINUATION
            (_with_payload(0xFA, b""), True),  # unknown type
        ],
    )
    def test_which_frames_are_control_frames(self, frame: bytes, counted: bool) -> None:
        """Frames that carry no request data count; DATA with data and HEADERS do not."""
        guard = _guard(max_control_frames=1)
        assert guard.receive(frame * 2, now=0.0, bytes_sent=0)[0] == (
            "control frame flood" if counted else None
        )

    def test_a_header_block_past_the_list_limit_is_refused(self) -> None:
        """HEADERS without END_HEADERS and CONTINUATIONs past 64 KiB trip the guard."""
        guard = _guard(max_control_frames=10_000)
        start = _with_payload(0x1, b"\x00" * 16_000)  # HEADERS, END_HEADERS not set
        more = _with_payload(0x9, b"\x00" * 16_000)  # CONTINUATION
        assert guard.receive(start + more * 3, now=0.0, bytes_sent=0)[0] is None
        assert guard.header_block_since == 0.0
        assert guard.receive(more, now=0.5, bytes_sent=0)[0] == "oversized header block"

    def test_a_finished_header_block_is_forgotten(self) -> None:
        """END_HEADERS ends the block: its bytes no longer count and no timer is due."""
        guard = _guard()
        start = _with_payload(0x1, b"\x00" * 16_000)
        end = _with_payload(0x9, b"\x00" * 16_000, 0x4)
        for _ in range(10):
            assert guard.receive(start + end, now=0.0, bytes_sent=0)[0] is None
        assert guard.header_block_since is None

    def test_reading_stops_after_max_frames(self) -> None:
        """With ``max_frames`` the guard reads up to the end of that many headers only."""
        guard = _guard()
        headers = _with_payload(0x1, b"\x82")
        abuse, used = guard.receive(headers * 50, now=0.0, bytes_sent=0, max_frames=32)
        assert (abuse, used) == (None, 32 * len(headers) - 1)


class _FakeStream:
    """What GuardedHandler needs of a grpclib protocol stream: hashable, and an answer
    for the headers-only refusal the handler gives requests without gRPC headers."""

    closable = False

    def __init__(self) -> None:
        self.sent: list[list[tuple[str, str]]] = []

    async def send_headers(self, headers: list[tuple[str, str]], end_stream: bool) -> None:
        self.sent.append(headers)


class TestGuardedHandler:
    async def test_a_stream_reset_before_its_task_ran_is_released_once(self) -> None:
        """grpclib's own release never runs for such a task; the handler's does, exactly once."""
        completed: list[None] = []
        handler = GuardedHandler({}, None, None, None, on_completed=lambda: completed.append(None))
        releases: list[None] = []
        stream = _FakeStream()
        handler.accept(stream, [], lambda: releases.append(None))  # type: ignore[arg-type]
        handler.cancel(stream)  # type: ignore[arg-type]
        handler.cancel(stream)  # type: ignore[arg-type]  # a second reset is harmless
        await _next_turn()
        assert (releases, completed) == ([None], [])

    async def test_a_finished_stream_counts_as_completed(self) -> None:
        """A stream whose task ends unreset is released once and reported completed."""
        completed: list[None] = []
        handler = GuardedHandler({}, None, None, None, on_completed=lambda: completed.append(None))
        releases: list[None] = []
        stream = _FakeStream()
        handler.accept(stream, [], lambda: releases.append(None))  # type: ignore[arg-type]
        for _ in range(5):
            await _next_turn()
        assert (len(releases), len(completed)) == (1, 1)
        assert ("grpc-status", "3") in stream.sent[0]  # no content-type: INVALID_ARGUMENT


class _Busy:
    """A connection with ``turns`` turns of work: each turn asks the budget for the next."""

    def __init__(self, name: str, turns: int, budget: TurnBudget, log: list[str]) -> None:
        self.name, self.left, self.budget, self.log = name, turns, budget, log

    def take_turn(self) -> None:
        self.log.append(self.name)
        self.left -= 1
        if self.left:
            self.budget.later(self)  # type: ignore[arg-type]


class TestTurnBudget:
    async def test_connections_share_the_turns_round_robin(self) -> None:
        """Three busy connections and two turns a loop turn: two run per loop turn, in turn."""
        budget = TurnBudget(per_turn=2)
        log: list[str] = []
        for name in "abc":
            budget.request(_Busy(name, 3, budget, log))  # type: ignore[arg-type]
        per_loop_turn = []
        while len(log) < 9:
            before = len(log)
            await asyncio.sleep(0)  # one loop turn
            per_loop_turn.append(len(log) - before)
        assert max(per_loop_turn) <= 2
        # "a" took the turn it asked for at once, then each waits behind those already waiting.
        assert log == ["a", "a", "b", "c", "a", "b", "c", "b", "c"]

    def test_guarded_protocols_take_turns_from_the_budget(self) -> None:
        """The protocol's turn is the budget's callback (the names must match)."""
        assert callable(GuardedProtocol.take_turn)
