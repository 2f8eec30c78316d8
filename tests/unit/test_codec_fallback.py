"""The codec's fallbacks: a message type without a upb plan, and the betterproto2 codec.

A type whose plan cannot be built (as after a betterproto2 upgrade that changed its field
metadata), or whose plan fails on a valid message, is parsed and serialised by betterproto2, with
one warning naming it; every call still goes through. ``Betterproto2Codec`` takes that path for
every message. Both keep the limits, the cap on Struct values included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import betterproto2
import pytest
from grpclib import GRPCError
from grpclib.const import Status
from grpclib.testing import ChannelFor
from loguru import logger

from voicecore import _codec, _upb
from voicecore._codec import (
    MAX_STRUCT_VALUES,
    Betterproto2Codec,
    UpbCodec,
    decode_message,
    encode_message,
)
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    ExecutionMetadata,
    VoiceCoreServiceStub,
)
from voicecore.config import Settings
from voicecore.service import VoiceCoreService

_WARNING = (
    "upb codec cannot copy this message type; betterproto2 parses and serialises it,"
    " within the same cap on Struct values"
)


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """The ``message_type`` of each plan warning logged while the test runs."""
    found: list[str] = []
    logger.enable("voicecore")
    sink = logger.add(
        lambda message: found.append(message.record["extra"]["message_type"]),
        level="WARNING",
        filter=lambda record: record["message"] == _WARNING,
    )
    yield found
    logger.remove(sink)
    logger.disable("voicecore")


def _without_plan(monkeypatch: pytest.MonkeyPatch, *broken: type[betterproto2.Message]) -> None:
    """Plans of ``broken`` types fail to build, as a changed field metadata would make them."""
    build = _upb._build_plan

    def build_or_fail(message_type: type[betterproto2.Message]) -> _upb.Plan:
        if message_type in broken:
            raise AttributeError("'FieldMetadata' object has no attribute 'map_meta'")
        return build(message_type)

    monkeypatch.setattr(_upb, "_PLANS", {})  # plans built so far are forgotten, then restored
    monkeypatch.setattr(_upb, "_build_plan", build_or_fail)


def _with_failing_plan(
    monkeypatch: pytest.MonkeyPatch, message_type: type[betterproto2.Message], *, stage: str
) -> list[str]:
    """``message_type``'s plan builds, but its ``stage`` ("decode" or "fill") raises KeyError
    after doing its work; returns the stages called, one entry per call."""
    real = _upb._build_plan(message_type)
    calls: list[str] = []

    def decode(upb: Any) -> Any:
        calls.append("decode")
        real.decode(upb)
        if stage == "decode":
            raise KeyError("kind")
        return real.decode(upb)

    def fill(message: Any, upb: Any) -> None:
        calls.append("fill")
        if stage == "fill":
            raise KeyError("kind")
        real.fill(message, upb)

    # plans built during the test are forgotten afterwards, the real ones restored
    monkeypatch.setattr(_upb, "_PLANS", {message_type: _upb.Plan(real.upb_class, decode, fill)})
    return calls


# Twice the cap, and under it with room to spare (as 20,000 and 9,000 list items).
_OVER_THE_CAP = 2 * MAX_STRUCT_VALUES
_UNDER_THE_CAP = MAX_STRUCT_VALUES - 1_000


def _request_with_list(items: int) -> ExecutePrimitiveRequest:
    """A request whose params carry one field holding ``items`` list items."""
    return ExecutePrimitiveRequest(
        objective_type="debug_echo", params=Struct.from_dict({"items": [1] * items})
    )


def _status_of(codec: Betterproto2Codec, data: bytes) -> Status:
    with pytest.raises(GRPCError) as caught:
        codec.decode(data, ExecutePrimitiveRequest)
    return caught.value.status


def _response() -> ExecutePrimitiveResponse:
    return ExecutePrimitiveResponse(
        success=True,
        data=Struct.from_dict({"digits": "0042", "nested": {"ok": True}}),
        metadata=ExecutionMetadata(trace_id="t", objective_type="capture_digits", retry_count=2),
    )


class TestTypeWithoutPlan:
    def test_top_level_type_round_trips_and_warns_once(
        self, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
    ) -> None:
        """A request type without a plan is decoded and encoded as betterproto2 does, and the
        warning names it once however many messages pass."""
        _without_plan(monkeypatch, ExecutePrimitiveRequest)
        request = ExecutePrimitiveRequest(
            objective_type="debug_echo", params=Struct.from_dict({"a": [1, "b"]}), trace_id="t"
        )
        for _ in range(3):
            assert encode_message(request) == bytes(request)
            assert decode_message(bytes(request), ExecutePrimitiveRequest) == request
        assert warnings == ["ExecutePrimitiveRequest"]

    def test_nested_type_round_trips_inside_a_planned_one(
        self, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
    ) -> None:
        """A field whose type has no plan is copied through its bytes; the rest keeps upb."""
        _without_plan(monkeypatch, ExecutionMetadata)
        response = _response()
        for _ in range(3):
            assert ExecutePrimitiveResponse.parse(encode_message(response)) == response
            assert decode_message(bytes(response), ExecutePrimitiveResponse) == response
        assert warnings == ["ExecutionMetadata"]
        assert _upb._PLANS[ExecutePrimitiveResponse] is not None

    def test_bad_bytes_are_still_invalid_argument(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Bytes betterproto2 cannot parse are INVALID_ARGUMENT, as with a plan."""
        _without_plan(monkeypatch, ExecutePrimitiveRequest)
        with pytest.raises(GRPCError) as caught:
            UpbCodec(max_bytes=100).decode(b"\x08", ExecutePrimitiveRequest)
        assert caught.value.status is Status.INVALID_ARGUMENT

    @pytest.mark.parametrize("broken", [ExecutePrimitiveRequest, Struct])
    def test_struct_values_cap_still_applies(
        self, monkeypatch: pytest.MonkeyPatch, broken: type[betterproto2.Message]
    ) -> None:
        """Without a plan for the request or for Struct, 20,000 list items (twice the cap) are
        RESOURCE_EXHAUSTED as with the plan, and 9,000 still decode as betterproto2 has them."""
        over, under = bytes(_request_with_list(_OVER_THE_CAP)), _request_with_list(_UNDER_THE_CAP)
        _without_plan(monkeypatch, broken)
        codec = UpbCodec(max_bytes=1 << 20)
        assert _status_of(codec, over) is Status.RESOURCE_EXHAUSTED
        assert codec.decode(bytes(under), ExecutePrimitiveRequest) == under
        assert _upb._PLANS[broken] is None

    async def test_calls_over_the_cap_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the request's plan, a call carrying twice the cap fails RESOURCE_EXHAUSTED
        before it reaches the service, and one under the cap reaches it (the objective is unknown
        so the answer is small: an echo of the params would be refused by the client's decode)."""
        over, under = _request_with_list(_OVER_THE_CAP), _request_with_list(_UNDER_THE_CAP)
        _without_plan(monkeypatch, ExecutePrimitiveRequest)
        service = VoiceCoreService.from_settings(Settings())
        async with ChannelFor([service], codec=UpbCodec(1 << 20)) as channel:
            stub = VoiceCoreServiceStub(channel)
            with pytest.raises(GRPCError) as caught:
                await stub.execute_primitive(over)
            assert caught.value.status is Status.RESOURCE_EXHAUSTED
            response = await stub.execute_primitive(under)
        assert response.error is not None
        assert response.error.code is ErrorCode.PRIMITIVE_NOT_FOUND

    async def test_calls_go_through(
        self, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
    ) -> None:
        """Calls through the codec succeed when the request and metadata types have no plan."""
        _without_plan(monkeypatch, ExecutePrimitiveRequest, ExecutionMetadata)
        service = VoiceCoreService.from_settings(Settings(debug_primitives=True))
        async with ChannelFor([service], codec=UpbCodec(1 << 20)) as channel:
            stub = VoiceCoreServiceStub(channel)
            for turn in range(2):
                response = await stub.execute_primitive(
                    ExecutePrimitiveRequest(
                        objective_type="debug_echo",
                        params=Struct.from_dict({"turn": turn}),
                        conversation_id="c",
                    )
                )
                assert response.success and response.data == Struct.from_dict({"turn": turn})
                assert response.metadata is not None
                assert response.metadata.objective_type == "debug_echo"
        assert sorted(warnings) == ["ExecutePrimitiveRequest", "ExecutionMetadata"]


class TestPlanFailingOnAValidMessage:
    @pytest.mark.parametrize(
        "decode",
        [UpbCodec(max_bytes=1000, max_values=10).decode, decode_message],
        ids=["codec", "no-cap"],
    )
    def test_decode_falls_back_for_good_and_warns_once(
        self,
        monkeypatch: pytest.MonkeyPatch,
        warnings: list[str],
        decode: Callable[[bytes, type[ExecutePrimitiveRequest]], object],
    ) -> None:
        """A plan whose decode raises answers that call through betterproto2, with the values it
        spent given back (8 of a cap of 10, counted twice, would be over), and is not used
        again."""
        calls = _with_failing_plan(monkeypatch, ExecutePrimitiveRequest, stage="decode")
        request = _request_with_list(7)
        for _ in range(3):
            assert decode(bytes(request), ExecutePrimitiveRequest) == request
        assert calls == ["decode"]
        assert warnings == ["ExecutePrimitiveRequest"]
        assert _upb._PLANS[ExecutePrimitiveRequest] is None

    def test_encode_falls_back_for_good_and_warns_once(
        self, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
    ) -> None:
        """A plan whose fill raises answers that call with betterproto2's bytes, and is not used
        again."""
        calls = _with_failing_plan(monkeypatch, ExecutePrimitiveRequest, stage="fill")
        request = _request_with_list(3)
        for _ in range(3):
            assert encode_message(request) == bytes(request)
        assert calls == ["fill"]
        assert warnings == ["ExecutePrimitiveRequest"]

    def test_bad_bytes_are_still_invalid_argument(
        self, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
    ) -> None:
        """Bytes upb refuses never reach the plan: INVALID_ARGUMENT, and the plan stays."""
        calls = _with_failing_plan(monkeypatch, ExecutePrimitiveRequest, stage="decode")
        assert _status_of(UpbCodec(max_bytes=100), b"\x08") is Status.INVALID_ARGUMENT
        assert calls == [] and warnings == []
        assert _upb._PLANS[ExecutePrimitiveRequest] is not None

    def test_a_message_betterproto2_refuses_too_keeps_the_plan(
        self, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
    ) -> None:
        """When betterproto2 also fails on the message, the message is to blame, not the plan:
        decoding is INVALID_ARGUMENT, encoding raises betterproto2's error, no plan is dropped."""

        def refuse(*args: object) -> object:
            raise ValueError("refused")

        request = _request_with_list(3)
        data = bytes(request)
        _with_failing_plan(monkeypatch, ExecutePrimitiveRequest, stage="decode")
        monkeypatch.setattr(ExecutePrimitiveRequest, "parse", refuse)
        monkeypatch.setattr(ExecutePrimitiveRequest, "__bytes__", refuse)
        assert _status_of(UpbCodec(max_bytes=1000), data) is Status.INVALID_ARGUMENT
        _with_failing_plan(monkeypatch, ExecutePrimitiveRequest, stage="fill")
        with pytest.raises(ValueError, match="refused"):
            encode_message(request)
        assert warnings == []
        assert _upb._PLANS[ExecutePrimitiveRequest] is not None


class TestBetterproto2Codec:
    def test_round_trip_is_betterproto2_s(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """It writes betterproto2's bytes and parses them back, never calling upb."""

        def no_upb(*args: object) -> object:
            raise AssertionError("the betterproto2 codec went through upb")

        monkeypatch.setattr(_codec, "decode_message", no_upb)
        monkeypatch.setattr(_codec, "encode_message", no_upb)
        codec = Betterproto2Codec(max_bytes=1000)
        response = _response()
        data = codec.encode(response, ExecutePrimitiveResponse)
        assert data == bytes(response)
        assert codec.decode(data, ExecutePrimitiveResponse) == response

    def test_keeps_the_size_limit(self) -> None:
        """A message over the limit is RESOURCE_EXHAUSTED before any parsing."""
        with pytest.raises(GRPCError) as caught:
            Betterproto2Codec(max_bytes=10).decode(b"\x00" * 11, ExecutePrimitiveRequest)
        assert caught.value.status is Status.RESOURCE_EXHAUSTED

    def test_keeps_the_struct_values_cap(self) -> None:
        """Twice the cap is RESOURCE_EXHAUSTED, as with the upb codec; under it is accepted."""
        codec = Betterproto2Codec(max_bytes=1 << 20)
        assert (
            _status_of(codec, bytes(_request_with_list(_OVER_THE_CAP))) is Status.RESOURCE_EXHAUSTED
        )
        under = _request_with_list(_UNDER_THE_CAP)
        assert codec.decode(bytes(under), ExecutePrimitiveRequest) == under

    def test_bad_bytes_are_invalid_argument(self) -> None:
        """A truncated varint is INVALID_ARGUMENT, not an internal error."""
        with pytest.raises(GRPCError) as caught:
            Betterproto2Codec(max_bytes=100).decode(b"\x08", ExecutePrimitiveRequest)
        assert caught.value.status is Status.INVALID_ARGUMENT

    def test_wrong_type_is_a_type_error(self) -> None:
        """Encoding a message of another type is refused, as grpclib's codec refuses it."""
        with pytest.raises(TypeError):
            Betterproto2Codec(max_bytes=100).encode(ExecutionMetadata(), ExecutePrimitiveRequest)

    def test_shared_messages_are_encoded_once(self) -> None:
        """A message marked by share_encoding keeps its first bytes for later sends."""
        codec = Betterproto2Codec(max_bytes=100)
        message = _codec.share_encoding(ExecutionMetadata(trace_id="shared"))
        first = codec.encode(message, ExecutionMetadata)
        assert _codec._SHARED[id(message)] == first == bytes(message)
        assert codec.encode(message, ExecutionMetadata) is first
