"""A real `voicecore serve --auth-tokens-file`: tokens, scopes, open health, closed reflection."""

from __future__ import annotations

import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse
from grpclib.reflection.v1.reflection_grpc import ServerReflectionStub
from grpclib.reflection.v1.reflection_pb2 import ServerReflectionRequest
from loguru import logger

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
from voicecore._proto.voicecore.v1 import ErrorCode, ListPrimitivesRequest, VoiceCoreServiceStub
from voicecore.client import ClientConfig, VoiceCoreCallError, VoiceCoreClient

EXECUTE_TOKEN = new_token()
EVENTS_TOKEN = new_token()


def write_tokens(path: Path, *entries: tuple[str, str]) -> None:
    """Each (token, comma-separated scopes) admitted as tenant acme."""
    lines = [tokens_file_line(token, "acme", frozenset(s.split(","))) for token, s in entries]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def tokens(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    write_tokens(path, (EXECUTE_TOKEN, "execute"), (EVENTS_TOKEN, "events"))
    return path


@pytest.fixture
async def server(tokens: Path, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A server requiring tokens, logging at TRACE into ``tmp_path/server.log``."""
    port = free_port()
    argv = serve_command(port, "--auth-tokens-file", str(tokens), "--log-level", "TRACE")
    with (tmp_path / "server.log").open("wb") as log:
        process = ServerProcess(argv, port, stderr=log, stdout=log)
        try:
            await wait_serving(HOST, port)
            yield RunningServer(HOST, port, process)
        finally:
            await process.stop_async()


def client(server: RunningServer, token: str | None) -> VoiceCoreClient:
    config = ClientConfig.model_validate({"auth_token": token})
    return VoiceCoreClient(server.target, config=config)


async def list_status(server: RunningServer, metadata: dict[str, str]) -> Status | None:
    """The status of a raw ListPrimitives call (None: answered)."""
    async with Channel(server.host, server.port) as channel:
        try:
            await VoiceCoreServiceStub(channel).list_primitives(
                ListPrimitivesRequest(), metadata=metadata
            )
        except GRPCError as exc:
            return exc.status
    return None


class TestTokens:
    async def test_right_token_is_served(self, server: RunningServer) -> None:
        """The project's client, given its token, lists primitives and runs a turn."""
        async with client(server, EXECUTE_TOKEN) as vc:
            listed = await vc.list_primitives()
            response = await vc.execute(
                "capture_email", {"transcription": "jo at example dot com"}, conversation_id="c"
            )
        assert listed.primitives
        assert response.success

    @pytest.mark.parametrize("token", [None, "not-a-known-token"])
    async def test_missing_or_wrong_token_is_unauthenticated(
        self, server: RunningServer, token: str | None
    ) -> None:
        async with client(server, token) as vc:
            with pytest.raises(VoiceCoreCallError, match="UNAUTHENTICATED") as refused:
                await vc.list_primitives()
            response = await vc.execute(
                "capture_email", {"transcription": "x"}, conversation_id="c"
            )
        assert "not-a-known-token" not in str(refused.value)
        assert not response.success and response.error is not None
        # The caller's configuration is wrong: INVALID_PARAMS naming the status, not retried.
        assert response.error.code == ErrorCode.INVALID_PARAMS and not response.error.retryable
        assert "UNAUTHENTICATED" in response.error.message
        assert response.metadata is not None and response.metadata.retry_count == 0

    async def test_token_without_the_scope_is_permission_denied(
        self, server: RunningServer
    ) -> None:
        """An events token cannot call ListPrimitives; the message names the scope."""
        async with client(server, EVENTS_TOKEN) as vc:
            with pytest.raises(VoiceCoreCallError, match="PERMISSION_DENIED") as refused:
                await vc.list_primitives()
        assert "'execute'" in str(refused.value) and EVENTS_TOKEN not in str(refused.value)

    async def test_health_is_open_and_reflection_closed(self, server: RunningServer) -> None:
        async with Channel(server.host, server.port) as channel:
            health = await HealthStub(channel).Check(HealthCheckRequest())
            with pytest.raises(GRPCError) as refused:
                async with ServerReflectionStub(channel).ServerReflectionInfo.open() as stream:
                    await stream.send_message(ServerReflectionRequest(list_services=""), end=True)
                    await stream.recv_message()
        assert health.status == HealthCheckResponse.SERVING
        assert refused.value.status is Status.UNAUTHENTICATED

    async def test_sighup_reload_adds_a_token(self, server: RunningServer, tokens: Path) -> None:
        """A token appended to the file is accepted after SIGHUP, without a restart."""
        added = new_token()
        assert await list_status(server, {"authorization": f"Bearer {added}"}) is (
            Status.UNAUTHENTICATED
        )
        write_tokens(tokens, (EXECUTE_TOKEN, "execute"), (added, "execute"))
        server.proc.process.send_signal(signal.SIGHUP)

        async def accepted() -> bool:
            return await list_status(server, {"authorization": f"Bearer {added}"}) is None

        await until(accepted)
        assert await list_status(server, {"authorization": f"Bearer {EVENTS_TOKEN}"}) is (
            Status.UNAUTHENTICATED
        )
        assert server.proc.exit_code() is None


class TestLogs:
    async def test_tokens_never_logged_even_at_trace(
        self, server: RunningServer, tmp_path: Path
    ) -> None:
        """Accepted, refused and unknown tokens leave no trace in the TRACE-level log."""
        wrong = new_token()
        async with client(server, EXECUTE_TOKEN) as vc:
            await vc.list_primitives()
            await vc.execute(
                "capture_email", {"transcription": "a at b dot com"}, conversation_id="c"
            )
        for token in (EVENTS_TOKEN, wrong):
            await list_status(server, {"authorization": f"Bearer {token}"})
        await server.proc.stop_async()
        log = (tmp_path / "server.log").read_text()
        assert "ExecutePrimitive" in log, "the log recorded no call"
        assert log.count("call refused") == 2, "the log recorded no refusal"
        for token in (EXECUTE_TOKEN, EVENTS_TOKEN, wrong):
            assert token not in log

    async def test_the_client_never_logs_its_token(self, server: RunningServer) -> None:
        """The project's client, at TRACE with every field serialised, on accepted and refused
        calls: its records name what happened, never the token."""
        wrong = new_token()
        records: list[str] = []
        logger.enable("voicecore")
        sink = logger.add(records.append, level="TRACE", serialize=True)
        try:
            async with client(server, EXECUTE_TOKEN) as vc:
                await vc.list_primitives()
                await vc.execute("capture_email", {"transcription": "x"}, conversation_id="c")
            for token in (wrong, EVENTS_TOKEN):
                async with client(server, token) as vc:
                    with pytest.raises(VoiceCoreCallError):
                        await vc.list_primitives()
                    await vc.execute("capture_email", {"transcription": "x"}, conversation_id="c")
        finally:
            logger.remove(sink)
            logger.disable("voicecore")
        log = "".join(records)
        messages = [json.loads(record)["record"]["message"] for record in records]
        assert messages.count("voice core call failed on the client side") == 2, messages
        for token in (EXECUTE_TOKEN, EVENTS_TOKEN, wrong):
            assert token not in log
