"""Hypothesis strategies for voicecore: noun strategies, and one builder per wire message.

``st.builds(Msg)`` alone yields default messages only (the generated dataclasses have defaults
for every field), so every builder below draws each field from an explicit strategy. The value
ranges are those of the proto field types, narrowed only where betterproto2 0.10 cannot carry a
value (see ``durations``) or where equality would be meaningless (NaN).
"""

from __future__ import annotations

import datetime

import betterproto2
from hypothesis import strategies as st

from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    DeleteConversationResponse,
    Error,
    ErrorCode,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    ExecutionMetadata,
    HealthCheckRequest,
    HealthCheckResponse,
    ListPrimitivesRequest,
    ListPrimitivesResponse,
    PrimitiveInfo,
    PrimitiveState,
    StreamEventsRequest,
)

__all__ = [
    "ADVERSARIAL_PHRASES",
    "MESSAGE_STRATEGIES",
    "adversarial_units",
    "delete_conversation_requests",
    "delete_conversation_responses",
    "doubles",
    "durations",
    "error_codes",
    "errors",
    "events",
    "execute_primitive_requests",
    "execute_primitive_responses",
    "execution_metadata",
    "float32s",
    "health_check_requests",
    "health_check_responses",
    "json_objects",
    "json_values",
    "list_primitives_requests",
    "list_primitives_responses",
    "long_utterance",
    "optional_structs",
    "primitive_infos",
    "primitive_states",
    "short_texts",
    "stream_events_requests",
    "string_maps",
    "structs",
    "timestamps",
    "uint32s",
    "uint64s",
]

# --- scalars ---------------------------------------------------------------------------------

uint32s = st.integers(min_value=0, max_value=2**32 - 1)
"""Every value of a proto ``uint32``."""

uint64s = st.integers(min_value=0, max_value=2**64 - 1)
"""Every value of a proto ``uint64``."""

doubles = st.floats(allow_nan=False)
"""Proto ``double`` values, infinities included (proto3 JSON spells them "Infinity"); NaN is
left out because it is not equal to itself."""

float32s = st.floats(width=32, allow_nan=False)
"""Proto ``float`` values: exactly representable in float32, so a round trip is exact."""

short_texts = st.text(max_size=20)
"""Proto ``string`` values: any Unicode scalar values (no lone surrogates, which UTF-8 cannot
carry), kept short so examples stay fast."""

error_codes = st.sampled_from(ErrorCode)
"""Every declared ``ErrorCode``."""

primitive_states = st.sampled_from(PrimitiveState)
"""Every declared ``PrimitiveState``."""

string_maps = st.dictionaries(short_texts, short_texts, max_size=4)
"""``map<string, string>`` values such as ``HealthCheckResponse.components``."""

# --- well-known types ------------------------------------------------------------------------

_fixed_offsets = st.timedeltas(
    min_value=datetime.timedelta(hours=-23, minutes=-59),
    max_value=datetime.timedelta(hours=23, minutes=59),
).map(datetime.timezone)

timestamps = st.datetimes(
    # A day inside Timestamp's range (0001-01-01 .. 9999-12-31 UTC) so that any offset converts.
    min_value=datetime.datetime(1, 1, 2),
    max_value=datetime.datetime(9999, 12, 30),
    timezones=st.just(datetime.UTC) | _fixed_offsets,
)
"""``google.protobuf.Timestamp`` fields: betterproto2 0.10 unwraps them to timezone-aware
``datetime`` values (naive ones are refused), any UTC offset, microsecond precision."""

durations = st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=36500))
"""``google.protobuf.Duration`` fields, unwrapped by betterproto2 0.10 to ``timedelta``.

Non-negative and at most 100 years: that covers what voicecore sends (call durations, uptime),
while betterproto2 0.10 writes negative durations with mixed-sign seconds and nanos and its JSON
loses microseconds past 2**33 s (both pinned by xfail tests in test_proto_roundtrip.py).
"""

# --- JSON values and Struct ------------------------------------------------------------------

_json_keys = st.text(max_size=12)
_json_scalars: st.SearchStrategy[JsonValue] = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
    short_texts,
)


def _json_containers(
    children: st.SearchStrategy[JsonValue],
) -> st.SearchStrategy[JsonValue]:
    return st.lists(children, max_size=4) | st.dictionaries(_json_keys, children, max_size=4)


json_values: st.SearchStrategy[JsonValue] = st.recursive(
    _json_scalars, _json_containers, max_leaves=12
)
"""Any JSON value a Struct can carry: null, bool, finite numbers (ints only within 2**53, since
a Struct holds every number as a double), strings, and nested lists and objects."""

json_objects: st.SearchStrategy[dict[str, JsonValue]] = st.dictionaries(
    _json_keys, json_values, max_size=6
)
"""Arbitrary JSON objects, e.g. ``params`` of an ``ExecutePrimitiveRequest``."""

structs = json_objects.map(Struct.from_dict)
"""``google.protobuf.Struct`` messages with nested JSON values."""

optional_structs = st.none() | structs
"""A Struct field that may be unset: presence must survive every round trip."""


# --- voicecore.v1 messages -------------------------------------------------------------------


@st.composite
def execute_primitive_requests(draw: st.DrawFn) -> ExecutePrimitiveRequest:
    """An ``ExecutePrimitiveRequest`` with every field drawn, params possibly unset."""
    return ExecutePrimitiveRequest(
        objective_type=draw(short_texts),
        params=draw(optional_structs),
        conversation_id=draw(short_texts),
        trace_id=draw(short_texts),
        purpose=draw(short_texts),
        timeout_seconds=draw(doubles),
        idempotency_key=draw(short_texts),
    )


@st.composite
def errors(draw: st.DrawFn) -> Error:
    """An ``Error`` with any code, message, optional details and retryable flag."""
    return Error(
        code=draw(error_codes),
        message=draw(short_texts),
        details=draw(optional_structs),
        retryable=draw(st.booleans()),
    )


@st.composite
def execution_metadata(draw: st.DrawFn) -> ExecutionMetadata:
    """An ``ExecutionMetadata`` with every field drawn, the duration possibly unset."""
    return ExecutionMetadata(
        duration=draw(st.none() | durations),
        retry_count=draw(uint32s),
        confidence=draw(float32s),
        state=draw(primitive_states),
        trace_id=draw(short_texts),
        objective_type=draw(short_texts),
        primitive_version=draw(short_texts),
        attempt=draw(uint32s),
        last_event_sequence=draw(uint64s),
        replayed=draw(st.booleans()),
    )


@st.composite
def execute_primitive_responses(draw: st.DrawFn) -> ExecutePrimitiveResponse:
    """An ``ExecutePrimitiveResponse``; each submessage may be unset, independently of
    ``success``, so the codec is tested beyond the shapes the service produces."""
    return ExecutePrimitiveResponse(
        success=draw(st.booleans()),
        data=draw(optional_structs),
        error=draw(st.none() | errors()),
        metadata=draw(st.none() | execution_metadata()),
    )


@st.composite
def stream_events_requests(draw: st.DrawFn) -> StreamEventsRequest:
    """A ``StreamEventsRequest`` with every field drawn, including a repeated ``types``."""
    return StreamEventsRequest(
        conversation_id=draw(short_texts),
        after_sequence=draw(uint64s),
        types=draw(st.lists(short_texts, max_size=4)),
        trace_id=draw(short_texts),
        replay_only=draw(st.booleans()),
    )


@st.composite
def delete_conversation_requests(draw: st.DrawFn) -> DeleteConversationRequest:
    """A ``DeleteConversationRequest`` with every field drawn."""
    return DeleteConversationRequest(
        conversation_id=draw(short_texts),
        allow_missing=draw(st.booleans()),
        trace_id=draw(short_texts),
        tenant=draw(short_texts),
    )


@st.composite
def delete_conversation_responses(draw: st.DrawFn) -> DeleteConversationResponse:
    """A ``DeleteConversationResponse`` with every field drawn."""
    return DeleteConversationResponse(
        sequence=draw(uint64s),
        events_deleted=draw(uint32s),
        captures_forgotten=draw(uint32s),
        records_forgotten=draw(uint32s),
    )


@st.composite
def events(draw: st.DrawFn) -> Event:
    """An ``Event`` with every field drawn; time and payload possibly unset."""
    return Event(
        sequence=draw(uint64s),
        type=draw(short_texts),
        conversation_id=draw(short_texts),
        trace_id=draw(short_texts),
        objective_type=draw(short_texts),
        time=draw(st.none() | timestamps),
        payload=draw(optional_structs),
    )


health_check_requests = st.builds(HealthCheckRequest)
"""``HealthCheckRequest`` messages: it has no fields, so the default one is all there is."""


@st.composite
def health_check_responses(draw: st.DrawFn) -> HealthCheckResponse:
    """A ``HealthCheckResponse`` with a components map and an optional uptime."""
    return HealthCheckResponse(
        status=draw(st.sampled_from(["SERVING", "NOT_SERVING"]) | short_texts),
        version=draw(short_texts),
        components=draw(string_maps),
        uptime=draw(st.none() | durations),
    )


list_primitives_requests = st.builds(ListPrimitivesRequest)
"""``ListPrimitivesRequest`` messages: it has no fields, so the default one is all there is."""


@st.composite
def primitive_infos(draw: st.DrawFn) -> PrimitiveInfo:
    """A ``PrimitiveInfo`` with a params schema (any JSON object) and event types."""
    return PrimitiveInfo(
        objective_type=draw(short_texts),
        version=draw(short_texts),
        description=draw(short_texts),
        params_schema=draw(optional_structs),
        event_types=draw(st.lists(short_texts, max_size=4)),
    )


@st.composite
def list_primitives_responses(draw: st.DrawFn) -> ListPrimitivesResponse:
    """A ``ListPrimitivesResponse`` with zero to three primitives."""
    return ListPrimitivesResponse(primitives=draw(st.lists(primitive_infos(), max_size=3)))


MESSAGE_STRATEGIES: dict[type[betterproto2.Message], st.SearchStrategy[betterproto2.Message]] = {
    DeleteConversationRequest: delete_conversation_requests(),
    DeleteConversationResponse: delete_conversation_responses(),
    Error: errors(),
    Event: events(),
    ExecutePrimitiveRequest: execute_primitive_requests(),
    ExecutePrimitiveResponse: execute_primitive_responses(),
    ExecutionMetadata: execution_metadata(),
    HealthCheckRequest: health_check_requests,
    HealthCheckResponse: health_check_responses(),
    ListPrimitivesRequest: list_primitives_requests,
    ListPrimitivesResponse: list_primitives_responses(),
    PrimitiveInfo: primitive_infos(),
    StreamEventsRequest: stream_events_requests(),
}
"""One strategy per message of ``voicecore.v1``, keyed by message class."""


# --- adversarial utterances ------------------------------------------------------------------

ADVERSARIAL_PHRASES = (
    "twenty one ",
    "six fifty five ",
    "five ",
    "double five ",
    "one hundred and ",
    "two thousand ",
    "a thousand ",
    "415 ",
    "1-",
    "1.",
    "1)",
    "at dot ",
    "at ",
    "dot ",
    "no wait ",
    "five five sorry ",
    "a as in apple ",
    "j o h n ",
    "march third twenty twenty ",
    "the fifth of march ",
    "next tuesday after next ",
    "in three days from next friday ",
    "quarter past two pm ",
    "two thirty ",
    "yes no ",
    "that's not right ",
    "not five five five ",
    "change five to six ",
    "the last digit should be two ",
    "my email is ",
    "minus point five ",
    "three and a half ",
    "the ",
    "on ",
    "next ",
    "just ",
    "no ",
    "capital ",
)
"""Phrases that make a reader search, backtrack or rescan when repeated many times: ambiguous
tens, digit and number words, symbols, correction markers, spellings, dates, times, answers
and partial edits (each ends where the next repeat can start)."""

_TRICKY_WORDS = (
    "twenty one five oh o double triple hundred thousand and a at dot no wait sorry not as in "
    "apple j march third next tuesday after quarter past pm yes that's right change to should "
    "be the last digit is minus point half extension plus my email uh 415 1-2 x capital"
).split()


@st.composite
def adversarial_units(draw: st.DrawFn) -> str:
    """A short phrase to repeat into a long utterance: one of ``ADVERSARIAL_PHRASES`` or one
    to five words drawn from the words the readers branch on, ending in a space."""
    mixed = st.lists(st.sampled_from(_TRICKY_WORDS), min_size=1, max_size=5)
    return draw(st.sampled_from(ADVERSARIAL_PHRASES) | mixed.map(lambda ws: " ".join(ws) + " "))


def long_utterance(unit: str, limit: int) -> str:
    """``unit`` repeated as often as it fits in ``limit`` characters (at least once)."""
    return unit * max(1, limit // len(unit))
