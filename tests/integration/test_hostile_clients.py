"""`voicecore serve` against careless and hostile clients on 127.0.0.1 (issue 8).

Each test is a finding that once killed, stalled or exhausted the server; it drives the real
command as a subprocess, so process-wide settings (signal dispositions) are what production has.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import h2.config
import h2.connection
import pytest
import pytest_asyncio
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Cardinality, Status
from grpclib.encoding.proto import ProtoCodec

from tests._servers import RunningServer, start_server
from tests._waiting import until
from voicecore._codec import UpbCodec
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    HealthCheckRequest,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    async with start_server("--debug-primitives") as running:
        yield running


async def _still_serving(server: RunningServer) -> None:
    code = server.proc.exit_code()
    assert code is None, f"server exited with {code}"
    async with Channel(server.host, server.port) as channel:
        health = await VoiceCoreServiceStub(channel).health_check(timeout=5)
    assert health.status == "SERVING"


def _preface_bytes() -> bytes:
    """The client connection preface and its SETTINGS frame."""
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    connection.initiate_connection()
    return connection.data_to_send()


def _health_check_bytes() -> bytes:
    """A whole HTTP/2 connection preface plus one unary HealthCheck call, as raw bytes."""
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    connection.initiate_connection()
    connection.send_headers(
        1,
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/voicecore.v1.VoiceCoreService/HealthCheck"),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ],
    )
    body = bytes(HealthCheckRequest())
    connection.send_data(1, b"\0" + len(body).to_bytes(4, "big") + body, end_stream=True)
    return connection.data_to_send()


class TestPeersThatDisconnect:
    async def test_connections_closed_early_do_not_kill_the_server(
        self, server: RunningServer
    ) -> None:
        """Peers that hang up before reading the answer (EPIPE on write) leave it serving."""
        request = _health_check_bytes()
        for _ in range(30):
            _, writer = await asyncio.open_connection(server.host, server.port)
            writer.write(request)
            await writer.drain()
            # Close at once, with unread data in flight: the server's answer meets a reset.
            writer.transport.abort()
            await asyncio.sleep(0.01)
        await _still_serving(server)

    async def test_preface_then_close_does_not_kill_the_server(self, server: RunningServer) -> None:
        """A connection that sends only the preface and an empty SETTINGS, then closes."""
        preface = _preface_bytes()
        for _ in range(30):
            _, writer = await asyncio.open_connection(server.host, server.port)
            writer.write(preface)
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        await _still_serving(server)


class TestTraceIds:
    @pytest.mark.parametrize("trace_id", ["t" * 200_000, "caf\u00e9", "two words"])
    async def test_a_bad_trace_id_field_is_refused_and_answered(
        self, server: RunningServer, trace_id: str
    ) -> None:
        """200 KB, non-ASCII or spaced trace ids get INVALID_PARAMS back, under a valid id."""
        request = ExecutePrimitiveRequest(
            objective_type="debug_echo",
            trace_id=trace_id,
            params=Struct.from_dict({"text": "hello"}),
        )
        async with (
            Channel(server.host, server.port) as channel,
            channel.request(
                "/voicecore.v1.VoiceCoreService/ExecutePrimitive",
                Cardinality.UNARY_UNARY,
                ExecutePrimitiveRequest,
                ExecutePrimitiveResponse,
            ) as stream,
        ):
            await stream.send_message(request, end=True)
            response = await stream.recv_message()
            assert stream.initial_metadata is not None
            echoed = stream.initial_metadata.get("trace-id")
        assert response is not None and response.metadata is not None
        assert response.error is not None and response.error.code == ErrorCode.INVALID_PARAMS
        assert "trace_id" in response.error.message
        assert echoed == response.metadata.trace_id and len(echoed) == 32
        await _still_serving(server)

    async def test_a_long_trace_id_header_is_refused(self, server: RunningServer) -> None:
        """A 10 KB trace-id metadata value is refused, naming the metadata."""
        async with Channel(server.host, server.port) as channel:
            response = await VoiceCoreServiceStub(channel).execute_primitive(
                ExecutePrimitiveRequest(objective_type="debug_echo"),
                metadata={"trace-id": "m" * 10_000},
            )
        assert response.error is not None and response.error.code == ErrorCode.INVALID_PARAMS
        assert "trace-id metadata" in response.error.message

    async def test_event_streams_refuse_bad_trace_ids(self, server: RunningServer) -> None:
        """StreamEvents with a trace id out of bounds ends with INVALID_ARGUMENT."""
        async with Channel(server.host, server.port) as channel:
            stub = VoiceCoreServiceStub(channel)
            request = StreamEventsRequest(trace_id="x" * 200_000, replay_only=True)
            with pytest.raises(GRPCError) as refused:
                _ = [event async for event in stub.stream_events(request)]
        assert refused.value.status is Status.INVALID_ARGUMENT
        await _still_serving(server)


class TestLargeRequests:
    async def test_many_param_values_are_refused_cheaply(self, server: RunningServer) -> None:
        """Params with 12,000 values in 130 KB (past the value budget, within the size limit)
        are RESOURCE_EXHAUSTED naming the budget; the server serves on."""
        params = Struct.from_dict({"items": list(range(12_000))})
        # upb encodes in milliseconds: betterproto2's pure-Python encoding, done after the
        # headers are sent, could outlast the server's request arrival timeout on a busy box.
        codec = UpbCodec(max_bytes=1 << 26)
        async with Channel(server.host, server.port, codec=codec) as channel:
            with pytest.raises(GRPCError) as refused:
                await VoiceCoreServiceStub(channel).execute_primitive(
                    ExecutePrimitiveRequest(objective_type="debug_echo", params=params)
                )
        assert refused.value.status is Status.RESOURCE_EXHAUSTED
        assert "Struct values" in (refused.value.message or "")
        await _still_serving(server)


def _length_delimited(field: int, payload: bytes) -> bytes:
    """One protobuf field of wire type 2 (bytes, string or submessage)."""
    length, size = len(payload), bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        size.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([field << 3 | 2]) + bytes(size) + payload


def _nested_params(depth: int) -> bytes:
    """An ExecutePrimitiveRequest whose params nest Structs ``depth`` deep, built by hand:
    encoding it through a message class would recurse as deep."""
    struct = b""
    for _ in range(depth):
        value = _length_delimited(5, struct)  # Value.struct_value
        entry = _length_delimited(1, b"a") + _length_delimited(2, value)  # fields["a"]
        struct = _length_delimited(1, entry)
    return _length_delimited(1, b"debug_echo") + _length_delimited(2, struct)


class _RawBytes(ProtoCodec):
    """A codec that sends prepared bytes and hands back the answer's bytes."""

    def encode(self, message: Any, message_type: Any) -> bytes:
        assert isinstance(message, bytes)
        return message

    def decode(self, data: bytes, message_type: Any) -> Any:
        return data


class TestWhatHeld:
    """Defences that already held in issue 8's trial; kept so by these tests."""

    async def test_deep_nesting_is_invalid_argument(self, server: RunningServer) -> None:
        """Params nested 10,000 deep are INVALID_ARGUMENT, and the server serves on."""
        async with (
            Channel(server.host, server.port, codec=_RawBytes()) as channel,
            channel.request(
                "/voicecore.v1.VoiceCoreService/ExecutePrimitive",
                Cardinality.UNARY_UNARY,
                bytes,
                bytes,
            ) as stream,
        ):
            await stream.send_message(_nested_params(10_000), end=True)
            with pytest.raises(GRPCError) as refused:
                await stream.recv_message()
        assert refused.value.status is Status.INVALID_ARGUMENT
        await _still_serving(server)

    async def test_admission_admits_exactly_the_limit(self) -> None:
        """36 concurrent slow calls over 6 connections against a limit of 20: 20 run, 16 are
        RESOURCE_EXHAUSTED (each sleeps 3 s, so all 36 arrive while the first 20 run)."""
        settings = Settings(host="127.0.0.1", port=0, debug_primitives=True)
        server = VoiceCoreServer(settings.model_copy(update={"max_concurrent_calls": 20}))
        await server.start()
        channels = [Channel("127.0.0.1", server.port) for _ in range(6)]
        try:
            calls = [
                VoiceCoreServiceStub(channel).execute_primitive(_sleep(3.0))
                for channel in channels
                for _ in range(6)
            ]
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
        finally:
            for channel in channels:
                channel.close()
            await server.stop(grace_period=1)
        refused = [o for o in outcomes if isinstance(o, GRPCError)]
        assert sum(1 for o in outcomes if isinstance(o, ExecutePrimitiveResponse)) == 20
        assert len(refused) == 16
        assert {o.status for o in refused} == {Status.RESOURCE_EXHAUSTED}

    async def test_drain_lets_fifty_calls_finish(self) -> None:
        """stop() with calls in flight fails none of them."""
        server = VoiceCoreServer(Settings(host="127.0.0.1", port=0, debug_primitives=True))
        await server.start()
        channel = Channel("127.0.0.1", server.port)
        try:
            stub = VoiceCoreServiceStub(channel)
            calls = [asyncio.create_task(stub.execute_primitive(_sleep(1.0))) for _ in range(50)]
            # In flight means running on the server, not merely sent (a busy machine is slow).
            await until(lambda: len(server._admission.unary) == 50)
            await server.stop(grace_period=5)
            outcomes = await asyncio.gather(*calls)
        finally:
            channel.close()
        assert all(outcome.success for outcome in outcomes)


def _sleep(seconds: float) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="debug_sleep", params=Struct.from_dict({"seconds": seconds})
    )
