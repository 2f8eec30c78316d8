"""voicecore behind nginx ``grpc_pass`` (``examples/nginx.conf``): calls, events, statuses, and
per-call balancing over two replicas.

Replicas are real ``voicecore serve`` subprocesses; nginx is Debian's, started by
``tests._nginx`` in a temporary directory. Which replica served a call is read from its JSON
log. A capture whose turns cross replicas needs a shared store: those replicas share a Redis
(``tests._redis``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import StreamTerminatedError

from tests._nginx import Nginx, start_nginx
from tests._redis import running_redis
from tests._server_log import ServerLog
from tests._servers import HOST, ServerProcess, free_port, serve_command, wait_serving
from tests._waiting import until
from voicecore._auth import new_token, tokens_file_line
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    Event,
    ExecutePrimitiveRequest,
    ListPrimitivesRequest,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.client import ClientConfig, VoiceCoreClient

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

TOKEN = new_token()
_IDLE_SECONDS = 3.0  # longer than the 1 s read timeout that cuts a follow below
#: A phone capture in four turns: part of the number, the rest, a correction, the yes.
_PHONE_TURNS = (
    "four one five five five five",
    "two six seven one",
    "no it's four one five five five five two six seven two",
    "yes",
)


@dataclass(frozen=True)
class Replica:
    """A ``voicecore serve`` subprocess and its JSON log."""

    port: int
    log: ServerLog


async def _replica(stack: AsyncExitStack, directory: Path, *args: str) -> Replica:
    """A replica requiring ``TOKEN``, logging JSON at DEBUG into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = directory / "tokens"
    tokens.write_text(tokens_file_line(TOKEN, "acme", frozenset({"execute", "events"})) + "\n")
    port = free_port()
    argv = serve_command(
        port, "--auth-tokens-file", str(tokens), "--log-json", "--log-level", "DEBUG", *args
    )
    log = ServerLog(directory / "serve.log")
    out = stack.enter_context(log.path.open("ab"))
    process = ServerProcess(argv, port, stderr=out)
    stack.push_async_callback(process.stop_async)
    await wait_serving(HOST, port)
    return Replica(port, log)


@dataclass(frozen=True)
class Front:
    """One replica, and the example's nginx in front of it."""

    replica: Replica
    nginx: Nginx


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def front(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Front]:
    async with AsyncExitStack() as stack:
        replica = await _replica(stack, tmp_path_factory.mktemp("replica"), "--debug-primitives")
        nginx = await stack.enter_async_context(
            start_nginx(tmp_path_factory.mktemp("nginx"), [replica.port])
        )
        yield Front(replica, nginx)


def _client(port: int) -> VoiceCoreClient:
    config = ClientConfig.model_validate({"auth_token": TOKEN})
    return VoiceCoreClient(f"{HOST}:{port}", config=config)


_AUTH = {"authorization": f"Bearer {TOKEN}"}


def _email(conversation_id: str = "", trace_id: str = "") -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="capture_email",
        params=Struct.from_dict({"transcription": "jane at example dot org"}),
        conversation_id=conversation_id,
        trace_id=trace_id,
    )


class TestOneReplica:
    async def test_execute_through_nginx(self, front: Front) -> None:
        """The project's client runs a turn through nginx as it would directly."""
        client = _client(front.nginx.port)
        try:
            response = await client.execute(
                "capture_email",
                {"transcription": "my email is john dot smith at gmail dot com"},
                conversation_id="nginx-execute",
            )
        finally:
            await client.aclose()
        assert response.success and response.data is not None
        assert response.data.to_dict()["value"] == "john.smith@gmail.com"

    async def test_follower_through_nginx_receives_events(self, front: Front) -> None:
        """A follower connected through nginx sees a call's events, in order, as they come."""
        client = _client(front.nginx.port)
        seen: list[Event] = []

        async def follow() -> None:
            events = client.stream_events("nginx-follow")
            async with aclosing(events):
                async for event in events:
                    seen.append(event)
                    if event.type == "primitive.completed":
                        return

        try:
            follower = asyncio.create_task(follow())
            response = await client.execute(
                "capture_email", {"transcription": "a at b dot com"}, conversation_id="nginx-follow"
            )
            await asyncio.wait_for(follower, 10)
        finally:
            await client.aclose()
        assert response.metadata is not None
        assert [event.type for event in seen][0] == "primitive.started"
        assert seen[-1].sequence == response.metadata.last_event_sequence
        sequences = [event.sequence for event in seen]
        assert sequences == sorted(set(sequences))

    @pytest.mark.parametrize(
        ("call", "status"),
        [
            ("no token", Status.UNAUTHENTICATED),
            ("wrong token", Status.UNAUTHENTICATED),
            ("conversation id too long", Status.INVALID_ARGUMENT),
            ("sequence never issued", Status.OUT_OF_RANGE),
        ],
    )
    async def test_statuses_pass_through_intact(
        self, front: Front, call: str, status: Status
    ) -> None:
        """An error's status and message are the same through nginx as from the replica."""
        direct = await _failure(front.replica.port, call)
        proxied = await _failure(front.nginx.port, call)
        assert direct.status == status
        assert (proxied.status, proxied.message) == (direct.status, direct.message)
        assert proxied.message

    async def test_idle_follow_outlives_the_read_timeout_it_is_given(
        self, front: Front, tmp_path: Path
    ) -> None:
        """An idle follow: cut by nginx with a 1 s grpc_read_timeout, kept by the example's
        value after longer than that, and then still delivering events."""
        async with start_nginx(tmp_path, [front.replica.port], read_timeout="1s") as short:
            async with Channel(HOST, short.port) as channel:
                cut = asyncio.create_task(_first_event(channel, "nginx-idle-cut"))
                with pytest.raises((GRPCError, StreamTerminatedError)):
                    await asyncio.wait_for(cut, 10)
        async with Channel(HOST, front.nginx.port) as channel:
            kept = asyncio.create_task(_first_event(channel, "nginx-idle-kept"))
            await asyncio.sleep(_IDLE_SECONDS)  # idle on purpose: the follow must outlive it
            assert not kept.done()
            async with Channel(HOST, front.replica.port) as direct:
                stub = VoiceCoreServiceStub(direct)
                await stub.execute_primitive(_email("nginx-idle-kept"), metadata=_AUTH)
            event = await asyncio.wait_for(kept, 10)
        assert event.type == "primitive.started"


async def _first_event(channel: Channel, conversation_id: str) -> Event:
    """The first event of a followed conversation, over ``channel``'s raw stub (no reconnects:
    a cut stream raises)."""
    request = StreamEventsRequest(conversation_id=conversation_id)
    async for event in VoiceCoreServiceStub(channel).stream_events(request, metadata=_AUTH):
        return event
    raise AssertionError("the follow ended without an event")


async def _failure(port: int, call: str) -> GRPCError:
    """The GRPCError that the named erroneous call gets on ``port``."""
    async with Channel(HOST, port) as channel:
        stub = VoiceCoreServiceStub(channel)
        try:
            match call:
                case "no token":
                    await stub.list_primitives(ListPrimitivesRequest())
                case "wrong token":
                    metadata = {"authorization": "Bearer not-a-token"}
                    await stub.list_primitives(ListPrimitivesRequest(), metadata=metadata)
                case "conversation id too long":
                    request = StreamEventsRequest(conversation_id="c" * 300, replay_only=True)
                    _ = [event async for event in stub.stream_events(request, metadata=_AUTH)]
                case "sequence never issued":
                    request = StreamEventsRequest(after_sequence=2**62, replay_only=True)
                    _ = [event async for event in stub.stream_events(request, metadata=_AUTH)]
        except GRPCError as error:
            return error
    raise AssertionError(f"{call}: answered")


class TestTwoReplicas:
    async def test_calls_are_balanced_per_call(self, tmp_path: Path) -> None:
        """One client, one connection to nginx, 20 calls: both replicas serve some."""
        async with AsyncExitStack() as stack:
            replicas = [await _replica(stack, tmp_path / f"replica-{n}") for n in (1, 2)]
            nginx = await stack.enter_async_context(
                start_nginx(tmp_path / "nginx", [replica.port for replica in replicas])
            )
            client = _client(nginx.port)
            stack.push_async_callback(client.aclose)
            for n in range(20):
                response = await client.execute(
                    "capture_email",
                    {"transcription": "a at b dot com"},
                    conversation_id=f"balanced-{n}",
                    trace_id=f"balanced-{n}",
                )
                assert response.success
            served = [len(replica.log.saying("primitive executed")) for replica in replicas]
        assert sum(served) == 20
        assert min(served) > 0, served

    async def test_a_capture_alternates_between_replicas(self, tmp_path: Path) -> None:
        """One capture through nginx in front of two replicas on one Redis: its turns are
        served by one replica, then the other (their logs say which), and it completes as if
        one process had held it; a follower through nginx sees every event of both replicas,
        in sequence order, none missing, none twice."""
        async with AsyncExitStack() as stack:
            (tmp_path / "redis").mkdir()
            redis = stack.enter_context(running_redis(tmp_path / "redis"))
            replicas = [
                await _replica(stack, tmp_path / f"replica-{n}", "--store", redis.url)
                for n in (1, 2)
            ]
            nginx = await stack.enter_async_context(
                start_nginx(tmp_path / "nginx", [replica.port for replica in replicas])
            )
            client = _client(nginx.port)
            stack.push_async_callback(client.aclose)
            seen: list[Event] = []
            follower = asyncio.create_task(_follow(client, seen))
            stack.callback(follower.cancel)
            # The follow's call takes its turn in nginx's rotation first: once it has seen an
            # event, the capture's turns are the only calls nginx balances.
            assert (
                await client.execute(
                    "capture_email", {"transcription": "a at b dot com"}, conversation_id="probe"
                )
            ).success
            await until(lambda: any(event.conversation_id == "probe" for event in seen), timeout=30)
            responses = []
            for n, said in enumerate(_PHONE_TURNS):
                response = await client.execute(
                    "capture_phone",
                    {"transcription": said},
                    conversation_id="alternating",
                    trace_id=f"alternating-{n}",
                    idempotency_key=f"turn-{n}",
                )
                assert response.success, response.error
                responses.append(response)
            last = responses[-1].metadata
            assert last is not None
            await until(
                lambda: bool(seen) and seen[-1].sequence >= last.last_event_sequence, timeout=30
            )
            traces = [f"alternating-{n}" for n in range(len(_PHONE_TURNS))]
            # A replica writes a call's access-log line as the call's task ends, maybe after
            # the client has its answer.
            await until(lambda: all(_serving(replicas, trace) for trace in traces), timeout=30)
            served_by = [_serving(replicas, trace) for trace in traces]
        first, second = served_by[0], served_by[1]
        assert len(first) == 1 and first != second
        assert served_by == [first, second, first, second]
        final = responses[-1]
        assert final.metadata is not None and final.metadata.state == PrimitiveState.COMPLETED
        assert final.data is not None and final.data.to_dict()["value"] == "+14155552672"
        sequences = [event.sequence for event in seen]
        assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
        completed = [event for event in seen if event.type == "primitive.completed"]
        assert [event.trace_id for event in completed if event.conversation_id != "probe"] == [
            f"alternating-{n}" for n in range(len(_PHONE_TURNS))
        ]
        assert seen[-1].sequence == last.last_event_sequence


async def _follow(client: VoiceCoreClient, seen: list[Event]) -> None:
    """Append every event to ``seen`` until cancelled."""
    events = client.stream_events()
    async with aclosing(events):
        async for event in events:
            seen.append(event)


def _serving(replicas: list[Replica], trace_id: str) -> list[int]:
    """The indexes of the replicas whose access log has the ExecutePrimitive of ``trace_id``."""
    return [
        n
        for n, replica in enumerate(replicas)
        if any(
            record["extra"].get("method", "").endswith("ExecutePrimitive")
            for record in replica.log.saying("call", trace_id=trace_id)
        )
    ]
