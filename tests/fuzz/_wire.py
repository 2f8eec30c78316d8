"""One raw gRPC call over its own HTTP/2 connection: any headers, any body, any size.

Unlike ``RawH2Client`` in ``tests/integration/test_wire_garbage.py`` this client sends header
names and values as given (no validation, no normalisation) and honours flow control, so a
multi-megabyte body goes out in as many DATA frames as the server's windows allow.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import hpack

__all__ = ["CallOutcome", "close_quietly", "raw_call"]

_READ = 65535


class _LiteralEncoder(hpack.Encoder):
    """HPACK without Huffman coding: hpack's pure-Python Huffman coder takes seconds on a
    100 KB value, which would make the fuzzer, not the server, the slow side."""

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        return super().encode(headers, huffman=False)


@dataclass
class CallOutcome:
    """What one raw call got back."""

    http_status: int = 0
    grpc_status: int | None = None
    grpc_message: bytes = b""
    body: bytes = b""
    reset_code: int | None = None  # RST_STREAM from the server
    closed: str = ""  # the connection ended (GOAWAY or EOF) before the stream did
    timed_out: bool = False
    ended: bool = False

    @property
    def answered(self) -> bool:
        """The call got an answer a gRPC client can act on: a grpc-status or an HTTP error."""
        return self.grpc_status is not None or self.http_status not in (0, 200)


class _Call:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=False,
        )
        self.conn = h2.connection.H2Connection(config)
        self.conn.encoder = _LiteralEncoder()
        self.reader, self.writer = reader, writer
        self.outcome = CallOutcome()
        self.stream_id = 1

    def flush(self) -> None:
        self.writer.write(self.conn.data_to_send())

    async def pump(self) -> None:
        """Read once from the socket and fold the events into the outcome."""
        data = await self.reader.read(_READ)
        if not data:
            self.outcome.closed = self.outcome.closed or "EOF"
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self.outcome.closed = f"client-side protocol error: {exc!r}"
            return
        for event in events:
            self._fold(event)
        self.flush()

    @property
    def over(self) -> bool:
        return self.outcome.ended or bool(self.outcome.closed)

    def _fold(self, event: h2.events.Event) -> None:
        outcome = self.outcome
        if isinstance(event, h2.events.ConnectionTerminated):
            outcome.closed = f"GOAWAY {event.error_code!r}"
        elif isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
            for name, value in event.headers or []:
                _header(bytes(name), bytes(value), outcome)
        elif isinstance(event, h2.events.DataReceived):
            outcome.body += event.data or b""
            self.conn.acknowledge_received_data(event.flow_controlled_length or 0, self.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            outcome.reset_code = int(event.error_code or 0)
            outcome.ended = True
        elif isinstance(event, h2.events.StreamEnded):
            outcome.ended = True

    async def send_body(self, body: bytes) -> None:
        """DATA frames as the windows allow; stop early if the server already answered."""
        offset = 0
        while offset < len(body) and not self.over:
            room = min(
                self.conn.local_flow_control_window(self.stream_id),
                self.conn.max_outbound_frame_size,
            )
            if room <= 0:
                await self.pump()
                continue
            self.conn.send_data(self.stream_id, body[offset : offset + room])
            offset += room
            self.flush()
            await self.writer.drain()
        if not self.over:
            self.conn.end_stream(self.stream_id)
            self.flush()


def _header(name: bytes, value: bytes, outcome: CallOutcome) -> None:
    if name == b":status" and value.isdigit():
        outcome.http_status = int(value)
    elif name == b"grpc-status" and value.isdigit():
        outcome.grpc_status = int(value)
    elif name == b"grpc-message":
        outcome.grpc_message = value


async def raw_call(
    host: str, port: int, headers: list[tuple[bytes, bytes]], body: bytes, timeout: float
) -> CallOutcome:
    """Open a connection, send one request stream, read until it ends; close the connection."""
    reader, writer = await asyncio.open_connection(host, port)
    call = _Call(reader, writer)
    try:
        async with asyncio.timeout(timeout):
            call.conn.initiate_connection()
            call.conn.send_headers(call.stream_id, headers)
            call.flush()
            await call.send_body(body)
            while not call.over:
                await call.pump()
    except TimeoutError:
        call.outcome.timed_out = True
    except (ConnectionError, h2.exceptions.ProtocolError) as exc:
        call.outcome.closed = call.outcome.closed or repr(exc)
    finally:
        await close_quietly(writer)
    return call.outcome


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    """Close a connection the server may have reset already."""
    writer.close()
    try:
        await writer.wait_closed()
    except ConnectionError:
        pass
