"""`voicecore serve` as a subprocess on 127.0.0.1, called with the generated async stub."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from grpclib.client import Channel
from grpclib.reflection.v1.reflection_grpc import ServerReflectionStub
from grpclib.reflection.v1.reflection_pb2 import ServerReflectionRequest

from tests._servers import RunningServer, free_port, start_server, wait_serving
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    async with start_server("--debug-primitives") as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def stub(server: RunningServer) -> AsyncIterator[VoiceCoreServiceStub]:
    async with Channel(server.host, server.port) as channel:
        yield VoiceCoreServiceStub(channel)


def _email(transcription: str, **fields: str) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="capture_email",
        params=Struct.from_dict({"transcription": transcription}),
        **fields,  # type: ignore[arg-type]
    )


class TestEndToEnd:
    async def test_capture_email(self, stub: VoiceCoreServiceStub) -> None:
        """A spoken email comes back canonical, awaiting confirmation."""
        response = await stub.execute_primitive(
            _email("my email is john dot smith at gmail dot com")
        )
        assert response.success and response.data is not None
        data = response.data.to_dict()
        assert data["value"] == "john.smith@gmail.com"
        assert (data["local"], data["domain"]) == ("john.smith", "gmail.com")
        assert response.metadata is not None
        assert response.metadata.state == PrimitiveState.NEEDS_CONFIRMATION

    async def test_events_follow_the_call_with_its_trace_id(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """The call's events replay with the trace id set in the request field."""
        response = await stub.execute_primitive(
            _email("jane at example dot org", trace_id="it-trace", conversation_id="it-conv")
        )
        assert response.metadata is not None
        request = StreamEventsRequest(conversation_id="it-conv", replay_only=True)
        events = [event async for event in stub.stream_events(request)]
        types = [event.type for event in events]
        assert types[0] == "primitive.started" and types[-1] == "primitive.completed"
        assert "capture.value_captured" in types
        assert {event.trace_id for event in events} == {"it-trace"}
        assert events[-1].sequence == response.metadata.last_event_sequence

    async def test_trace_id_from_metadata(self, stub: VoiceCoreServiceStub) -> None:
        """The trace-id metadata is used when the field is empty."""
        response = await stub.execute_primitive(
            _email("a at b dot co"), metadata={"trace-id": "from-metadata"}
        )
        assert response.metadata is not None
        assert response.metadata.trace_id == "from-metadata"

    async def test_timeout(self, stub: VoiceCoreServiceStub) -> None:
        """debug_sleep past timeout_seconds is TIMEOUT."""
        request = ExecutePrimitiveRequest(
            objective_type="debug_sleep",
            params=Struct.from_dict({"seconds": 5}),
            timeout_seconds=0.1,
        )
        response = await stub.execute_primitive(request)
        assert response.error is not None and response.error.code == ErrorCode.TIMEOUT

    async def test_primitive_not_found(self, stub: VoiceCoreServiceStub) -> None:
        """An unknown objective_type lists capture_email among the known."""
        response = await stub.execute_primitive(ExecutePrimitiveRequest(objective_type="nope"))
        assert response.error is not None
        assert response.error.code == ErrorCode.PRIMITIVE_NOT_FOUND
        assert "capture_email" in response.error.message

    async def test_stream_replays_then_follows(self, stub: VoiceCoreServiceStub) -> None:
        """A stream from sequence 0 replays the past, then delivers a new call's events."""
        await stub.execute_primitive(_email("x at y dot com", conversation_id="follow"))
        received: list[str] = []
        replayed = asyncio.Event()

        async def follow() -> None:
            async for event in stub.stream_events(StreamEventsRequest(conversation_id="follow")):
                received.append(event.type)
                if received.count("primitive.completed") == 1:
                    replayed.set()
                if received.count("primitive.completed") == 2:
                    return

        task = asyncio.create_task(follow())
        # The past call's events have arrived, so the stream is open: the next call's are live.
        await asyncio.wait_for(replayed.wait(), 10)
        await stub.execute_primitive(_email("z at y dot com", conversation_id="follow"))
        await asyncio.wait_for(task, 10)
        assert received.count("primitive.started") == 2

    async def test_health_check(self, stub: VoiceCoreServiceStub) -> None:
        """The custom HealthCheck answers SERVING with a version and an uptime."""
        health = await stub.health_check()
        assert health.status == "SERVING" and health.version
        assert health.uptime is not None and health.uptime.total_seconds() > 0

    async def test_reflection_lists_the_service(self, server: RunningServer) -> None:
        """grpc.reflection.v1 lists voicecore.v1.VoiceCoreService and the health service."""
        async with (
            Channel(server.host, server.port) as channel,
            ServerReflectionStub(channel).ServerReflectionInfo.open() as stream,
        ):
            await stream.send_message(ServerReflectionRequest(list_services=""), end=True)
            reply = await stream.recv_message()
        assert reply is not None
        names = {service.name for service in reply.list_services_response.service}
        assert {"voicecore.v1.VoiceCoreService", "grpc.health.v1.Health"} <= names


class TestLifecycle:
    async def test_sigterm_stops_the_server_cleanly(self) -> None:
        """SIGTERM drains and exits 0."""
        async with start_server() as running:
            running.proc.process.send_signal(signal.SIGTERM)
            assert await running.proc.wait_exit(15) == 0

    async def test_environment_configures_the_server(self) -> None:
        """VOICECORE_PORT and VOICECORE_DEBUG_PRIMITIVES work without flags."""
        port = free_port()
        env = {"VOICECORE_PORT": str(port), "VOICECORE_HOST": "127.0.0.1"}
        env["VOICECORE_DEBUG_PRIMITIVES"] = "true"
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "voicecore",
            "serve",
            env={**os.environ, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await wait_serving("127.0.0.1", port)
            async with Channel("127.0.0.1", port) as channel:
                listing = await VoiceCoreServiceStub(channel).list_primitives()
            assert "debug_echo" in {p.objective_type for p in listing.primitives}
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 15)

    async def test_bad_flag_value_exits_with_a_message(self) -> None:
        """An invalid setting exits 2 with a one-line message naming the field."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "voicecore",
            "serve",
            "--port",
            "99999",
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
        )
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2
        assert b"port" in stderr

    async def test_port_in_use_exits_with_one_line(self) -> None:
        """A port another process holds: exit 1 and one line naming the address and the flag,
        not a traceback."""
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "voicecore",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                stderr=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
            )
            _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 1
        assert stderr.decode().splitlines() == [
            f"voicecore serve: cannot listen on 127.0.0.1:{port}: Address already in use "
            "(choose another with --host/--port or VOICECORE_HOST/VOICECORE_PORT)"
        ]

    async def test_reachable_address_needs_insecure(self) -> None:
        """Without auth, a non-loopback host exits 2 naming --insecure, before binding."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "voicecore",
            "serve",
            "--host",
            "0.0.0.0",
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
        )
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2
        (line,) = stderr.decode().splitlines()
        assert line.startswith("voicecore serve: host 0.0.0.0 is reachable from other machines")
        assert "--insecure" in line
