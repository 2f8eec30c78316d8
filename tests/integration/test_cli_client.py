"""``voicecore call | events | health | primitives`` as subprocesses against a real server."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import trustme
from grpclib.events import RecvRequest, listen
from grpclib.server import Server

from tests._servers import RunningServer, free_port, start_server
from voicecore.capture import calibrated
from voicecore.capture._confidence import Support
from voicecore.config import Settings
from voicecore.service import VoiceCoreService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

COMMAND = [sys.executable, "-m", "voicecore"]


@dataclass(frozen=True)
class Completed:
    """What one CLI run left behind."""

    code: int
    stdout: str
    stderr: str


async def voicecore(*args: str) -> Completed:
    """Run the CLI with ``args`` (30 s at most) without any VOICE_CORE_* from this shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_CORE_")}
    proc = await asyncio.create_subprocess_exec(
        *COMMAND,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(30):
            stdout, stderr = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Completed(proc.returncode, stdout.decode(), stderr.decode())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    async with start_server("--debug-primitives") as running:
        yield running


@pytest.fixture
def nowhere() -> str:
    """An endpoint nothing listens on."""
    return f"127.0.0.1:{free_port()}"


class TestCall:
    """voicecore call prints the response as JSON; failures exit non-zero with one line."""

    async def test_capture_email(self, server: RunningServer) -> None:
        """The spoken email comes back captured."""
        run = await voicecore(
            "call",
            "capture_email",
            "--param",
            "transcription=john at gmail dot com",
            "--endpoint",
            server.target,
        )
        assert run.code == 0, run.stderr
        assert json.loads(run.stdout)["data"]["value"] == "john@gmail.com"

    async def test_no_server(self, nowhere: str) -> None:
        """Against no server: exit 1 and one clear line naming UNAVAILABLE."""
        run = await voicecore(
            "call", "capture_email", "--param", "transcription=x", "--endpoint", nowhere
        )
        assert run.code == 1
        assert run.stderr.count("\n") == 1
        assert run.stderr.startswith("voicecore call: UNAVAILABLE")

    async def test_typed_params(self, server: RunningServer) -> None:
        """KEY:=JSON and --params-json send non-string values."""
        run = await voicecore(
            "call",
            "debug_echo",
            "--params-json",
            '{"word": "hi"}',
            "--param",
            "n:=3",
            "--param",
            "flag:=true",
            "--endpoint",
            server.target,
        )
        assert run.code == 0, run.stderr
        assert json.loads(run.stdout)["data"] == {"word": "hi", "n": 3, "flag": True}

    async def test_failure_response(self, server: RunningServer) -> None:
        """A server-side failure prints the response and exits 1 naming the code."""
        run = await voicecore("call", "capture_email", "--endpoint", server.target)
        assert run.code == 1
        assert json.loads(run.stdout)["error"]["code"] == "INVALID_PARAMS"
        assert run.stderr.startswith("voicecore call: INVALID_PARAMS")

    async def test_numbers_as_meant(self, server: RunningServer) -> None:
        """Whole numbers print as ints and confidence without float32 noise (1.0, 0.71249997...)."""
        run = await voicecore(
            "call",
            "capture_email",
            "--param",
            "transcription=my email is john dot smith at gmail dot com",
            "--endpoint",
            server.target,
        )
        assert run.code == 0, run.stderr
        # Struct keys come in no fixed order, so a line may or may not end with a comma.
        lines = [line.rstrip(",") for line in run.stdout.splitlines()]
        assert '    "attempts": 1' in lines
        # No ASR confidence (0.75) times a 0.95-sure parse, calibrated for an email heard
        # with that weight, every word used.
        confidence = calibrated(0.7125, "capture_email", Support(weight=0.75))
        assert f'    "confidence": {confidence}' in lines

    async def test_param_that_is_not_json(self, nowhere: str) -> None:
        """KEY:=JSON that is not JSON names the param and the flag, exit 2, nothing sent."""
        run = await voicecore(
            "call", "capture_email", "--param", "max_attempts:=abc", "--endpoint", nowhere
        )
        assert (run.code, run.stdout) == (2, "")
        assert run.stderr == (
            "voicecore call: --param max_attempts:=abc: not valid JSON (expecting value at "
            "character 1); max_attempts=abc would send it as a string\n"
        )

    @pytest.mark.parametrize("bad", [["--param", "novalue"], ["--params-json", "[1]"]])
    async def test_bad_arguments(self, bad: list[str], nowhere: str) -> None:
        """Malformed params exit 2 before any call."""
        run = await voicecore("call", "debug_echo", *bad, "--endpoint", nowhere)
        assert run.code == 2
        assert run.stderr.startswith("voicecore call:")


class TestEvents:
    """voicecore events prints one JSON object per event."""

    async def test_replay(self, server: RunningServer) -> None:
        """A call's events replay for its conversation; --after skips the first."""
        conv = uuid.uuid4().hex
        call = await voicecore(
            "call", "debug_echo", "--conversation", conv, "--endpoint", server.target
        )
        assert call.code == 0, call.stderr
        run = await voicecore("events", "--conversation", conv, "--endpoint", server.target)
        assert run.code == 0, run.stderr
        events = [json.loads(line) for line in run.stdout.splitlines()]
        assert [e["type"] for e in events] == ["primitive.started", "primitive.completed"]
        after = await voicecore(
            "events", "--conversation", conv, "--after", events[0]["sequence"],
            "--endpoint", server.target,
        )  # fmt: skip
        assert [json.loads(line)["type"] for line in after.stdout.splitlines()] == [
            "primitive.completed"
        ]

    async def test_type_filter(self, server: RunningServer) -> None:
        """--type (repeatable) prints only the events of those types, numbers as meant."""
        conv = uuid.uuid4().hex
        for words in ("john at gmail dot com", "yes"):
            turn = await voicecore(
                "call", "capture_email", "--conversation", conv,
                "--param", f"transcription={words}", "--endpoint", server.target,
            )  # fmt: skip
            assert turn.code == 0, turn.stderr
        run = await voicecore(
            "events", "--conversation", conv, "--type", "capture.value_captured",
            "--type", "capture.confirmed", "--endpoint", server.target,
        )  # fmt: skip
        assert run.code == 0, run.stderr
        events = [json.loads(line) for line in run.stdout.splitlines()]
        assert [e["type"] for e in events] == ["capture.value_captured", "capture.confirmed"]
        assert '"attempt": 1' in run.stdout and '"attempt": 1.0' not in run.stdout

    async def test_no_server(self, nowhere: str) -> None:
        """Against no server: exit 1 with one line."""
        run = await voicecore("events", "--endpoint", nowhere)
        assert run.code == 1
        assert run.stderr.startswith("voicecore events: event stream unavailable")


class TestClosedStdout:
    """A reader that goes away (``| head``) ends the command quietly."""

    async def test_closed_pipe(self, server: RunningServer) -> None:
        """stdout's reader closed before the answer: no traceback, the shell's SIGPIPE status."""
        read_end, write_end = os.pipe()
        os.close(read_end)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_CORE_")}
        try:
            proc = await asyncio.create_subprocess_exec(
                *COMMAND,
                "primitives",
                "--endpoint",
                server.target,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_end,
                stderr=asyncio.subprocess.PIPE,
            )
        finally:
            os.close(write_end)
        async with asyncio.timeout(30):
            _, stderr = await proc.communicate()
        assert (proc.returncode, stderr.decode()) == (141, "")


class TestHealthAndPrimitives:
    """voicecore health and voicecore primitives."""

    async def test_health(self, server: RunningServer) -> None:
        """A running server is SERVING, exit 0."""
        run = await voicecore("health", "--endpoint", server.target)
        assert run.code == 0
        assert json.loads(run.stdout)["status"] == "SERVING"

    async def test_health_no_server(self, nowhere: str) -> None:
        """No server: NOT_SERVING printed, exit 1 with the reason."""
        run = await voicecore("health", "--endpoint", nowhere)
        assert run.code == 1
        assert json.loads(run.stdout)["status"] == "NOT_SERVING"
        assert run.stderr.startswith("voicecore health: UNAVAILABLE")

    async def test_primitives(self, server: RunningServer) -> None:
        """One line per primitive: name, version, description."""
        run = await voicecore("primitives", "--endpoint", server.target)
        assert run.code == 0
        names = [line.split("\t")[0] for line in run.stdout.splitlines()]
        assert "capture_email" in names and "debug_echo" in names

    async def test_params_schema(self, server: RunningServer) -> None:
        """OBJECTIVE_TYPE prints that primitive's params JSON Schema, whole numbers as ints."""
        run = await voicecore("primitives", "capture_email", "--endpoint", server.target)
        assert run.code == 0, run.stderr
        schema = json.loads(run.stdout)
        assert schema["properties"]["transcription"]["maxLength"] == 2000
        assert '"maxLength": 2000' in run.stdout and "2000.0" not in run.stdout


@dataclass
class MtlsServer:
    """An in-process server requiring a client certificate, and the PEM files to reach it."""

    target: str
    files: dict[str, str]
    authorization: list[str]


@pytest_asyncio.fixture(loop_scope="module")
async def mtls_server(tmp_path: Path) -> AsyncIterator[MtlsServer]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca.configure_trust(server_context)
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.set_alpn_protocols(["h2"])
    files = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "cert", "key")}
    client_cert = ca.issue_cert("cli.example.test")
    ca.cert_pem.write_to_path(files["ca"])
    client_cert.cert_chain_pems[0].write_to_path(files["cert"])
    client_cert.private_key_pem.write_to_path(files["key"])

    server = Server([VoiceCoreService.from_settings(Settings())])
    running = MtlsServer(f"127.0.0.1:{free_port()}", files, [])

    async def remember(event: RecvRequest) -> None:
        running.authorization.append(str(event.metadata.get("authorization", "")))

    listen(server, RecvRequest, remember)
    host, port = running.target.split(":")
    await server.start(host, int(port), ssl=server_context)
    try:
        yield running
    finally:
        server.close()
        await server.wait_closed()


class TestCredentials:
    """The TLS and token options against a server that requires a client certificate."""

    async def test_mtls_and_token(self, mtls_server: MtlsServer) -> None:
        """--tls-ca, --tls-cert, --tls-key and --token: SERVING, the token sent as a bearer."""
        files = mtls_server.files
        run = await voicecore(
            "health",
            "--endpoint",
            mtls_server.target,
            "--tls-ca",
            files["ca"],
            "--tls-cert",
            files["cert"],
            "--tls-key",
            files["key"],
            "--token",
            "cli-token",
        )
        assert run.code == 0, run.stderr
        assert json.loads(run.stdout)["status"] == "SERVING"
        assert mtls_server.authorization == ["Bearer cli-token"]

    async def test_without_client_certificate(self, mtls_server: MtlsServer) -> None:
        """Only the CA: the server refuses the handshake, NOT_SERVING and exit 1."""
        run = await voicecore(
            "health", "--endpoint", mtls_server.target, "--tls-ca", mtls_server.files["ca"]
        )
        assert run.code == 1
        assert json.loads(run.stdout)["status"] == "NOT_SERVING"
        assert mtls_server.authorization == []

    async def test_token_in_clear_refused(self) -> None:
        """A token to a remote plaintext target exits 2 before connecting, naming the option."""
        run = await voicecore("health", "--endpoint", "192.0.2.1:50051", "--token", "s3cret")
        assert run.code == 2
        assert "allow_insecure_token" in run.stderr and "s3cret" not in run.stderr
