"""A turn is atomic and loses no update: concurrent turns of one capture, counted, not timed.

Every test runs against each backend the ``store`` fixture gives. ``LoadBarrier`` holds each
turn's first load until every turn of the round has loaded, so all of them compute on the same
state and all but one must lose the commit and compute again: the interleaving is forced, not
hoped for.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Hashable

import pytest

from tests._fakes import FourDigits
from voicecore._execution import COMMIT_TRIES
from voicecore._in_memory import in_memory_store
from voicecore._json import struct_from_dict
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    PrimitiveState,
)
from voicecore.capture import CaptureKey, CaptureState
from voicecore.capture._store import CaptureWrite, Versioned
from voicecore.config import Settings
from voicecore.events import EventFilter, EventLog, NewEvent
from voicecore.registry import PrimitiveRegistry
from voicecore.service import VoiceCoreService
from voicecore.stores import (
    Conflict,
    Erasure,
    MemoryStore,
    Outcome,
    StagedCaptures,
    Store,
    TurnWrites,
)

CONVERSATION = "call-1"
KEY = CaptureKey(CONVERSATION, "capture_fake")


class LoadBarrier:
    """A store whose first ``parties`` loads wait for each other; it counts commit outcomes."""

    def __init__(self, inner: Store, parties: int) -> None:
        self.inner = inner
        self.waiting = parties
        self.all_loaded = asyncio.Event()
        self.loaded = asyncio.Event()  # a first load is done
        self.outcomes: Counter[str] = Counter()

    @property
    def events(self) -> EventLog:
        return self.inner.events

    async def load(self, key: Hashable) -> Versioned:
        kept = await self.inner.load(key)
        await self.arrive()
        return kept

    async def arrive(self) -> None:
        """A load is done: wait for the others of the first round."""
        self.loaded.set()
        if not self.all_loaded.is_set() and self.waiting > 0:
            self.waiting -= 1
            if self.waiting == 0:
                self.all_loaded.set()
            await self.all_loaded.wait()

    async def commit(self, turn: TurnWrites) -> Outcome:
        outcome = await self.inner.commit(turn)
        self.outcomes[type(outcome).__name__] += 1
        return outcome

    async def erase(self, event: NewEvent) -> Erasure | None:
        return await self.inner.erase(event)

    async def reachable(self) -> bool:
        return await self.inner.reachable()

    async def aclose(self) -> None:
        await self.inner.aclose()


class AlwaysConflicts(LoadBarrier):
    """A store on which every turn that writes a capture loses."""

    async def commit(self, turn: TurnWrites) -> Outcome:
        self.outcomes["commit"] += 1
        return Conflict() if turn.captures else await self.inner.commit(turn)


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    yield in_memory_store(Settings())


def _service(store: Store) -> VoiceCoreService:
    return VoiceCoreService(PrimitiveRegistry([FourDigits()]), settings=Settings(), store=store)


def _turn(said: str, idempotency_key: str = "") -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="capture_fake",
        params=struct_from_dict({"transcription": said}),
        conversation_id=CONVERSATION,
        idempotency_key=idempotency_key,
    )


async def _events(store: Store) -> list[str]:
    where = EventFilter(conversation_id=CONVERSATION)
    return [event.type async for event in store.events.subscribe(0, where, follow=False)]


class TestConcurrentTurns:
    async def test_one_process_loses_no_digit(self, store: Store) -> None:
        """Four turns of one digit each, all computed on the same state: all four count."""
        barrier = LoadBarrier(store, parties=4)
        service = _service(barrier)
        responses = await asyncio.gather(*(service.execute_primitive(_turn(d)) for d in "1234"))
        assert all(r.success for r in responses)
        kept = (await store.load(KEY)).state
        assert kept is not None and kept.held is not None
        assert sorted(kept.held.value) == list("1234")
        # All four computed on the same state, so three lost at least once, and computed again.
        assert barrier.outcomes["Committed"] == 4 and barrier.outcomes["Conflict"] >= 3
        # A turn computed again writes its events once: one started per call.
        assert (await _events(store)).count("primitive.started") == 4

    async def test_two_services_sharing_a_store_lose_no_digit(self, store: Store) -> None:
        """Two service instances (two replicas) on one store: both partials count."""
        barrier = LoadBarrier(store, parties=2)
        first, second = _service(barrier), _service(barrier)
        a, b = await asyncio.gather(
            first.execute_primitive(_turn("12")), second.execute_primitive(_turn("34"))
        )
        states = sorted(r.metadata.state for r in (a, b) if r.metadata is not None)
        assert states == [PrimitiveState.INCOMPLETE, PrimitiveState.NEEDS_CONFIRMATION]
        kept = (await store.load(KEY)).state
        assert kept is not None and kept.held is not None
        assert kept.held.value in ("1234", "3412")
        assert barrier.outcomes == {"Committed": 2, "Conflict": 1}

    async def test_a_repeat_that_lost_the_race_replays(self, store: Store) -> None:
        """The same key twice at once: applied once, the loser answers with the record."""
        barrier = LoadBarrier(store, parties=2)
        service = _service(barrier)
        turns = [service.execute_primitive(_turn("12", idempotency_key="t1")) for _ in range(2)]
        responses = await asyncio.gather(*turns)
        replayed = sorted(bool(r.metadata and r.metadata.replayed) for r in responses)
        assert replayed == [False, True]
        assert responses[0].data == responses[1].data
        sequences = {r.metadata.last_event_sequence for r in responses if r.metadata}
        assert len(sequences) == 1 and sequences != {0}
        assert barrier.outcomes == {"Committed": 1, "Replay": 1}
        kept = (await store.load(KEY)).state
        assert kept is not None and kept.partial == "12"  # not "1212"

    async def test_another_request_under_the_key_is_refused(self, store: Store) -> None:
        """Two requests with one key but other words: one applies, the other is refused."""
        barrier = LoadBarrier(store, parties=2)
        service = _service(barrier)
        responses = await asyncio.gather(
            service.execute_primitive(_turn("12", idempotency_key="t1")),
            service.execute_primitive(_turn("34", idempotency_key="t1")),
        )
        codes = sorted(
            r.error.code if r.error else ErrorCode.ERROR_CODE_UNSPECIFIED for r in responses
        )
        assert codes == [ErrorCode.ERROR_CODE_UNSPECIFIED, ErrorCode.INVALID_PARAMS]
        kept = (await store.load(KEY)).state
        assert kept is not None and kept.partial in ("12", "34")

    async def test_a_turn_that_always_loses_answers_unavailable(self, store: Store) -> None:
        """After COMMIT_TRIES lost commits the turn is a retryable UNAVAILABLE, written once."""
        losing = AlwaysConflicts(store, parties=1)
        response = await _service(losing).execute_primitive(_turn("12"))
        assert response.error is not None
        assert (response.error.code, response.error.retryable) == (ErrorCode.UNAVAILABLE, True)
        assert losing.outcomes["commit"] == COMMIT_TRIES + 1  # the tries, then the answer
        assert await _events(store) == ["primitive.started", "primitive.failed"]
        assert (await store.load(KEY)).state is None


class TestMemoryCommit:
    async def test_versions_are_never_reused(self) -> None:
        """A key forgotten and kept again gets a new version: an old read cannot match it."""
        store = in_memory_store(Settings())
        service = _service(store)
        await service.execute_primitive(_turn("12"))
        first = (await store.load(KEY)).version
        await service.execute_primitive(_turn("34 yes"))  # 1234, then...
        await service.execute_primitive(_turn("yes"))  # ...confirmed: the capture ends
        assert (await store.load(KEY)) == Versioned()
        await service.execute_primitive(_turn("56"))
        assert (await store.load(KEY)).version > first

    async def test_a_record_wins_over_a_conflict(self) -> None:
        """A claim already applied replays, even when the capture moved meanwhile."""
        store = in_memory_store(Settings())
        assert isinstance(store, MemoryStore)
        service = _service(store)
        await service.execute_primitive(_turn("12", idempotency_key="t1"))
        await service.execute_primitive(_turn("3"))
        again = await service.execute_primitive(_turn("12", idempotency_key="t1"))
        assert again.metadata is not None and again.metadata.replayed
        kept = (await store.load(KEY)).state
        assert kept is not None and kept.partial == "123"


class TestStagedWrites:
    async def test_a_cancelled_turn_writes_its_events_only(self, store: Store) -> None:
        """A turn cancelled mid-way writes started and failed (CANCELLED), and no state."""
        held = LoadBarrier(store, parties=2)  # the one turn waits at its load for a second
        turn = asyncio.create_task(_service(held).execute_primitive(_turn("12")))
        await held.loaded.wait()
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn
        assert await _events(store) == ["primitive.started", "primitive.failed"]
        assert (await store.load(KEY)).state is None

    async def test_a_reset_writes_without_reading(self, store: Store) -> None:
        """reset=true does not depend on the kept state: its write names no version."""
        service = _service(store)
        await service.execute_primitive(_turn("12"))
        request = _turn("3")
        request.params = struct_from_dict({"transcription": "3", "reset": True})
        await service.execute_primitive(request)
        kept = (await store.load(KEY)).state
        assert kept is not None and kept.partial == "3"

    async def test_a_turn_sees_what_it_staged(self, store: Store) -> None:
        """Within one try, a read after a write sees the write, not the store."""
        staged = StagedCaptures(store)
        await staged.put(KEY, CaptureState(partial="9"))
        assert await staged.get(KEY) == CaptureState(partial="9")
        await staged.delete(KEY)
        assert await staged.get(KEY) is None
        assert staged.writes() == (CaptureWrite(KEY, None, expected=None),)
