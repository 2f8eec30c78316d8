"""Request bounds: trace ids, string fields, error lists, Struct values; refused before applied."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecore._codec import MAX_STRUCT_VALUES, UpbCodec, encode_message
from voicecore._limits import (
    MAX_CONVERSATION_ID,
    MAX_EVENT_TYPES,
    MAX_PURPOSE,
    MAX_REPORTED_ERRORS,
    execute_request_refusal,
    limited_errors,
    stream_request_refusal,
    within_limits,
)
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    StreamEventsRequest,
)
from voicecore._trace import MAX_TRACE_ID, is_valid_trace_id
from voicecore.config import Settings
from voicecore.service import VoiceCoreService

_VISIBLE_ASCII = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


class TestTraceIds:
    @given(st.text(_VISIBLE_ASCII, min_size=1, max_size=MAX_TRACE_ID))
    def test_visible_ascii_up_to_the_bound_is_valid(self, trace_id: str) -> None:
        """Any 1..128 visible ASCII characters make a trace id."""
        assert is_valid_trace_id(trace_id)

    @pytest.mark.parametrize(
        "trace_id",
        ["", "a" * (MAX_TRACE_ID + 1), "has space", "caf\u00e9", "tab\there", "line\nbreak"],
    )
    def test_others_are_not(self, trace_id: str) -> None:
        """Empty, too long, spaces, non-ASCII and control characters are refused."""
        assert not is_valid_trace_id(trace_id)


class TestRequestRefusal:
    def test_every_field_out_of_bounds_is_named(self) -> None:
        """One refusal names each offending field, the metadata trace id included."""
        request = ExecutePrimitiveRequest(
            objective_type="capture_email",
            conversation_id="c" * (MAX_CONVERSATION_ID + 1),
            purpose="p" * (MAX_PURPOSE + 1),
            trace_id="caf\u00e9",
        )
        refusal = execute_request_refusal(request, metadata_trace_id="x" * 1000)
        assert refusal is not None and refusal.code == "INVALID_PARAMS"
        errors = refusal.details["errors"]
        assert isinstance(errors, list)
        assert [error["loc"] for error in errors] == [
            ["conversation_id"],
            ["purpose"],
            ["trace_id"],
            ["trace-id metadata"],
        ]

    def test_fields_within_bounds_pass(self) -> None:
        """A request at every bound exactly is not refused."""
        request = ExecutePrimitiveRequest(
            objective_type="capture_email",
            conversation_id="c" * MAX_CONVERSATION_ID,
            purpose="p" * MAX_PURPOSE,
            trace_id="t" * MAX_TRACE_ID,
        )
        assert execute_request_refusal(request) is None

    def test_the_refused_copy_echoes_nothing_large(self) -> None:
        """The copy reported on keeps fields that fit and empties the rest and the params."""
        request = ExecutePrimitiveRequest(
            objective_type="o" * 1_000_000,
            conversation_id="conversation-1",
            trace_id="\u00e9",
            params=Struct.from_dict({"transcription": "x" * 1000}),
            timeout_seconds=2.0,
        )
        safe = within_limits(request)
        assert (safe.objective_type, safe.trace_id, safe.params) == ("", "", None)
        assert (safe.conversation_id, safe.timeout_seconds) == ("conversation-1", 2.0)

    def test_the_refused_copy_keeps_a_valid_trace_id(self) -> None:
        """Only what is out of bounds is emptied: a valid trace id is kept for the report."""
        request = ExecutePrimitiveRequest(objective_type="o" * 1_000, trace_id="trace-1")
        safe = within_limits(request)
        assert (safe.objective_type, safe.trace_id) == ("", "trace-1")

    def test_stream_filters_are_bounded(self) -> None:
        """Too many filter types, or one too long, refuse a StreamEvents request."""
        many = StreamEventsRequest(types=["t"] * (MAX_EVENT_TYPES + 1))
        long = StreamEventsRequest(types=["t" * 1000])
        for request in (many, long):
            refusal = stream_request_refusal(request)
            assert refusal is not None and "types" in refusal.message
        assert stream_request_refusal(StreamEventsRequest(types=["primitive.started"])) is None


class TestLimitedErrors:
    def test_long_lists_are_cut_and_counted(self) -> None:
        """Beyond the bound the rest is counted, not listed."""
        shown, more = limited_errors(list(range(MAX_REPORTED_ERRORS + 12)))
        assert len(shown) == MAX_REPORTED_ERRORS and more == " and 12 more"
        assert limited_errors([1, 2]) == ([1, 2], "")


class TestStructValueBudget:
    def test_more_values_than_the_budget_are_refused(self) -> None:
        """Past MAX_STRUCT_VALUES at any depth the request is RESOURCE_EXHAUSTED."""
        from grpclib import GRPCError
        from grpclib.const import Status

        nested = {"outer": {"inner": list(range(MAX_STRUCT_VALUES))}}
        data = encode_message(ExecutePrimitiveRequest(params=Struct.from_dict(nested)))
        with pytest.raises(GRPCError) as refused:
            UpbCodec(max_bytes=1 << 26).decode(data, ExecutePrimitiveRequest)
        assert refused.value.status is Status.RESOURCE_EXHAUSTED
        assert str(MAX_STRUCT_VALUES) in (refused.value.message or "")

    def test_the_budget_itself_is_accepted(self) -> None:
        """Exactly MAX_STRUCT_VALUES values decode."""
        values = {"items": list(range(MAX_STRUCT_VALUES - 1))}  # plus the key "items"
        data = encode_message(ExecutePrimitiveRequest(params=Struct.from_dict(values)))
        decoded = UpbCodec(max_bytes=1 << 26).decode(data, ExecutePrimitiveRequest)
        assert decoded.params is not None


def _service() -> VoiceCoreService:
    return VoiceCoreService.from_settings(Settings(debug_primitives=True))


async def _call(service: VoiceCoreService, **fields: object) -> ExecutePrimitiveResponse:
    request = ExecutePrimitiveRequest(**fields)  # type: ignore[arg-type]
    return await service.execute_primitive(request)


class TestRefusedBeforeApplied:
    async def test_a_bad_trace_id_applies_no_turn(self) -> None:
        """A turn with a non-ASCII trace id is refused and the capture keeps no state."""
        service = _service()
        said = Struct.from_dict({"transcription": "four one five five five five two six seven one"})
        refused = await _call(
            service,
            objective_type="capture_phone",
            conversation_id="conv",
            params=said,
            trace_id="caf\u00e9",
        )
        assert refused.error is not None and refused.error.code == ErrorCode.INVALID_PARAMS
        assert refused.metadata is not None and is_valid_trace_id(refused.metadata.trace_id)
        yes = Struct.from_dict({"transcription": "yes"})
        answer = await _call(
            service, objective_type="capture_phone", conversation_id="conv", params=yes
        )
        assert answer.data is not None and "value" not in answer.data.to_dict()

    async def test_a_huge_objective_type_gets_a_small_answer(self) -> None:
        """A 1 MB objective_type is refused naming it, and is not echoed back."""
        response = await _call(_service(), objective_type="o" * 1_000_000)
        assert response.error is not None and response.error.code == ErrorCode.INVALID_PARAMS
        assert "objective_type" in response.error.message
        assert len(bytes(response)) < 2_000

    async def test_unknown_keys_are_listed_up_to_the_bound(self) -> None:
        """5,000 unknown params give 20 errors in details and 'and 4980 more' (+1 known)."""
        params = {f"k{i}": 1 for i in range(5_000)}
        response = await _call(
            _service(), objective_type="capture_email", params=Struct.from_dict(params)
        )
        assert response.error is not None and response.error.details is not None
        assert len(response.error.details.to_dict()["errors"]) == MAX_REPORTED_ERRORS
        assert "more" in response.error.message
        assert len(bytes(response)) < 10_000

    async def test_idempotency_keys_of_two_conversations_do_not_collide(self) -> None:
        """Conversation 'a\\nb' key 'c' and conversation 'a' key 'b\\nc' are two turns."""
        service = _service()
        first = await _call(
            service,
            objective_type="debug_echo",
            conversation_id="a\nb",
            idempotency_key="c",
            params=Struct.from_dict({"text": "first"}),
        )
        second = await _call(
            service,
            objective_type="debug_echo",
            conversation_id="a",
            idempotency_key="b\nc",
            params=Struct.from_dict({"text": "second"}),
        )
        assert first.success and second.success
        assert second.metadata is not None and not second.metadata.replayed
        assert second.data is not None and second.data.to_dict()["text"] == "second"
