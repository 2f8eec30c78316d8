"""Chaos, bounded in time: a fleet that loses a replica, twice, and loses no turn.

Fifty orchestration clients (the project's ``VoiceCoreClient``, one connection each) run
multi-turn captures through nginx (``examples/nginx.conf``) in front of two ``voicecore serve``
replicas sharing one real redis-server. At fixed points of progress (turns acknowledged), one
replica is killed with SIGKILL and started again, then the other: calls in flight on it are cut,
and the clients try them again under the same idempotency key. A follower through nginx follows
every event all along, and resumes after its replica dies.

Afterwards the event log is the judge: every turn a client saw succeed was applied exactly once
(one ``primitive.completed`` under its trace id), every capture ended with its script's value,
the follower saw every event once and in order, and no call ran past its deadline. The figures
are printed (``-s``) and recorded as the test's properties (``--junitxml``).

The same fleet, with twenty clients, also lives through Redis freezing (SIGSTOP) under load:
UNAVAILABLE and NOT_SERVING while it does not answer, then every capture goes on, each turn
applied once and none half-written.

``VOICECORE_CHAOS_SECONDS`` sets how long the clients keep starting new captures (default 20;
the issue's figure is 30): the run lasts that long, or until both restarts are done.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest
from loguru import logger
from prometheus_client import CollectorRegistry

from tests._nginx import Nginx, start_nginx
from tests._redis import RedisServer, running_redis
from tests._server_log import ServerLog
from tests._servers import HOST, ServerProcess, free_port, serve_command, wait_serving
from tests._waiting import until
from voicecore._proto.voicecore.v1 import ErrorCode, Event, ExecutePrimitiveResponse, PrimitiveState
from voicecore.client import ClientConfig, VoiceCoreClient

if TYPE_CHECKING:
    from loguru import Record

pytestmark = pytest.mark.integration

#: Seconds the clients keep starting new captures.
CHAOS_SECONDS: Final = float(os.environ.get("VOICECORE_CHAOS_SECONDS", "20"))
CLIENTS: Final = 50
#: Clients while Redis is frozen: enough to have turns in flight at every moment.
FROZEN_CLIENTS: Final = 20
#: Every call's deadline (the client's ``timeout``): a call past it is counted over-deadline.
CALL_DEADLINE: Final = 10.0
#: Turns acknowledged before the first kill, and again after each restarted replica is back.
TURNS_BETWEEN_KILLS: Final = 150
#: Calls a turn may take (each one a client call with its own retries) before the test fails.
_TRIES: Final = 60
_BACKOFF: Final = (0.05, 0.3)
#: What the whole run may take at most, whatever happens.
_BOUND: Final = CHAOS_SECONDS + 240.0
_RETRYABLE: Final = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.CIRCUIT_BREAKER_OPEN})
_STREAM_EVENTS: Final = "/voicecore.v1.VoiceCoreService/StreamEvents"


@dataclass(frozen=True)
class Script:
    """One capture, turn by turn, and what it must end with."""

    objective_type: str
    turns: tuple[str, ...]
    value: str


#: Each applied twice would show: a digit group twice, or a correction or "yes" applied to the
#: wrong state, changes the value or leaves the capture unfinished.
SCRIPTS: Final = (
    Script(
        "capture_phone",
        ("four one five five five five", "two six seven one", "yes"),
        "+14155552671",
    ),
    Script(
        "capture_email",
        ("john at example dot com", "no it's mary at example dot org", "yes"),
        "mary@example.org",
    ),
    Script("capture_number", ("forty two", "no it's forty three", "yes"), "43"),
)


@dataclass
class Tally:
    """What the clients saw, counted as they saw it."""

    #: Trace id of every turn a client saw succeed, with its conversation.
    acknowledged: dict[str, str] = field(default_factory=dict)
    #: Conversation id: (its script, the last turn's response).
    finished: dict[str, tuple[Script, ExecutePrimitiveResponse]] = field(default_factory=dict)
    calls: int = 0
    #: Calls answered with a retryable failure, by code, and tried again.
    retried: Counter[str] = field(default_factory=Counter)
    #: Calls that ran past their deadline (measured here, or the client's deadline fired).
    over_deadline: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.acknowledged)


class Replica:
    """One ``voicecore serve --store redis://...`` that can be killed and started again on
    its port, logging JSON (its access log says which process served a call)."""

    def __init__(self, directory: Path, store: str) -> None:
        directory.mkdir(parents=True)
        self.port = free_port()
        self.log = ServerLog(directory / "serve.log")
        self._store = store
        self._process: ServerProcess | None = None
        self._read = 0  # bytes of the log already looked at by ``served_since_start``

    async def start(self) -> None:
        argv = serve_command(self.port, "--log-json")
        with self.log.path.open("ab") as out:
            self._process = ServerProcess(
                argv, self.port, env={"VOICECORE_STORE": self._store}, stderr=out
            )
        self._read = self.log.path.stat().st_size
        await wait_serving(HOST, self.port, timeout=60)

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is drained or flushed."""
        assert self._process is not None
        self._process.process.send_signal(signal.SIGKILL)
        self._process.process.wait()

    async def stop(self) -> None:
        if self._process is not None:
            await self._process.stop_async()

    def served_since_start(self) -> bool:
        """Whether this process has served an ExecutePrimitive (its access log has a line)."""
        with self.log.path.open("rb") as log:
            log.seek(self._read)
            data = log.read()
        whole = data[: data.rfind(b"\n") + 1]  # a line still being written is read next time
        self._read += len(whole)
        return b'/ExecutePrimitive"' in whole


def _client(port: int, registry: CollectorRegistry) -> VoiceCoreClient:
    config = ClientConfig.model_validate(
        # A breaker opened by the outage must not keep a client away for its default 30 s.
        {"timeout": CALL_DEADLINE, "breaker": {"open_seconds": 1.0}}
    )
    return VoiceCoreClient(f"{HOST}:{port}", config=config, metrics_registry=registry)


def _attempts(registry: CollectorRegistry) -> dict[str, int]:
    """ExecutePrimitive attempts by the gRPC code they ended with, over every client (each
    client tries a call up to three times before ``execute`` answers)."""
    counted: dict[str, int] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            labels = sample.labels
            if (
                sample.name == "grpc_client_handled_total"
                and labels["grpc_method"] == "ExecutePrimitive"
            ):
                counted[labels["grpc_code"]] = counted.get(labels["grpc_code"], 0) + int(
                    sample.value
                )
    return counted


async def _turn(
    client: VoiceCoreClient, tally: Tally, script: Script, conversation_id: str, number: int
) -> ExecutePrimitiveResponse:
    """One caller turn, tried under one idempotency key (and trace id) until it succeeds."""
    key = f"{conversation_id}-t{number}"
    loop = asyncio.get_running_loop()
    for _ in range(_TRIES):
        started = loop.time()
        response = await client.execute(
            script.objective_type,
            {"transcription": script.turns[number]},
            conversation_id=conversation_id,
            trace_id=key,
            idempotency_key=key,
        )
        took = loop.time() - started
        tally.calls += 1
        error = response.error
        seen = f"{key} after {took:.2f} s: {error}"
        if took > CALL_DEADLINE:
            tally.over_deadline.append(seen)
        elif error is not None and error.code == ErrorCode.TIMEOUT:
            tally.over_deadline.append(seen)
        if response.success:
            tally.acknowledged[key] = conversation_id
            return response
        assert error is not None and error.code in _RETRYABLE | {ErrorCode.TIMEOUT}, error
        tally.retried[error.code.name] += 1
        await asyncio.sleep(random.uniform(*_BACKOFF))  # a backoff, as an orchestrator's
    raise AssertionError(f"{key}: no success in {_TRIES} calls")


async def _orchestrate(
    number: int, client: VoiceCoreClient, tally: Tally, keep_going: Callable[[], bool]
) -> None:
    """Capture after capture in new conversations while ``keep_going()``; the last one is
    always finished."""
    conversation = 0
    while keep_going():
        script = SCRIPTS[(number + conversation) % len(SCRIPTS)]
        conversation_id = f"chaos-{number}-{conversation}"
        for turn in range(len(script.turns)):
            response = await _turn(client, tally, script, conversation_id, turn)
        tally.finished[conversation_id] = (script, response)
        conversation += 1


async def _kill_and_restart(replicas: list[Replica], tally: Tally, kills: list[int]) -> None:
    """Each replica in turn, after ``TURNS_BETWEEN_KILLS`` more turns: SIGKILL, start it again,
    and wait until nginx sends it calls again (so one replica at most is ever down)."""
    for replica in replicas:
        target = tally.turns + TURNS_BETWEEN_KILLS
        await until(_reached(tally, target), timeout=_BOUND)
        kills.append(tally.turns)
        replica.kill()
        await replica.start()
        await until(replica.served_since_start, timeout=_BOUND)


def _reached(tally: Tally, turns: int) -> Callable[[], bool]:
    return lambda: tally.turns >= turns


async def _follow(client: VoiceCoreClient, seen: list[Event]) -> None:
    events = client.stream_events()
    async with aclosing(events):
        async for event in events:
            seen.append(event)


@dataclass
class Fleet:
    """Redis, two replicas, nginx in front, the clients (the last one follows every event
    into ``seen``) and their metrics."""

    redis: RedisServer
    replicas: list[Replica]
    nginx: Nginx
    registry: CollectorRegistry
    clients: list[VoiceCoreClient]
    seen: list[Event]
    follower: asyncio.Task[None]
    #: The extras of each event the client skipped as out of order (it logs it as an ERROR).
    out_of_order: list[dict[str, object]]

    async def replay(self) -> list[Event]:
        """Every event in the log, once the follower has caught up with it; the follower is
        then stopped."""
        replay = [event async for event in self.clients[0].stream_events(follow=False)]
        seen = self.seen
        await until(lambda: bool(seen) and seen[-1].sequence >= replay[-1].sequence, timeout=60)
        self.follower.cancel()
        await asyncio.gather(self.follower, return_exceptions=True)
        return replay


async def _fleet(stack: AsyncExitStack, directory: Path, clients: int) -> Fleet:
    """A ``Fleet`` with ``clients`` orchestration clients, stopped when ``stack`` closes."""
    (directory / "redis").mkdir()
    redis = stack.enter_context(running_redis(directory / "redis"))
    replicas = [Replica(directory / f"replica-{n}", redis.url) for n in (1, 2)]
    for replica in replicas:
        stack.push_async_callback(replica.stop)
    await asyncio.gather(*(replica.start() for replica in replicas))
    nginx = await stack.enter_async_context(
        start_nginx(directory / "nginx", [replica.port for replica in replicas])
    )
    registry = CollectorRegistry()
    connected = [_client(nginx.port, registry) for _ in range(clients + 1)]
    for client in connected:
        stack.push_async_callback(client.aclose)
    seen: list[Event] = []
    out_of_order = _watch_out_of_order(stack)
    follower = asyncio.create_task(_follow(connected[-1], seen))
    stack.callback(follower.cancel)
    return Fleet(redis, replicas, nginx, registry, connected, seen, follower, out_of_order)


def _watch_out_of_order(stack: AsyncExitStack) -> list[dict[str, object]]:
    """What the clients log of each event they skip as out of order, until ``stack`` closes:
    the follower's list shows only what the client let through."""
    found: list[dict[str, object]] = []

    def skipped(record: Record) -> bool:
        return record["message"].startswith("event stream delivered an event out of order")

    logger.enable("voicecore.client")
    sink = logger.add(lambda m: found.append(dict(m.record["extra"])), filter=skipped)
    stack.callback(logger.disable, "voicecore.client")
    stack.callback(logger.remove, sink)
    return found


async def _run(
    fleet: Fleet, tally: Tally, clients: int, chaos: asyncio.Task[None], seconds: float
) -> None:
    """``clients`` orchestrators until ``chaos`` is done and ``seconds`` have passed."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + seconds

    def keep_going() -> bool:
        return not chaos.done() or loop.time() < ends

    await asyncio.gather(
        chaos, *(_orchestrate(n, fleet.clients[n], tally, keep_going) for n in range(clients))
    )


def _verdict(tally: Tally, replay: list[Event]) -> dict[str, object]:
    """The figures every run reports: turns, lost, duplicated, over-deadline, ..."""
    completed = Counter(event.trace_id for event in replay if event.type == "primitive.completed")
    return {
        "turns": tally.turns,
        "captures": len(tally.finished),
        "calls": tally.calls,
        "retried": dict(tally.retried),
        "lost": sum(1 for trace in tally.acknowledged if completed[trace] == 0),
        "duplicated": sum(1 for trace in tally.acknowledged if completed[trace] > 1),
        "over_deadline": len(tally.over_deadline),
        "wrong_final_values": sum(
            1
            for script, response in tally.finished.values()
            if not _ended_with(response, script.value)
        ),
        "events": len(replay),
    }


def _report(
    figures: dict[str, object], tally: Tally, record_property: Callable[[str, object], None]
) -> None:
    for name, value in figures.items():
        record_property(name, value)
    print(f"\nchaos figures: {figures}")
    print(*tally.over_deadline[:10], sep="\n")


def _assert_exactly_once(
    figures: dict[str, object], tally: Tally, fleet: Fleet, replay: list[Event]
) -> None:
    """Nothing lost, nothing applied twice or unasked, every capture right, no call past its
    deadline, and the follower saw the log as it is: every event once, in order."""
    assert {name: figures[name] for name in ("lost", "duplicated", "wrong_final_values")} == {
        "lost": 0,
        "duplicated": 0,
        "wrong_final_values": 0,
    }
    assert tally.over_deadline == []
    completed = {event.trace_id for event in replay if event.type == "primitive.completed"}
    assert completed == set(tally.acknowledged)  # nothing applied that no client asked for
    sequences = [event.sequence for event in replay]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    followed = [(e.sequence, e.type, e.trace_id) for e in fleet.seen]
    logged = [(e.sequence, e.type, e.trace_id) for e in replay]
    missed, extra = sorted(set(logged) - set(followed)), sorted(set(followed) - set(logged))
    assert extra == [], f"the follower saw unlogged {extra[:20]}"
    assert fleet.out_of_order == [], f"the server sent events out of order: {fleet.out_of_order}"
    # It once missed (about 1 run in 20) events committed while it started from 0 on a log with
    # no entry yet: a commit fell between its two reads (tests/integration/test_redis_tail.py).
    assert missed == [], f"the follower missed {len(missed)} logged events: {missed[:20]}"


async def test_two_kills_lose_no_turn_and_apply_none_twice(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Fifty clients, two replicas, one Redis, two SIGKILLs (see the module docstring)."""
    tally = Tally()
    kills: list[int] = []
    async with AsyncExitStack() as stack:
        fleet = await _fleet(stack, tmp_path, CLIENTS)
        async with asyncio.timeout(_BOUND):
            chaos = asyncio.create_task(_kill_and_restart(fleet.replicas, tally, kills))
            await _run(fleet, tally, CLIENTS, chaos, CHAOS_SECONDS)
            replay = await fleet.replay()
        streams = await _stream_calls(fleet.nginx.prefix / "access.log")
    figures = {
        "clients": CLIENTS,
        "seconds": CHAOS_SECONDS,
        "kills_at_turns": kills,
        **_verdict(tally, replay),
        "attempts": _attempts(fleet.registry),
        "follower_events": len(fleet.seen),
        "follower_streams": streams,
    }
    _report(figures, tally, record_property)
    assert len(kills) == 2
    _assert_exactly_once(figures, tally, fleet, replay)
    assert streams >= 2  # the follower's replica died under it, at least once, and it resumed


async def test_redis_frozen_under_load_is_unavailable_then_all_recovers(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Redis stops answering (SIGSTOP) under load: calls answer UNAVAILABLE and health says
    NOT_SERVING until it answers again (SIGCONT); then every capture goes on, each turn
    applied once, and no turn is half-written (every started turn's events end it)."""
    tally = Tally()
    async with AsyncExitStack() as stack:
        fleet = await _fleet(stack, tmp_path, FROZEN_CLIENTS)
        async with asyncio.timeout(_BOUND):
            outage = asyncio.create_task(_freeze(fleet, tally))
            await _run(fleet, tally, FROZEN_CLIENTS, outage, 0.0)
            replay = await fleet.replay()
    figures = {"clients": FROZEN_CLIENTS, **_verdict(tally, replay)}
    _report(figures, tally, record_property)
    _assert_exactly_once(figures, tally, fleet, replay)
    for trace, types in _types_by_trace(replay).items():
        ended = types["primitive.completed"] + types["primitive.failed"]
        assert types["primitive.started"] == ended, (trace, types)


async def _freeze(fleet: Fleet, tally: Tally) -> None:
    """After ``TURNS_BETWEEN_KILLS`` turns, freeze Redis until a client has been answered
    UNAVAILABLE and the health check says NOT_SERVING; then until it says SERVING again and
    as many turns more have been applied."""
    health = fleet.clients[-1]
    await until(_reached(tally, TURNS_BETWEEN_KILLS), timeout=_BOUND)
    fleet.redis.pause()
    try:
        await until(lambda: tally.retried["UNAVAILABLE"] > 0, timeout=60)
        await until(lambda: _health_is(health, "NOT_SERVING"), timeout=60)
    finally:
        fleet.redis.resume()
    await until(lambda: _health_is(health, "SERVING"), timeout=60)
    await until(_reached(tally, tally.turns + TURNS_BETWEEN_KILLS), timeout=_BOUND)


async def _health_is(client: VoiceCoreClient, status: str) -> bool:
    return (await client.health(timeout=CALL_DEADLINE)).status == status


def _types_by_trace(events: list[Event]) -> dict[str, Counter[str]]:
    by_trace: dict[str, Counter[str]] = {}
    for event in events:
        by_trace.setdefault(event.trace_id, Counter())[event.type] += 1
    return by_trace


def _ended_with(response: ExecutePrimitiveResponse, value: str) -> bool:
    meta, data = response.metadata, response.data
    return (
        meta is not None
        and meta.state == PrimitiveState.COMPLETED
        and data is not None
        and data.to_dict().get("value") == value
    )


async def _stream_calls(access_log: Path) -> int:
    """StreamEvents calls nginx logged (it logs a call when it ends: cut, or closed)."""

    def count() -> int:
        return access_log.read_text().count(f"POST {_STREAM_EVENTS} ")

    with contextlib.suppress(TimeoutError):
        await until(lambda: count() >= 2, timeout=10)
    return count()
