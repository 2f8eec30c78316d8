"""DeleteConversation on a real redis-server (tests/_redis.py): the service-level erasure tests
of tests/unit/test_erasure.py again, then what only Redis has: the per-conversation indexes,
kept in step with retention, and a stream with holes that is still no gap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests._redis import RedisServer, open_redis_store
from tests._waiting import until
from tests.unit.test_erasure import CONVERSATION, erase, holds_jo, replay, say
from tests.unit.test_erasure import TestErasure as _Erasure
from voicecore.config import Settings
from voicecore.errors import EventRangeEvictedError
from voicecore.events import ERASURE_EVENT, EventFilter, NewEvent
from voicecore.idempotency import Claim
from voicecore.registry import default_registry
from voicecore.service import VoiceCoreService
from voicecore.stores import Committed, Store, TurnWrites
from voicecore.stores._redis import RedisStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(redis: RedisServer) -> AsyncIterator[Store]:
    opened = await open_redis_store(redis)
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
def service(store: Store) -> VoiceCoreService:
    return VoiceCoreService(default_registry(), settings=Settings(), store=store)


class TestErasureOnRedis(_Erasure):
    """Captures, records, events, tenants, followers, replay: as in memory, on Redis."""


def _said(conversation_id: str, tenant: str = "a") -> NewEvent:
    return NewEvent("said", conversation_id, tenant=tenant)


async def _sequences(store: RedisStore, after: int = 0) -> list[int]:
    where = EventFilter(tenant=None)
    return [e.sequence async for e in store.events.subscribe(after, where, follow=False)]


class TestIndexes:
    async def test_an_erasure_leaves_no_key_of_the_conversation(self, store: RedisStore) -> None:
        service = VoiceCoreService(default_registry(), settings=Settings(), store=store)
        await say(service, "jo at example dot com", idempotency_key="k")
        before = set(await store.client.keys(f"{store.keys.prefix}:*"))
        assert len(before) == 4  # the capture, the record and the two indexes
        await erase(service)
        assert await store.client.keys(f"{store.keys.prefix}:*") == []

    async def test_the_key_index_lives_as_long_as_the_longest_key(self, redis: RedisServer) -> None:
        store = await open_redis_store(redis, capture_ttl=60.0, idempotency_ttl=600.0)
        try:
            service = VoiceCoreService(default_registry(), settings=Settings(), store=store)
            await say(service, "jo at example dot com", idempotency_key="k")
            index = store.keys.key_index("a", CONVERSATION)
            assert 60_000 < await store.client.pttl(index) <= 600_000
            assert {m[:1] for m in await store.client.zrange(index, 0, -1)} == {b"c", b"r"}
        finally:
            await store.aclose()

    async def test_expired_keys_leave_the_index(self, store: RedisStore) -> None:
        """A member whose key has expired (its score passed) goes at the next commit."""
        index = store.keys.key_index("a", CONVERSATION)
        await store.client.zadd(index, {b"rgone": 1})
        claim = Claim(("a", CONVERSATION, "k"), "f", b"response")
        await store.commit(TurnWrites((_said(CONVERSATION),), claim=claim))
        assert await store.client.zrange(index, 0, -1) == [
            b"r" + store.keys.record(claim.key).encode()
        ]

    async def test_writes_without_a_conversation_are_not_indexed(self, store: RedisStore) -> None:
        """A call that stands alone (no conversation id) cannot be erased: no index for it."""
        claim = Claim(("a", "", "k"), "f", b"response")
        done = await store.commit(TurnWrites((NewEvent("said", tenant="a"),), claim=claim))
        assert isinstance(done, Committed)
        kept = set(await store.client.keys(f"{store.keys.prefix}:*"))
        assert kept == {store.keys.record(claim.key).encode()}

    async def test_retention_keeps_the_event_index_in_step(self, redis: RedisServer) -> None:
        """Each trimmed entry leaves its conversation's index; a conversation whose events are
        all trimmed has no index left, and its erasure is NOT_FOUND-empty."""
        store = await open_redis_store(redis, retention=10)
        try:
            await store.commit(TurnWrites(tuple(_said("old") for _ in range(5))))
            index = store.keys.event_index("a", "old")
            assert await store.client.scard(index) == 5
            for _ in range(3):
                await store.commit(TurnWrites(tuple(_said("new") for _ in range(3))))
            assert await store.client.scard(index) == 1  # 14 events, 10 kept: 4 of old's went
            await store.commit(TurnWrites((_said("new"),)))
            assert not await store.client.exists(index)
            assert await store.client.scard(store.keys.event_index("a", "new")) == 10
            assert await store.erase(NewEvent(ERASURE_EVENT, "old", tenant="a")) is None
            assert await store.client.xlen(store.keys.stream) == 10
        finally:
            await store.aclose()


class TestStreamWithHoles:
    async def test_holes_are_no_gap_and_eviction_still_is(self, redis: RedisServer) -> None:
        """After an erasure, a cursor before or inside the holes replays the rest; once
        retention trims past a cursor, that cursor is OUT_OF_RANGE as before."""
        store = await open_redis_store(redis, retention=20)
        try:
            done = await store.commit(TurnWrites(tuple(_said(c) for c in "xyxyxy")))
            assert isinstance(done, Committed)
            first = done.sequences[0]
            erased = await store.erase(NewEvent(ERASURE_EVENT, "x", tenant="a"))
            assert erased is not None and erased.events == 3
            kept = [first + 1, first + 3, first + 5, erased.sequence]
            assert await _sequences(store) == kept
            for cursor in range(first - 1, first + 6):
                assert await _sequences(store, cursor) == [s for s in kept if s > cursor]
            # The erased head of the stream is not an eviction either.
            head = await store.erase(NewEvent(ERASURE_EVENT, "y", tenant="a"))
            assert head is not None
            assert await _sequences(store, first) == [erased.sequence, head.sequence]
            for _ in range(5):
                await store.commit(TurnWrites(tuple(_said("z") for _ in range(5))))
            with pytest.raises(EventRangeEvictedError):
                await _sequences(store, first)
        finally:
            await store.aclose()

    async def test_the_followers_window_forgets_the_erased_events(self, store: RedisStore) -> None:
        """Events the process's tail keeps for followers are erased there too: a replay served
        from that window after the erasure does not see them."""
        start = await store.commit(TurnWrites((_said("w"),)))
        assert isinstance(start, Committed)
        cursor = start.sequences[0]
        seen: list[str] = []

        async def follow() -> None:
            async for event in store.events.subscribe(cursor, EventFilter(tenant=None)):
                seen.append(event.type)
                if event.type == ERASURE_EVENT:
                    return

        followed = asyncio.create_task(follow())
        await until(lambda: store.events.followers == 1)
        await store.commit(TurnWrites((_said(CONVERSATION), _said("w"), _said(CONVERSATION))))
        await until(lambda: len(seen) == 3)
        erased = await store.erase(NewEvent(ERASURE_EVENT, CONVERSATION, tenant="a"))
        assert erased is not None and erased.events == 2
        await asyncio.wait_for(followed, 10)
        assert store.events._tail.after(cursor) is not None  # the replay below reads the window
        after = [
            (e.conversation_id, e.type)
            async for e in store.events.subscribe(cursor, EventFilter(tenant=None), follow=False)
        ]
        assert after == [("w", "said"), (CONVERSATION, ERASURE_EVENT)]

    async def test_an_erasure_event_of_an_other_tenant_keeps_the_window(
        self, store: RedisStore
    ) -> None:
        """The window drops only the erased conversation's events, in that tenant."""
        service = VoiceCoreService(default_registry(), settings=Settings(), store=store)
        await holds_jo(service, tenant="b")
        b_events = await replay(service, CONVERSATION, tenant="b")
        await holds_jo(service)
        await erase(service)
        assert await replay(service, CONVERSATION, tenant="b") == b_events
