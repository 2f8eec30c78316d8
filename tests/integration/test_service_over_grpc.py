"""VoiceCoreService on a real grpclib server: errors, timeouts, retries, trace ids."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from typing import ClassVar

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Cardinality, Status

from tests._waiting import until
from voicecore._proto.google.protobuf import Struct, Value
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.capture import InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.primitive import (
    Primitive,
    PrimitiveContext,
    PrimitiveParams,
    PrimitiveResult,
)
from voicecore.primitives import debug_primitive_set
from voicecore.registry import PrimitiveRegistry
from voicecore.server import VoiceCoreServer
from voicecore.service import VoiceCoreService

pytestmark = pytest.mark.integration

EXECUTE = "/voicecore.v1.VoiceCoreService/ExecutePrimitive"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


class _Buggy(Primitive[PrimitiveParams]):
    """Raises an unexpected error that carries a secret."""

    name: ClassVar[str] = "buggy"
    version: ClassVar[str] = "0.0.1"
    description: ClassVar[str] = "always raises"
    params_model: ClassVar[type[PrimitiveParams]] = PrimitiveParams

    async def execute(self, params: PrimitiveParams, ctx: PrimitiveContext) -> PrimitiveResult:
        raise RuntimeError("secret-token-123")


def _service(settings: Settings) -> VoiceCoreService:
    registry = PrimitiveRegistry([*debug_primitive_set(), _Buggy()])
    return VoiceCoreService(
        registry,
        settings=settings,
        events=InMemoryEventLog(settings.event_retention, first_sequence=1),
        captures=InMemoryCaptureStore(),
    )


async def _start(**overrides: object) -> VoiceCoreServer:
    settings = Settings.model_validate({"host": "127.0.0.1", "port": 0, **overrides})
    server = VoiceCoreServer(settings, _service(settings))
    await server.start()
    return server


@pytest.fixture
async def server() -> AsyncIterator[VoiceCoreServer]:
    running = await _start()
    yield running
    await running.stop(grace_period=0.5)


@pytest.fixture
async def stub(server: VoiceCoreServer) -> AsyncIterator[VoiceCoreServiceStub]:
    async with Channel("127.0.0.1", server.port) as channel:
        yield VoiceCoreServiceStub(channel)


def _request(
    objective_type: str, params: Mapping[str, object] | None = None, **fields: object
) -> ExecutePrimitiveRequest:
    struct = Struct.from_dict(dict(params)) if params is not None else None
    return ExecutePrimitiveRequest(objective_type=objective_type, params=struct, **fields)  # type: ignore[arg-type]


async def _events(stub: VoiceCoreServiceStub, **fields: object) -> list[tuple[str, str]]:
    request = StreamEventsRequest(replay_only=True, **fields)  # type: ignore[arg-type]
    return [(e.type, e.trace_id) async for e in stub.stream_events(request)]


class TestRouting:
    async def test_routes_to_the_named_primitive(self, stub: VoiceCoreServiceStub) -> None:
        """debug_echo returns its params; metadata names the primitive and its version."""
        response = await stub.execute_primitive(_request("debug_echo", {"a": "b", "n": 2}))
        assert response.success and response.error is None
        assert response.data is not None and response.data.to_dict() == {"a": "b", "n": 2.0}
        meta = response.metadata
        assert meta is not None
        assert (meta.objective_type, meta.primitive_version) == ("debug_echo", "1.0.0")
        assert meta.state == PrimitiveState.COMPLETED
        assert meta.duration is not None and meta.duration.total_seconds() > 0
        assert meta.last_event_sequence > 0

    async def test_unknown_objective_lists_the_known_ones(self, stub: VoiceCoreServiceStub) -> None:
        """PRIMITIVE_NOT_FOUND, with every registered name in the message."""
        response = await stub.execute_primitive(_request("capture_nothing", {}))
        assert not response.success
        assert response.error is not None
        assert response.error.code == ErrorCode.PRIMITIVE_NOT_FOUND
        for known in ("buggy", "debug_echo", "debug_flaky", "debug_sleep"):
            assert known in response.error.message
        assert response.metadata is not None and response.metadata.trace_id


class TestInvalidParams:
    async def test_each_bad_field_is_named(self, stub: VoiceCoreServiceStub) -> None:
        """pydantic's errors travel in details with the field's location."""
        response = await stub.execute_primitive(
            _request("debug_sleep", {"seconds": -1, "extra": True})
        )
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        assert response.error.details is not None
        errors = response.error.details.to_dict()["errors"]
        assert {tuple(e["loc"]) for e in errors} == {("params", "seconds"), ("params", "extra")}
        assert "params.seconds" in response.error.message

    async def test_missing_params_struct_is_an_empty_object(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """A request without params validates an empty object (defaults apply)."""
        response = await stub.execute_primitive(_request("debug_sleep"))
        assert response.success

    @pytest.mark.parametrize("key", ["", "with-key"])
    async def test_value_of_no_kind_is_invalid(self, stub: VoiceCoreServiceStub, key: str) -> None:
        """A Struct Value with no kind set (another language's default) names its key."""
        request = ExecutePrimitiveRequest(
            objective_type="debug_echo",
            params=Struct(fields={"ok": Value(string_value="x"), "empty": Value()}),
            idempotency_key=key,
            trace_id=f"no-kind-{key}",
        )
        response = await stub.execute_primitive(request)
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        assert (
            "params.empty" in response.error.message and "params.ok" not in response.error.message
        )
        assert ("primitive.failed", f"no-kind-{key}") in await _events(stub)

    @pytest.mark.parametrize("timeout", [-1.0, float("nan"), 1e9])
    async def test_absurd_timeouts_are_invalid(
        self, stub: VoiceCoreServiceStub, timeout: float
    ) -> None:
        """Negative, NaN and huge timeout_seconds are INVALID_PARAMS naming the field."""
        response = await stub.execute_primitive(_request("debug_echo", {}, timeout_seconds=timeout))
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        assert "timeout_seconds" in response.error.message


class TestTimeouts:
    async def test_slow_primitive_times_out_and_is_reported(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """Past timeout_seconds the work is cancelled and the response says TIMEOUT."""
        response = await stub.execute_primitive(
            _request("debug_sleep", {"seconds": 30}, timeout_seconds=0.1, trace_id="t-slow")
        )
        assert response.error is not None
        assert response.error.code == ErrorCode.TIMEOUT
        assert response.error.retryable
        assert ("primitive.failed", "t-slow") in await _events(stub)

    async def test_grpc_deadline_shorter_than_timeout_wins(
        self, stub: VoiceCoreServiceStub
    ) -> None:
        """With a 0.2 s client deadline the caller is not kept for the 30 s default."""
        with pytest.raises(TimeoutError):
            await stub.execute_primitive(_request("debug_sleep", {"seconds": 30}), timeout=0.2)


class TestRetries:
    async def test_transient_failures_are_retried(self, stub: VoiceCoreServiceStub) -> None:
        """Two transient failures then success: retry_count says 2."""
        response = await stub.execute_primitive(_request("debug_flaky", {"failures": 2}))
        assert response.success
        assert response.metadata is not None and response.metadata.retry_count == 2

    async def test_retries_run_out(self, stub: VoiceCoreServiceStub) -> None:
        """More failures than attempts: INTERNAL, marked retryable."""
        response = await stub.execute_primitive(_request("debug_flaky", {"failures": 5}))
        assert response.error is not None
        assert response.error.code == ErrorCode.INTERNAL
        assert response.error.retryable
        assert response.metadata is not None and response.metadata.retry_count == 2


class TestInternal:
    async def test_unexpected_error_leaks_nothing(self, stub: VoiceCoreServiceStub) -> None:
        """A bug becomes INTERNAL with no exception text or stack trace on the wire."""
        response = await stub.execute_primitive(_request("buggy", {}))
        assert response.error is not None
        assert response.error.code == ErrorCode.INTERNAL
        assert not response.error.retryable
        wire = bytes(response)
        assert b"secret-token-123" not in wire and b"Traceback" not in wire

    async def test_server_keeps_serving_after_a_bug(self, stub: VoiceCoreServiceStub) -> None:
        """The next call succeeds."""
        await stub.execute_primitive(_request("buggy", {}))
        assert (await stub.execute_primitive(_request("debug_echo", {}))).success


class TestTraceId:
    async def _call(
        self, server: VoiceCoreServer, metadata: dict[str, str], field: str = ""
    ) -> tuple[str, str]:
        async with Channel("127.0.0.1", server.port) as channel:
            async with channel.request(
                EXECUTE,
                Cardinality.UNARY_UNARY,
                ExecutePrimitiveRequest,
                ExecutePrimitiveResponse,
                metadata=metadata,
            ) as stream:
                await stream.send_message(_request("debug_echo", {}, trace_id=field), end=True)
                response = await stream.recv_message()
                assert response is not None and response.metadata is not None
                assert stream.initial_metadata is not None
                header = stream.initial_metadata["trace-id"]
                assert isinstance(header, str)
                return response.metadata.trace_id, header

    async def test_field_beats_metadata(self, server: VoiceCoreServer) -> None:
        """The request field wins over trace-id metadata; both echo it."""
        assert await self._call(server, {"trace-id": "meta"}, field="field") == ("field", "field")

    async def test_metadata_beats_traceparent(self, server: VoiceCoreServer) -> None:
        """trace-id metadata wins over a traceparent."""
        traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        metadata = {"trace-id": "meta", "traceparent": traceparent}
        assert await self._call(server, metadata) == ("meta", "meta")

    async def test_traceparent_trace_id_is_used(self, server: VoiceCoreServer) -> None:
        """The W3C traceparent's trace id is taken when nothing else is given."""
        traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        assert await self._call(server, {"traceparent": traceparent}) == (trace_id, trace_id)

    async def test_invalid_traceparent_is_ignored(self, server: VoiceCoreServer) -> None:
        """An all-zero or malformed traceparent gives a generated id."""
        zeros = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        for bad in (zeros, "garbage"):
            trace_id, header = await self._call(server, {"traceparent": bad})
            assert HEX32.match(trace_id) and header == trace_id
            assert trace_id != "0" * 32

    async def test_generated_ids_are_fresh(self, server: VoiceCoreServer) -> None:
        """Without any id, each call gets its own 32-hex id."""
        first, _ = await self._call(server, {})
        second, _ = await self._call(server, {})
        assert HEX32.match(first) and HEX32.match(second) and first != second

    async def test_events_carry_the_trace_id(self, stub: VoiceCoreServiceStub) -> None:
        """started and completed events are stamped with the call's trace id."""
        await stub.execute_primitive(_request("debug_echo", {}, trace_id="trace-events"))
        events = await _events(stub)
        assert ("primitive.started", "trace-events") in events
        assert ("primitive.completed", "trace-events") in events


class TestStreamEvents:
    async def test_cursor_ahead_is_out_of_range(self, stub: VoiceCoreServiceStub) -> None:
        """A cursor past the newest event (another server's) is OUT_OF_RANGE, not silence."""
        await stub.execute_primitive(_request("debug_echo", {}))
        with pytest.raises(GRPCError) as info:
            await _events(stub, after_sequence=10**15)
        assert info.value.status == Status.OUT_OF_RANGE
        assert "ahead" in (info.value.message or "")

    async def test_stream_echoes_its_trace_id(self, server: VoiceCoreServer) -> None:
        """StreamEvents answers with the trace-id header, from the field or the metadata."""
        async with Channel("127.0.0.1", server.port) as channel:
            await VoiceCoreServiceStub(channel).execute_primitive(_request("debug_echo", {}))
        async with (
            Channel("127.0.0.1", server.port) as channel,
            channel.request(
                "/voicecore.v1.VoiceCoreService/StreamEvents",
                Cardinality.UNARY_STREAM,
                StreamEventsRequest,
                Event,
                metadata={"trace-id": "stream-trace"},
            ) as stream,
        ):
            await stream.send_message(StreamEventsRequest(replay_only=True), end=True)
            assert await stream.recv_message() is not None
            assert stream.initial_metadata is not None
            assert stream.initial_metadata["trace-id"] == "stream-trace"

    async def test_replay_filters_and_ends(self, stub: VoiceCoreServiceStub) -> None:
        """replay_only ends the stream; conversation and type filters apply."""
        for conversation in ("a", "b", "a"):
            await stub.execute_primitive(_request("debug_echo", {}, conversation_id=conversation))
        events = await _events(stub, conversation_id="a", types=["primitive.completed"])
        assert len(events) == 2

    async def test_follow_receives_new_events(
        self, server: VoiceCoreServer, stub: VoiceCoreServiceStub
    ) -> None:
        """A following stream sees events appended after it started, in order."""
        received: list[int] = []

        async def follow() -> None:
            request = StreamEventsRequest(conversation_id="live")
            async for event in stub.stream_events(request):
                received.append(event.sequence)
                if len(received) == 4:
                    return

        task = asyncio.create_task(follow())
        log = server.service.events
        assert isinstance(log, InMemoryEventLog)
        await until(lambda: log.followers == 1)  # the stream is live: what comes next is no replay
        for _ in range(2):
            await stub.execute_primitive(_request("debug_echo", {}, conversation_id="live"))
        await asyncio.wait_for(task, 5)
        assert received == sorted(received) and len(set(received)) == 4

    async def test_evicted_range_is_out_of_range(self) -> None:
        """A replay from before retention is OUT_OF_RANGE with a clear message."""
        server = await _start(event_retention=4)
        try:
            async with Channel("127.0.0.1", server.port) as channel:
                stub = VoiceCoreServiceStub(channel)
                for _ in range(6):
                    await stub.execute_primitive(_request("debug_echo", {}))
                with pytest.raises(GRPCError) as info:
                    await _events(stub, after_sequence=1)
                assert info.value.status == Status.OUT_OF_RANGE
                assert "oldest event kept" in (info.value.message or "")
        finally:
            await server.stop(grace_period=0.1)


class TestHealthAndListing:
    async def test_health_check(self, stub: VoiceCoreServiceStub) -> None:
        """SERVING, the package version and per-component status."""
        health = await stub.health_check()
        assert health.status == "SERVING"
        assert health.version and health.components["event_log"] == "SERVING"

    async def test_list_primitives_has_schemas(self, stub: VoiceCoreServiceStub) -> None:
        """Each primitive comes with its params JSON Schema and event types."""
        listing = await stub.list_primitives()
        by_name = {info.objective_type: info for info in listing.primitives}
        assert "debug_sleep" in by_name
        sleep = by_name["debug_sleep"]
        assert sleep.params_schema is not None
        assert "seconds" in sleep.params_schema.to_dict()["properties"]
        assert "primitive.started" in sleep.event_types


class TestIdempotency:
    async def _started(self, stub: VoiceCoreServiceStub, trace_id: str) -> int:
        return (await _events(stub)).count(("primitive.started", trace_id))

    async def test_repeat_is_replayed_not_rerun(self, stub: VoiceCoreServiceStub) -> None:
        """The same key returns the recorded response, marked replayed, and runs once."""
        request = _request("debug_echo", {"n": 1}, idempotency_key="k1", trace_id="idem-1")
        first = await stub.execute_primitive(request)
        second = await stub.execute_primitive(request)
        assert first.metadata is not None and not first.metadata.replayed
        assert second.metadata is not None and second.metadata.replayed
        assert second.data == first.data
        assert second.metadata.last_event_sequence == first.metadata.last_event_sequence
        assert await self._started(stub, "idem-1") == 1

    async def test_concurrent_repeats_run_once(self, stub: VoiceCoreServiceStub) -> None:
        """Requests with one key that overlap in time share a single execution."""
        request = _request("debug_sleep", {"seconds": 0.2}, idempotency_key="k2", trace_id="idem-2")
        responses = await asyncio.gather(*(stub.execute_primitive(request) for _ in range(3)))
        assert all(r.success for r in responses)
        assert sorted(bool(r.metadata and r.metadata.replayed) for r in responses) == [
            False,
            True,
            True,
        ]
        assert await self._started(stub, "idem-2") == 1

    async def test_same_key_other_request_is_invalid(self, stub: VoiceCoreServiceStub) -> None:
        """Reusing a key for different params is INVALID_PARAMS naming idempotency_key."""
        await stub.execute_primitive(_request("debug_echo", {"n": 1}, idempotency_key="k3"))
        response = await stub.execute_primitive(
            _request("debug_echo", {"n": 2}, idempotency_key="k3")
        )
        assert response.error is not None
        assert response.error.code == ErrorCode.INVALID_PARAMS
        assert "idempotency_key" in response.error.message

    async def test_retryable_failure_is_not_recorded(self, stub: VoiceCoreServiceStub) -> None:
        """A TIMEOUT is not the turn's answer: the retry with the same key runs again."""
        request = _request(
            "debug_sleep",
            {"seconds": 5},
            idempotency_key="k4",
            trace_id="idem-4",
            timeout_seconds=0.05,
        )
        for _ in range(2):
            response = await stub.execute_primitive(request)
            assert response.error is not None and response.error.code == ErrorCode.TIMEOUT
        assert await self._started(stub, "idem-4") == 2

    async def test_keys_are_scoped_by_conversation(self, stub: VoiceCoreServiceStub) -> None:
        """The same key in two conversations is two turns."""
        for conversation in ("c-a", "c-b"):
            response = await stub.execute_primitive(
                _request(
                    "debug_echo",
                    {},
                    idempotency_key="shared",
                    conversation_id=conversation,
                    trace_id="idem-5",
                )
            )
            assert response.metadata is not None and not response.metadata.replayed
        assert await self._started(stub, "idem-5") == 2
