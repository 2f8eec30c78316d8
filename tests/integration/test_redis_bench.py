"""The Redis section of the bench (``benchmarks/_redis_measures.py``, ``nox -s bench --
--redis-only``) on a tiny budget: what it counts is what it says it counts, against a real
redis-server; its summary reads each round against the same round."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks._redis_measures import (
    LIGHT_RATE,
    MEMORY,
    REDIS,
    Delivery,
    RoundTrips,
    StoreRun,
    delivery,
    process_cpu_seconds,
    redis_pid,
    render,
    round_trips_per_turn,
    summarise,
)
from tests._redis import RedisServer
from tests._servers import start_server

pytestmark = pytest.mark.integration


async def test_a_held_capture_turn_is_two_round_trips(redis: RedisServer) -> None:
    """Counted by redis-server's MONITOR: the state's GET and the commit's EVALSHA per turn;
    the commands the script runs inside Redis are not round trips."""
    async with start_server(env={"VOICECORE_STORE": redis.url}) as server:
        trips = await round_trips_per_turn(redis.url, server.port, conversations=3, concurrency=2)
    assert trips == RoundTrips(6, {"GET": 6, "EVALSHA": 6})
    assert trips.per_turn == 2


async def test_every_event_reaches_the_follower(redis: RedisServer) -> None:
    """The committing process ends and the follower has read every event (else a timeout)."""
    measured = await delivery(redis.url, 300)
    assert measured.committed > 0 and measured.delivered > 0


async def test_cpu_is_read_from_the_redis_process(redis: RedisServer) -> None:
    pid = await redis_pid(redis.url)
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "redis-server"
    assert process_cpu_seconds(pid) >= 0


def _run(round_index: int, store: str, cpu_us: float, max_rps: float = 2000) -> StoreRun:
    return StoreRun(
        round_index,
        store,
        max_rps=max_rps,
        p50_ms=1.0,
        p99_ms=4.0,
        cpu_us=cpu_us,
        redis_us=cpu_us / 10,
        light_p50_ms=0.5,
        light_p99_ms=cpu_us / 100,
    )


def test_the_cpu_ratio_is_taken_round_by_round() -> None:
    """Per-round ratios 1.5, 1.1 and 1.3: median 1.3 (the ratio of the medians would be 1.1)."""
    runs = [
        _run(0, MEMORY, 100),
        _run(0, REDIS, 150),
        _run(1, REDIS, 220),
        _run(1, MEMORY, 200),
        _run(2, MEMORY, 300),
        _run(2, REDIS, 390),
    ]
    deliveries = [Delivery(30_000, 21_000, 3), Delivery(30_000, 19_000, 4), Delivery(9, 25_000, 5)]
    summary = summarise(runs, deliveries)
    assert summary["rounds"] == 3
    assert summary["cpu_ratio"] == pytest.approx({"median": 1.3, "min": 1.1, "max": 1.5})
    assert summary[REDIS]["cpu_us"]["median"] == 220
    assert summary[REDIS]["redis_us"]["median"] == 22
    assert summary["events_per_s"]["median"] == 21_000
    assert summary["redis_us_per_event"]["median"] == 4
    table = render(summary, RoundTrips(4, {"GET": 4, "EVALSHA": 4, "XRANGE": 1}), "not pinned")
    assert "| 1.30 (1.10-1.50)x | met |" in table
    assert "| 2.25 (EVALSHA 4, GET 4, XRANGE 1 over 4 turns) | NOT met |" in table
    assert "| 4.00 ms | met |" in table


def test_a_p99_of_a_queue_is_not_a_verdict() -> None:
    """A Redis store that took 600 req/s at most: at 1,000 req/s its p99 is a queue's, so the
    row says so and gives both stores' p99 at the light rate instead of "NOT met"."""
    runs = [_run(0, MEMORY, 100, max_rps=900), _run(0, REDIS, 150, max_rps=600)]
    summary = summarise(runs, [Delivery(30_000, 21_000, 3)])
    table = render(summary, RoundTrips(2, {"GET": 2, "EVALSHA": 2}), "not pinned")
    assert "| 4.00 ms | not measurable here: the Redis store took 600 req/s at most" in table
    assert (
        f"at {LIGHT_RATE} req/s on one connection its p99 was 1.50 ms (memory store 1.00 ms) |"
        in table
    )
    (p99_row,) = [line for line in table.splitlines() if line.startswith("| p99 at 1,000")]
    assert "NOT met" not in p99_row
