"""The service receives its shared state (event log, capture store, idempotency records), and
builds in-memory ones from Settings when none is given."""

from __future__ import annotations

from voicecore._in_memory import in_memory_captures, in_memory_idempotency
from voicecore._json import struct_from_dict
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
from voicecore.capture import CaptureKey, CaptureState, InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.idempotency import InMemoryIdempotencyStore, Record
from voicecore.registry import default_registry
from voicecore.service import VoiceCoreService
from voicecore.stores import MemoryStore, Outcome, TurnWrites


class RecordingStore(MemoryStore):
    """An in-memory store that remembers the turns it was asked to commit."""

    def __init__(self) -> None:
        super().__init__(InMemoryEventLog(), InMemoryCaptureStore(), InMemoryIdempotencyStore())
        self.turns: list[TurnWrites] = []

    async def commit(self, turn: TurnWrites) -> Outcome:
        self.turns.append(turn)
        return await super().commit(turn)


def _email_turn(conversation_id: str = "", idempotency_key: str = "") -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="capture_email",
        params=struct_from_dict({"transcription": "john at gmail dot com"}),
        conversation_id=conversation_id,
        idempotency_key=idempotency_key,
    )


class TestSeams:
    async def test_the_given_store_is_used(self) -> None:
        """A turn commits its capture, its key and its events, together, where it was told."""
        store = RecordingStore()
        service = VoiceCoreService(default_registry(), settings=Settings(), store=store)
        response = await service.execute_primitive(
            _email_turn(conversation_id="call-1", idempotency_key="turn-1")
        )
        assert response.success
        [turn] = store.turns
        assert [write.key for write in turn.captures] == [CaptureKey("call-1", "capture_email")]
        assert turn.claim is not None
        assert turn.claim.key == ("", "call-1", "turn-1")  # tenant "" without auth
        assert service.events is store.events
        assert response.metadata is not None
        assert store.events.last_sequence == response.metadata.last_event_sequence

    async def test_the_given_parts_are_used(self) -> None:
        """In-memory parts given one by one are the ones the turn writes to."""
        events, captures = InMemoryEventLog(), InMemoryCaptureStore()
        idempotency = InMemoryIdempotencyStore()
        service = VoiceCoreService(
            default_registry(),
            settings=Settings(),
            events=events,
            captures=captures,
            idempotency=idempotency,
        )
        await service.execute_primitive(_email_turn("call-1", idempotency_key="turn-1"))
        assert service.events is events
        assert await captures.get(CaptureKey("call-1", "capture_email")) is not None
        assert idempotency.get(("", "call-1", "turn-1")) is not None

    async def test_defaults_are_in_memory(self) -> None:
        """Without backends, a repeated idempotency key is replayed from memory."""
        service = VoiceCoreService(default_registry(), settings=Settings())
        first = await service.execute_primitive(_email_turn(idempotency_key="k"))
        again = await service.execute_primitive(_email_turn(idempotency_key="k"))
        assert first.metadata is not None and not first.metadata.replayed
        assert again.metadata is not None and again.metadata.replayed
        assert isinstance(service.events, InMemoryEventLog)


class TestInMemoryDefaults:
    def test_capture_store_follows_settings(self) -> None:
        """capture_max_entries, capture_max_bytes and capture_ttl bound the in-memory store."""
        settings = Settings(capture_max_entries=2, capture_max_bytes=1024 * 1024, capture_ttl=5.0)
        store = in_memory_captures(settings)
        assert (store._states.ttl, store._states.maxsize) == (5.0, 1024 * 1024)

    async def test_capture_store_keeps_at_most_max_entries(self) -> None:
        """The third capture pushes out the least recently used one."""
        store = in_memory_captures(Settings(capture_max_entries=2))
        for name in ("a", "b", "c"):
            await store.put(name, CaptureState())
        assert (len(store), await store.get("a")) == (2, None)

    async def test_idempotency_follows_settings(self) -> None:
        """idempotency_max_entries bounds the in-memory records."""
        records = in_memory_idempotency(Settings(idempotency_max_entries=1))
        for key in ("a", "b"):
            records.keep(key, Record("f", b"response", 1))
        assert (records.get("a"), len(records)) == (None, 1)
