"""Tenants through the service: the same conversation id in two tenants names two conversations.

The caller's tenant and scopes are what auth puts on ``current_call``; here they are set
directly, as the server's listener would, around each call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from voicecore._call import CallInfo, current_call
from voicecore._json import struct_from_dict
from voicecore._proto.voicecore.v1 import (
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    PrimitiveState,
    StreamEventsRequest,
)
from voicecore.client import InProcessClient
from voicecore.config import Settings
from voicecore.events import EventFilter, InMemoryEventLog
from voicecore.registry import default_registry
from voicecore.service import VoiceCoreService

CONVERSATION = "call-1"


@contextmanager
def caller(tenant: str, *scopes: str) -> Iterator[None]:
    """Serve the calls made inside as the server would for a token of ``tenant``."""
    token = current_call.set(CallInfo(tenant=tenant, scopes=frozenset(scopes)))
    try:
        yield
    finally:
        current_call.reset(token)


def _service() -> VoiceCoreService:
    events = InMemoryEventLog(first_sequence=1)
    return VoiceCoreService(default_registry(), settings=Settings(), events=events)


async def _say(
    service: VoiceCoreService,
    tenant: str,
    transcription: str,
    *,
    reset: bool = False,
    idempotency_key: str = "",
) -> ExecutePrimitiveResponse:
    params: dict[str, str | bool] = {"transcription": transcription}
    if reset:
        params["reset"] = True
    request = ExecutePrimitiveRequest(
        objective_type="capture_email",
        conversation_id=CONVERSATION,
        params=struct_from_dict(params),
        idempotency_key=idempotency_key,
    )
    with caller(tenant, "execute"):
        return await service.execute_primitive(request)


async def _events(
    service: VoiceCoreService, tenant: str, *scopes: str, conversation_id: str = ""
) -> list[Event]:
    request = StreamEventsRequest(conversation_id=conversation_id, replay_only=True)
    with caller(tenant, *scopes):
        return [event async for event in service.stream_events(request)]


def _state(response: ExecutePrimitiveResponse) -> PrimitiveState:
    assert response.metadata is not None
    return response.metadata.state


def _data(response: ExecutePrimitiveResponse) -> dict[str, object]:
    assert response.data is not None
    return response.data.to_dict()


async def _a_holds_jo(service: VoiceCoreService) -> None:
    held = await _say(service, "a", "jo at example dot com")
    assert _state(held) == PrimitiveState.NEEDS_CONFIRMATION


class TestTurns:
    async def test_another_tenants_yes_gets_nothing_held(self) -> None:
        """B's "yes" on A's conversation id starts B's own capture; A's value stays A's."""
        service = _service()
        await _a_holds_jo(service)
        stolen = await _say(service, "b", "yes")
        assert _state(stolen) == PrimitiveState.INCOMPLETE
        assert "jo" not in str(_data(stolen))
        confirmed = await _say(service, "a", "yes")
        assert _state(confirmed) == PrimitiveState.COMPLETED
        assert _data(confirmed)["value"] == "jo@example.com"

    async def test_another_tenants_correction_does_not_change_the_held_value(self) -> None:
        """B's "no it's evil at ..." is B's own first value; A's "yes" completes A's."""
        service = _service()
        await _a_holds_jo(service)
        corrected = await _say(service, "b", "no it's evil at attacker dot com")
        assert _data(corrected)["attempts"] == 1  # a first turn of B's conversation
        confirmed = await _say(service, "a", "yes")
        assert _data(confirmed)["value"] == "jo@example.com"

    async def test_another_tenants_reset_leaves_the_capture(self) -> None:
        service = _service()
        await _a_holds_jo(service)
        await _say(service, "b", "", reset=True)
        confirmed = await _say(service, "a", "yes")
        assert _data(confirmed)["value"] == "jo@example.com"

    async def test_another_tenants_idempotency_key_is_not_replayed(self) -> None:
        """The same conversation and key in B runs B's turn, not A's recorded answer."""
        service = _service()
        first = await _say(service, "a", "jo at example dot com", idempotency_key="turn-1")
        other = await _say(service, "b", "yes", idempotency_key="turn-1")
        assert other.metadata is not None and not other.metadata.replayed
        assert "jo" not in str(_data(other))
        again = await _say(service, "a", "jo at example dot com", idempotency_key="turn-1")
        assert again.metadata is not None and again.metadata.replayed
        assert _data(again) == _data(first)

    async def test_the_in_process_client_keeps_the_callers_tenant(self) -> None:
        """Used while serving A's RPC, the in-process client confirms A's held value."""
        service = _service()
        await _a_holds_jo(service)
        async with InProcessClient(service) as client:
            with caller("a", "execute"):
                confirmed = await client.execute(
                    "capture_email", {"transcription": "yes"}, conversation_id=CONVERSATION
                )
            outside = await client.execute(
                "capture_email", {"transcription": "yes"}, conversation_id=CONVERSATION
            )
        assert _data(confirmed)["value"] == "jo@example.com"
        assert _state(outside) == PrimitiveState.INCOMPLETE  # tenant "" is another tenant


class TestEvents:
    async def test_a_tenant_reads_only_its_own_events(self) -> None:
        """Without a filter or with A's conversation id, B sees B's events and none of A's."""
        service = _service()
        a_turn = await _say(service, "a", "jo at example dot com")
        b_turn = await _say(service, "b", "sam at example dot com")
        assert a_turn.metadata is not None and b_turn.metadata is not None
        a_traces = {a_turn.metadata.trace_id}
        for conversation_id in ("", CONVERSATION):
            seen = await _events(service, "b", "events", conversation_id=conversation_id)
            assert seen and {e.trace_id for e in seen} == {b_turn.metadata.trace_id}
            mine = await _events(service, "a", "events", conversation_id=conversation_id)
            assert mine and {e.trace_id for e in mine} == a_traces

    async def test_admin_reads_every_tenants_events(self) -> None:
        service = _service()
        await _say(service, "a", "jo at example dot com")
        await _say(service, "b", "sam at example dot com")
        every = await _events(service, "ops", "admin")
        assert [e.sequence for e in every] == list(range(1, service.events.last_sequence + 1))

    async def test_a_tenant_is_never_sent_on_the_wire(self) -> None:
        """The tenant decides who reads an event; the Event message has no trace of it."""
        log = InMemoryEventLog(first_sequence=1)
        await log.append("t", conversation_id="c", tenant="acme-secret-tenant")
        where = EventFilter(tenant="acme-secret-tenant")
        (event,) = [e async for e in log.subscribe(0, where, follow=False)]
        assert b"acme-secret-tenant" not in bytes(event)
