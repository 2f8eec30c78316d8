"""What the Redis section of the bench measures without a load generator, and its summary.

- ``round_trips_per_turn``: held captures through ``VoiceCoreClient`` against a server with the
  Redis store, two turns each (the email, then "yes"): the common case of a turn. The commands
  are counted as redis-server's MONITOR shows them, not inferred from our code.
- ``delivery``: events through Redis to one follower (``RedisStore`` in this process),
  committed by another process (this module run with ``-m``) as fast as it goes.
- ``summarise`` and ``render``: the medians of the interleaved rounds and the per-round ratios.

``benchmarks/_redis_bench.py`` drives them, with h2load; ``tests/integration/test_redis_bench.py``
runs them on a tiny budget.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Monitor

from voicecore.client import ClientConfig, VoiceCoreClient
from voicecore.events import EventFilter, NewEvent
from voicecore.stores import Committed, TurnWrites
from voicecore.stores._redis import RedisStore
from voicecore.stores._redis_expiry import SWEEP

__all__ = [
    "LIGHT_RATE",
    "MEMORY",
    "RATE",
    "REDIS",
    "RoundTrips",
    "StoreRun",
    "Delivery",
    "delivery",
    "process_cpu_seconds",
    "redis_pid",
    "render",
    "round_trips_per_turn",
    "summarise",
]

MEMORY = "memory store"
REDIS = "Redis store"
#: Issue 11's targets.
P99_TARGET_MS = 5.0
CPU_RATIO_TARGET = 1.4
EVENTS_TARGET = 20_000
ROUND_TRIPS_TARGET = 2.0
#: The paced rates (requests/s): the target's, and one that any host serves without queueing.
RATE = 1000
LIGHT_RATE = 200
_BATCH = 64  # events per commit in the delivery run
_DELIVERY_SECONDS = 120
_ROOT = Path(__file__).resolve().parent.parent  # where -m benchmarks._redis_measures runs


@dataclass(frozen=True, slots=True)
class StoreRun:
    """One store in one round: capture_email at max and at 1,000 req/s, and CPU per call at
    max (the voicecore process plus redis-server, which is idle for the memory store), and
    redis-server's alone."""

    round: int
    store: str
    max_rps: float
    p50_ms: float  # at 1,000 req/s
    p99_ms: float
    cpu_us: float
    redis_us: float
    light_p50_ms: float  # at LIGHT_RATE on one connection: a call's own latency
    light_p99_ms: float


@dataclass(frozen=True, slots=True)
class RoundTrips:
    """Commands Redis received from clients over ``turns`` turns, by name."""

    turns: int
    commands: dict[str, int]

    @property
    def per_turn(self) -> float:
        return sum(self.commands.values()) / self.turns


async def _watch(monitor: Monitor, until: str) -> Counter[str]:
    """Each client command MONITOR shows, by name, until the command ``until``: the commands a
    script runs (shown as from ``lua``) are not round trips and are left out, nor is the expiry
    sweep each process runs every few seconds, whatever the turns."""
    seen: Counter[str] = Counter()
    sweep = f"EVALSHA {hashlib.sha1(SWEEP.encode()).hexdigest()} "
    async for command in monitor.listen():
        if command["command"] == until:
            return seen
        if command["client_type"] != "lua" and not command["command"].startswith(sweep):
            seen[command["command"].split(" ", 1)[0].upper()] += 1
    raise AssertionError("MONITOR ended")  # pragma: no cover - listen() does not end


async def round_trips_per_turn(
    redis_url: str, port: int, *, conversations: int = 50, concurrency: int = 8
) -> RoundTrips:
    """Held captures against the server on ``port`` (its store at ``redis_url``): each a turn
    that holds the email and a turn that confirms it, with the client's idempotency keys; the
    commands Redis received meanwhile, as MONITOR shows them. A first round of conversations,
    not watched, lets the server's connection pool open what this concurrency needs (a new
    connection's HELLO is once per connection, not per turn)."""
    watcher, echoer = Redis.from_url(redis_url), Redis.from_url(redis_url)
    config = ClientConfig.model_validate({"endpoint": f"127.0.0.1:{port}"})
    end = f"end-of-turns-{time.monotonic_ns()}"
    try:
        await echoer.ping()  # connected before MONITOR starts: its HELLO is not counted
        async with VoiceCoreClient(config=config) as client:
            await _conversations(client, concurrency, concurrency)
            async with watcher.monitor() as monitor:
                seen = asyncio.create_task(_watch(monitor, f"ECHO {end}"))
                await _conversations(client, conversations, concurrency)
                await echoer.echo(end)
                commands = await asyncio.wait_for(seen, 60)
    finally:
        await watcher.aclose()
        await echoer.aclose()
    return RoundTrips(2 * conversations, dict(commands))


async def _conversations(client: VoiceCoreClient, count: int, concurrency: int) -> None:
    """``count`` held captures of two turns, ``concurrency`` at a time; each turn succeeds."""
    names = iter(range(count))

    async def converse() -> None:
        for index in names:
            conversation = f"round-trips-{index}-{time.monotonic_ns()}"
            for said in ("john dot smith at example dot com", "yes"):
                response = await client.execute(
                    "capture_email", {"transcription": said}, conversation_id=conversation
                )
                if not response.success:
                    raise RuntimeError(f"a held capture's turn failed: {response}")

    await asyncio.gather(*(converse() for _ in range(concurrency)))


@dataclass(frozen=True, slots=True)
class Delivery:
    """One run of ``delivery``: events per second into the stream (one committing process)
    and to one follower (first event to last), and redis-server's CPU microseconds per event
    over the run (its XADD in the commit script and its share of the reads)."""

    committed: float
    delivered: float
    redis_us: float


async def delivery(url: str, events: int, *, pin: Sequence[str] = ()) -> Delivery:
    """One follower (``RedisStore.events.subscribe`` in this process) reads ``events`` events
    through Redis while another process commits them as fast as it can, 64 to a commit (as a
    replica would; ``pin`` prefixes its command, e.g. a taskset)."""
    prefix = f"bench{time.monotonic_ns()}"
    pid = await redis_pid(url)
    store = await RedisStore.open(url, prefix=prefix, retention=2 * events)
    try:
        redis_cpu = process_cpu_seconds(pid)
        start = await store.commit(TurnWrites((NewEvent("bench.start"),)))
        assert isinstance(start, Committed)
        times: list[float] = []

        async def follow() -> None:
            async for _ in store.events.subscribe(start.sequences[0], EventFilter()):
                times.append(time.perf_counter())
                if len(times) == events:
                    return

        follower = asyncio.create_task(follow())
        command = [*pin, sys.executable, "-m", "benchmarks._redis_measures", url, prefix]
        committer = await asyncio.create_subprocess_exec(
            *command, str(events), cwd=_ROOT, stdout=asyncio.subprocess.PIPE
        )
        try:
            async with asyncio.timeout(_DELIVERY_SECONDS):  # a stuck run fails, it does not hang
                said, _ = await committer.communicate()
                if committer.returncode != 0:
                    raise RuntimeError(f"the committer failed: {' '.join(command)}")
                await follower
            redis_cpu = process_cpu_seconds(pid) - redis_cpu
        except TimeoutError:
            raise RuntimeError(
                f"delivery unfinished after {_DELIVERY_SECONDS} s: the follower received "
                f"{len(times)} of {events} events, the committer's exit code {committer.returncode}"
            ) from None
        finally:
            follower.cancel()
            if committer.returncode is None:
                committer.kill()
                await committer.wait()
    finally:
        await store.aclose()
    delivered = (events - 1) / (times[-1] - times[0])
    return Delivery(float(said), delivered, redis_cpu / events * 1e6)


async def commit_events(url: str, prefix: str, events: int) -> float:
    """Commit ``events`` events, 64 to a commit (the other side of ``delivery``); the rate."""
    store = await RedisStore.open(url, prefix=prefix, retention=2 * events)
    try:
        batch = TurnWrites(tuple(NewEvent("bench.event", payload={"n": 1}) for _ in range(_BATCH)))
        commits = -(-events // _BATCH)
        started = time.perf_counter()
        for _ in range(commits):
            await store.commit(batch)
        return commits * _BATCH / (time.perf_counter() - started)
    finally:
        await store.aclose()


async def redis_pid(url: str) -> int:
    """redis-server's process id, as it reports it (``INFO server``)."""
    client = Redis.from_url(url)
    try:
        info: dict[str, Any] = await client.info("server")
    finally:
        await client.aclose()
    return int(info["process_id"])


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` and all its threads (/proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise(runs: list[StoreRun], deliveries: list[Delivery]) -> dict[str, Any]:
    """Each store's medians over the rounds, the Redis/memory CPU ratio of each round, and the
    event rates of each round."""
    summary: dict[str, Any] = {"rounds": len({run.round for run in runs})}
    for store in (MEMORY, REDIS):
        mine = [run for run in runs if run.store == store]
        summary[store] = {
            metric: _spread([float(getattr(run, metric)) for run in mine])
            for metric in (
                "max_rps",
                "p50_ms",
                "p99_ms",
                "cpu_us",
                "redis_us",
                "light_p50_ms",
                "light_p99_ms",
            )
        }
    by_round = {(run.round, run.store): run for run in runs}
    summary["cpu_ratio"] = _spread(
        [
            by_round[(index, REDIS)].cpu_us / by_round[(index, MEMORY)].cpu_us
            for index, store in by_round
            if store == MEMORY and (index, REDIS) in by_round
        ]
    )
    summary["events_per_s"] = _spread([run.delivered for run in deliveries])
    summary["committed_per_s"] = _spread([run.committed for run in deliveries])
    summary["redis_us_per_event"] = _spread([run.redis_us for run in deliveries])
    return summary


def _cell(cell: dict[str, float], digits: int = 0) -> str:
    return f"{cell['median']:,.{digits}f} ({cell['min']:,.{digits}f}-{cell['max']:,.{digits}f})"


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def render(summary: dict[str, Any], trips: RoundTrips, pinning: str) -> str:
    """The section as Markdown: the two stores' rows, then the targets with their verdicts."""
    lines = [
        f"Memory store against Redis store (redis-server on loopback, {pinning}); median of "
        f"{summary['rounds']} interleaved round(s), (min-max) in brackets.",
        "",
        "| store | capture_email max req/s | p50 ms at 1,000 req/s | p99 ms at 1,000 req/s "
        f"| p50 ms at {LIGHT_RATE} req/s, 1 connection "
        f"| p99 ms at {LIGHT_RATE} req/s, 1 connection "
        "| CPU us per call (voicecore + Redis) | of which redis-server |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for store in (MEMORY, REDIS):
        row = summary[store]
        lines.append(
            f"| {store} | {_cell(row['max_rps'])} | {_cell(row['p50_ms'], 2)} "
            f"| {_cell(row['p99_ms'], 2)} | {_cell(row['light_p50_ms'], 2)} "
            f"| {_cell(row['light_p99_ms'], 2)} | {_cell(row['cpu_us'])} "
            f"| {_cell(row['redis_us'], 1)} |"
        )
    ratio = summary["cpu_ratio"]["median"]
    events = summary["events_per_s"]["median"]
    commands = ", ".join(f"{name} {count}" for name, count in sorted(trips.commands.items()))
    lines += [
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        _p99_row(summary),
        f"| Redis CPU per call <= {CPU_RATIO_TARGET}x memory's (per round) "
        f"| {_cell(summary['cpu_ratio'], 2)}x | {_verdict(ratio <= CPU_RATIO_TARGET)} |",
        f"| events through Redis to one follower >= {EVENTS_TARGET:,}/s "
        f"| {_cell(summary['events_per_s'])}/s (committed by one process: "
        f"{_cell(summary['committed_per_s'])}/s; redis-server CPU per event: "
        f"{_cell(summary['redis_us_per_event'], 1)} us) | {_verdict(events >= EVENTS_TARGET)} |",
        f"| round trips to Redis per held-capture turn <= {ROUND_TRIPS_TARGET:g} "
        f"| {trips.per_turn:.2f} ({commands} over {trips.turns} turns) "
        f"| {_verdict(trips.per_turn <= ROUND_TRIPS_TARGET)} |",
    ]
    return "\n".join(lines)


def _p99_row(summary: dict[str, Any]) -> str:
    """The p99 target's row. A server that cannot take 1,000 req/s queues at that rate, and its
    p99 is the queue's, not the call's: then the verdict says so, and gives the p99 at
    LIGHT_RATE on one connection (a call's own latency) of both stores beside it."""
    redis, memory = summary[REDIS], summary[MEMORY]
    p99 = redis["p99_ms"]["median"]
    target = f"| p99 at 1,000 req/s <= {P99_TARGET_MS:g} ms with Redis | {p99:.2f} ms "
    if redis["max_rps"]["median"] >= RATE:
        return target + f"| {_verdict(p99 <= P99_TARGET_MS)} |"
    return target + (
        f"| not measurable here: the Redis store took {redis['max_rps']['median']:,.0f} req/s "
        f"at most on this host, so at 1,000 req/s calls queue; at {LIGHT_RATE} req/s on one "
        "connection its p99 "
        f"was {redis['light_p99_ms']['median']:.2f} ms (memory store "
        f"{memory['light_p99_ms']['median']:.2f} ms) |"
    )


if __name__ == "__main__":  # the committer of delivery_rate: URL PREFIX EVENTS
    print(asyncio.run(commit_events(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
