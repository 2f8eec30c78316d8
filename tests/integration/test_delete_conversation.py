"""DeleteConversation over gRPC: a real `voicecore serve --auth-tokens-file`, in memory and on a
real redis-server, with two tenants, an admin and a token without the scope.

Acme and bravo each hold a value under the same conversation id (two conversations). What
acme's erasure does, what bravo may not do, and what a follower connected over gRPC sees.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status

from tests._redis import running_redis
from tests._servers import RunningServer, start_server
from tests._waiting import until
from voicecore._auth import new_token, tokens_file_line
from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    DeleteConversationResponse,
    Event,
    ExecutePrimitiveResponse,
    PrimitiveState,
    VoiceCoreServiceStub,
)
from voicecore.client import ClientConfig, VoiceCoreClient

pytestmark = pytest.mark.integration

ACME = new_token()
BRAVO = new_token()
ADMIN = new_token()
WATCHER = new_token()
CONVERSATION = "call-42"


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "memory":
        yield "memory"
        return
    with running_redis(tmp_path) as redis:
        yield redis.url


@pytest.fixture
async def server(tmp_path: Path, store_url: str) -> AsyncIterator[RunningServer]:
    tokens = tmp_path / "tokens"
    lines = [
        tokens_file_line(ACME, "acme", frozenset({"execute", "events"})),
        tokens_file_line(BRAVO, "bravo", frozenset({"execute", "events"})),
        tokens_file_line(ADMIN, "ops", frozenset({"admin"})),
        tokens_file_line(WATCHER, "acme", frozenset({"events"})),
    ]
    tokens.write_text("\n".join(lines) + "\n")
    env = {"VOICECORE_STORE": store_url}
    async with start_server("--auth-tokens-file", str(tokens), env=env) as running:
        yield running


def client(server: RunningServer, token: str) -> VoiceCoreClient:
    return VoiceCoreClient(server.target, config=ClientConfig.model_validate({"auth_token": token}))


async def say(
    server: RunningServer, token: str, transcription: str, conversation_id: str = CONVERSATION
) -> ExecutePrimitiveResponse:
    async with client(server, token) as vc:
        response = await vc.execute(
            "capture_email", {"transcription": transcription}, conversation_id=conversation_id
        )
    assert response.success and response.metadata is not None
    return response


async def delete(
    server: RunningServer, token: str, conversation_id: str = CONVERSATION, **fields: str | bool
) -> DeleteConversationResponse:
    """The raw RPC, so the test sees the gRPC status itself."""
    async with Channel(server.host, server.port) as channel:
        return await VoiceCoreServiceStub(channel).delete_conversation(
            DeleteConversationRequest(conversation_id=conversation_id, **fields),  # type: ignore[arg-type]
            metadata={"authorization": f"Bearer {token}"},
        )


async def refused(
    server: RunningServer, token: str, conversation_id: str = CONVERSATION, **fields: str | bool
) -> GRPCError:
    with pytest.raises(GRPCError) as failed:
        await delete(server, token, conversation_id, **fields)
    return failed.value


async def events(server: RunningServer, token: str) -> list[Event]:
    async with client(server, token) as vc:
        return [e async for e in vc.stream_events(CONVERSATION, follow=False)]


def value(response: ExecutePrimitiveResponse) -> object:
    assert response.data is not None
    return response.data.to_dict().get("value")


async def both_hold_a_value(server: RunningServer) -> None:
    for token, said in ((ACME, "jo at example dot com"), (BRAVO, "sam at example dot com")):
        held = await say(server, token, said)
        assert held.metadata is not None
        assert held.metadata.state == PrimitiveState.NEEDS_CONFIRMATION


class TestDeleteConversationOverGrpc:
    async def test_an_erasure_a_follower_sees_and_bravo_does_not_feel(
        self, server: RunningServer
    ) -> None:
        await both_hold_a_value(server)
        bravo_before = await events(server, BRAVO)
        start = (await events(server, ACME))[-1].sequence
        seen: list[Event] = []

        async def follow() -> None:
            """Every acme event after ``start``, until the erasure."""
            async with client(server, ACME) as vc:
                async with aclosing(vc.stream_events(after_sequence=start)) as live:
                    async for event in live:
                        seen.append(event)
                        if event.type == "conversation.deleted":
                            return

        followed = asyncio.create_task(follow())
        # The follower is live once it has an event made after it opened: acme's other call.
        marker = await say(server, ACME, "jo at example dot com", conversation_id="call-43")
        assert marker.metadata is not None
        last = marker.metadata.last_event_sequence
        await until(lambda: bool(seen) and seen[-1].sequence >= last)
        erased = await delete(server, ACME)
        await asyncio.wait_for(followed, 10)
        assert (seen[-1].type, seen[-1].sequence) == ("conversation.deleted", erased.sequence)
        assert {e.conversation_id for e in seen[:-1]} == {"call-43"}
        assert erased.captures_forgotten == 1 and erased.events_deleted > 0
        assert [e.type for e in await events(server, ACME)] == ["conversation.deleted"]
        assert await events(server, BRAVO) == bravo_before
        acme_yes = await say(server, ACME, "yes")
        assert acme_yes.metadata is not None
        assert acme_yes.metadata.state == PrimitiveState.INCOMPLETE and value(acme_yes) is None
        assert value(await say(server, BRAVO, "yes")) == "sam@example.com"

    async def test_what_each_caller_may_do(self, server: RunningServer) -> None:
        await both_hold_a_value(server)
        denied = await refused(server, WATCHER)
        assert denied.status == Status.PERMISSION_DENIED
        other = await refused(server, BRAVO, tenant="acme")
        assert other.status == Status.PERMISSION_DENIED
        missing = await refused(server, ADMIN)  # ops holds no conversation of that id
        assert missing.status == Status.NOT_FOUND
        assert (await delete(server, ADMIN, tenant="acme")).captures_forgotten == 1
        again = await refused(server, ACME)
        assert again.status == Status.NOT_FOUND
        assert (await delete(server, ACME, allow_missing=True)).sequence == 0
        assert value(await say(server, BRAVO, "yes")) == "sam@example.com"

    async def test_a_bad_conversation_id_is_invalid_argument_naming_it(
        self, server: RunningServer
    ) -> None:
        for conversation_id in ("", "x" * 257):
            bad = await refused(server, ACME, conversation_id)
            assert bad.status == Status.INVALID_ARGUMENT
            assert bad.message is not None and bad.message.startswith("conversation_id")

    async def test_the_client_erases_and_is_told_not_found(self, server: RunningServer) -> None:
        await both_hold_a_value(server)
        async with client(server, ACME) as vc:
            assert (await vc.delete_conversation(CONVERSATION)).captures_forgotten == 1
            assert (await vc.delete_conversation(CONVERSATION, allow_missing=True)).sequence == 0
            with pytest.raises(Exception, match="NOT_FOUND"):
                await vc.delete_conversation(CONVERSATION)

    async def test_the_cli_erases_and_exits_1_when_not_found(self, server: RunningServer) -> None:
        await both_hold_a_value(server)
        erased = await cli(server, ACME)
        assert erased.returncode == 0, erased.stderr
        assert json.loads(erased.stdout)["capturesForgotten"] == 1
        again = await cli(server, ACME)
        assert again.returncode == 1 and "NOT_FOUND" in again.stderr and not again.stdout
        missing = await cli(server, ACME, "--allow-missing")
        assert missing.returncode == 0 and json.loads(missing.stdout) == {}


async def cli(server: RunningServer, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``voicecore delete-conversation`` as a subprocess, without this shell's VOICE_CORE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_CORE_")}
    command = [sys.executable, "-m", "voicecore", "delete-conversation", CONVERSATION]
    command += ["--endpoint", server.target, "--token", token, *extra]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=30
    )
