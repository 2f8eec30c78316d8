"""stream_events across a reset connection and a server restart: every event once, in order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
import pytest_asyncio

from tests._servers import RunningServer, free_port, start_server
from tests.faultproxy import FaultProxy
from voicecore._proto.voicecore.v1 import Event
from voicecore.client import ClientConfig, EventsEvictedError, StreamPolicy, VoiceCoreClient

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

# Patient enough for a server restart (a few seconds), quick to notice a drop.
RESUMING = ClientConfig(
    stream=StreamPolicy(max_reconnects=30, initial_backoff=0.05, max_backoff=0.5)
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    async with start_server("--debug-primitives") as running:
        yield running


class Follower:
    """Follows one conversation's events in a task and keeps every one it is given."""

    def __init__(self, client: VoiceCoreClient, conversation_id: str) -> None:
        self.events: list[Event] = []
        self._arrived = asyncio.Condition()
        self._task = asyncio.create_task(self._follow(client, conversation_id))

    async def _follow(self, client: VoiceCoreClient, conversation_id: str) -> None:
        async with aclosing(client.stream_events(conversation_id)) as events:
            async for event in events:
                async with self._arrived:
                    self.events.append(event)
                    self._arrived.notify_all()

    async def wait_for(self, count: int) -> None:
        """Until ``count`` events arrived (10 s at most)."""
        async with asyncio.timeout(10), self._arrived:
            await self._arrived.wait_for(lambda: len(self.events) >= count or self._task.done())
        if self._task.done():
            self._task.result()  # raise what ended the stream
        assert len(self.events) >= count

    async def stop(self) -> None:
        """Cancel the follower and wait for it."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    @property
    def sequences(self) -> list[int]:
        """The sequences received, in arrival order."""
        return [event.sequence for event in self.events]


async def turns(client: VoiceCoreClient, conversation_id: str, count: int) -> None:
    """``count`` debug_echo turns: two events each."""
    for _ in range(count):
        response = await client.execute("debug_echo", {}, conversation_id=conversation_id)
        assert response.success


async def kept_sequences(client: VoiceCoreClient, conversation_id: str) -> list[int]:
    """The sequences the server keeps for the conversation."""
    stream = client.stream_events(conversation_id, follow=False)
    async with aclosing(stream) as events:
        return [event.sequence async for event in events]


class TestAcrossDroppedConnection:
    """A reset connection is resumed after the last event yielded."""

    async def test_proxy_reset(self, server: RunningServer) -> None:
        """Events before and after two resets arrive once each, in order."""
        conv = uuid.uuid4().hex
        async with (
            FaultProxy(server.host, server.port) as proxy,
            VoiceCoreClient(proxy.endpoint, config=RESUMING) as through_proxy,
            VoiceCoreClient(server.target) as direct,
        ):
            follower = Follower(through_proxy, conv)
            try:
                for round_number in range(1, 4):
                    await turns(direct, conv, 2)
                    await follower.wait_for(4 * round_number)
                    if round_number < 3:
                        assert proxy.reset_all() == 1
                expected = await kept_sequences(direct, conv)
            finally:
                await follower.stop()
        assert follower.sequences == expected
        assert len(expected) == 12
        assert proxy.accepted == 3


class TestAcrossServerRestart:
    """A restarted server (new process, new log) is reconnected without duplicates."""

    async def test_restart(self) -> None:
        """Events of both server lifetimes arrive once each, strictly increasing."""
        port, conv = free_port(), uuid.uuid4().hex
        async with VoiceCoreClient(f"127.0.0.1:{port}", config=RESUMING) as client:
            async with start_server("--debug-primitives", port=port):
                follower = Follower(client, conv)
                await turns(client, conv, 2)
                await follower.wait_for(4)
                before = await kept_sequences(client, conv)
            try:
                async with start_server("--debug-primitives", port=port):
                    await turns(client, conv, 2)
                    await follower.wait_for(8)
                    after = await kept_sequences(client, conv)
            finally:
                await follower.stop()
        assert follower.sequences == before + after
        assert follower.sequences == sorted(set(follower.sequences))


class TestEvicted:
    """A resume point older than the server keeps is an error, not a silent gap."""

    async def test_evicted_range_raises(self) -> None:
        """Replaying from before the retained window raises EventsEvictedError."""
        conv = uuid.uuid4().hex
        async with (
            start_server("--debug-primitives", "--event-retention", "8") as small,
            VoiceCoreClient(small.target) as client,
        ):
            first = await client.execute("debug_echo", {}, conversation_id=conv)
            assert first.metadata is not None
            await turns(client, conv, 10)
            stale = first.metadata.last_event_sequence - 2
            stream = client.stream_events(conv, after_sequence=stale, follow=False)
            with pytest.raises(EventsEvictedError) as evicted:
                async with aclosing(stream) as events:
                    async for _ in events:
                        pass
        assert evicted.value.after_sequence == stale
