"""Raw HTTP/2 fuzz inputs: frame sequences no HTTP/2 library would send, and floods.

A sequence is written byte for byte after the connection preface: each ``Frame`` has a type
(the ten defined ones and unknown ones), flags, a stream id, a payload and possibly a lying
length field. Header blocks are HPACK literals that never touch the dynamic table, so any block
can follow any other. After the sequence a PING is the barrier: once its ACK arrives the server
has read everything before it. The server's answers are parsed frame by frame; a trailer with
grpc-status INTERNAL or UNKNOWN is a finding.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass

import hpack
from hypothesis import strategies as st

from tests.fuzz._grpc_inputs import EXECUTE, GrpcInput, Request
from tests.fuzz._wire import close_quietly

__all__ = ["Frame", "H2Input", "H2Outcome", "h2_inputs", "send_h2"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE = 0, 1, 2, 3, 4, 5
PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
NEW_STREAM, SAME_STREAM = -1, -2  # stream ids resolved while writing: a fresh one, the last one
_BARRIER = b"fuzzbarr"
_BARRIER_WAIT = 0.3
_WRITE_WAIT = 5.0
_AFTER_BARRIER = 0.03
_GRPC_INTERNAL, _GRPC_UNKNOWN = 13, 2

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Frame:
    """One frame; ``payload`` is a header list (HPACK-encoded when written) or raw bytes."""

    type: int
    flags: int
    stream_id: int
    payload: Headers | bytes = b""
    length_delta: int = 0  # declared length minus the true one

    def encode(self, stream_id: int) -> bytes:
        """The 9-byte header and the payload."""
        payload = self.payload
        if not isinstance(payload, bytes):
            encoder = hpack.Encoder()
            payload = encoder.encode([hpack.NeverIndexedHeaderTuple(*h) for h in payload], False)
        length = max(0, min(2**24 - 1, len(payload) + self.length_delta))
        head = struct.pack(">I", length)[1:] + bytes([self.type & 0xFF, self.flags & 0xFF])
        return head + struct.pack(">I", stream_id & 0xFFFFFFFF) + payload


@dataclass(frozen=True)
class H2Input:
    """A connection's bytes: the preface (or not), frames (or raw bytes), ``repeat`` times."""

    frames: tuple[Frame | bytes, ...]
    repeat: int = 1
    preface: bool = True
    hang_up: bool = False  # close right after writing, without waiting for any answer

    def encode(self) -> bytes:
        """Everything the client writes, stream ids resolved."""
        out = [PREFACE + Frame(SETTINGS, 0, 0).encode(0)] if self.preface else []
        next_id, last_id = 1, 1
        for _ in range(self.repeat):
            for frame in self.frames:
                if isinstance(frame, bytes):
                    out.append(frame)
                    continue
                stream_id = frame.stream_id
                if stream_id == NEW_STREAM:
                    stream_id, last_id, next_id = next_id, next_id, next_id + 2
                elif stream_id == SAME_STREAM:
                    stream_id = last_id
                out.append(frame.encode(stream_id))
        return b"".join(out)


@dataclass
class H2Outcome:
    """What the server sent back: gRPC statuses in trailers, GOAWAY codes, barrier seen."""

    grpc_statuses: list[int]
    goaway_codes: list[int]
    barrier_acked: bool

    @property
    def internal(self) -> bool:
        """A stream ended INTERNAL or UNKNOWN: bad input must get a proper code."""
        return any(code in (_GRPC_INTERNAL, _GRPC_UNKNOWN) for code in self.grpc_statuses)


# --- reading the server's frames -------------------------------------------------------------


class _Reader:
    """Splits the server's bytes into frames and decodes its header blocks."""

    def __init__(self) -> None:
        self.buffer = b""
        self.block = b""
        self.decoder = hpack.Decoder()
        self.outcome = H2Outcome([], [], barrier_acked=False)

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                return
            kind, flags = self.buffer[3], self.buffer[4]
            payload, self.buffer = self.buffer[9 : 9 + length], self.buffer[9 + length :]
            self._frame(kind, flags, payload)

    def _frame(self, kind: int, flags: int, payload: bytes) -> None:
        if kind == PING and flags & ACK and payload == _BARRIER:
            self.outcome.barrier_acked = True
        elif kind == GOAWAY and len(payload) >= 8:
            self.outcome.goaway_codes.append(int.from_bytes(payload[4:8], "big"))
        elif kind in (HEADERS, CONTINUATION):
            if kind == HEADERS:
                payload = _strip_headers_frame(flags, payload)
            self.block += payload
            if flags & END_HEADERS:
                self._headers(self.block)
                self.block = b""

    def _headers(self, block: bytes) -> None:
        try:
            headers = self.decoder.decode(block, raw=True)
        except hpack.HPACKError:
            return
        for name, value in headers:
            if name == b"grpc-status" and bytes(value).isdigit():
                self.outcome.grpc_statuses.append(int(value))


def _strip_headers_frame(flags: int, payload: bytes) -> bytes:
    pad = payload[0] if flags & PADDED and payload else 0
    start = (1 if flags & PADDED else 0) + (5 if flags & PRIORITY_FLAG else 0)
    return payload[start : len(payload) - pad]


async def send_h2(host: str, port: int, value: H2Input) -> H2Outcome:
    """Write the input, then a PING barrier; read until its ACK (or a short wait), close."""
    reader, writer = await asyncio.open_connection(host, port)
    frames = _Reader()
    try:
        if value.hang_up:
            writer.write(value.encode())
            return frames.outcome
        writer.write(value.encode() + Frame(PING, 0, 0, _BARRIER).encode(0))
        async with asyncio.timeout(_WRITE_WAIT):  # a server that stops reading is not a hang
            await writer.drain()
        await _read_until(reader, frames, lambda: frames.outcome.barrier_acked, _BARRIER_WAIT)
        if frames.outcome.barrier_acked:  # answers to calls may follow the ACK by a loop turn
            await _read_until(reader, frames, lambda: False, _AFTER_BARRIER)
    except (ConnectionError, TimeoutError):
        pass
    finally:
        await close_quietly(writer)
    return frames.outcome


async def _read_until(
    reader: asyncio.StreamReader, frames: _Reader, done: Callable[[], bool], seconds: float
) -> None:
    try:
        async with asyncio.timeout(seconds):
            while not done():
                data = await reader.read(65535)
                if not data:
                    return
                frames.feed(data)
    except TimeoutError:
        pass


# --- strategies ------------------------------------------------------------------------------


def _request_headers(path: str = EXECUTE) -> Headers:
    return tuple(
        (name, value) for name, value in GrpcInput(path=path, message=b"").headers("127.0.0.1")
    )


_VALID_BODY = GrpcInput(
    path=EXECUTE, message=Request("capture_email", {"transcription": "a at b dot com"})
).body()
_VALID_HEADERS = _request_headers()

_odd_header_names = st.sampled_from(
    [b":method", b":path", b":scheme", b":authority", b":status", b":protocol", b":foo", b":",
     b"content-type", b"te", b"connection", b"Upper", b"grpc-timeout", b"trace-id", b"", b"a b",
     b"x\x00y"]
)  # fmt: skip
_odd_header_values = st.sampled_from(
    [b"", b"POST", b"GET", b"CONNECT", b"/", b"*", b"http", b"https", b"application/grpc",
     b"trailers", b"gzip", b"1S", b"a\r\nb", b"\xff\xfe", b" x ", b"x" * 10_000]
) | st.binary(max_size=12)  # fmt: skip


@st.composite
def header_lists(draw: st.DrawFn) -> Headers:
    """A valid gRPC request's headers with entries dropped, doubled, reordered or added."""
    headers = list(_VALID_HEADERS)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        action = draw(st.integers(min_value=0, max_value=3))
        index = draw(st.integers(min_value=0, max_value=len(headers)))
        if action == 0 and headers:
            headers.pop(min(index, len(headers) - 1))
        elif action == 1 and headers:
            headers.insert(index, headers[min(index, len(headers) - 1)])
        else:
            headers.insert(index, (draw(_odd_header_names), draw(_odd_header_values)))
    return tuple(headers)


_stream_ids = st.sampled_from([NEW_STREAM, NEW_STREAM, SAME_STREAM, SAME_STREAM, 0, 2, 2**31 - 1])
_u32 = st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1)
_settings_ids = st.sampled_from([1, 2, 3, 4, 5, 6, 8, 0, 7, 0xFFFF])


def _u32s(*values: int) -> bytes:
    return b"".join(struct.pack(">I", v & 0xFFFFFFFF) for v in values)


def _payload(frame_type: int) -> st.SearchStrategy[Headers | bytes]:
    """A payload that fits the frame type, or random bytes."""
    fitting: st.SearchStrategy[Headers | bytes]
    if frame_type in (HEADERS, CONTINUATION):
        fitting = header_lists()
    elif frame_type == DATA:
        fitting = st.sampled_from([_VALID_BODY, _VALID_BODY[:5], _VALID_BODY[5:], b""])
    elif frame_type in (RST_STREAM, WINDOW_UPDATE):
        fitting = st.builds(_u32s, _u32)
    elif frame_type == PRIORITY:
        fitting = st.builds(
            lambda dep, weight: _u32s(dep) + bytes([weight]), _u32, st.integers(0, 255)
        )
    elif frame_type == SETTINGS:
        setting = st.builds(lambda i, v: struct.pack(">H", i) + _u32s(v), _settings_ids, _u32)
        fitting = st.lists(setting, max_size=4).map(b"".join)
    elif frame_type == PING:
        fitting = st.binary(min_size=8, max_size=8)
    elif frame_type == GOAWAY:
        fitting = st.builds(lambda last, code: _u32s(last, code), _u32, st.integers(0, 14))
    else:
        fitting = st.binary(max_size=16)
    return fitting | st.binary(max_size=16)


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    """Any frame type (unknown ones too), flags, stream id, fitting or random payload, and
    now and then a length field that lies."""
    frame_type = draw(st.integers(0, 9) | st.integers(10, 255))
    return Frame(
        type=frame_type,
        flags=draw(st.sampled_from([0, END_STREAM, END_HEADERS, END_STREAM | END_HEADERS])
                   | st.integers(0, 255)),
        stream_id=draw(_stream_ids),
        payload=draw(_payload(frame_type)),
        length_delta=draw(st.just(0) | st.integers(-3, 3) | st.just(2**24)),
    )  # fmt: skip


_request = (
    Frame(HEADERS, END_HEADERS, NEW_STREAM, _VALID_HEADERS),
    Frame(DATA, END_STREAM, SAME_STREAM, _VALID_BODY),
)
_floods = st.sampled_from(
    [
        # rapid reset (CVE-2023-44487): open a stream and cancel it at once
        (
            Frame(HEADERS, END_HEADERS, NEW_STREAM, _VALID_HEADERS),
            Frame(RST_STREAM, 0, SAME_STREAM, _u32s(8)),
        ),
        (Frame(SETTINGS, 0, 0, b""),),
        (Frame(PING, 0, 0, b"12345678"),),
        (Frame(HEADERS, END_HEADERS, NEW_STREAM, _VALID_HEADERS),),  # idle streams, never DATA
        (Frame(WINDOW_UPDATE, 0, 0, _u32s(1)),),
        _request,
    ]
)  # fmt: skip


@st.composite
def h2_inputs(draw: st.DrawFn) -> H2Input:
    """Mostly short random frame sequences, sometimes with a real call in them, raw bytes,
    no preface, or one of the known floods repeated many times."""
    if draw(st.integers(0, 9)) == 0:
        repeat = draw(st.sampled_from([10, 100, 1_000, 5_000]))
        return H2Input(frames=draw(_floods), repeat=repeat)
    parts = draw(
        st.lists(frames() | st.sampled_from(_request) | st.binary(max_size=12), max_size=6)
    )
    return H2Input(
        frames=tuple(parts),
        preface=draw(st.booleans() | st.just(True)),
        hang_up=draw(st.booleans()),
    )
