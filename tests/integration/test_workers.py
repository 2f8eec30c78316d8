"""`voicecore serve --workers N`: N processes on one port under one parent, as a subprocess.

The in-memory store refuses more than one worker; every other test runs the real command
through ``tests.integration._serve_as_shared``, whose settings claim a shared store. Which
worker served a call is read from the JSON log (each line carries its process id), never
from the wire.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status

from tests._server_log import ServerLog
from tests._servers import HOST, ServerProcess, free_port, serve_command
from tests._waiting import until
from voicecore._auth import new_token, tokens_file_line
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ExecutePrimitiveRequest,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)

pytestmark = [pytest.mark.integration]

STAND_IN = "tests.integration._serve_as_shared"
_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Fleet:
    """A running ``serve --workers`` parent, its log, port and workers' pids, and an open
    channel to each worker."""

    parent: ServerProcess
    log: ServerLog
    port: int
    pids: frozenset[int]
    channels: dict[int, Channel]


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie no one reaped yet has ended too)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@asynccontextmanager
async def fleet(
    tmp_path: Path,
    *args: str,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    token: str | None = None,
) -> AsyncIterator[Fleet]:
    """The stand-in command with ``workers`` on a port it picks (``--port 0``), logging JSON at
    DEBUG into ``tmp_path``; yielded once every worker has served a call (so each has its
    signal handlers); SIGTERM at the end."""
    log = ServerLog(tmp_path / "serve.log")
    argv = serve_command(
        0, "--workers", str(workers), "--log-json", "--log-level", "DEBUG", *args, module=STAND_IN
    )
    async with AsyncExitStack() as stack:
        out = stack.enter_context(log.path.open("ab"))
        parent = ServerProcess(argv, 0, env=env, stderr=out)
        stack.push_async_callback(parent.stop_async)
        await until(
            lambda: len(log.pids_saying("serving")) == workers or parent.exit_code() is not None,
            timeout=_START_TIMEOUT,
        )
        assert parent.exit_code() is None, log.path.read_text()
        (started,) = log.saying("workers started")
        pids = frozenset(started["extra"]["pids"])
        assert log.pids_saying("serving") == pids
        port = started["extra"]["port"]
        channels = await channel_to_each_worker(stack, port, log, len(pids), token)
        assert set(channels) == pids
        yield Fleet(parent, log, port, pids, channels)


async def _run(argv: list[str], env: Mapping[str, str] | None = None) -> tuple[int, list[str]]:
    """Run a command to its end: its exit status and its stderr lines."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), _START_TIMEOUT)
    assert proc.returncode is not None
    return proc.returncode, stderr.decode().splitlines()


def _email(trace_id: str, conversation_id: str = "") -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="capture_email",
        params=Struct.from_dict({"transcription": "jane at example dot org"}),
        trace_id=trace_id,
        conversation_id=conversation_id,
    )


async def worker_of(channel: Channel, log: ServerLog, tag: str, token: str | None) -> int:
    """The pid of the worker serving ``channel``'s connection: a call, then its log line."""
    metadata = {"authorization": f"Bearer {token}"} if token else None
    stub = VoiceCoreServiceStub(channel)
    response = await stub.execute_primitive(_email(tag), timeout=10, metadata=metadata)
    assert response.success
    await until(lambda: bool(log.saying("primitive executed", trace_id=tag)))
    (pid,) = log.pids_saying("primitive executed", trace_id=tag)
    return pid


async def channel_to_each_worker(
    stack: AsyncExitStack, port: int, log: ServerLog, workers: int, token: str | None
) -> dict[int, Channel]:
    """One open channel per worker: new connections until the kernel has given each worker one
    (it picks by a hash of the connection's addresses; 64 tries miss one of 3 workers with odds
    below 10**-10)."""
    channels: dict[int, Channel] = {}
    for attempt in range(64):
        channel = Channel(HOST, port)
        stack.callback(channel.close)
        pid = await worker_of(channel, log, f"probe-{attempt}", token)
        channels.setdefault(pid, channel)
        if len(channels) == workers:
            break
    return channels


async def _sleep_in_flight(channel: Channel, conversation_id: str) -> None:
    """A debug_sleep call of a minute: in flight until a drain ends it."""
    request = ExecutePrimitiveRequest(
        objective_type="debug_sleep",
        params=Struct.from_dict({"seconds": 60}),
        conversation_id=conversation_id,
    )
    await VoiceCoreServiceStub(channel).execute_primitive(request, timeout=120)


class TestRefused:
    @pytest.mark.parametrize(
        ("args", "env"),
        [(["--workers", "2"], {}), ([], {"VOICECORE_WORKERS": "2"})],
        ids=["flag", "environment"],
    )
    async def test_memory_store_refuses_more_than_one_worker(
        self, args: list[str], env: dict[str, str]
    ) -> None:
        """The in-memory store with 2 workers: exit 2 and one line saying why, before binding."""
        code, stderr = await _run(serve_command(free_port(), *args), env)
        assert code == 2
        assert stderr == [
            "voicecore serve: workers=2 needs a store every worker shares: with the in-memory "
            "store each worker would hold its own captures, idempotency records and events "
            "(serve with 1 worker)"
        ]

    async def test_taken_port_fails_once_before_any_worker(self, tmp_path: Path) -> None:
        """The port of another server, itself on SO_REUSEPORT workers: one line and exit 1,
        rather than workers quietly joining the other server's port."""
        async with fleet(tmp_path) as other:
            argv = serve_command(other.port, "--workers", "2", module=STAND_IN)
            code, stderr = await _run(argv)
            assert other.log.pids_saying("primitive executed") == other.pids
        assert code == 1
        assert stderr == [
            f"voicecore serve: cannot listen on 127.0.0.1:{other.port}: Address already in use "
            "(choose another with --host/--port or VOICECORE_HOST/VOICECORE_PORT)"
        ]

    async def test_bad_tls_files_fail_once(self, tmp_path: Path) -> None:
        """A certificate that does not load: one line from the parent, not one per worker."""
        (tmp_path / "cert.pem").write_text("not a certificate")
        (tmp_path / "key.pem").write_text("not a key")
        files = ["--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]
        code, stderr = await _run(
            serve_command(free_port(), "--workers", "2", *files, module=STAND_IN)
        )
        assert code == 2
        assert len(stderr) == 1
        assert stderr[0].startswith("voicecore serve: cannot use the TLS certificate, key")


class TestServing:
    async def test_connections_spread_over_the_workers(self, tmp_path: Path) -> None:
        """Connections to the one port are served by more than one worker, each a child of the
        parent, which itself serves none."""
        async with fleet(tmp_path, workers=3) as running:
            assert len(running.channels) == 3
            assert running.log.pids_saying("primitive executed") == running.pids
            assert running.parent.pid not in running.pids

    async def test_sigterm_drains_every_worker(self, tmp_path: Path) -> None:
        """SIGTERM to the parent: every worker drains (its event follower ends with the drain's
        UNAVAILABLE, not a broken connection), then the parent exits 0."""
        async with fleet(tmp_path) as running:
            channels = running.channels
            ended: dict[int, GRPCError] = {}
            seen: dict[int, int] = {}

            async def follow(pid: int, channel: Channel) -> None:
                request = StreamEventsRequest(conversation_id=f"follow-{pid}")
                try:
                    async for _ in VoiceCoreServiceStub(channel).stream_events(request):
                        seen[pid] = seen.get(pid, 0) + 1
                except GRPCError as error:
                    ended[pid] = error

            followers = [asyncio.create_task(follow(pid, ch)) for pid, ch in channels.items()]
            for pid, channel in channels.items():  # each follower is live once it sees a call
                await VoiceCoreServiceStub(channel).execute_primitive(
                    _email(f"call-{pid}", f"follow-{pid}")
                )
                await until(lambda pid=pid: seen.get(pid, 0) > 0)  # type: ignore[misc]
            running.parent.process.send_signal(signal.SIGTERM)
            assert await running.parent.wait_exit(30) == 0
            await asyncio.wait_for(asyncio.gather(*followers), 10)
        assert {pid: error.status for pid, error in ended.items()} == dict.fromkeys(
            running.pids, Status.UNAVAILABLE
        )
        assert all("shutting down" in (error.message or "") for error in ended.values())
        assert running.log.pids_saying("stopped") == running.pids
        assert len(running.log.saying("worker stopped")) == 2
        assert all(_gone(pid) for pid in running.pids)

    async def test_sighup_reaches_every_worker(self, tmp_path: Path) -> None:
        """SIGHUP to the parent: every worker rereads its tokens file; the parent keeps on."""
        tokens = tmp_path / "tokens"
        token = new_token()
        tokens.write_text(tokens_file_line(token, "acme", frozenset({"execute"})) + "\n")
        async with fleet(tmp_path, "--auth-tokens-file", str(tokens), token=token) as running:
            running.parent.process.send_signal(signal.SIGHUP)
            await until(lambda: running.log.pids_saying("tokens file reloaded") == running.pids)
            assert running.parent.exit_code() is None

    async def test_a_repeated_signal_does_not_cut_the_drain(self, tmp_path: Path) -> None:
        """SIGINT, then SIGINT again while every worker drains a call in flight (a Ctrl-C, then
        impatience; or systemd and the parent both signalling): each drain still runs its grace
        period and ends the call with UNAVAILABLE; every worker and the parent exit 0."""
        async with fleet(tmp_path, "--debug-primitives", "--grace-period", "3") as running:
            calls = [
                asyncio.create_task(_sleep_in_flight(channel, f"sleep-{pid}"))
                for pid, channel in running.channels.items()
            ]
            await until(lambda: running.log.pids_saying("debug_sleep sleeping") == running.pids)
            running.parent.process.send_signal(signal.SIGINT)
            await until(lambda: running.log.pids_saying("draining") == running.pids)
            running.parent.process.send_signal(signal.SIGINT)
            assert await running.parent.wait_exit(30) == 0
            ended = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
        assert [getattr(error, "status", error) for error in ended] == [Status.UNAVAILABLE] * 2
        assert running.log.pids_saying("stopped") == running.pids


class TestFailures:
    async def test_a_killed_worker_stops_the_others(self, tmp_path: Path) -> None:
        """A worker killed (SIGKILL) is not restarted: the parent logs it, drains the others
        and exits 128 + 9, so that Kubernetes or systemd sees the failure."""
        async with fleet(tmp_path, workers=3) as running:
            victim, *others = sorted(running.pids)
            os.kill(victim, signal.SIGKILL)
            assert await running.parent.wait_exit(30) == 128 + signal.SIGKILL
        (error,) = running.log.saying(
            "worker exited unasked: stopping the others (none is restarted)"
        )
        assert (error["extra"]["pid"], error["extra"]["status"]) == (victim, 137)
        assert running.log.pids_saying("stopped") == set(others)
        assert all(_gone(pid) for pid in running.pids)

    async def test_a_worker_that_raises_is_logged(self, tmp_path: Path) -> None:
        """A worker that fails with an exception exits 1, logged with the exception; the parent
        stops the other (which raised too, or is stopped first) and exits 1."""
        log = ServerLog(tmp_path / "serve.log")
        argv = serve_command(0, "--workers", "2", "--log-json", module=STAND_IN)
        with log.path.open("ab") as out:
            parent = ServerProcess(argv, 0, env={"STANDIN_WORKER_RAISES": "1"}, stderr=out)
            assert await parent.wait_exit(_START_TIMEOUT) == 1
        (first,) = log.saying("worker exited unasked: stopping the others (none is restarted)")
        assert first["extra"]["status"] == 1
        failed = log.saying("worker failed")
        assert first["extra"]["pid"] in {record["process"]["id"] for record in failed}
        assert all(record["exception"]["value"] == "a worker fails" for record in failed)
        assert len(log.saying("worker failed while stopping")) == 1

    async def test_workers_stop_when_the_parent_is_killed(self, tmp_path: Path) -> None:
        """The parent killed (SIGKILL, nothing forwarded): every worker drains and exits, none
        is left serving the port."""
        async with fleet(tmp_path) as running:
            running.parent.process.kill()
            await until(lambda: all(_gone(pid) for pid in running.pids), timeout=30)
        assert running.log.pids_saying("stopped") == running.pids
