"""A real `voicecore serve --auth-tokens-file` with two tenants: issue 10's cross-tenant attacks.

Tenant bravo uses acme's conversation id; to bravo it is a new conversation of its own, and
nothing of acme's leaks: not the held value, not the events, not even that it exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from tests._servers import (
    HOST,
    RunningServer,
    ServerProcess,
    free_port,
    serve_command,
    wait_serving,
)
from tests._waiting import until
from voicecore._auth import new_token, tokens_file_line
from voicecore._proto.voicecore.v1 import Event, ExecutePrimitiveResponse, PrimitiveState
from voicecore.client import ClientConfig, VoiceCoreClient

ACME = new_token()
BRAVO = new_token()
ADMIN = new_token()
CONVERSATION = "call-42"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    tokens = tmp_path / "tokens"
    lines = [
        tokens_file_line(ACME, "acme", frozenset({"execute", "events"})),
        tokens_file_line(BRAVO, "bravo", frozenset({"execute", "events"})),
        tokens_file_line(ADMIN, "ops", frozenset({"admin"})),
    ]
    tokens.write_text("\n".join(lines) + "\n")
    port = free_port()
    process = ServerProcess(serve_command(port, "--auth-tokens-file", str(tokens)), port)
    try:
        await wait_serving(HOST, port)
        yield RunningServer(HOST, port, process)
    finally:
        await process.stop_async()


def client(server: RunningServer, token: str) -> VoiceCoreClient:
    return VoiceCoreClient(server.target, config=ClientConfig.model_validate({"auth_token": token}))


async def say(
    server: RunningServer, token: str, transcription: str, *, reset: bool = False
) -> ExecutePrimitiveResponse:
    params: dict[str, str | bool] = {"transcription": transcription}
    if reset:
        params["reset"] = True
    async with client(server, token) as vc:
        response = await vc.execute("capture_email", params, conversation_id=CONVERSATION)
    assert response.success and response.metadata is not None and response.data is not None
    return response


async def events(server: RunningServer, token: str, conversation_id: str = "") -> list[Event]:
    async with client(server, token) as vc:
        return [e async for e in vc.stream_events(conversation_id, follow=False)]


def trace_of(response: ExecutePrimitiveResponse) -> str:
    assert response.metadata is not None
    return response.metadata.trace_id


def value(response: ExecutePrimitiveResponse) -> object:
    assert response.data is not None
    return response.data.to_dict().get("value")


async def acme_holds_jo(server: RunningServer) -> None:
    held = await say(server, ACME, "jo at example dot com")
    assert held.metadata is not None
    assert held.metadata.state == PrimitiveState.NEEDS_CONFIRMATION


class TestCrossTenant:
    async def test_yes_on_anothers_conversation_gets_no_held_value(
        self, server: RunningServer
    ) -> None:
        await acme_holds_jo(server)
        stolen = await say(server, BRAVO, "yes")
        assert stolen.metadata is not None
        assert stolen.metadata.state == PrimitiveState.INCOMPLETE
        assert value(stolen) is None and "jo" not in str(stolen.data)
        confirmed = await say(server, ACME, "yes")
        assert value(confirmed) == "jo@example.com"

    async def test_a_correction_on_anothers_conversation_changes_nothing(
        self, server: RunningServer
    ) -> None:
        await acme_holds_jo(server)
        await say(server, BRAVO, "no it's evil at attacker dot com")
        confirmed = await say(server, ACME, "yes")
        assert value(confirmed) == "jo@example.com"

    async def test_a_reset_of_anothers_conversation_changes_nothing(
        self, server: RunningServer
    ) -> None:
        await acme_holds_jo(server)
        await say(server, BRAVO, "", reset=True)
        confirmed = await say(server, ACME, "yes")
        assert value(confirmed) == "jo@example.com"

    async def test_events_are_the_callers_tenants_unless_admin(self, server: RunningServer) -> None:
        """Bravo, with or without acme's conversation id, sees none of acme's events."""
        acme_turn = await say(server, ACME, "jo at example dot com")
        bravo_turn = await say(server, BRAVO, "sam at example dot com")
        assert acme_turn.metadata is not None and bravo_turn.metadata is not None
        for conversation_id in ("", CONVERSATION):
            seen = await events(server, BRAVO, conversation_id)
            assert {e.trace_id for e in seen} == {bravo_turn.metadata.trace_id}
        every = await events(server, ADMIN)
        traces = {e.trace_id for e in every}
        assert traces == {acme_turn.metadata.trace_id, bravo_turn.metadata.trace_id}


class TestLiveFollow:
    async def test_a_follower_sees_only_its_tenants_live_events(
        self, server: RunningServer
    ) -> None:
        """Bravo's followers (every conversation, and acme's conversation id) get bravo's
        live events and none of acme's; an admin follower, the control, gets acme's too.

        A follower is known to be live once it has received the turn bravo made after it
        opened. Events arrive in sequence order, so acme's turn, made before bravo's last
        one, would have arrived before it if the filter let it through.
        """
        followers = {
            "bravo, all": (BRAVO, ""),
            "bravo, acme's id": (BRAVO, CONVERSATION),
            "admin, all": (ADMIN, ""),
        }
        seen: dict[str, list[str]] = {name: [] for name in followers}

        async def follow(name: str, token: str, conversation_id: str) -> None:
            async with client(server, token) as vc:
                async with aclosing(vc.stream_events(conversation_id)) as stream:
                    async for event in stream:
                        seen[name].append(event.trace_id)

        def received(trace_id: str) -> bool:
            return all(trace_id in traces for traces in seen.values())

        tasks = [asyncio.create_task(follow(name, *how)) for name, how in followers.items()]
        try:
            first = trace_of(await say(server, BRAVO, "sam at example dot com"))
            await until(lambda: received(first))
            acme_trace = trace_of(await say(server, ACME, "jo at example dot com"))
            last = trace_of(await say(server, BRAVO, "yes"))
            await until(lambda: received(last))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        assert acme_trace in seen["admin, all"]
        assert acme_trace not in seen["bravo, all"]
        assert acme_trace not in seen["bravo, acme's id"]
