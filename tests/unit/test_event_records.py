"""The event log's lean records: what ``append`` keeps comes back out as the same events."""

from __future__ import annotations

import gc

import pytest

from voicecore import _codec
from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import Event
from voicecore.events import EventFilter, InMemoryEventLog

PAYLOADS: list[dict[str, JsonValue]] = [
    {},
    {"state": "COMPLETED", "attempt": 1, "confidence": 0.75, "flag": True, "none": None},
    {"candidates": [{"value": "a", "confidence": 0.5}], "nested": {"k": ["x", 2]}},
]


async def _replayed(log: InMemoryEventLog) -> list[Struct | None]:
    events = log.subscribe(log.first_sequence - 1, EventFilter(), follow=False)
    return [event.payload async for event in events]


class TestRecord:
    async def test_append_returns_consecutive_sequences(self) -> None:
        """Each append returns the next sequence from the first one."""
        log = InMemoryEventLog(first_sequence=5)
        assert [await log.append(t) for t in "abc"] == [5, 6, 7]
        assert log.last_sequence == 7

    @pytest.mark.parametrize("payload", PAYLOADS)
    async def test_replayed_payload_is_the_struct_of_the_payload(
        self, payload: dict[str, JsonValue]
    ) -> None:
        """Flat and nested payloads come back as Struct.from_dict of what was recorded."""
        log = InMemoryEventLog(first_sequence=1)
        await log.append("t", payload=payload)
        assert await _replayed(log) == [Struct.from_dict(payload)]

    async def test_replayed_event_carries_every_recorded_field(self) -> None:
        """Type, conversation, trace id, objective and an aware time survive the record."""
        log = InMemoryEventLog(first_sequence=1)
        sequence = await log.append("t", conversation_id="c", trace_id="x", objective_type="o")
        events = [e async for e in log.subscribe(sequence - 1, EventFilter(), follow=False)]
        assert len(events) == 1
        event = events[0]
        assert (event.sequence, event.type, event.conversation_id) == (sequence, "t", "c")
        assert (event.trace_id, event.objective_type) == ("x", "o")
        assert event.time is not None and event.time.tzinfo is not None

    async def test_later_changes_to_the_payload_do_not_reach_the_log(self) -> None:
        """The log keeps a copy, as it kept a Struct before."""
        log = InMemoryEventLog(first_sequence=1)
        payload: dict[str, JsonValue] = {"items": ["a"], "n": 1}
        await log.append("t", payload=payload)
        payload["n"] = 2
        items = payload["items"]
        assert isinstance(items, list)
        items.append("b")
        assert await _replayed(log) == [Struct.from_dict({"items": ["a"], "n": 1})]

    @pytest.mark.parametrize("bad", [("tuple",), {1, 2}, object(), [b"bytes"]])
    async def test_a_payload_a_struct_cannot_hold_fails_the_record(self, bad: object) -> None:
        """The emitting call fails, not a later subscriber; nothing is appended."""
        log = InMemoryEventLog(first_sequence=1)
        with pytest.raises(ValueError, match="Unknown value type"):
            await log.append("t", payload={"bad": bad})  # type: ignore[dict-item]
        assert log.last_sequence == 0

    async def test_filters_apply_to_records(self) -> None:
        """Conversation and type filters select recorded events as they select appended ones."""
        log = InMemoryEventLog(first_sequence=1)
        first = await log.append("keep", conversation_id="c1")
        await log.append("keep", conversation_id="c2")
        await log.append("drop", conversation_id="c1")
        where = EventFilter("c1", frozenset({"keep"}))
        seen = [e.sequence async for e in log.subscribe(first - 1, where, follow=False)]
        assert seen == [first]


class TestSharedMessages:
    async def test_recent_events_are_read_as_shared_messages(self) -> None:
        """Two readers of a new event get one message, marked for the codec to encode once."""
        log = InMemoryEventLog(first_sequence=1)
        sequence = await log.append("t", payload={"k": "v"})
        first, second = [
            [e async for e in log.subscribe(sequence - 1, EventFilter(), follow=False)]
            for _ in range(2)
        ]
        assert first[0] is second[0]
        assert id(first[0]) in _codec._SHARED

    def test_shared_bytes_are_those_of_the_message_and_go_with_it(self) -> None:
        """The codec sends a shared message's own bytes and forgets them once it is collected."""
        codec = _codec.UpbCodec(1 << 20)
        message = _codec.share_encoding(Event(sequence=7, type="t"))
        assert codec.encode(message, Event) == codec.encode(message, Event) == bytes(message)
        key = id(message)
        assert _codec._SHARED[key] == bytes(message)
        del message
        gc.collect()
        assert key not in _codec._SHARED
