"""The Redis event log's shared tail under random interleavings, against a real redis-server.

Followers join at random cursors while batches are committed, the window is tiny (so it is
trimmed all the time) and a slice is small, and the tail's XREAD connection is killed now and
then: every follower must see exactly the contiguous sequences after its cursor, once, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._redis import RedisServer, open_redis_store, running_redis
from tests._waiting import until
from voicecore.events import EventFilter, NewEvent
from voicecore.stores import Committed, TurnWrites, _redis_events
from voicecore.stores._redis import RedisStore

pytestmark = pytest.mark.integration

_END = "end"

_STEP = st.one_of(
    st.tuples(st.just("commit"), st.integers(1, 12)),
    st.tuples(st.just("join"), st.integers(0, 40)),
    st.tuples(st.just("run"), st.integers(1, 6)),
    st.tuples(st.just("cut"), st.just(0)),
)


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("tail")) as server:
        yield server


async def _commit(store: RedisStore, types: list[str]) -> list[int]:
    done = await store.commit(TurnWrites(tuple(NewEvent(t) for t in types)))
    assert isinstance(done, Committed)
    return list(done.sequences)


async def _follow(store: RedisStore, cursor: int, into: list[int]) -> None:
    async for event in store.events.subscribe(cursor, EventFilter()):
        into.append(event.sequence)
        if event.type == _END:
            return


async def _cut_the_tail(store: RedisStore) -> None:
    """Kill the tail's connection (the one blocked in, or last used for, XREAD)."""
    clients: Any = await store.client.client_list()
    for client in clients:
        if client["cmd"] == "xread":
            await store.client.client_kill_filter(_id=client["id"])


async def _play(redis: RedisServer, steps: list[tuple[str, int]]) -> None:
    store = await open_redis_store(redis, block_seconds=0.2)
    followers: list[tuple[int, list[int], asyncio.Task[None]]] = []
    try:
        issued = await _commit(store, ["first"])
        for step, n in steps:
            if step == "commit":
                issued += await _commit(store, ["e"] * n)
            elif step == "join":
                cursor = issued[max(0, len(issued) - 1 - n)]
                seen: list[int] = []
                followers.append((cursor, seen, asyncio.create_task(_follow(store, cursor, seen))))
            elif step == "run":
                for _ in range(n):
                    await asyncio.sleep(0)
            else:
                await _cut_the_tail(store)
        issued += await _commit(store, [_END])
        async with asyncio.timeout(30):
            await asyncio.gather(*(task for _, _, task in followers))
        for cursor, seen, _ in followers:
            assert seen == [s for s in issued if s > cursor], cursor
    finally:
        for _, _, task in followers:
            task.cancel()
        await store.aclose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(_STEP, max_size=30))
def test_every_follower_sees_every_event_once_in_order(
    redis: RedisServer, steps: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_redis_events, "_WINDOW", 3)
    monkeypatch.setattr(_redis_events, "REPLAY_SLICE", 2)
    monkeypatch.setattr(_redis_events, "_RETRY_SECONDS", 0.01)
    asyncio.run(_play(redis, steps))


async def _commit_after_each_call(store: RedisStore, calls: int, committed: list[int]) -> None:
    """Make the log's next ``calls`` Redis round trips each followed by a commit (as another
    replica's turn landing between them), its sequences added to ``committed``."""
    log = store.events
    call = log._call
    goal = len(committed) + calls

    async def call_then_commit(command: Any) -> Any:
        reply = await call(command)
        if len(committed) < goal:
            committed.extend(await _commit(store, ["between"]))
        return reply

    log._call = call_then_commit  # type: ignore[method-assign]


@pytest.mark.parametrize("before", [0, 1], ids=["no-stream-yet", "a-stream"])
@pytest.mark.parametrize("calls", [1, 2, 3])
async def test_a_follower_from_zero_sees_events_committed_while_it_starts(
    redis: RedisServer, before: int, calls: int
) -> None:
    """A follower from the start of the log sees every event committed after it asked, whichever
    of its round trips a commit lands after: the first one of the chaos test (issue 11) missed
    the first turn's events, committed between its look at the stream and at the counter."""
    store = await open_redis_store(redis, block_seconds=0.2)
    try:
        issued = [s for _ in range(before) for s in await _commit(store, ["first"])]
        seen: list[int] = []
        await _commit_after_each_call(store, calls, issued)
        follower = asyncio.create_task(_follow(store, 0, seen))
        await until(lambda: len(issued) == before + calls, timeout=30)
        issued += await _commit(store, [_END])
        async with asyncio.timeout(30):
            await follower
        assert seen == issued
    finally:
        await store.aclose()


async def test_a_filtered_follower_sees_its_events_from_the_stream_and_from_the_window(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind the window (read from the stream) and then live (from the window), a follower of
    one conversation sees that conversation's events, and only those."""
    monkeypatch.setattr(_redis_events, "_WINDOW", 2)
    monkeypatch.setattr(_redis_events, "REPLAY_SLICE", 2)
    store = await open_redis_store(redis, block_seconds=0.2)
    mine: list[int] = []

    async def commit_both(type: str = "e") -> None:
        for conversation_id in ("other", "mine"):
            done = await store.commit(TurnWrites((NewEvent(type, conversation_id),)))
            assert isinstance(done, Committed)
            if conversation_id == "mine":
                mine.extend(done.sequences)

    async def follow(seen: list[int]) -> None:
        async for event in store.events.subscribe(0, EventFilter(conversation_id="mine")):
            seen.append(event.sequence)
            if event.type == _END:
                return

    try:
        for _ in range(3):
            await commit_both()
        seen: list[int] = []
        follower = asyncio.create_task(follow(seen))
        await until(lambda: len(seen) == 3, timeout=30)
        for _ in range(3):
            await commit_both()
        await commit_both(_END)
        async with asyncio.timeout(30):
            await follower
        assert seen == mine
    finally:
        await store.aclose()
