"""The server around the service: admission limits, size limit, draining, standard health."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest as StdHealthRequest
from grpclib.health.v1.health_pb2 import HealthCheckResponse as StdHealthResponse

from tests._servers import free_port, wait_serving
from tests._waiting import until
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ExecutePrimitiveRequest,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer, serve

pytestmark = pytest.mark.integration

SERVICE_NAME = "voicecore.v1.VoiceCoreService"


async def _start(**overrides: object) -> VoiceCoreServer:
    settings = Settings.model_validate(
        {"host": "127.0.0.1", "port": 0, "debug_primitives": True, **overrides}
    )
    server = VoiceCoreServer(settings)
    await server.start()
    return server


def _sleep(seconds: float) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="debug_sleep", params=Struct.from_dict({"seconds": seconds})
    )


@pytest.fixture
async def channel_to() -> AsyncIterator[list[Channel]]:
    channels: list[Channel] = []
    yield channels
    for channel in channels:
        channel.close()


def _stub(server: VoiceCoreServer, channels: list[Channel]) -> VoiceCoreServiceStub:
    channel = Channel("127.0.0.1", server.port)
    channels.append(channel)
    return VoiceCoreServiceStub(channel)


class TestAdmission:
    async def test_overload_is_resource_exhausted(self, channel_to: list[Channel]) -> None:
        """Beyond max_concurrent_calls a call is refused at once, not queued."""
        server = await _start(max_concurrent_calls=1)
        stub = _stub(server, channel_to)
        try:
            slow = asyncio.create_task(stub.execute_primitive(_sleep(0.5)))
            await until(lambda: len(server._admission.unary) == 1)
            with pytest.raises(GRPCError) as info:
                await stub.execute_primitive(_sleep(0))
            assert info.value.status == Status.RESOURCE_EXHAUSTED
            assert (await slow).success
        finally:
            await server.stop(grace_period=1)

    async def test_too_large_request_is_resource_exhausted(self, channel_to: list[Channel]) -> None:
        """A message over max_message_bytes is refused and the server keeps serving."""
        server = await _start(max_message_bytes=2048)
        stub = _stub(server, channel_to)
        try:
            big = ExecutePrimitiveRequest(
                objective_type="debug_echo", params=Struct.from_dict({"blob": "x" * 5000})
            )
            with pytest.raises(GRPCError) as info:
                await stub.execute_primitive(big)
            assert info.value.status == Status.RESOURCE_EXHAUSTED
            assert "2048" in (info.value.message or "")
            assert (await stub.execute_primitive(_sleep(0))).success
        finally:
            await server.stop(grace_period=0.1)


class TestDraining:
    async def test_in_flight_call_finishes_within_grace(self, channel_to: list[Channel]) -> None:
        """stop() lets a running call complete before closing."""
        server = await _start()
        stub = _stub(server, channel_to)
        call = asyncio.create_task(stub.execute_primitive(_sleep(0.3)))
        await until(lambda: len(server._admission.unary) == 1)
        await server.stop(grace_period=5)
        assert (await call).success

    async def test_a_call_that_arrives_while_draining_is_unavailable(
        self, channel_to: list[Channel]
    ) -> None:
        """Once the drain began, a new call on an open connection is refused: retry elsewhere."""
        server = await _start()
        stub = _stub(server, channel_to)
        slow = asyncio.create_task(stub.execute_primitive(_sleep(0.5)))
        await until(lambda: len(server._admission.unary) == 1)
        stopping = asyncio.create_task(server.stop(grace_period=5))
        await until(lambda: server._admission.draining)
        with pytest.raises(GRPCError) as info:
            await stub.execute_primitive(_sleep(0))
        assert info.value.status == Status.UNAVAILABLE
        assert "shutting down" in (info.value.message or "")
        assert (await slow).success
        await stopping

    async def test_call_past_grace_gets_unavailable(self, channel_to: list[Channel]) -> None:
        """A call still running when the grace period ends gets UNAVAILABLE, not a hang."""
        server = await _start()
        stub = _stub(server, channel_to)
        call = asyncio.create_task(stub.execute_primitive(_sleep(30), timeout=10))
        await until(lambda: len(server._admission.unary) == 1)
        await server.stop(grace_period=0.1)
        with pytest.raises(GRPCError) as info:
            await call
        assert info.value.status == Status.UNAVAILABLE

    async def test_event_stream_ends_with_unavailable(self, channel_to: list[Channel]) -> None:
        """A following StreamEvents is ended with UNAVAILABLE so the client can resume."""
        server = await _start()
        stub = _stub(server, channel_to)

        async def follow() -> None:
            async for _ in stub.stream_events(StreamEventsRequest(), timeout=10):
                pass

        stream = asyncio.create_task(follow())
        await until(lambda: len(server._admission.streams) == 1)
        await server.stop(grace_period=1)
        with pytest.raises(GRPCError) as info:
            await stream
        assert info.value.status == Status.UNAVAILABLE


class TestStandardHealth:
    async def _check(self, server: VoiceCoreServer, service: str) -> int:
        async with Channel("127.0.0.1", server.port) as channel:
            response: StdHealthResponse = await HealthStub(channel).Check(
                StdHealthRequest(service=service)
            )
            status: int = response.status
            return status

    async def test_overall_and_per_service(self) -> None:
        """grpc.health.v1 answers SERVING for "" and for the service."""
        server = await _start()
        try:
            assert await self._check(server, "") == StdHealthResponse.SERVING
            assert await self._check(server, SERVICE_NAME) == StdHealthResponse.SERVING
        finally:
            await server.stop(grace_period=0.1)

    async def test_draining_reports_not_serving(self, channel_to: list[Channel]) -> None:
        """While a call holds the drain open, both health checks answer NOT_SERVING."""
        server = await _start()
        slow = asyncio.create_task(_stub(server, channel_to).execute_primitive(_sleep(0.5)))
        await until(lambda: len(server._admission.unary) == 1)
        stopping = asyncio.create_task(server.stop(grace_period=5))
        await until(lambda: server._admission.draining)
        assert await self._check(server, SERVICE_NAME) == StdHealthResponse.NOT_SERVING
        custom = await _stub(server, channel_to).health_check()
        assert custom.status == "NOT_SERVING"
        assert (await slow).success
        await stopping

    async def test_watch_sees_not_serving_before_the_end(self, channel_to: list[Channel]) -> None:
        """A Watch stream receives NOT_SERVING, then ends: load balancers drain cleanly."""
        server = await _start()
        channel = Channel("127.0.0.1", server.port)
        channel_to.append(channel)
        seen: list[int] = []

        async def watch() -> None:
            async with HealthStub(channel).Watch.open() as stream:
                await stream.send_message(StdHealthRequest(service=SERVICE_NAME), end=True)
                async for reply in stream:
                    seen.append(reply.status)

        watcher = asyncio.create_task(watch())
        await until(lambda: seen == [StdHealthResponse.SERVING])
        await server.stop(grace_period=0.1)
        with pytest.raises(GRPCError):
            await asyncio.wait_for(watcher, 5)
        assert seen == [StdHealthResponse.SERVING, StdHealthResponse.NOT_SERVING]


class TestServe:
    async def test_sigterm_drains_and_returns(self) -> None:
        """serve() runs until SIGTERM, then drains: health stops answering, serve returns."""
        port = free_port()
        settings = Settings(host="127.0.0.1", port=port, grace_period=0.1)
        running = asyncio.create_task(serve(settings))
        await wait_serving("127.0.0.1", port, timeout=10)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 10)
        with pytest.raises(OSError):
            async with Channel("127.0.0.1", port) as channel:
                await VoiceCoreServiceStub(channel).health_check(timeout=1)
