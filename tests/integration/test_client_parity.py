"""The same behaviour from ``VoiceCoreClient`` (real server, 127.0.0.1) and ``InProcessClient``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
import pytest_asyncio

from tests._servers import RunningServer, start_server
from voicecore._proto.voicecore.v1 import ErrorCode, Event, PrimitiveState
from voicecore.client import InProcessClient, VoiceCoreClient, VoiceCoreClientBase
from voicecore.config import Settings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    async with start_server("--debug-primitives") as running:
        yield running


@pytest_asyncio.fixture(params=["grpc", "in-process"], loop_scope="module")
async def client(
    request: pytest.FixtureRequest, server: RunningServer
) -> AsyncIterator[VoiceCoreClientBase]:
    # Both depend on the module's server: pytest-asyncio cannot start it on demand from here.
    if request.param == "grpc":
        chosen: VoiceCoreClientBase = VoiceCoreClient(server.target)
    else:
        chosen = InProcessClient(settings=Settings(debug_primitives=True))
    async with chosen:
        yield chosen


def conversation() -> str:
    """A conversation id no other test uses (the gRPC server is shared)."""
    return f"parity-{uuid.uuid4().hex}"


async def replay(client: VoiceCoreClientBase, conversation_id: str, after: int = 0) -> list[Event]:
    """Every kept event of a conversation, without following."""
    stream = client.stream_events(conversation_id, after_sequence=after, follow=False)
    async with aclosing(stream) as events:
        return [event async for event in events]


class TestExecute:
    """execute answers the same through both clients."""

    async def test_capture_email_then_confirm(self, client: VoiceCoreClientBase) -> None:
        """A spoken email is held for confirmation, and a yes completes it."""
        conv = conversation()
        first = await client.execute(
            "capture_email", {"transcription": "john at gmail dot com"}, conversation_id=conv
        )
        assert first.success and first.data is not None and first.metadata is not None
        assert first.data.to_dict()["value"] == "john@gmail.com"
        assert first.metadata.state is PrimitiveState.NEEDS_CONFIRMATION
        second = await client.execute(
            "capture_email", {"transcription": "yes"}, conversation_id=conv
        )
        assert second.metadata is not None
        assert second.metadata.state is PrimitiveState.COMPLETED

    async def test_unknown_primitive(self, client: VoiceCoreClientBase) -> None:
        """An unknown objective type is PRIMITIVE_NOT_FOUND naming the known ones."""
        response = await client.execute("capture_dragon", {}, conversation_id=conversation())
        assert response.error is not None
        assert response.error.code is ErrorCode.PRIMITIVE_NOT_FOUND
        assert "capture_email" in response.error.message

    async def test_invalid_params(self, client: VoiceCoreClientBase) -> None:
        """Missing params are INVALID_PARAMS and do not count against the breaker."""
        response = await client.execute("capture_email", {}, conversation_id=conversation())
        assert response.error is not None and response.error.code is ErrorCode.INVALID_PARAMS
        assert client.breaker.consecutive_failures == 0

    async def test_timeout(self, client: VoiceCoreClientBase) -> None:
        """A primitive slower than the deadline is TIMEOUT, counted by the breaker."""
        response = await client.execute(
            "debug_sleep", {"seconds": 5}, conversation_id=conversation(), timeout=0.2
        )
        assert response.error is not None and response.error.code is ErrorCode.TIMEOUT
        assert client.breaker.consecutive_failures == 1

    async def test_idempotent_repeat_replayed(self, client: VoiceCoreClientBase) -> None:
        """The same key twice runs the turn once; the repeat says it was replayed."""
        conv = conversation()
        params = {"transcription": "mary at example dot org"}
        first = await client.execute(
            "capture_email", params, conversation_id=conv, idempotency_key="k"
        )
        again = await client.execute(
            "capture_email", params, conversation_id=conv, idempotency_key="k"
        )
        assert first.metadata is not None and again.metadata is not None
        assert (first.metadata.replayed, again.metadata.replayed) == (False, True)
        assert again.data == first.data
        started = [e for e in await replay(client, conv) if e.type == "primitive.started"]
        assert len(started) == 1


class TestInfo:
    """health and list_primitives answer the same through both clients."""

    async def test_health(self, client: VoiceCoreClientBase) -> None:
        """A running Voice Core is SERVING."""
        assert (await client.health()).status == "SERVING"

    async def test_list_primitives(self, client: VoiceCoreClientBase) -> None:
        """The capture and debug primitives are listed with a params schema."""
        answer = await client.list_primitives()
        names = {info.objective_type for info in answer.primitives}
        assert {"capture_email", "debug_echo"} <= names
        assert all(info.params_schema is not None for info in answer.primitives)


class TestEvents:
    """stream_events replays and follows the same through both clients."""

    async def test_replay_in_order(self, client: VoiceCoreClientBase) -> None:
        """A turn's events replay in sequence order, started first, completed last."""
        conv = conversation()
        await client.execute("debug_echo", {"a": 1}, conversation_id=conv)
        events = await replay(client, conv)
        assert [e.type for e in events] == ["primitive.started", "primitive.completed"]
        assert events[0].sequence < events[1].sequence

    async def test_replay_after_sequence(self, client: VoiceCoreClientBase) -> None:
        """after_sequence skips exactly the events up to it."""
        conv = conversation()
        for _ in range(2):
            await client.execute("debug_echo", {}, conversation_id=conv)
        everything = await replay(client, conv)
        rest = await replay(client, conv, after=everything[1].sequence)
        assert rest == everything[2:]

    async def test_follow_sees_live_events(self, client: VoiceCoreClientBase) -> None:
        """A followed stream yields events appended after it opened."""
        conv = conversation()
        await client.execute("debug_echo", {}, conversation_id=conv)
        seen: list[str] = []
        replayed = asyncio.Event()

        async def follow() -> None:
            async with aclosing(client.stream_events(conv)) as events:
                async for event in events:
                    seen.append(event.type)
                    if event.type == "primitive.completed":
                        if replayed.is_set():
                            return
                        replayed.set()

        follower = asyncio.create_task(follow())
        # The first turn's events have arrived, so the stream is open: the second turn's are live.
        await asyncio.wait_for(replayed.wait(), timeout=10)
        await client.execute("debug_echo", {}, conversation_id=conv)
        await asyncio.wait_for(follower, timeout=10)
        assert seen == ["primitive.started", "primitive.completed"] * 2
