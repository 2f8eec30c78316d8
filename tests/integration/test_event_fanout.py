"""Event fan-out over real sockets: many followers share the work of an event; a stalled one
costs bounded memory."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator, Callable

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.config import Configuration
from grpclib.const import Cardinality, Status

from tests._waiting import until
from voicecore import _codec, events
from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    Event,
    ExecutePrimitiveRequest,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.server import VoiceCoreServer

pytestmark = pytest.mark.integration

_STREAM_EVENTS = "/voicecore.v1.VoiceCoreService/StreamEvents"
_SMALLEST_WINDOW = 2**16 - 1  # HTTP/2's default and smallest flow-control window


@pytest.fixture
async def server() -> AsyncIterator[VoiceCoreServer]:
    settings = Settings(host="127.0.0.1", port=0, debug_primitives=True, event_retention=1000)
    running = VoiceCoreServer(settings)
    await running.start()
    yield running
    await running.stop(grace_period=0.1)


@pytest.fixture
async def channels(server: VoiceCoreServer) -> AsyncIterator[list[Channel]]:
    opened = [Channel("127.0.0.1", server.port) for _ in range(3)]
    yield opened
    for channel in opened:
        channel.close()


def _log(server: VoiceCoreServer) -> InMemoryEventLog:
    log = server.service.events
    assert isinstance(log, InMemoryEventLog)
    return log


class _Counter:
    """Wraps a module function and counts its calls whose first argument is of type ``of``."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, module: object, name: str, of: type
    ) -> None:
        self.calls = 0
        original: Callable[..., object] = getattr(module, name)

        def counted(first: object, *rest: object) -> object:
            if isinstance(first, of):
                self.calls += 1
            return original(first, *rest)

        monkeypatch.setattr(module, name, counted)


class TestSharedFanout:
    async def test_followers_share_one_message_and_one_encoding_per_event(
        self, server: VoiceCoreServer, channels: list[Channel], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """40 followers of a call's two events over sockets: two messages built, two encoded."""
        received = [0] * 40

        async def follow(index: int) -> None:
            stub = VoiceCoreServiceStub(channels[index % 2])
            async for _ in stub.stream_events(StreamEventsRequest(), timeout=20):
                received[index] += 1

        followers = [asyncio.create_task(follow(index)) for index in range(40)]
        try:
            await _log(server).append("warm-up")  # each follower has it once it is subscribed
            await until(lambda: received == [1] * 40)
            built = _Counter(monkeypatch, events, "_to_event", of=tuple)  # from a record
            encoded = _Counter(monkeypatch, _codec, "encode_message", of=Event)
            call = ExecutePrimitiveRequest(
                objective_type="debug_echo", params=Struct.from_dict({"k": "v"})
            )
            response = await VoiceCoreServiceStub(channels[2]).execute_primitive(call)
            assert response.success
            await until(lambda: received == [3] * 40)
            assert (built.calls, encoded.calls) == (2, 2)
        finally:
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)


class TestStalledFollower:
    async def test_a_follower_that_never_reads_costs_bounded_memory(
        self, server: VoiceCoreServer, channels: list[Channel]
    ) -> None:
        """20,000 events past a stream that reads nothing grow the server by a bounded amount;
        read at last, it gives what it was sent, then OUT_OF_RANGE: resume from the oldest kept."""
        log = _log(server)
        # grpclib's default 4 MiB window would let 30,000 events through: make the stall real.
        small_window = Configuration(
            http2_connection_window_size=_SMALLEST_WINDOW, http2_stream_window_size=_SMALLEST_WINDOW
        )
        stalling = Channel("127.0.0.1", server.port, config=small_window)
        channels.append(stalling)
        async with stalling.request(
            _STREAM_EVENTS, Cardinality.UNARY_STREAM, StreamEventsRequest, Event, timeout=30
        ) as stalled:
            await stalled.send_message(StreamEventsRequest(), end=True)
            await log.append("subscribed")
            first = await stalled.recv_message()  # the last message this client reads for now
            assert first is not None
            await _append(log, 2_000, per_turn=10)  # the follower keeps up until its window fills
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                await _append(log, 20_000, per_turn=100)
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            sequences = [first.sequence]
            with pytest.raises(GRPCError) as dropped:
                async with asyncio.timeout(10):
                    while (event := await stalled.recv_message()) is not None:
                        sequences.append(event.sequence)
                    await stalled.recv_trailing_metadata()
        # A queue per follower would hold 20,000 events (over 20 MB): the log keeps 1,000.
        assert grown < 1_000_000
        assert dropped.value.status == Status.OUT_OF_RANGE
        assert sequences == list(range(first.sequence, first.sequence + len(sequences)))
        assert 100 < len(sequences) < 2_000  # what its window let through before it stalled


async def _append(log: InMemoryEventLog, count: int, *, per_turn: int) -> None:
    """Appends ``count`` events, letting the loop turn after every ``per_turn``."""
    payload: dict[str, JsonValue] = {"state": "COMPLETED", "attempt": 1}
    for index in range(count):
        await log.append("primitive.completed", conversation_id="c", payload=payload)
        if index % per_turn == 0:
            await asyncio.sleep(0)
