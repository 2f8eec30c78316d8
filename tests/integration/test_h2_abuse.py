"""Hostile HTTP/2 clients (issue 8, findings 4 and 7) against a real VoiceCoreServer on port 0.

A raw ``h2`` connection does what no gRPC library would: streams that send headers and nothing
else, more streams than advertised, rapid resets, floods of SETTINGS, PING and other control
frames. The server must keep serving everyone else, and end the abuse after a bounded number of
frames (counted, not timed: the only times are generous "completes within" guards).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import h2.events
import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.health.v1 import health_pb2
from grpclib.reflection.v1 import reflection_pb2
from h2.errors import ErrorCodes
from hyperframe.frame import HeadersFrame

from tests._waiting import until
from tests.integration.test_wire_garbage import EXECUTE, GRPC, RawH2Client, email_request
from voicecore import server as server_module
from voicecore._h2guard import FRAMES_PER_TURN, GuardedProtocol
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest, VoiceCoreServiceStub
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

__all__: list[str] = []

pytestmark = pytest.mark.integration

_GUARD = 10.0  # seconds: "completes within", never a measurement
_UNAVAILABLE = 14
_PING = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"\x00" * 8
_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_WINDOW_UPDATE = b"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x01"
_PRIORITY = b"\x00\x00\x05\x02\x00\x00\x00\x00\x03\x00\x00\x00\x00\x10"  # on idle stream 3
_ROUND_TRIP = b"roundtrp"  # the opaque data of round_trip's PING (a flood's ACKs carry others)
_UNKNOWN = b"\x00\x00\x00\xfa\x00\x00\x00\x00\x00"  # frame type 0xfa, which h2 does not know


@asynccontextmanager
async def serving(**overrides: object) -> AsyncIterator[VoiceCoreServer]:
    """A started in-process server on 127.0.0.1 port 0, stopped when the block ends."""
    settings = Settings.model_validate(
        {"host": "127.0.0.1", "port": 0, "debug_primitives": True, **overrides}
    )
    server = VoiceCoreServer(settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace_period=0)


class _ResetIsEof(asyncio.StreamReader):
    """A reader for which a connection reset is an end of data: what was received before the
    reset (the server's GOAWAY) is still read, where StreamReader would raise at once."""

    def set_exception(self, exc: BaseException) -> None:
        self.feed_eof()


@asynccontextmanager
async def connect(server: VoiceCoreServer) -> AsyncIterator[RawH2Client]:
    """A raw HTTP/2 connection whose SETTINGS exchange is done; closed when the block ends."""
    loop = asyncio.get_running_loop()
    reader = _ResetIsEof(loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader)
    transport, _ = await loop.create_connection(lambda: protocol, "127.0.0.1", server.port)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    client = RawH2Client(reader, writer, f"127.0.0.1:{server.port}")
    client.conn.initiate_connection()
    writer.write(client.conn.data_to_send())
    try:
        await round_trip(client)
        yield client
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass  # the server reset it first


async def read_until(
    client: RawH2Client, done: Callable[[h2.events.Event], bool]
) -> list[h2.events.Event]:
    """Every event up to the first ``done`` one, or up to the end of the connection."""
    seen: list[h2.events.Event] = []
    async with asyncio.timeout(_GUARD):
        while data := await client.reader.read(65535):
            events = client.conn.receive_data(data)
            send(client)
            for event in events:
                seen.append(event)
                if done(event):
                    return seen
    return seen


def send(client: RawH2Client) -> None:
    """Write what the client's h2 connection has queued, unless the server has hung up."""
    data = client.conn.data_to_send()
    if data and not client.writer.is_closing():
        client.writer.write(data)


async def round_trip(client: RawH2Client) -> list[h2.events.Event]:
    """Send a PING and read up to its ACK, a GOAWAY or the end: the server has read all before."""
    client.conn.ping(_ROUND_TRIP)
    send(client)
    return await read_until(
        client,
        lambda e: (
            (isinstance(e, h2.events.PingAckReceived) and e.ping_data == _ROUND_TRIP)
            or isinstance(e, h2.events.ConnectionTerminated)
        ),
    )


def start_stream(client: RawH2Client, path: str = EXECUTE) -> int:
    """Queue HEADERS for a gRPC call (and nothing else); the stream id."""
    stream_id = client.conn.get_next_available_stream_id()
    client.conn.send_headers(stream_id, _headers(client, path))
    return stream_id


def open_stream(client: RawH2Client, path: str = EXECUTE) -> int:
    """Send HEADERS for a gRPC call and nothing else; the stream id."""
    stream_id = start_stream(client, path)
    send(client)
    return stream_id


def _headers(client: RawH2Client, path: str) -> list[tuple[str, str]]:
    return [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", client.authority),
        ("content-type", GRPC),
        ("te", "trailers"),
    ]


async def health_on_a_new_connection(server: VoiceCoreServer) -> str:
    """The custom HealthCheck's status, asked on a fresh grpclib channel."""
    async with Channel("127.0.0.1", server.port) as channel:
        response = await VoiceCoreServiceStub(channel).health_check(timeout=_GUARD)
    return response.status


def _sleep(seconds: float) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="debug_sleep", params=Struct.from_dict({"seconds": seconds})
    )


def _terminated(events: list[h2.events.Event]) -> h2.events.ConnectionTerminated | None:
    return next((e for e in events if isinstance(e, h2.events.ConnectionTerminated)), None)


class TestIdleStreams:
    """Finding 4: streams that send headers and never their message lock nobody out."""

    async def test_a_real_call_succeeds_while_idle_streams_outnumber_the_slots(self) -> None:
        """40 header-only streams on 4 connections against 20 slots: a real call still runs."""
        async with serving(max_concurrent_calls=20, request_arrival_timeout=5.0) as server:
            async with (
                connect(server) as a,
                connect(server) as b,
                connect(server) as c,
                connect(server) as d,
            ):
                for client in (a, b, c, d):
                    for _ in range(10):
                        open_stream(client)
                    await round_trip(client)
                async with Channel("127.0.0.1", server.port) as channel:
                    response = await VoiceCoreServiceStub(channel).execute_primitive(
                        ExecutePrimitiveRequest.parse(email_request()[5:]), timeout=_GUARD
                    )
                assert response.success

    async def test_idle_streams_are_ended_after_the_arrival_limit(self) -> None:
        """Header-only streams end with UNAVAILABLE once the arrival limit passes."""
        async with serving(request_arrival_timeout=0.2) as server, connect(server) as client:
            pending = {open_stream(client) for _ in range(5)}
            statuses: dict[int, str] = {}

            def all_ended(event: h2.events.Event) -> bool:
                if isinstance(event, h2.events.TrailersReceived | h2.events.ResponseReceived):
                    headers = {str(k): str(v) for k, v in event.headers or []}
                    if "grpc-status" in headers and event.stream_id is not None:
                        statuses[event.stream_id] = headers["grpc-status"]
                return pending <= statuses.keys()

            await read_until(client, all_ended)
        assert set(statuses.values()) == {str(_UNAVAILABLE)}

    async def test_a_slow_request_that_arrives_in_time_is_served(self) -> None:
        """Headers first, the message later but within the limit: the call succeeds."""
        async with serving(request_arrival_timeout=5.0) as server, connect(server) as client:
            stream_id = open_stream(client)
            await round_trip(client)
            client.conn.send_data(stream_id, email_request(), end_stream=True)
            send(client)
            outcome = await client._read_stream(stream_id)
        assert outcome.ok, outcome

    async def test_a_call_whose_request_arrives_during_the_drain_is_served(self) -> None:
        """Headers before the drain began, the message after: in flight, so it is answered."""
        settings = Settings(host="127.0.0.1", port=0, request_arrival_timeout=5.0)
        server = VoiceCoreServer(settings)
        await server.start()
        async with connect(server) as client:
            stream_id = open_stream(client)
            await round_trip(client)
            stopping = asyncio.create_task(server.stop(grace_period=5))
            await until(lambda: server._admission.draining)
            client.conn.send_data(stream_id, email_request(), end_stream=True)
            send(client)
            async with asyncio.timeout(_GUARD):
                outcome = await client._read_stream(stream_id)
                await stopping
        assert outcome.ok, outcome

    async def test_a_second_message_in_a_unary_request_is_invalid_argument(self) -> None:
        """A unary request is one message and the end of the stream; two are refused."""
        async with serving() as server, connect(server) as client:
            outcome = await client.call(email_request() * 2)
        assert outcome.grpc_status == Status.INVALID_ARGUMENT.value, outcome


class TestConnectionShare:
    """Finding 4: one connection cannot take every call slot."""

    async def test_one_connection_holds_at_most_half_the_slots(self) -> None:
        """With 4 slots, a connection holding 2 is refused a third; another connection is not."""
        async with serving(max_concurrent_calls=4) as server:
            async with (
                Channel("127.0.0.1", server.port) as greedy,
                Channel("127.0.0.1", server.port) as other,
            ):
                stub = VoiceCoreServiceStub(greedy)
                slow = [asyncio.create_task(stub.execute_primitive(_sleep(1.0))) for _ in range(2)]
                await until(lambda: len(server._admission.unary) == 2)
                with pytest.raises(GRPCError) as refused:
                    await stub.execute_primitive(_sleep(0), timeout=_GUARD)
                answer = await VoiceCoreServiceStub(other).execute_primitive(
                    _sleep(0), timeout=_GUARD
                )
                finished = [await task for task in slow]
                assert all(response.success for response in finished)
        assert refused.value.status == Status.RESOURCE_EXHAUSTED
        assert answer.success


class TestStreamLimit:
    """Finding 4: SETTINGS_MAX_CONCURRENT_STREAMS is the setting, advertised and enforced."""

    async def test_the_limit_is_advertised(self) -> None:
        """The client sees max_streams_per_connection in the server's SETTINGS."""
        async with serving(max_streams_per_connection=5) as server, connect(server) as client:
            await round_trip(client)
            assert client.conn.remote_settings.max_concurrent_streams == 5

    async def test_a_stream_over_the_limit_ends_the_connection(self) -> None:
        """A sixth stream when five are allowed: GOAWAY, and other clients are still served."""
        async with serving(max_streams_per_connection=5) as server, connect(server) as client:
            await round_trip(client)
            for _ in range(5):
                open_stream(client)
            # h2 will not exceed the advertised limit itself: write the sixth HEADERS by hand.
            frame = HeadersFrame(11, client.conn.encoder.encode(_headers(client, EXECUTE)))
            frame.flags.add("END_HEADERS")
            client.writer.write(frame.serialize())
            goaway = _terminated(await round_trip(client))
            assert goaway is not None
            assert goaway.error_code == ErrorCodes.PROTOCOL_ERROR
            assert await health_on_a_new_connection(server) == "SERVING"


async def _flood(client: RawH2Client, frames: Callable[[], bytes], count: int) -> None:
    """Write ``count`` rounds of ``frames()`` in batches, stopping once the server hangs up."""
    for batch in range(0, count, 100):
        if client.writer.is_closing():
            return
        client.writer.write(b"".join(frames() for _ in range(batch, min(count, batch + 100))))
        try:
            await client.writer.drain()
        except ConnectionError:
            return


async def _goaway_after(client: RawH2Client) -> h2.events.ConnectionTerminated | None:
    """The GOAWAY the server sent (None if it answers a PING instead)."""
    return _terminated(await round_trip(client))


class TestFloods:
    """Finding 7: floods end with GOAWAY ENHANCE_YOUR_CALM after a bounded number of frames."""

    async def test_rapid_reset_gets_enhance_your_calm(self) -> None:
        """HEADERS then RST_STREAM in a loop: GOAWAY within the reset budget; health answers."""
        async with serving(flood_max_resets=50) as server, connect(server) as client:

            def headers_then_reset() -> bytes:
                stream_id = start_stream(client)
                client.conn.reset_stream(stream_id, ErrorCodes.CANCEL)
                return client.conn.data_to_send()

            await _flood(client, headers_then_reset, 2000)
            goaway = await _goaway_after(client)
            assert goaway is not None, "no GOAWAY after 2000 rapid resets"
            assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
            assert goaway.last_stream_id is not None and goaway.last_stream_id <= 2 * 51 + 1
            assert await health_on_a_new_connection(server) == "SERVING"

    @pytest.mark.parametrize(
        "frame",
        [_SETTINGS, _PING, _WINDOW_UPDATE, _PRIORITY, _UNKNOWN],
        ids=["settings", "ping", "window-update", "priority", "unknown-type"],
    )
    async def test_control_frame_flood_gets_enhance_your_calm(self, frame: bytes) -> None:
        """5,000 control frames against a budget of 100: GOAWAY; health still answers."""
        async with serving(flood_max_control_frames=100) as server, connect(server) as client:
            await _flood(client, lambda: frame, 5000)
            goaway = await _goaway_after(client)
            assert goaway is not None, "no GOAWAY after 5000 control frames"
            assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
            assert await health_on_a_new_connection(server) == "SERVING"

    async def test_empty_data_flood_gets_enhance_your_calm(self) -> None:
        """Empty DATA frames on an open stream count as control frames."""
        async with serving(flood_max_control_frames=100) as server, connect(server) as client:
            stream_id = open_stream(client)

            def empty_data() -> bytes:
                client.conn.send_data(stream_id, b"")
                return client.conn.data_to_send()

            await _flood(client, empty_data, 5000)
            goaway = await _goaway_after(client)
            assert goaway is not None, "no GOAWAY after 5000 empty DATA frames"
            assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM

    async def test_resets_of_completed_calls_are_not_a_flood(self) -> None:
        """A client that resets as many streams as it completes keeps its connection."""
        async with serving(flood_max_resets=10) as server, connect(server) as client:
            for _ in range(40):
                assert (await client.call(email_request())).ok
                client.conn.reset_stream(start_stream(client), ErrorCodes.CANCEL)
                send(client)
            assert _terminated(await round_trip(client)) is None


class TestOneTurnAtATime:
    async def test_a_burst_is_parsed_over_many_loop_turns(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """100 HEADERS+RST_STREAM pairs in one write are parsed 32 frames per loop turn at most,
        so other connections get the loop in between (one read once took them all at once)."""
        fed: list[int] = []
        feed = GuardedProtocol._feed

        def counting_feed(self: GuardedProtocol, data: bytes) -> None:
            fed.append(len(data))
            feed(self, data)

        monkeypatch.setattr(GuardedProtocol, "_feed", counting_feed)
        async with serving() as server, connect(server) as client:
            fed.clear()
            for _ in range(100):
                client.conn.reset_stream(start_stream(client), ErrorCodes.CANCEL)
            send(client)
            await round_trip(client)
            assert len(fed) >= 200 // FRAMES_PER_TURN
            assert await health_on_a_new_connection(server) == "SERVING"


class TestResetStreamsAreReleased:
    """Streams reset before their handler ran give back their flow-control credit."""

    async def test_connection_window_survives_many_resets_with_data(self) -> None:
        """5,000 streams of headers, 1 KiB and RST (over the 4 MiB window): a call still runs."""
        async with serving(flood_max_resets=100_000) as server, connect(server) as client:
            body = b"\x00" * 1024

            def headers_data_reset() -> bytes:
                stream_id = start_stream(client)
                client.conn.send_data(stream_id, body)
                client.conn.reset_stream(stream_id, ErrorCodes.CANCEL)
                return client.conn.data_to_send()

            for _ in range(50):
                client.writer.write(b"".join(headers_data_reset() for _ in range(100)))
                await round_trip(client)  # the server has read it and answered its window
            outcome = await client.call(email_request())
        assert outcome.ok, outcome


_REFLECTION_PATH = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
_WATCH_PATH = "/grpc.health.v1.Health/Watch"


def _message(payload: bytes, declared: int | None = None) -> bytes:
    """A gRPC length-prefixed message; ``declared`` lies about its length."""
    return struct.pack(">?I", False, len(payload) if declared is None else declared) + payload


def _open_with(client: RawH2Client, path: str, data: bytes) -> int:
    """A stream to ``path`` that sends ``data`` and stays open; its id."""
    stream_id = start_stream(client, path)
    client.conn.send_data(stream_id, data)
    send(client)
    return stream_id


class TestDeclaredSizes:
    async def test_a_huge_declared_length_is_refused_before_its_body(self) -> None:
        """A prefix declaring 2 GiB is RESOURCE_EXHAUSTED at once, not buffered until it came."""
        async with serving(request_arrival_timeout=30.0) as server, connect(server) as client:
            stream_id = _open_with(client, EXECUTE, _message(b"\x0a" * 1024, 0x7FFFFFFF))
            outcome = await client._read_stream(stream_id)
        assert outcome.grpc_status == Status.RESOURCE_EXHAUSTED.value, outcome
        assert str(0x7FFFFFFF) in outcome.grpc_message

    async def test_a_later_message_of_an_open_stream_is_checked_too(self) -> None:
        """Reflection's second message declaring 2 GiB is refused the same way."""
        list_services = reflection_pb2.ServerReflectionRequest(list_services="")
        first = _message(list_services.SerializeToString())
        async with serving() as server, connect(server) as client:
            stream_id = _open_with(client, _REFLECTION_PATH, first)
            client.conn.send_data(stream_id, _message(b"\x00" * 1024, 0x7FFFFFFF))
            send(client)
            outcome = await client._read_stream(stream_id)
        assert outcome.grpc_status == Status.RESOURCE_EXHAUSTED.value, outcome


class TestOpenStreamsAreBounded:
    async def test_reflection_streams_have_a_pool_of_their_own(self) -> None:
        """Open reflection streams cannot take unary slots: past their pool they are refused,
        and a real call still runs."""
        list_services = reflection_pb2.ServerReflectionRequest(list_services="")
        request = _message(list_services.SerializeToString())
        async with serving(max_concurrent_calls=10) as server:
            async with connect(server) as a, connect(server) as b, connect(server) as c:
                for client in (a, b):
                    for _ in range(32):
                        _open_with(client, _REFLECTION_PATH, request)
                    await round_trip(client)
                refused = await c._read_stream(_open_with(c, _REFLECTION_PATH, request))
                async with Channel("127.0.0.1", server.port) as channel:
                    call = await VoiceCoreServiceStub(channel).execute_primitive(_sleep(0))
        assert refused.grpc_status == Status.RESOURCE_EXHAUSTED.value, refused
        assert call.success

    async def test_an_idle_reflection_stream_is_ended(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A reflection stream that stops sending is ended with DEADLINE_EXCEEDED."""
        monkeypatch.setattr(server_module, "_STREAM_IDLE_SECONDS", 0.2)
        list_services = reflection_pb2.ServerReflectionRequest(list_services="")
        async with serving() as server, connect(server) as client:
            stream_id = _open_with(
                client, _REFLECTION_PATH, _message(list_services.SerializeToString())
            )
            outcome = await client._read_stream(stream_id)
        assert outcome.grpc_status == Status.DEADLINE_EXCEEDED.value, outcome

    async def test_health_watches_are_limited_per_connection(self) -> None:
        """With four event streams allowed, one connection may hold two Watch streams."""
        watch = _message(health_pb2.HealthCheckRequest().SerializeToString())
        async with serving(max_event_streams=4) as server, connect(server) as client:
            for _ in range(2):
                stream_id = start_stream(client, _WATCH_PATH)
                client.conn.send_data(stream_id, watch, end_stream=True)
            send(client)
            await round_trip(client)
            third = start_stream(client, _WATCH_PATH)
            client.conn.send_data(third, watch, end_stream=True)
            send(client)
            outcome = await client._read_stream(third)
        assert outcome.grpc_status == Status.RESOURCE_EXHAUSTED.value, outcome


class TestConnections:
    async def test_connections_over_the_limit_are_closed(self) -> None:
        """With two connections allowed, a third gets GOAWAY ENHANCE_YOUR_CALM; the two serve."""
        async with serving(max_connections=2) as server, connect(server) as first:
            async with connect(server) as second:
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                third = RawH2Client(reader, writer, f"127.0.0.1:{server.port}")
                third.conn.initiate_connection()
                send(third)
                ended = await read_until(
                    third, lambda e: isinstance(e, h2.events.ConnectionTerminated)
                )
                writer.close()
                goaway = _terminated(ended)
                assert goaway is not None and goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
                for client in (first, second):
                    assert (await client.call(email_request())).ok

    async def test_an_unfinished_header_block_ends_the_connection(self) -> None:
        """HEADERS without END_HEADERS, then silence: GOAWAY after the arrival limit."""
        async with serving(request_arrival_timeout=0.2) as server, connect(server) as client:
            block = HeadersFrame(client.conn.get_next_available_stream_id())
            block.data = b"\x82"  # :method GET, and no END_HEADERS: CONTINUATION should follow
            client.writer.write(block.serialize())
            ended = await read_until(
                client, lambda e: isinstance(e, h2.events.ConnectionTerminated)
            )
            goaway = _terminated(ended)
        assert goaway is not None and goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
