"""The Redis section of ``nox -s bench``: the memory store and the Redis store side by side.

One private redis-server (no persistence) on loopback, pinned to the server's core (the
voicecore server is pinned there too; h2load runs on the other core): so "CPU per call" is
voicecore plus Redis, on one core, as a single-machine deployment would have it. For each store:
``capture_email`` as fast as it goes and at 1,000 req/s through h2load (the same body as the
main table: no conversation id, so each call is one commit, one round trip to Redis); CPU
microseconds per call (both processes, from /proc); then events delivered through Redis to one
follower (``RedisStore`` in this process: one commit of 64 events at a time, one XREAD reader).
Round trips per turn are counted by tests/integration/test_redis_store.py (``TestRoundTrips``):
2 for a turn of a held capture (GET, EVALSHA), 1 without a conversation.

Run alone: ``python benchmarks/_redis_bench.py [--seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _load import LoadResult, run_h2load
from _servers import ROOT, SERVER_CPU, ServerSpec, generate_stubs, start, taskset_prefix

from tests._redis import RedisServer

__all__ = ["redis_table"]

_EVENTS = 20_000
_BATCH = 64


def redis_table(args: argparse.Namespace, stubs: Path, bodies: dict[str, Path]) -> str:
    """The Markdown rows of the section (see the module docstring)."""
    with tempfile.TemporaryDirectory() as folder:
        redis = _pinned_redis(Path(folder))
        try:
            rows = [
                _store_row(label, argv, redis, args, stubs, bodies)
                for label, argv in (
                    ("memory store", ()),
                    ("Redis store", ("--store", redis.url)),
                )
            ]
            delivered = asyncio.run(_delivery_rate(redis.url))
        finally:
            redis.stop()
    memory, shared = rows
    lines = [
        "",
        "Redis store (redis-server 7 on loopback, pinned with the server to one core; "
        "CPU per call = voicecore + Redis):",
        "",
        "| store | capture_email max req/s | p50 / p99 ms at 1,000 req/s | CPU µs per call |",
        "|---|---|---|---|",
        *(_line(row) for row in rows),
        "",
        f"Redis / memory CPU per call: {shared['cpu_us'] / memory['cpu_us']:.2f}x; "
        f"events to one follower through Redis: {delivered:,.0f}/s; round trips to Redis per "
        "turn: 2 with a held capture (GET, EVALSHA), 1 without a conversation.",
    ]
    return "\n".join(lines)


def _pinned_redis(folder: Path) -> RedisServer:
    redis = RedisServer(folder)
    redis.start()
    prefix = taskset_prefix(SERVER_CPU)
    if prefix and redis._process is not None:
        os.sched_setaffinity(redis._process.pid, {SERVER_CPU})
    return redis


def _store_row(
    label: str,
    extra: tuple[str, ...],
    redis: RedisServer,
    args: argparse.Namespace,
    stubs: Path,
    bodies: dict[str, Path],
) -> dict[str, Any]:
    argv = (sys.executable, "-m", "voicecore", "serve", "--host", "127.0.0.1", "--port", "{port}")
    server = start(ServerSpec(label, (*argv, "--debug-primitives", *extra)), stubs)
    try:
        peak = run_h2load(server, bodies["capture_email"], seconds=args.seconds)
        before = server.cpu_seconds() + _cpu_seconds(redis)
        steady = run_h2load(server, bodies["capture_email"], seconds=args.seconds, rate=1000)
        cpu = server.cpu_seconds() + _cpu_seconds(redis) - before
    finally:
        server.stop()
    for result in (peak, steady):
        if result.succeeded != result.total:
            raise RuntimeError(f"{label}: {result.total - result.succeeded} requests failed")
    # The CPU delta spans the warm-up too, which h2load does not count: an over-estimate.
    return {"label": label, "peak": peak, "steady": steady, "cpu_us": cpu / steady.total * 1e6}


def _line(row: dict[str, Any]) -> str:
    peak, steady = row["peak"], row["steady"]
    assert isinstance(peak, LoadResult) and isinstance(steady, LoadResult)
    return (
        f"| {row['label']} | {peak.rps:,.0f} | {steady.p50_ms:.2f} / {steady.p99_ms:.2f} "
        f"| {row['cpu_us']:.0f} |"
    )


def _cpu_seconds(redis: RedisServer) -> float:
    assert redis._process is not None
    fields = Path(f"/proc/{redis._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _delivery_rate(url: str) -> float:
    """Events per second one follower receives through Redis while they are committed."""
    from voicecore.events import EventFilter, NewEvent
    from voicecore.stores import Committed, TurnWrites
    from voicecore.stores._redis import RedisStore

    store = await RedisStore.open(url, prefix="bench", retention=_EVENTS * 2)
    try:
        first = await store.commit(TurnWrites((NewEvent("bench.start"),)))
        assert isinstance(first, Committed)
        received = 0

        async def follow() -> None:
            nonlocal received
            async for _ in store.events.subscribe(first.sequences[0], EventFilter()):
                received += 1
                if received == _EVENTS:
                    return

        follower = asyncio.create_task(follow())
        batch = TurnWrites(tuple(NewEvent("bench.event", payload={"n": 1}) for _ in range(_BATCH)))
        started = time.perf_counter()
        for _ in range(_EVENTS // _BATCH + 1):
            await store.commit(batch)
        await asyncio.wait_for(follower, 60)
        return _EVENTS / (time.perf_counter() - started)
    finally:
        await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    from bench import _bodies  # the main table's request bodies

    stubs = generate_stubs()
    folder = Path(tempfile.mkdtemp(prefix="voicecore-bodies-"))
    print(redis_table(args, stubs, _bodies(stubs, folder)))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
