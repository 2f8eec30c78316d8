"""The Redis section of ``nox -s bench``: the memory store and the Redis store side by side.

One private redis-server (``tests._redis``: loopback, a free port, a temporary directory, no
persistence, stopped at the end), pinned with ``taskset -a`` to the voicecore server's CPU (h2load
and this script run on the other): so "CPU per call" is voicecore plus Redis on one core, as a
single-machine deployment would have it. Both servers (``voicecore serve``, and ``voicecore serve
--store redis://...``) are started once and measured in turn, in a rotating order, for each
round, so a change in the machine's load hits both alike. Each round, each store:

- capture_email as fast as it goes (h2load 4 x 8; the main table's body: no conversation id);
  CPU per call = the CPU seconds the server and redis-server used in that run / its calls;
- capture_email at 1,000 req/s, open-loop (h2load paces each of 4 connections at 250 req/s with
  up to 8 requests in flight, so a late answer does not delay the next request): p50 and p99;
  and at 200 req/s on one connection, one request at a time (a rate a slow host serves too;
  h2load paces several connections in step, which sends bursts), so the latency Redis adds to
  a call shows where 1,000 req/s is more than the host takes;

then events delivered through Redis to one follower in this process (on the load CPU) while
a committing process (on the server's CPU, the servers idle) writes them as fast as it goes.
Last, the round trips to Redis of a held
capture's turns, counted by redis-server itself (``INFO commandstats``).

Run alone: ``python benchmarks/bench.py --redis-only``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from _load import LoadResult, run_h2load
from _redis_measures import (
    LIGHT_RATE,
    MEMORY,
    RATE,
    REDIS,
    Delivery,
    StoreRun,
    delivery,
    process_cpu_seconds,
    redis_pid,
    render,
    round_trips_per_turn,
    summarise,
)
from _servers import LOAD_CPU, SERVER_CPU, Running, ServerSpec, start, taskset_prefix

from tests._redis import running_redis

__all__ = ["redis_section"]

_PACED_STREAMS = 8


def redis_section(args: argparse.Namespace, stubs: Path, bodies: dict[str, Path]) -> dict[str, Any]:
    """Measure (see the module docstring): the Markdown table, the summary, every run."""
    body = bodies["capture_email"]
    events = 5_000 if args.quick else 20_000
    with tempfile.TemporaryDirectory() as folder, running_redis(Path(folder)) as redis:
        pid = asyncio.run(redis_pid(redis.url))
        pinning = _pin(pid)
        servers: list[Running] = []
        runs: list[StoreRun] = []
        deliveries: list[Delivery] = []
        try:
            for label, extra in ((MEMORY, ()), (REDIS, ("--store", redis.url))):
                servers.append(start(ServerSpec(label, (*_serve_argv(), *extra)), stubs))
            for round_index in range(args.rounds):
                rotation = round_index % len(servers)
                for server in servers[rotation:] + servers[:rotation]:
                    runs.append(_measure(server, pid, body, round_index, args.seconds))
                pin = taskset_prefix(SERVER_CPU)  # the committer: a replica, on the server's CPU
                deliveries.append(asyncio.run(delivery(redis.url, events, pin=pin)))
                rate = deliveries[-1].delivered
                print(f"round {round_index + 1}: {rate:,.0f} events/s via Redis", flush=True)
            trips = asyncio.run(round_trips_per_turn(redis.url, servers[1].port))
        finally:
            for server in servers:
                server.stop()
    summary = summarise(runs, deliveries)
    return {
        "table": render(summary, trips, pinning),
        "summary": summary,
        "round_trips": asdict(trips),
        "runs": [asdict(run) for run in runs],
        "deliveries": [asdict(run) for run in deliveries],
    }


def _serve_argv() -> tuple[str, ...]:
    python = sys.executable
    serve = (python, "-m", "voicecore", "serve", "--host", "127.0.0.1", "--port", "{port}")
    return (*serve, "--debug-primitives")


def _pin(pid: int) -> str:
    """Pin every thread of redis-server to the server's CPU, where taskset works; say what was
    done, for the table."""
    taskset = shutil.which("taskset")
    if not taskset_prefix(SERVER_CPU) or taskset is None:
        return "not pinned: taskset or a second CPU is missing"
    command = [taskset, "-a", "-p", "-c", str(SERVER_CPU), str(pid)]
    subprocess.run(command, check=True, capture_output=True)
    return (
        f"pinned with taskset to CPU {SERVER_CPU} with the voicecore server; "
        f"h2load and the follower on CPU {LOAD_CPU}"
    )


def _measure(server: Running, pid: int, body: Path, round_index: int, seconds: float) -> StoreRun:
    server_before, redis_before = server.cpu_seconds(), process_cpu_seconds(pid)
    peak = run_h2load(server, body, seconds=seconds)
    redis_cpu = process_cpu_seconds(pid) - redis_before
    cpu = server.cpu_seconds() - server_before + redis_cpu
    steady = run_h2load(server, body, seconds=seconds, rate=RATE, paced_streams=_PACED_STREAMS)
    light = run_h2load(server, body, seconds=seconds, rate=LIGHT_RATE, connections=1)
    _require_all_succeeded(server.spec.label, peak, steady, light)
    # h2load counts no call of its 0.5 s warm-up, but the CPU delta spans it: the calls it made
    # are estimated at the measured rate.
    calls = peak.rps * (seconds + 0.5)
    label = server.spec.label
    print(
        f"round {round_index + 1} {label:14} {peak.rps:6.0f}/s p99 {steady.p99_ms:.1f} ms",
        flush=True,
    )
    per_call = 1e6 / calls
    return StoreRun(
        round_index,
        label,
        peak.rps,
        steady.p50_ms,
        steady.p99_ms,
        cpu * per_call,
        redis_cpu * per_call,
        light.p50_ms,
        light.p99_ms,
    )


def _require_all_succeeded(label: str, *results: LoadResult) -> None:
    for result in results:
        if result.succeeded != result.total:
            raise RuntimeError(f"{label}: {result.total - result.succeeded} requests failed")
