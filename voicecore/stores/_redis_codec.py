"""How the Redis store writes what it keeps: keys with a hash tag per conversation, JSON values.

Every key of one conversation (its capture states and idempotency records) carries the hash tag
``{<len>:<tenant>:<len>:<conversation_id>}``, so a turn's commit touches one Redis Cluster slot
(the lengths make the encoding unambiguous whatever the ids contain). The event stream and its
sequence counters are the deployment's, one set per ``store_prefix``, tagged ``{<prefix>}``: the
one exception to "one slot per commit", since every turn appends to the one stream.

Two indexes per conversation, under its tag, let ``DeleteConversation`` find what to erase
without a scan: the names of its capture and record keys (a sorted set scored by when each
expires), and the sequences of its events still in the stream (a set, which retention's
trimming keeps in step: each entry of a conversation names its index in field ``x``).
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from voicecore._json import JsonValue, struct_from_dict
from voicecore._proto.voicecore.v1 import Event
from voicecore.capture import Candidate, CaptureKey, CaptureState, HeldValue
from voicecore.events import EventFilter, NewEvent

__all__ = [
    "Keys",
    "capture_key",
    "decode_event",
    "decode_state",
    "encode_erasure_event",
    "encode_event",
    "encode_state",
    "owner",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _tag(tenant: str, conversation_id: str) -> str:
    return f"{{{len(tenant)}:{tenant}:{len(conversation_id)}:{conversation_id}}}"


@dataclass(frozen=True, slots=True)
class Keys:
    """The key names under one ``prefix``."""

    prefix: str

    @property
    def sequence(self) -> str:
        """The counter that numbers events (the last sequence issued)."""
        return f"{{{self.prefix}}}:seq"

    @property
    def trimmed(self) -> str:
        """The last sequence retention trimmed from the stream: a cursor before it was evicted
        (an erasure's holes, anywhere in the stream, are not)."""
        return f"{{{self.prefix}}}:trimmed"

    @property
    def health(self) -> str:
        """A short-lived key the health check writes: a store that takes no writes is down."""
        return f"{{{self.prefix}}}:health"

    @property
    def stream(self) -> str:
        return f"{{{self.prefix}}}:events"

    @property
    def held(self) -> str:
        """The deployment's held capture keys, scored by when each expires (ms, Redis time):
        the sweep counts those that expired (``voicecore.stores._redis_expiry``)."""
        return f"{{{self.prefix}}}:held"

    def capture(self, key: Hashable) -> str:
        if not isinstance(key, CaptureKey):
            raise TypeError(f"the Redis store keeps capture states by CaptureKey, not {key!r}")
        tag = _tag(key.tenant, key.conversation_id)
        return f"{self.prefix}:cap:{tag}:{key.objective_type}"

    def record(self, key: Hashable) -> str:
        tenant, conversation_id, idempotency_key = _record_key(key)
        return f"{self.prefix}:idem:{_tag(tenant, conversation_id)}:{idempotency_key}"

    def key_index(self, tenant: str, conversation_id: str) -> str:
        """The conversation's capture and record key names, scored by when each expires (ms)."""
        return f"{self.prefix}:keys:{_tag(tenant, conversation_id)}"

    def event_index(self, tenant: str, conversation_id: str) -> str:
        """The sequences of the conversation's events in the stream."""
        return f"{self.prefix}:evx:{_tag(tenant, conversation_id)}"


def capture_key(name: bytes, prefix: str) -> CaptureKey | None:
    """The ``CaptureKey`` whose state ``Keys(prefix).capture`` names ``name``; None if it names
    none (the lengths in its tag say where the tenant and the conversation id end)."""
    text = name.decode(errors="replace")
    at = len(f"{prefix}:cap:{{")
    parts: list[str] = []
    for _ in range(2):
        size, colon, _ = text[at:].partition(":")
        if not (colon and size.isdigit()):
            return None
        at += len(size) + 1 + int(size) + 1
        parts.append(text[at - int(size) - 1 : at - 1])
    key = CaptureKey(parts[1], text[at + 1 :], parts[0])
    return key if Keys(prefix).capture(key) == text else None


def owner(key: Hashable) -> tuple[str, str]:
    """The tenant and conversation id of a capture key or a record key."""
    if isinstance(key, CaptureKey):
        return key.tenant, key.conversation_id
    tenant, conversation_id, _ = _record_key(key)
    return tenant, conversation_id


def _record_key(key: Hashable) -> tuple[str, str, str]:
    if isinstance(key, tuple) and len(key) == 3 and all(isinstance(part, str) for part in key):
        return key[0], key[1], key[2]
    raise TypeError(f"an idempotency key is (tenant, conversation_id, key), not {key!r}")


def encode_state(state: CaptureState) -> bytes:
    """``state`` as JSON, every field by its name (so a field added to ``CaptureState`` is kept
    too); it may hold the value: it is the capture's own state."""
    return json.dumps(asdict(state), separators=(",", ":")).encode()


def decode_state(data: bytes) -> CaptureState:
    """The state ``encode_state`` wrote; a field this version does not know (written by a newer
    replica during a rolling deploy) is ignored, not an error."""
    kept = _known(CaptureState, json.loads(data))
    held = kept.pop("held", None)
    if held is not None:
        held = _known(HeldValue, held)
        candidates = tuple(
            Candidate(**_known(Candidate, candidate)) for candidate in held.pop("candidates", ())
        )
        held = HeldValue(**held, candidates=candidates)
    return CaptureState(**kept, held=held)


def _known(kind: type[Any], written: dict[str, Any]) -> dict[str, Any]:
    names = {field.name for field in fields(kind)}
    return {name: value for name, value in written.items() if name in names}


def encode_event(event: NewEvent, now: datetime) -> bytes:
    """``event`` as JSON for the stream; its sequence is the entry's id, given by the commit."""
    fields: dict[str, JsonValue] = {
        "y": event.type,
        "c": event.conversation_id,
        "r": event.trace_id,
        "o": event.objective_type,
        "t": (now - _EPOCH) // timedelta(microseconds=1),
        "p": dict(event.payload or {}),
        "n": event.tenant,
    }
    return json.dumps(fields, separators=(",", ":")).encode()


def encode_erasure_event(event: NewEvent, now: datetime) -> tuple[bytes, bytes]:
    """``event`` as ``encode_event`` writes it, cut where its payload goes: the erasure script
    puts the counts it finds between the two parts."""
    head = encode_event(replace(event, payload=None, tenant=""), now)
    cut = head.rindex(b"{}")  # the empty payload: the tenant, last and empty, follows it
    return head[:cut], head[cut + 2 : -3] + json.dumps(event.tenant).encode() + b"}"


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """An entry read from the stream: what filters need, and the message, built once."""

    sequence: int
    type: str
    conversation_id: str
    tenant: str
    event: Event


def decode_event(
    entry_id: bytes, data: bytes, where: EventFilter | None = None
) -> StreamRecord | None:
    """The record of an entry, or None if ``where`` rejects it: its message, most of the cost,
    is then not built (a filtered reader far behind reads many it does not want)."""
    sequence = int(entry_id.split(b"-", 1)[0])
    fields = json.loads(data)
    if where is not None and not where.accepts(fields["c"], fields["y"], fields["n"]):
        return None
    event = Event(
        sequence=sequence,
        type=fields["y"],
        conversation_id=fields["c"],
        trace_id=fields["r"],
        objective_type=fields["o"],
        time=_EPOCH + timedelta(microseconds=fields["t"]),
        payload=struct_from_dict(fields["p"]),
    )
    return StreamRecord(sequence, fields["y"], fields["c"], fields["n"], event)
