"""Garbage on the wire: a raw HTTP/2 client sends what no gRPC library would, over a real socket.

Each malformed call must end in an error status (a non-zero ``grpc-status``, or an HTTP error
such as 415 for a wrong content type), and the server must go on serving: a well-formed call
on the same connection and one from a fresh grpclib channel both succeed afterwards.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import pytest
import pytest_asyncio
from grpclib.client import Channel
from hypothesis import given, settings
from hypothesis import strategies as st

from tests._servers import RunningServer, start_server
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    VoiceCoreServiceStub,
)

__all__: list[str] = []

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

EXECUTE = "/voicecore.v1.VoiceCoreService/ExecutePrimitive"
GRPC = "application/grpc"
_OK, _INVALID_ARGUMENT, _DEADLINE_EXCEEDED, _UNIMPLEMENTED = 0, 3, 4, 12
_CALL_TIMEOUT = 10.0


def grpc_frame(payload: bytes, *, compressed: bool = False, declared: int | None = None) -> bytes:
    """A length-prefixed gRPC message; ``declared`` lies about the length."""
    length = len(payload) if declared is None else declared
    return struct.pack(">?I", compressed, length) + payload


def email_request() -> bytes:
    """A well-formed ExecutePrimitive request body."""
    params = Struct.from_dict({"transcription": "john dot smith at gmail dot com"})
    request = ExecutePrimitiveRequest(objective_type="capture_email", params=params)
    return grpc_frame(bytes(request))


@dataclass
class RawOutcome:
    """What came back on one stream: HTTP status, gRPC status and message, body bytes."""

    http_status: int = 0
    grpc_status: int | None = None
    grpc_message: str = ""
    body: bytes = b""
    reset: bool = False

    @property
    def ok(self) -> bool:
        """HTTP 200 and grpc-status 0."""
        return self.http_status == 200 and self.grpc_status == _OK and not self.reset

    def response(self) -> ExecutePrimitiveResponse:
        """The body as one ExecutePrimitiveResponse (after the 5-byte prefix)."""
        return ExecutePrimitiveResponse.parse(self.body[5:])


@dataclass
class RawH2Client:
    """A bare HTTP/2 client on one connection: sends any headers and bytes it is given."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    authority: str
    conn: h2.connection.H2Connection = field(
        default_factory=lambda: h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
    )

    async def call(
        self,
        body: bytes | None,
        *,
        path: str = EXECUTE,
        content_type: str = GRPC,
        extra: Sequence[tuple[str, str]] = (),
    ) -> RawOutcome:
        """Send one request stream with ``body`` (None: headers only) and ``extra`` headers,
        and read the stream's outcome."""
        stream_id = self.conn.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", self.authority),
            ("content-type", content_type),
            ("te", "trailers"),
            *extra,
        ]
        self.conn.send_headers(stream_id, headers, end_stream=body is None)
        if body is not None:
            self.conn.send_data(stream_id, body, end_stream=True)
        self.writer.write(self.conn.data_to_send())
        async with asyncio.timeout(_CALL_TIMEOUT):
            return await self._read_stream(stream_id)

    async def _read_stream(self, stream_id: int) -> RawOutcome:
        outcome = RawOutcome()
        while True:
            data = await self.reader.read(65535)
            if not data:
                raise ConnectionError("the server closed the connection")
            for event in self.conn.receive_data(data):
                if _record(event, stream_id, outcome, self.conn):
                    self.writer.write(self.conn.data_to_send())
                    return outcome
            self.writer.write(self.conn.data_to_send())


def _record(
    event: h2.events.Event, stream_id: int, outcome: RawOutcome, conn: h2.connection.H2Connection
) -> bool:
    """Fold one h2 event into ``outcome``; True once the stream is over."""
    if isinstance(event, h2.events.ConnectionTerminated):
        raise ConnectionError(f"the server sent GOAWAY: {event.error_code!r}")
    if getattr(event, "stream_id", None) != stream_id:
        return False
    if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
        for name, value in event.headers or []:
            _header(str(name), str(value), outcome)
    elif isinstance(event, h2.events.DataReceived):
        outcome.body += event.data or b""
        conn.acknowledge_received_data(event.flow_controlled_length or 0, stream_id)
    elif isinstance(event, h2.events.StreamReset):
        outcome.reset = True
        return True
    return isinstance(event, h2.events.StreamEnded)


def _header(name: str, value: str, outcome: RawOutcome) -> None:
    if name == ":status":
        outcome.http_status = int(value)
    elif name == "grpc-status":
        outcome.grpc_status = int(value)
    elif name == "grpc-message":
        outcome.grpc_message = value


@asynccontextmanager
async def raw_client(server: RunningServer) -> AsyncIterator[RawH2Client]:
    """A raw HTTP/2 connection to ``server``, closed when the block ends."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    client = RawH2Client(reader, writer, server.target)
    client.conn.initiate_connection()
    writer.write(client.conn.data_to_send())
    try:
        yield client
    finally:
        writer.close()
        await writer.wait_closed()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    """One server for the module: each test checks it still serves after its garbage."""
    async with start_server() as running:
        yield running


async def assert_still_serving(server: RunningServer, client: RawH2Client) -> None:
    """A well-formed call succeeds on the same raw connection and on a new grpclib channel."""
    same_connection = await client.call(email_request())
    assert same_connection.ok, same_connection
    assert same_connection.response().success
    async with Channel(server.host, server.port) as channel:
        request = ExecutePrimitiveRequest.parse(email_request()[5:])
        response = await VoiceCoreServiceStub(channel).execute_primitive(request, timeout=5.0)
    assert response.success
    assert response.data is not None
    assert response.data.to_dict()["value"] == "john.smith@gmail.com"


GARBAGE = {
    "varint cut short": (grpc_frame(b"\x0a\xff\xff\xff"), GRPC, EXECUTE),
    "double field cut short": (grpc_frame(b"\x31\x00\x00"), GRPC, EXECUTE),
    "invalid utf-8 in a string": (grpc_frame(b"\x0a\x02\xff\xfe"), GRPC, EXECUTE),
    "json content type": (b'{"objectiveType": "capture_email"}', "application/json", EXECUTE),
    "frame longer than its data": (grpc_frame(b"\x0a\x03abc", declared=100), GRPC, EXECUTE),
    "prefix shorter than 5 bytes": (b"\x00\x00", GRPC, EXECUTE),
    "compressed without grpc-encoding": (grpc_frame(b"\x0a\x01a", compressed=True), GRPC, EXECUTE),
    "unknown method": (grpc_frame(b""), GRPC, "/voicecore.v1.VoiceCoreService/Nope"),
}


BAD_HEADERS = {
    "binary metadata not base64": ([("x-data-bin", "0")], GRPC, _INVALID_ARGUMENT, 200),
    "grpc-timeout not a timeout": ([("grpc-timeout", "soon")], GRPC, _INVALID_ARGUMENT, 200),
    "grpc-timeout of 9 digits": ([("grpc-timeout", "123456789S")], GRPC, _INVALID_ARGUMENT, 200),
    "another gRPC codec": ([], "application/grpc+json", _INVALID_ARGUMENT, 200),
    "not gRPC at all": ([], "text/plain", _INVALID_ARGUMENT, 415),
}


class TestHeadersAreChecked:
    """Headers grpclib mishandles get a precise status, never UNKNOWN nor silence."""

    @pytest.mark.parametrize(
        ("extra", "content_type", "status", "http_status"), BAD_HEADERS.values(), ids=BAD_HEADERS
    )
    async def test_refused_with_a_precise_status(
        self,
        server: RunningServer,
        extra: list[tuple[str, str]],
        content_type: str,
        status: int,
        http_status: int,
    ) -> None:
        """The refusal names the header; the connection serves on."""
        async with raw_client(server) as client:
            outcome = await client.call(email_request(), content_type=content_type, extra=extra)
            assert (outcome.http_status, outcome.grpc_status) == (http_status, status), outcome
            header = (extra[0][0] if extra else "content-type").split(":")[0]
            assert header in outcome.grpc_message
            await assert_still_serving(server, client)

    @pytest.mark.parametrize("timeout", ["0H", "0n", "1n", "999u"])
    async def test_a_spent_deadline_is_deadline_exceeded(
        self, server: RunningServer, timeout: str
    ) -> None:
        """A deadline gone (or under a millisecond) on arrival is DEADLINE_EXCEEDED, not UNKNOWN."""
        async with raw_client(server) as client:
            outcome = await client.call(email_request(), extra=[("grpc-timeout", timeout)])
            assert outcome.grpc_status == _DEADLINE_EXCEEDED, outcome
            await assert_still_serving(server, client)

    async def test_no_message_is_invalid_argument(self, server: RunningServer) -> None:
        """A unary request that ends with its headers is INVALID_ARGUMENT."""
        async with raw_client(server) as client:
            outcome = await client.call(None)
            assert outcome.grpc_status == _INVALID_ARGUMENT, outcome
            await assert_still_serving(server, client)

    @pytest.mark.parametrize("tail", [b"\x00", b"\x00\x00\x00"], ids=["1 byte", "3 bytes"])
    async def test_a_prefix_cut_short_is_invalid_argument(
        self, server: RunningServer, tail: bytes
    ) -> None:
        """A message followed by part of another's 5-byte prefix is INVALID_ARGUMENT."""
        async with raw_client(server) as client:
            outcome = await client.call(email_request() + tail)
            assert outcome.grpc_status == _INVALID_ARGUMENT, outcome
            await assert_still_serving(server, client)

    async def test_compressed_flag_is_unimplemented(self, server: RunningServer) -> None:
        """A message flagged compressed gets UNIMPLEMENTED, not UNKNOWN."""
        async with raw_client(server) as client:
            outcome = await client.call(grpc_frame(b"", compressed=True))
            assert outcome.grpc_status == _UNIMPLEMENTED, outcome
            await assert_still_serving(server, client)

    async def test_non_ascii_header_ends_only_that_connection(self, server: RunningServer) -> None:
        """A header value that is not ASCII gets GOAWAY PROTOCOL_ERROR; others are served."""
        async with raw_client(server) as client:
            with pytest.raises(ConnectionError, match="PROTOCOL_ERROR"):
                await client.call(email_request(), extra=[("x-name", "caf\u00e9")])
        async with raw_client(server) as fresh:
            await assert_still_serving(server, fresh)


class TestGarbageIsRefused:
    """Malformed calls get an error status and do not stop the server."""

    @pytest.mark.parametrize(("body", "content_type", "path"), GARBAGE.values(), ids=GARBAGE)
    async def test_refused_then_still_serving(
        self, server: RunningServer, body: bytes, content_type: str, path: str
    ) -> None:
        """The garbage call ends in an error status; well-formed calls then succeed."""
        async with raw_client(server) as client:
            outcome = await client.call(body, path=path, content_type=content_type)
            assert not outcome.ok, outcome
            assert outcome.http_status != 200 or outcome.grpc_status not in (None, _OK)
            await assert_still_serving(server, client)

    async def test_wrong_content_type_is_http_415(self, server: RunningServer) -> None:
        """A non-gRPC content type is refused as HTTP 415 Unsupported Media Type."""
        async with raw_client(server) as client:
            outcome = await client.call(b"{}", content_type="application/json")
        assert outcome.http_status == 415


class TestRandomBodies:
    """Random bytes as the message of a well-framed call."""

    @settings(max_examples=min(settings().max_examples, 100), deadline=None)
    @given(payload=st.binary(max_size=64))
    async def test_error_status_or_a_well_formed_response(
        self, server: RunningServer, payload: bytes
    ) -> None:
        """Any body gets an error status, or OK with a response that parses; never a hang."""
        async with raw_client(server) as client:
            outcome = await client.call(grpc_frame(payload))
            if outcome.ok:
                assert outcome.response().metadata is not None
            else:
                assert outcome.grpc_status not in (None, _OK), outcome
            await assert_still_serving(server, client)


# Bodies the protobuf runtime (upb) refuses but betterproto2 0.10 parses without complaint
# (test_proto_roundtrip.py TestParseStrictness): the server must parse with upb to refuse them.
LENIENTLY_PARSED = {
    "string longer than the message": grpc_frame(b"\x0a\x05ab"),
    "invalid wire type 7": grpc_frame(b"\x0f"),
    "garbage inside params": grpc_frame(b"\x12\x03abc"),
}


class TestUnparseableIsInvalidArgument:
    """An unparseable message is gRPC INVALID_ARGUMENT, not run."""

    async def test_truncated_varint(self, server: RunningServer) -> None:
        """A body no parser can read (a varint cut short) is INVALID_ARGUMENT."""
        async with raw_client(server) as client:
            outcome = await client.call(grpc_frame(b"\x0a\xff\xff\xff"))
        assert outcome.grpc_status == _INVALID_ARGUMENT, outcome

    @pytest.mark.parametrize("body", LENIENTLY_PARSED.values(), ids=LENIENTLY_PARSED)
    async def test_body_upb_refuses(self, server: RunningServer, body: bytes) -> None:
        """A body the official protobuf runtime refuses is INVALID_ARGUMENT, not run."""
        async with raw_client(server) as client:
            outcome = await client.call(body)
        assert outcome.grpc_status == _INVALID_ARGUMENT, outcome
