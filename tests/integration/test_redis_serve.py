"""`voicecore serve --store redis://...` as subprocesses: replicas share captures and events,
a restart (SIGTERM or SIGKILL) loses nothing, health follows Redis, and the process's events
reader comes back after losing its connection."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest as StdHealthRequest
from grpclib.health.v1.health_pb2 import HealthCheckResponse as StdHealthResponse
from redis.asyncio import Redis

from tests._redis import RedisServer
from tests._server_log import ServerLog
from tests._servers import RunningServer, start_server
from tests._waiting import until
from voicecore._json import struct_from_dict
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.client import VoiceCoreClient

pytestmark = pytest.mark.integration

CONVERSATION = "call-1"


@asynccontextmanager
async def replica(redis: RedisServer, port: int | None = None) -> AsyncIterator[RunningServer]:
    env = {"VOICECORE_STORE": redis.url}
    async with start_server("--debug-primitives", port=port, env=env) as server:
        yield server


async def _say(server: RunningServer, said: str, key: str) -> ExecutePrimitiveResponse:
    async with Channel(server.host, server.port) as channel:
        return await VoiceCoreServiceStub(channel).execute_primitive(
            ExecutePrimitiveRequest(
                objective_type="capture_email",
                params=struct_from_dict({"transcription": said}),
                conversation_id=CONVERSATION,
                idempotency_key=key,
            )
        )


async def _events(server: RunningServer, after: int = 0) -> list[Event]:
    async with Channel(server.host, server.port) as channel:
        request = StreamEventsRequest(
            conversation_id=CONVERSATION, after_sequence=after, replay_only=True
        )
        return [event async for event in VoiceCoreServiceStub(channel).stream_events(request)]


def _last_sequence(response: ExecutePrimitiveResponse) -> int:
    assert response.success and response.metadata is not None
    return response.metadata.last_event_sequence


class TestReplicas:
    async def test_a_capture_goes_on_at_another_replica(self, redis: RedisServer) -> None:
        """Turn 1 on one replica, turn 2 on the other: completed; both see every event."""
        async with replica(redis) as first, replica(redis) as second:
            held = await _say(first, "john at gmail dot com", "t1")
            assert held.metadata is not None
            assert held.metadata.state == PrimitiveState.NEEDS_CONFIRMATION
            done = await _say(second, "yes", "t2")
            assert done.metadata is not None and done.metadata.state == PrimitiveState.COMPLETED
            assert done.data is not None and done.data.to_dict()["value"] == "john@gmail.com"
            seen = [await _events(server) for server in (first, second)]
            assert seen[0] == seen[1]
            sequences = [event.sequence for event in seen[0]]
            assert sequences == list(range(sequences[0], sequences[0] + 6))
            assert "john" not in str([event.payload for event in seen[0]])  # redacted


class TestRestarts:
    @pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
    async def test_a_restart_loses_nothing(self, redis: RedisServer, stop: int) -> None:
        """A held capture and the event log outlive the process: the next turn completes it,
        and StreamEvents resumes after the last sequence seen with no gap."""
        async with replica(redis) as before:
            held = _last_sequence(await _say(before, "john at gmail dot com", "t1"))
            before.proc.process.send_signal(stop)
            assert await before.proc.wait_exit(10) is not None
        async with replica(redis) as after:
            done = await _say(after, "yes", "t2")
            assert done.metadata is not None and done.metadata.state == PrimitiveState.COMPLETED
            resumed = await _events(after, after=held)
            assert [event.sequence for event in resumed] == [held + 1, held + 2, held + 3]
            replay = await _say(after, "yes", "t2")  # the same key: recorded, not run again
            assert replay.metadata is not None and replay.metadata.replayed


class TestHealth:
    async def test_health_follows_redis(self, redis: RedisServer) -> None:
        """Redis not answering: NOT_SERVING (standard and voicecore health), calls UNAVAILABLE;
        answering again: SERVING, calls succeed."""
        async with replica(redis) as server, Channel(server.host, server.port) as channel:
            stub = VoiceCoreServiceStub(channel)
            assert await _standard_health_is(channel, StdHealthResponse.SERVING)
            redis.pause()
            try:
                await until(lambda: _standard_health_is(channel, StdHealthResponse.NOT_SERVING))
                assert (await stub.health_check()).status == "NOT_SERVING"
                response = await _say(server, "john at gmail dot com", "t1")
                assert response.error is not None
                assert response.error.code == ErrorCode.UNAVAILABLE and response.error.retryable
            finally:
                redis.resume()
            await until(lambda: _standard_health_is(channel, StdHealthResponse.SERVING))
            assert (await _say(server, "john at gmail dot com", "t1")).success


async def _standard_health_is(channel: Channel, wanted: int) -> bool:
    """Whether grpc.health.v1 Check answers ``wanted`` for the whole server."""
    response: StdHealthResponse = await HealthStub(channel).Check(StdHealthRequest())
    return bool(response.status == wanted)


class TestEventsTail:
    async def test_a_follower_outlives_the_tail_losing_its_connection(
        self, redis: RedisServer, tmp_path: Path
    ) -> None:
        """The process's one XREAD reader loses its connection (CLIENT KILL): it says so, reads
        again from where it was, and a follower attached to the server gets every event, the
        ones written while it was cut too, once each and in order."""
        log = ServerLog(tmp_path / "serve.log")
        env = {"VOICECORE_STORE": redis.url}
        with log.path.open("ab") as out:
            async with (
                start_server("--log-json", env=env, stderr=out) as server,
                Redis.from_url(redis.url) as admin,
            ):
                client = VoiceCoreClient(server.target, metrics_registry=None)
                seen: list[Event] = []
                follower = asyncio.create_task(_follow(client, seen))
                try:
                    first = _last_sequence(await _say(server, "john at gmail dot com", "t1"))
                    await until(lambda: bool(seen) and seen[-1].sequence == first)
                    # The tail starts when the follower has read what was there (maybe by
                    # XRANGE) and waits: then it blocks in XREAD on a connection of its own.
                    await until(lambda: _a_reader_blocks(admin))
                    readers = await _blocked_readers(admin)
                    for reader in readers:
                        await admin.client_kill_filter(_id=reader)
                    await until(lambda: bool(log.saying("event follower cannot read the store")))
                    last = _last_sequence(await _say(server, "yes", "t2"))
                    await until(lambda: seen[-1].sequence == last)
                finally:
                    follower.cancel()
                    await asyncio.gather(follower, return_exceptions=True)
                    await client.aclose()
                replay = await _events(server)
        assert [event.sequence for event in seen] == [event.sequence for event in replay]
        assert [event.sequence for event in seen] == list(range(seen[0].sequence, last + 1))


async def _follow(client: VoiceCoreClient, seen: list[Event]) -> None:
    """Append every event of the conversation to ``seen`` until cancelled."""
    events = client.stream_events(CONVERSATION)
    async with aclosing(events):
        async for event in events:
            seen.append(event)


async def _blocked_readers(admin: Redis) -> list[str]:
    """The ids of Redis's clients waiting in XREAD."""
    clients: list[dict[str, Any]] = await admin.client_list()
    return [str(entry["id"]) for entry in clients if entry.get("cmd") == "xread"]


async def _a_reader_blocks(admin: Redis) -> bool:
    return bool(await _blocked_readers(admin))
