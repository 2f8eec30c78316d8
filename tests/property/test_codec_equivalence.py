"""The upb fast path of ``voicecore._codec`` equals betterproto2's own parse and serialise.

Equal means the same parsed value: the bytes may differ in the order of map entries (upb keeps
maps in hash order) and in -0.0 doubles (upb writes them, betterproto2 skips them as zero).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import betterproto2
import pytest
from grpclib import GRPCError
from grpclib.const import Status
from hypothesis import example, given
from hypothesis import strategies as st

from tests.strategies import MESSAGE_STRATEGIES, json_objects, json_values, structs
from voicecore import _upb
from voicecore._codec import UpbCodec, decode_message, encode_message
from voicecore._json import JsonValue, json_copy, struct_from_dict, struct_to_dict
from voicecore._proto.google.protobuf import ListValue, NullValue, Struct, Value
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutionMetadata,
    HealthCheckResponse,
)
from voicecore._upb import decode_without_plan, reset_values_budget, set_values_budget

MESSAGE_TYPES = sorted(MESSAGE_STRATEGIES, key=lambda cls: cls.__name__)


@st.composite
def messages(draw: st.DrawFn) -> betterproto2.Message:
    """Any voicecore.v1 message, drawn from the shared strategies."""
    message_type = draw(st.sampled_from(MESSAGE_TYPES))
    return draw(MESSAGE_STRATEGIES[message_type])


class TestMessageEquivalence:
    """Both directions agree with betterproto2 on every voicecore.v1 message type.

    betterproto2's ``==`` treats NaN fields as equal, so NaN-carrying messages compare too.
    """

    def test_every_message_type_is_covered(self) -> None:
        """The strategies cover every message class of the generated module."""
        from voicecore._proto.voicecore import v1

        generated = {
            value
            for value in vars(v1).values()
            if isinstance(value, type)
            and issubclass(value, betterproto2.Message)
            and value.__module__ == v1.__name__
        }
        assert generated == set(MESSAGE_STRATEGIES)

    @given(messages())
    def test_decode_equals_betterproto_parse(self, message: betterproto2.Message) -> None:
        """upb-decoding betterproto2's bytes gives what betterproto2's parse gives."""
        data = bytes(message)
        expected = type(message).parse(data)
        assert decode_message(data, type(message)) == expected

    @given(messages())
    def test_encode_parses_to_the_same_value(self, message: betterproto2.Message) -> None:
        """betterproto2 parses the upb-encoded bytes to the value it parses its own bytes to."""
        message_type = type(message)
        expected = message_type.parse(bytes(message))
        assert message_type.parse(encode_message(message)) == expected

    @given(messages())
    def test_fast_round_trip(self, message: betterproto2.Message) -> None:
        """Fast encode then fast decode equals betterproto2's own round trip."""
        message_type = type(message)
        expected = message_type.parse(bytes(message))
        assert decode_message(encode_message(message), message_type) == expected

    @given(messages())
    @example(HealthCheckResponse(components={"event_log": "SERVING"}))  # a map of scalars
    def test_values_counted_without_a_plan_equal_the_plan_s(
        self, message: betterproto2.Message
    ) -> None:
        """upb's generic message, which counts a type without a plan, charges the budget with the
        Struct fields and list items the plan's decode charges."""
        data = bytes(message)
        assert _values_spent(decode_without_plan, data, type(message)) == _values_spent(
            decode_message, data, type(message)
        )


def _values_spent(
    decode: Callable[[bytes, type[betterproto2.Message]], object],
    data: bytes,
    message_type: type[betterproto2.Message],
) -> int:
    limit = 1 << 30
    token = set_values_budget(limit)
    try:
        decode(data, message_type)
        budget = _upb._values_budget.get()
        assert budget is not None
        return limit - budget.left
    finally:
        reset_values_budget(token)


class TestStructEquivalence:
    """The hand-written Struct copies agree with betterproto2 on any JSON object."""

    @given(json_objects)
    def test_struct_both_ways(self, value: dict[str, object]) -> None:
        """A Struct survives fast encode and fast decode as betterproto2 sees it."""
        struct = Struct.from_dict(value)
        expected = Struct.parse(bytes(struct))
        assert decode_message(bytes(struct), Struct) == expected
        assert Struct.parse(encode_message(struct)) == expected

    def test_empty_value_and_empty_list_stay_present(self) -> None:
        """A Value with no member and an empty list are still written, as betterproto2 does."""
        struct = Struct(fields={"a": Value(), "b": Value(list_value=ListValue())})
        assert decode_message(encode_message(struct), Struct) == Struct.parse(bytes(struct))

    def test_nan_number(self) -> None:
        """NaN numbers travel as NaN (betterproto2 serialises them silently too)."""
        struct = Struct(fields={"x": Value(number_value=math.nan)})
        decoded = decode_message(encode_message(struct), Struct)
        assert math.isnan(decoded.fields["x"].number_value or 0.0)


def _outcome(convert: Callable[[], object]) -> object:
    """The value, or the type and text of the error it raised (errors must match too)."""
    try:
        return convert()
    except (ValueError, AssertionError) as err:
        return (type(err), str(err))


# Beyond JSON: what callers might pass by mistake (NaN, huge ints, tuples, sets, objects).
_odd_scalars = st.one_of(
    st.floats(),
    st.integers(),
    st.tuples(st.integers()),
    st.frozensets(st.integers(), max_size=2),
    st.builds(object),
    st.sampled_from(ErrorCode),
)
_odd_values = st.recursive(
    json_values | _odd_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=8,
)


@st.composite
def _values(draw: st.DrawFn, depth: int = 2) -> Value:
    """Values with any members set, several or none (invalid, yet to_dict must agree)."""
    members: dict[str, object] = {}
    if draw(st.booleans()):
        members["null_value"] = NullValue.NULL_VALUE
    if draw(st.booleans()):
        members["bool_value"] = draw(st.booleans())
    if draw(st.booleans()):
        members["number_value"] = draw(st.floats() | st.integers())
    if draw(st.booleans()):
        members["string_value"] = draw(st.text(max_size=4))
    if depth and draw(st.booleans()):
        members["list_value"] = ListValue(values=draw(st.lists(_values(depth - 1), max_size=2)))
    if depth and draw(st.booleans()):
        fields = draw(st.dictionaries(st.text(max_size=3), _values(depth - 1), max_size=2))
        members["struct_value"] = Struct(fields=fields)
    return Value(**members)  # type: ignore[arg-type]


class TestStructConversions:
    """struct_from_dict and struct_to_dict give what Struct.from_dict and to_dict give."""

    @given(json_objects)
    def test_from_dict_on_json(self, value: dict[str, JsonValue]) -> None:
        """Any JSON object builds the same Struct."""
        assert struct_from_dict(value) == Struct.from_dict(value)

    @given(st.dictionaries(st.text(), _odd_values, max_size=4))
    def test_from_dict_on_anything(self, value: dict[str, object]) -> None:
        """Odd values build the same Struct or raise the same error."""
        expected = _outcome(lambda: Struct.from_dict(value))
        assert _outcome(lambda: struct_from_dict(value)) == expected
        if isinstance(expected, Struct):  # ints stay ints, enums stay enums, as betterproto2
            assert struct_from_dict(value).to_dict() == expected.to_dict()

    @given(structs)
    def test_to_dict_on_structs(self, struct: Struct) -> None:
        """Any Struct from JSON reads back as betterproto2 reads it."""
        assert struct_to_dict(struct) == struct.to_dict()

    @given(st.dictionaries(st.text(max_size=3), _values(), max_size=3))
    def test_to_dict_on_any_values(self, fields: dict[str, Value]) -> None:
        """Values with several or no members read back the same, or fail the same way."""
        struct = Struct(fields=fields)
        assert _outcome(lambda: struct_to_dict(struct)) == _outcome(struct.to_dict)

    @given(st.dictionaries(st.text(), _odd_values, max_size=4))
    def test_json_copy_refuses_what_from_dict_refuses(self, value: dict[str, object]) -> None:
        """The event log's copy fails exactly when Struct.from_dict does, and converts the same."""
        expected = _outcome(lambda: Struct.from_dict(value))
        copied = _outcome(lambda: json_copy(value))
        if isinstance(expected, Struct):
            assert isinstance(copied, dict)
            assert struct_from_dict(copied) == expected
        else:
            assert copied == expected

    def test_from_dict_wants_a_dict(self) -> None:
        """A non-dict mapping is refused, as Struct.from_dict refuses it."""
        with pytest.raises(AssertionError):
            struct_from_dict(list({"a": 1}.items()))  # type: ignore[arg-type]


class TestOutOfRange:
    """Values upb cannot hold fall back to betterproto2's own bytes."""

    def test_negative_uint32_falls_back(self) -> None:
        """A uint32 of -1 is written exactly as betterproto2 writes it."""
        message = ExecutionMetadata(retry_count=-1)
        assert encode_message(message) == bytes(message)


class TestCodec:
    """The grpclib codec keeps the size limit and reports bad bytes as INVALID_ARGUMENT."""

    def test_refuses_large_requests(self) -> None:
        """A message over the limit is RESOURCE_EXHAUSTED before any parsing."""
        with pytest.raises(GRPCError) as caught:
            UpbCodec(max_bytes=10).decode(b"\x00" * 11, ExecutePrimitiveRequest)
        assert caught.value.status is Status.RESOURCE_EXHAUSTED

    def test_invalid_bytes_are_invalid_argument(self) -> None:
        """Bytes that are not a message give INVALID_ARGUMENT, not an internal error."""
        with pytest.raises(GRPCError) as caught:
            UpbCodec(max_bytes=100).decode(b"\x0a\x05ab", ExecutePrimitiveRequest)
        assert caught.value.status is Status.INVALID_ARGUMENT

    def test_encode_checks_the_type(self) -> None:
        """Encoding a message of the wrong type is a TypeError, as in grpclib's codec."""
        with pytest.raises(TypeError):
            UpbCodec(max_bytes=100).encode(ExecutionMetadata(), ExecutePrimitiveRequest)

    def test_other_messages_take_the_protobuf_path(self) -> None:
        """Protobuf messages (health, reflection) are encoded and decoded by protobuf."""
        from grpclib.health.v1.health_pb2 import HealthCheckResponse

        codec = UpbCodec(max_bytes=100)
        message = HealthCheckResponse(status=HealthCheckResponse.SERVING)
        data = codec.encode(message, HealthCheckResponse)
        assert codec.decode(data, HealthCheckResponse) == message

    def test_betterproto_message_through_the_codec(self) -> None:
        """The codec's encode and decode of a betterproto2 message round-trip it."""
        codec = UpbCodec(max_bytes=1000)
        message = ExecutePrimitiveRequest(objective_type="debug_echo", conversation_id="c")
        data = codec.encode(message, ExecutePrimitiveRequest)
        assert codec.decode(data, ExecutePrimitiveRequest) == message
