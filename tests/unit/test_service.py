"""VoiceCoreService and its executor over grpclib's in-memory channel: the wire contract.

Real sockets, admission and draining are the integration tests' business (tests/integration);
here each RPC goes through grpclib's codec and status handling against a service whose event
log is numbered from 1, so every sequence is known.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import ClassVar

import pytest
from grpclib import GRPCError
from grpclib.const import Status
from grpclib.testing import ChannelFor

from tests._waiting import until
from voicecore._execution import CALL_EVENT_TYPES
from voicecore._limits import MAX_CONVERSATION_ID
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    HealthCheckRequest,
    ListPrimitivesRequest,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.capture import InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.primitive import Primitive, PrimitiveContext, PrimitiveParams, PrimitiveResult
from voicecore.primitives import debug_primitive_set
from voicecore.registry import PrimitiveRegistry
from voicecore.service import VoiceCoreService

STARTED, COMPLETED, FAILED = CALL_EVENT_TYPES[:3]


class _Buggy(Primitive[PrimitiveParams]):
    """Fails with an unexpected error whose text must not reach the caller."""

    name: ClassVar[str] = "buggy"
    version: ClassVar[str] = "0.0.1"
    description: ClassVar[str] = "always raises"
    params_model: ClassVar[type[PrimitiveParams]] = PrimitiveParams

    async def execute(self, params: PrimitiveParams, ctx: PrimitiveContext) -> PrimitiveResult:
        raise RuntimeError("secret-token-123")


class _Stuck(Primitive[PrimitiveParams]):
    """Never finishes on its own: only the call's timeout ends it."""

    name: ClassVar[str] = "stuck"
    version: ClassVar[str] = "0.0.1"
    description: ClassVar[str] = "waits forever"
    params_model: ClassVar[type[PrimitiveParams]] = PrimitiveParams

    async def execute(self, params: PrimitiveParams, ctx: PrimitiveContext) -> PrimitiveResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable: nothing sets the event")


class _OwnTimeout(Primitive[PrimitiveParams]):
    """Raises TimeoutError of its own (a client it called gave up), long before the call's."""

    name: ClassVar[str] = "own_timeout"
    version: ClassVar[str] = "0.0.1"
    description: ClassVar[str] = "raises TimeoutError"
    params_model: ClassVar[type[PrimitiveParams]] = PrimitiveParams

    async def execute(self, params: PrimitiveParams, ctx: PrimitiveContext) -> PrimitiveResult:
        raise TimeoutError("upstream gave up")


class Harness:
    """A service on an in-memory channel, and its event log."""

    def __init__(self, stub: VoiceCoreServiceStub, service: VoiceCoreService) -> None:
        self.stub = stub
        self.service = service
        log = service.events
        assert isinstance(log, InMemoryEventLog)
        self.log = log

    async def execute(
        self, objective_type: str, params: Mapping[str, object] | None = None, **fields: object
    ) -> ExecutePrimitiveResponse:
        struct = Struct.from_dict(dict(params)) if params is not None else None
        request = ExecutePrimitiveRequest(objective_type=objective_type, params=struct, **fields)  # type: ignore[arg-type]
        return await self.stub.execute_primitive(request)

    async def replay(self, **fields: object) -> list[tuple[int, str]]:
        request = StreamEventsRequest(replay_only=True, **fields)  # type: ignore[arg-type]
        return [(event.sequence, event.type) async for event in self.stub.stream_events(request)]


def _service(**settings: object) -> VoiceCoreService:
    chosen = Settings.model_validate(settings)
    return VoiceCoreService(
        PrimitiveRegistry([*debug_primitive_set(), _Buggy(), _Stuck(), _OwnTimeout()]),
        settings=chosen,
        events=InMemoryEventLog(chosen.event_retention, first_sequence=1),
        captures=InMemoryCaptureStore(),
    )


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    service = _service()
    async with ChannelFor([service]) as channel:
        yield Harness(VoiceCoreServiceStub(channel), service)


class TestExecutePrimitive:
    async def test_success_returns_the_data_and_its_events(self, harness: Harness) -> None:
        """debug_echo answers its params; metadata names it and the call's last event."""
        response = await harness.execute("debug_echo", {"a": "b"}, trace_id="t-1")
        assert response.success and response.error is None
        assert response.data is not None and response.data.to_dict() == {"a": "b"}
        meta = response.metadata
        assert meta is not None
        assert (meta.objective_type, meta.primitive_version) == ("debug_echo", "1.0.0")
        assert (meta.trace_id, meta.state, meta.last_event_sequence) == (
            "t-1",
            PrimitiveState.COMPLETED,
            2,
        )
        assert await harness.replay() == [(1, STARTED), (2, COMPLETED)]

    async def test_unknown_objective_is_primitive_not_found(self, harness: Harness) -> None:
        """An unregistered objective type fails in the response, naming the known ones."""
        response = await harness.execute("capture_nothing", {})
        assert not response.success and response.error is not None
        assert response.error.code == ErrorCode.PRIMITIVE_NOT_FOUND
        assert "debug_echo" in response.error.message
        assert await harness.replay() == [(1, STARTED), (2, FAILED)]

    async def test_bad_params_are_invalid_params(self, harness: Harness) -> None:
        """Params the primitive's model refuses give INVALID_PARAMS, the field in details."""
        response = await harness.execute("debug_sleep", {"seconds": "soon"})
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        assert response.error.details is not None
        assert "seconds" in str(response.error.details.to_dict())

    async def test_out_of_range_timeout_is_invalid_params(self, harness: Harness) -> None:
        """A negative timeout_seconds is refused before the primitive runs."""
        response = await harness.execute("debug_echo", {}, timeout_seconds=-1.0)
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        assert "timeout_seconds" in response.error.message

    async def test_a_primitive_past_its_timeout_is_timeout(self, harness: Harness) -> None:
        """A call that outlives timeout_seconds ends with TIMEOUT in the response."""
        response = await harness.execute("stuck", {}, timeout_seconds=0.01)
        assert response.error is not None
        assert response.error.code == ErrorCode.TIMEOUT

    async def test_an_unexpected_error_is_internal_without_its_text(self, harness: Harness) -> None:
        """A bug becomes INTERNAL; its message stays in the server log, off the wire."""
        response = await harness.execute("buggy", {})
        assert response.error is not None
        assert response.error.code == ErrorCode.INTERNAL
        assert "secret-token-123" not in response.error.message

    async def test_a_timeout_of_the_primitives_own_is_internal(self, harness: Harness) -> None:
        """Only the call's own deadline is TIMEOUT; a TimeoutError from inside is a bug."""
        response = await harness.execute("own_timeout", {}, timeout_seconds=30.0)
        assert response.error is not None
        assert response.error.code == ErrorCode.INTERNAL

    async def test_transient_failures_are_retried(self, harness: Harness) -> None:
        """debug_flaky's one transient failure is retried inside the call, which succeeds."""
        response = await harness.execute("debug_flaky", {"failures": 1})
        assert response.success
        assert response.metadata is not None and response.metadata.retry_count == 1

    async def test_an_over_long_field_is_refused_at_the_edge(self, harness: Harness) -> None:
        """A conversation id past its bound is INVALID_PARAMS and is echoed nowhere."""
        response = await harness.execute(
            "debug_echo", {}, conversation_id="c" * (MAX_CONVERSATION_ID + 1)
        )
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        request = StreamEventsRequest(replay_only=True)
        events = [event async for event in harness.stub.stream_events(request)]
        assert [(event.type, event.conversation_id) for event in events] == [
            (STARTED, ""),
            (FAILED, ""),
        ]


class TestIdempotency:
    async def test_a_repeated_key_replays_the_recorded_response(self, harness: Harness) -> None:
        """The second call with the same key runs nothing and says it is a replay."""
        first = await harness.execute("debug_echo", {"n": 1}, idempotency_key="k")
        second = await harness.execute("debug_echo", {"n": 1}, idempotency_key="k")
        assert first.metadata is not None and not first.metadata.replayed
        assert second.metadata is not None and second.metadata.replayed
        assert second.data == first.data
        assert await harness.replay() == [(1, STARTED), (2, COMPLETED)]

    async def test_a_reused_key_with_other_params_is_invalid_params(self, harness: Harness) -> None:
        """The same key for different params is a conflict, not a replay."""
        await harness.execute("debug_echo", {"n": 1}, idempotency_key="k")
        other = await harness.execute("debug_echo", {"n": 2}, idempotency_key="k")
        assert other.error is not None
        assert other.error.code == ErrorCode.INVALID_PARAMS
        assert "idempotency_key" in other.error.message

    async def test_keys_are_per_conversation(self, harness: Harness) -> None:
        """One key in two conversations is two calls."""
        for conversation in ("a", "b"):
            response = await harness.execute(
                "debug_echo", {}, idempotency_key="k", conversation_id=conversation
            )
            assert response.metadata is not None and not response.metadata.replayed


class TestListPrimitives:
    async def test_lists_every_registered_primitive_with_its_schema(self, harness: Harness) -> None:
        """One entry per primitive, in registry order, each with a schema and its event types."""
        answer = await harness.stub.list_primitives(ListPrimitivesRequest())
        names = [info.objective_type for info in answer.primitives]
        assert names == [primitive.name for primitive in harness.service.registry]
        for info in answer.primitives:
            assert info.params_schema is not None
            assert info.params_schema.to_dict()["type"] == "object"
            assert info.event_types[: len(CALL_EVENT_TYPES)] == list(CALL_EVENT_TYPES)


class TestStreamEvents:
    async def test_replay_filters_by_conversation_and_type(self, harness: Harness) -> None:
        """replay_only ends after the kept events that pass both filters."""
        for conversation in ("a", "b", "a"):
            await harness.execute("debug_echo", {}, conversation_id=conversation)
        assert await harness.replay(conversation_id="a", types=[COMPLETED]) == [
            (2, COMPLETED),
            (6, COMPLETED),
        ]
        assert await harness.replay(after_sequence=4) == [(5, STARTED), (6, COMPLETED)]

    async def test_follow_delivers_events_appended_after_it_is_live(self, harness: Harness) -> None:
        """A following stream, once waiting, receives a new call's events as they happen."""
        received: list[tuple[int, str]] = []

        async def follow() -> None:
            request = StreamEventsRequest(conversation_id="live")
            async for event in harness.stub.stream_events(request):
                received.append((event.sequence, event.type))
                if len(received) == 2:
                    return

        task = asyncio.create_task(follow())
        await until(lambda: harness.log.followers == 1)
        await harness.execute("debug_echo", {}, conversation_id="live")
        await asyncio.wait_for(task, 5)
        assert received == [(1, STARTED), (2, COMPLETED)]

    async def test_an_evicted_cursor_is_out_of_range(self) -> None:
        """A replay from before retention fails with OUT_OF_RANGE, naming the oldest kept."""
        service = _service(event_retention=4)
        async with ChannelFor([service]) as channel:
            harness = Harness(VoiceCoreServiceStub(channel), service)
            for _ in range(4):
                await harness.execute("debug_echo", {})
            with pytest.raises(GRPCError) as info:
                await harness.replay(after_sequence=1)
        assert info.value.status == Status.OUT_OF_RANGE
        assert "5" in (info.value.message or "")

    async def test_a_cursor_ahead_of_the_log_is_out_of_range(self, harness: Harness) -> None:
        """A sequence this log never issued fails instead of waiting in silence."""
        await harness.execute("debug_echo", {})
        with pytest.raises(GRPCError) as info:
            await harness.replay(after_sequence=99)
        assert info.value.status == Status.OUT_OF_RANGE

    async def test_an_over_long_filter_is_invalid_argument(self, harness: Harness) -> None:
        """A stream request past a bound is refused with INVALID_ARGUMENT."""
        with pytest.raises(GRPCError) as info:
            await harness.replay(conversation_id="c" * (MAX_CONVERSATION_ID + 1))
        assert info.value.status == Status.INVALID_ARGUMENT
        assert "conversation_id" in (info.value.message or "")


class TestHealthCheck:
    async def test_serving_then_not_serving(self, harness: Harness) -> None:
        """SERVING with the version and components; NOT_SERVING once the service drains."""
        health = await harness.stub.health_check(HealthCheckRequest())
        assert health.status == "SERVING" and health.version
        assert health.components["server"] == "SERVING"
        harness.service.serving = False
        drained = await harness.stub.health_check(HealthCheckRequest())
        assert (drained.status, drained.components["server"]) == ("NOT_SERVING", "NOT_SERVING")
