"""DeleteConversation through the service, on the in-memory store (and, subclassed in
tests/integration/test_redis_erasure.py, on Redis): what an erasure forgets, deletes, keeps.

The caller's tenant and scopes are set on ``current_call`` as the server's auth would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable

import pytest
from grpclib import GRPCError
from grpclib.const import Status

from tests._waiting import until
from tests.unit.test_tenants import caller
from voicecore._in_memory import in_memory_store
from voicecore._json import struct_from_dict
from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    DeleteConversationResponse,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    PrimitiveState,
    StreamEventsRequest,
)
from voicecore.capture import CaptureKey, CaptureState, InMemoryCaptureStore
from voicecore.capture._store import Versioned
from voicecore.client import InProcessClient
from voicecore.config import Settings
from voicecore.events import ERASURE_EVENT, EventFilter, InMemoryEventLog, NewEvent
from voicecore.idempotency import InMemoryIdempotencyStore, Record
from voicecore.registry import default_registry
from voicecore.service import VoiceCoreService
from voicecore.stores import Erasure, Outcome, Store, StoreUnavailableError, TurnWrites

CONVERSATION = "call-1"
OTHER = "call-2"


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    yield in_memory_store(Settings(), events=InMemoryEventLog(first_sequence=1))


@pytest.fixture
def service(store: Store) -> VoiceCoreService:
    return VoiceCoreService(default_registry(), settings=Settings(), store=store)


async def say(
    service: VoiceCoreService,
    transcription: str,
    *,
    tenant: str = "a",
    conversation_id: str = CONVERSATION,
    idempotency_key: str = "",
) -> ExecutePrimitiveResponse:
    request = ExecutePrimitiveRequest(
        objective_type="capture_email",
        conversation_id=conversation_id,
        params=struct_from_dict({"transcription": transcription}),
        idempotency_key=idempotency_key,
    )
    with caller(tenant, "execute"):
        response = await service.execute_primitive(request)
    assert response.success, response.error
    return response


async def erase(
    service: VoiceCoreService,
    conversation_id: str = CONVERSATION,
    *scopes: str,
    as_tenant: str = "a",
    tenant: str = "",
    allow_missing: bool = False,
    trace_id: str = "",
) -> DeleteConversationResponse:
    request = DeleteConversationRequest(
        conversation_id=conversation_id,
        allow_missing=allow_missing,
        tenant=tenant,
        trace_id=trace_id,
    )
    with caller(as_tenant, *(scopes or ("execute",))):
        return await service.delete_conversation(request)


async def replay(
    service: VoiceCoreService,
    conversation_id: str = "",
    *,
    tenant: str = "a",
    after: int = 0,
    admin: bool = False,
) -> list[Event]:
    request = StreamEventsRequest(
        conversation_id=conversation_id, after_sequence=after, replay_only=True
    )
    with caller(tenant, "admin" if admin else "events"):
        return [event async for event in service.stream_events(request)]


def state(response: ExecutePrimitiveResponse) -> PrimitiveState:
    assert response.metadata is not None
    return response.metadata.state


def value(response: ExecutePrimitiveResponse) -> object:
    assert response.data is not None
    return response.data.to_dict().get("value")


async def holds_jo(service: VoiceCoreService, **where: str) -> None:
    held = await say(service, "jo at example dot com", **where)
    assert state(held) == PrimitiveState.NEEDS_CONFIRMATION


class TestErasure:
    async def test_a_held_capture_is_forgotten(self, service: VoiceCoreService) -> None:
        """The next turn starts afresh: "yes" confirms nothing."""
        await holds_jo(service)
        erased = await erase(service)
        assert erased.captures_forgotten == 1 and erased.records_forgotten == 0
        assert erased.events_deleted > 0 and erased.sequence > 0
        after = await say(service, "yes")
        assert state(after) == PrimitiveState.INCOMPLETE and value(after) is None

    async def test_a_retried_key_runs_again(self, service: VoiceCoreService) -> None:
        """The idempotency record is gone: the same key re-executes rather than replays."""
        first = await say(service, "jo at example dot com", idempotency_key="turn-1")
        again = await say(service, "jo at example dot com", idempotency_key="turn-1")
        assert again.metadata is not None and again.metadata.replayed
        erased = await erase(service)
        assert erased.records_forgotten == 1
        rerun = await say(service, "jo at example dot com", idempotency_key="turn-1")
        assert rerun.metadata is not None and not rerun.metadata.replayed
        assert first.metadata is not None
        assert rerun.metadata.last_event_sequence > first.metadata.last_event_sequence

    async def test_the_replay_is_the_erasure_event_alone(self, service: VoiceCoreService) -> None:
        """Its events are gone; the erasure event says what went, without a value."""
        await holds_jo(service)
        before = await replay(service, CONVERSATION)
        trace = "e" * 32
        erased = await erase(service, trace_id=trace)
        (event,) = await replay(service, CONVERSATION)
        assert (event.type, event.sequence, event.trace_id) == (
            ERASURE_EVENT,
            erased.sequence,
            trace,
        )
        assert event.conversation_id == CONVERSATION and event.objective_type == ""
        assert event.payload is not None
        assert event.payload.to_dict() == {
            "events_deleted": len(before),
            "captures_forgotten": 1,
            "records_forgotten": 0,
        }
        assert erased.events_deleted == len(before)
        assert "jo" not in str(event.payload.to_dict())

    async def test_another_tenant_gets_not_found_and_changes_nothing(
        self, service: VoiceCoreService
    ) -> None:
        """To b, a's conversation does not exist: the same answer as one never used."""
        await holds_jo(service)
        before = await replay(service, CONVERSATION)
        with pytest.raises(GRPCError) as other:
            await erase(service, as_tenant="b")
        with pytest.raises(GRPCError) as unused:
            await erase(service, "never-used", as_tenant="b")
        assert other.value.status == unused.value.status == Status.NOT_FOUND
        assert other.value.message == unused.value.message
        assert await replay(service, CONVERSATION) == before
        assert value(await say(service, "yes")) == "jo@example.com"

    async def test_naming_another_tenant_needs_admin(self, service: VoiceCoreService) -> None:
        await holds_jo(service)
        with pytest.raises(GRPCError) as denied:
            await erase(service, as_tenant="b", tenant="a")
        assert denied.value.status == Status.PERMISSION_DENIED
        assert denied.value.message is not None and "admin" in denied.value.message
        assert (
            await erase(service, CONVERSATION, "admin", as_tenant="ops", tenant="a")
        ).captures_forgotten == 1
        assert state(await say(service, "yes")) == PrimitiveState.INCOMPLETE

    async def test_naming_ones_own_tenant_needs_nothing_more(
        self, service: VoiceCoreService
    ) -> None:
        await holds_jo(service)
        assert (await erase(service, tenant="a")).captures_forgotten == 1

    async def test_other_conversations_are_untouched(self, service: VoiceCoreService) -> None:
        await holds_jo(service)
        await holds_jo(service, conversation_id=OTHER)
        kept = await replay(service, OTHER)
        await erase(service)
        assert await replay(service, OTHER) == kept
        assert value(await say(service, "yes", conversation_id=OTHER)) == "jo@example.com"

    async def test_erasing_again_is_not_found_unless_allow_missing(
        self, service: VoiceCoreService
    ) -> None:
        """AIP-135: NOT_FOUND, or OK with nothing erased and no event when allowed missing."""
        await holds_jo(service)
        await erase(service)
        last = service.events.last_sequence
        with pytest.raises(GRPCError) as again:
            await erase(service)
        assert again.value.status == Status.NOT_FOUND
        assert await erase(service, allow_missing=True) == DeleteConversationResponse()
        assert service.events.last_sequence == last
        assert [e.type for e in await replay(service, CONVERSATION)] == [ERASURE_EVENT]

    async def test_a_used_conversation_is_erased_with_its_earlier_erasure_kept(
        self, service: VoiceCoreService
    ) -> None:
        """Erased, used again, erased again: both erasure events stay, nothing else."""
        await holds_jo(service)
        first = await erase(service)
        await holds_jo(service)
        second = await erase(service)
        seen = [(e.type, e.sequence) for e in await replay(service, CONVERSATION)]
        assert seen == [(ERASURE_EVENT, first.sequence), (ERASURE_EVENT, second.sequence)]

    @pytest.mark.parametrize(
        ("conversation_id", "tenant", "named"),
        [
            ("", "", "conversation_id"),
            ("x" * 257, "", "conversation_id"),
            (CONVERSATION, "t" * 257, "tenant"),
        ],
    )
    async def test_a_bad_field_is_invalid_argument_naming_it(
        self, service: VoiceCoreService, conversation_id: str, tenant: str, named: str
    ) -> None:
        await holds_jo(service)
        with pytest.raises(GRPCError) as refused:
            await erase(service, conversation_id, "admin", tenant=tenant)
        assert refused.value.status == Status.INVALID_ARGUMENT
        assert refused.value.message is not None and refused.value.message.startswith(named)
        assert value(await say(service, "yes")) == "jo@example.com"

    async def test_a_live_follower_sees_the_erasure(self, service: VoiceCoreService) -> None:
        await holds_jo(service)
        start = service.events.last_sequence
        request = StreamEventsRequest(conversation_id=CONVERSATION, after_sequence=start)

        async def follow() -> Event:
            with caller("a", "events"):
                async for event in service.stream_events(request):
                    return event
            raise AssertionError("the stream ended")

        followed = asyncio.create_task(follow())
        await until(lambda: service.events.followers == 1)  # type: ignore[attr-defined]
        erased = await erase(service)
        event = await asyncio.wait_for(followed, 10)
        assert (event.type, event.sequence) == (ERASURE_EVENT, erased.sequence)

    async def test_the_global_replay_has_no_gap(self, service: VoiceCoreService) -> None:
        """Every cursor, inside the erased range too, replays without OUT_OF_RANGE: the rest of
        the log in order, the erased events simply not there."""
        await holds_jo(service, conversation_id=OTHER)
        await holds_jo(service)
        await holds_jo(service, conversation_id=OTHER, tenant="b")
        whole = await replay(service, tenant="a")
        mine = {e.sequence for e in whole if e.conversation_id == CONVERSATION}
        every_before = await replay(service, tenant="ops", admin=True)
        erased = await erase(service)
        kept = [e.sequence for e in whole if e.sequence not in mine] + [erased.sequence]
        assert [e.sequence for e in await replay(service, tenant="a")] == kept
        for cursor in sorted(mine):
            after = [e.sequence for e in await replay(service, tenant="a", after=cursor)]
            assert after == [s for s in kept if s > cursor]
        every = await replay(service, tenant="ops", admin=True)
        others = [e.sequence for e in every_before if e.sequence not in mine]
        assert [e.sequence for e in every] == [*others, erased.sequence]
        assert {e.conversation_id for e in every_before if e.sequence in others} == {OTHER}

    async def test_a_turn_that_read_before_the_erasure_runs_on_a_fresh_state(
        self, store: Store
    ) -> None:
        """A turn that loaded the held value, then lost it to an erasure, does not write it
        back: its commit conflicts and it runs again on nothing held."""
        erasing = EraseDuringLoad(store)
        service = VoiceCoreService(default_registry(), settings=Settings(), store=erasing)
        await holds_jo(service)
        erasing.armed = True
        after = await say(service, "yes")
        assert erasing.erased is not None and erasing.erased.captures == 1
        assert state(after) == PrimitiveState.INCOMPLETE and value(after) is None


class TestInMemoryParts:
    async def test_an_unreachable_store_is_unavailable(self) -> None:
        service = VoiceCoreService(default_registry(), settings=Settings(), store=Unreachable())
        with pytest.raises(GRPCError) as failed:
            await erase(service)
        assert failed.value.status == Status.UNAVAILABLE

    async def test_outside_any_rpc_the_tenant_is_the_empty_one(
        self, service: VoiceCoreService
    ) -> None:
        """Called directly (no current_call), as without auth: tenant "" and its conversation."""
        await holds_jo(service, tenant="")
        request = DeleteConversationRequest(conversation_id=CONVERSATION)
        assert (await service.delete_conversation(request)).captures_forgotten == 1
        with pytest.raises(GRPCError) as other:
            await service.delete_conversation(
                DeleteConversationRequest(conversation_id=CONVERSATION, tenant="a")
            )
        assert other.value.status == Status.PERMISSION_DENIED

    async def test_the_in_process_client_erases_in_the_callers_tenant(
        self, service: VoiceCoreService
    ) -> None:
        """Inside a's RPC, a's conversation; outside any RPC, tenant "", where it is not."""
        await holds_jo(service)
        async with InProcessClient(service) as client:
            with pytest.raises(Exception, match="NOT_FOUND"):
                await client.delete_conversation(CONVERSATION)
            with caller("a", "execute"):
                erased = await client.delete_conversation(CONVERSATION)
        assert erased.captures_forgotten == 1

    async def test_erased_places_are_evicted_like_events(self) -> None:
        """An erased event's place counts towards retention and leaves as the events do."""
        log = InMemoryEventLog(retention=4, first_sequence=1)
        for _ in range(3):
            await log.append("said", conversation_id="c", tenant="a")
        assert [e.sequence async for e in log.subscribe(0, EventFilter(tenant="a"), follow=False)]
        assert log.erase("a", "c") == 3 and log.retained_bytes == 0
        for _ in range(5):
            await log.append("said", conversation_id="d", tenant="a")
        kept = [e.sequence async for e in log.subscribe(0, EventFilter(tenant="a"), follow=False)]
        assert kept == [5, 6, 7, 8]
        assert log.retained_bytes > 0

    async def test_only_that_tenants_conversation_is_forgotten(self) -> None:
        captures = InMemoryCaptureStore()
        for key in (
            CaptureKey("c", "o", "a"),
            CaptureKey("c", "p", "a"),
            CaptureKey("c", "o", "b"),
        ):
            await captures.put(key, CaptureState(partial="1"))
        await captures.put("not a capture key", CaptureState())
        assert captures.forget_conversation("a", "c") == 2
        assert len(captures) == 2
        records = InMemoryIdempotencyStore()
        kept: tuple[Hashable, ...] = (("a", "c", "k1"), ("a", "c", "k2"), ("b", "c", "k1"), "x")
        for record_key in kept:
            records.keep(record_key, Record("f", b"r", 1))
        assert records.forget_conversation("a", "c") == 2
        assert len(records) == 2


class EraseDuringLoad:
    """A store that, once armed, erases the conversation right after the next load."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.armed = False
        self.erased: Erasure | None = None

    @property
    def events(self) -> InMemoryEventLog:
        return self.inner.events  # type: ignore[return-value]

    async def load(self, key: Hashable) -> Versioned:
        kept = await self.inner.load(key)
        if self.armed:
            self.armed = False
            assert isinstance(key, CaptureKey)
            self.erased = await self.inner.erase(
                NewEvent(ERASURE_EVENT, key.conversation_id, tenant=key.tenant)
            )
        return kept

    async def commit(self, turn: TurnWrites) -> Outcome:
        return await self.inner.commit(turn)

    async def erase(self, event: NewEvent) -> Erasure | None:
        return await self.inner.erase(event)

    async def reachable(self) -> bool:
        return await self.inner.reachable()

    async def aclose(self) -> None:
        await self.inner.aclose()


class Unreachable(EraseDuringLoad):
    """A store whose erasure finds the store down."""

    def __init__(self) -> None:
        super().__init__(in_memory_store(Settings()))

    async def erase(self, event: NewEvent) -> Erasure | None:
        raise StoreUnavailableError("the store did not answer: TimeoutError")
