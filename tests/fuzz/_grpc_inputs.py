"""gRPC-level fuzz inputs: a request's headers, metadata, 5-byte prefix and message.

An input is a small recipe (``GrpcInput``) whose ``repr`` is the reproducer: large values are
``Repeated(unit, count)`` rather than megabytes of text, and params too large or too deep to
build through ``Struct.from_dict`` are ``ManyKeys(n)`` or ``Nested(depth)``, encoded by hand.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from hypothesis import strategies as st

from tests.property.test_params_fuzz import (
    OBJECTIVE_TYPES,
    arbitrary_params,
    near_valid_params,
)
from voicecore._h2guard import MAX_HEADER_LIST_BYTES
from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ExecutePrimitiveRequest,
    HealthCheckRequest,
    ListPrimitivesRequest,
    StreamEventsRequest,
)

__all__ = [
    "EXECUTE",
    "STREAM_EVENTS",
    "GrpcInput",
    "ManyKeys",
    "Nested",
    "Repeated",
    "grpc_inputs",
]

SERVICE = "/voicecore.v1.VoiceCoreService/"
EXECUTE = SERVICE + "ExecutePrimitive"
STREAM_EVENTS = SERVICE + "StreamEvents"

# --- compact recipes for large values --------------------------------------------------------


@dataclass(frozen=True)
class Repeated:
    """``unit * count``: a long string whose repr stays short."""

    unit: str
    count: int

    def build(self) -> str:
        """The string itself."""
        return self.unit * self.count


@dataclass(frozen=True)
class ManyKeys:
    """Params with ``n`` keys ``k0``, ``k1``, ... each null (unknown keys for every primitive)."""

    n: int


@dataclass(frozen=True)
class Nested:
    """Params ``{"k": [[[...null...]]]}`` nested ``depth`` lists deep."""

    depth: int


Text = str | Repeated
Params = dict[str, JsonValue] | ManyKeys | Nested | None


def _text(value: Text) -> str:
    return value.build() if isinstance(value, Repeated) else value


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _struct_bytes(params: ManyKeys | Nested) -> bytes:
    """Struct wire bytes, built without betterproto2 (whose recursion and speed limit both)."""
    null_value = b"\x08\x00"  # Value.null_value = 0
    if isinstance(params, ManyKeys):
        entries = (_field(1, f"k{i}".encode()) + _field(2, null_value) for i in range(params.n))
        return b"".join(_field(1, entry) for entry in entries)
    value = null_value
    for _ in range(params.depth):
        value = _field(6, _field(1, value))  # Value.list_value = ListValue{values: [value]}
    return _field(1, _field(1, b"k") + _field(2, value))


# --- the input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """An ExecutePrimitiveRequest with every field drawn."""

    objective_type: Text
    params: Params
    conversation_id: Text = ""
    trace_id: Text = ""
    purpose: Text = ""
    timeout_seconds: float = 0.0
    idempotency_key: Text = ""

    def encode(self) -> bytes:
        """Wire bytes: betterproto2 for the plain fields, params appended (field order is free)."""
        params = self.params
        message = ExecutePrimitiveRequest(
            objective_type=_text(self.objective_type),
            params=Struct.from_dict(params) if isinstance(params, dict) else None,
            conversation_id=_text(self.conversation_id),
            trace_id=_text(self.trace_id),
            purpose=_text(self.purpose),
            timeout_seconds=self.timeout_seconds,
            idempotency_key=_text(self.idempotency_key),
        )
        tail = _field(2, _struct_bytes(params)) if isinstance(params, ManyKeys | Nested) else b""
        return bytes(message) + tail


@dataclass(frozen=True)
class GrpcInput:
    """One call: path, extra metadata, content type, the message and how it is framed."""

    path: str
    message: Request | bytes
    metadata: tuple[tuple[str | bytes, Text | bytes], ...] = ()
    content_type: str = "application/grpc"
    compressed: int = 0  # the prefix's flag byte; only 0 and 1 are defined
    length_delta: int | None = 0  # declared length minus the true one; None: no prefix at all
    tail: bytes = b""  # bytes after the framed message

    def body(self) -> bytes:
        """The DATA payload: prefix, message, tail."""
        message = self.message.encode() if isinstance(self.message, Request) else self.message
        if self.length_delta is None:
            return message + self.tail
        declared = max(0, min(2**32 - 1, len(message) + self.length_delta))
        return struct.pack(">BI", self.compressed, declared) + message + self.tail

    def headers(self, authority: str) -> list[tuple[bytes, bytes]]:
        """Request headers: the usual gRPC ones, then the drawn metadata as given."""
        base = [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", self.path.encode()),
            (b":authority", authority.encode()),
            (b"content-type", self.content_type.encode()),
            (b"te", b"trailers"),
        ]
        return base + [(_bytes(name), _bytes(value)) for name, value in self.metadata]

    def metadata_is_valid(self) -> bool:
        """Metadata a gRPC client may send (lowercase key, printable ASCII value, or base64
        for -bin) within the server's advertised header list size: such a call must get an
        answer, not a reset or a dropped connection."""
        size = 0
        for name, value in self.metadata:
            key, text = _bytes(name), _bytes(value)
            size += len(key) + len(text) + _HPACK_ENTRY_OVERHEAD
            if key == b"grpc-timeout" and _VALID_TIMEOUT.fullmatch(text):
                continue
            if not _VALID_KEY.fullmatch(key) or key.startswith(b"grpc-"):
                return False
            valid = _BASE64 if key.endswith(b"-bin") else _VALID_VALUE
            if not valid.fullmatch(text):
                return False
        fits = size + _PSEUDO_HEADERS_BYTES <= MAX_HEADER_LIST_BYTES
        return fits and self.content_type.startswith("application/grpc")


_VALID_TIMEOUT = re.compile(rb"[0-9]{1,8}[HMSmun]")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_HPACK_ENTRY_OVERHEAD = 32  # RFC 7541 section 4.1: what each header adds to the list size
_PSEUDO_HEADERS_BYTES = 1024  # :method, :path, content-type, te ... with their overheads
_VALID_KEY = re.compile(rb"[0-9a-z_.\-]+")
_VALID_VALUE = re.compile(rb"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?|")


def _bytes(value: str | Repeated | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    return _text(value).encode("utf-8", "surrogatepass")


# --- strategies ------------------------------------------------------------------------------

# Sizes around the limits a server should have (128-character trace ids, 4 MiB messages) and
# far past them; each drawn rarely, so most calls stay cheap.
_big_counts = st.sampled_from([129, 1_000, 65_536, 200_000, 1_000_000, 4_000_000])
_units = st.sampled_from(["a", "é", "0", " ", "\x00", "twenty one ", "nine ", "\U0001f600"])
texts: st.SearchStrategy[Text] = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "capture_email", "a\nb", "\x00", "é", "\ud7ff", "0" * 32]),
    st.builds(Repeated, _units, _big_counts),
)
"""String field values: short text, tricky constants, or a long run of one unit."""

_number_words = st.sampled_from(
    ["twenty one ", "one ", "oh ", "double ", "five five ", "hundred ", "and ", "dot ", "at "]
)
_adversarial_transcriptions = st.builds(
    Repeated, _number_words, st.integers(min_value=1, max_value=200)
)


@st.composite
def params_for(draw: st.DrawFn, objective_type: str) -> Params:
    """Params: near-valid or arbitrary for the primitive, huge, deep, or absent."""
    known = objective_type in OBJECTIVE_TYPES
    choice = draw(st.integers(min_value=0, max_value=9))
    if known and choice < 4:
        return draw(near_valid_params(objective_type))
    if known and choice < 6:
        params = draw(near_valid_params(objective_type))
        return {**params, "transcription": _text(draw(_adversarial_transcriptions))}
    if choice == 6:
        return draw(st.builds(ManyKeys, st.sampled_from([100, 1_000, 100_000, 300_000])))
    if choice == 7:
        return draw(st.builds(Nested, st.sampled_from([10, 100, 1_000, 10_000])))
    if choice == 8:
        return None
    guarded = objective_type if known else "debug_echo"
    return draw(arbitrary_params(guarded))


_timeouts = st.one_of(
    st.just(0.0),
    st.floats(min_value=0.001, max_value=2.0),
    st.sampled_from([-1.0, float("nan"), float("inf"), 1e-300, 601.0, 1e308]),
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    """An ExecutePrimitiveRequest recipe, mostly for a registered primitive."""
    objective_type = draw(st.sampled_from(OBJECTIVE_TYPES) | texts)
    name = objective_type if isinstance(objective_type, str) else ""
    return Request(
        objective_type=objective_type,
        params=draw(params_for(name)),
        conversation_id=draw(st.sampled_from(["", "c1", "c2"]) | texts),
        trace_id=draw(st.just("") | texts),
        purpose=draw(st.just("") | texts),
        timeout_seconds=draw(_timeouts),
        idempotency_key=draw(st.sampled_from(["", "k1"]) | texts),
    )


_timeout_values = st.one_of(
    st.builds(
        "{}{}".format,
        st.integers(min_value=0, max_value=99_999_999),
        st.sampled_from("HMSmun"),
    ),
    st.sampled_from(["", "S", "1", "1s", "-1S", "1.5S", "100000000S", "１S", " 1S", "1S\t"]),
    st.text(max_size=10),
)
"""``grpc-timeout`` values: valid ones (at most 8 digits and a unit), edge cases, junk."""

_metadata_keys = st.sampled_from(
    ["trace-id", "traceparent", "user-agent", "x-custom", "x-data-bin", "grpc-encoding",
     "grpc-accept-encoding", "authorization", "Trace-Id", "bad key", ":path", ""]
)  # fmt: skip
_metadata_values = st.one_of(
    texts,
    st.binary(max_size=16),
    st.builds(
        "00-{}-{}-01".format,
        st.text("0123456789abcdef", min_size=32, max_size=32),
        st.text("0123456789abcdef", min_size=16, max_size=16),
    ),
    st.sampled_from(["gzip", "identity", "deflate", "snappy"]),
)
_metadata_items = st.tuples(_metadata_keys, _metadata_values) | st.tuples(
    st.just("grpc-timeout"), _timeout_values
)
_content_types = st.sampled_from(
    ["application/grpc", "application/grpc+proto", "application/grpc+json",
     "application/grpc;charset=utf-8", "application/json", "text/plain", ""]
)  # fmt: skip


def _other_message(path: str) -> bytes:
    if path == STREAM_EVENTS:
        # replay_only: a following stream would never end, which is not a finding
        return bytes(StreamEventsRequest(conversation_id="c1", replay_only=True))
    if path.endswith("ListPrimitives"):
        return bytes(ListPrimitivesRequest())
    return bytes(HealthCheckRequest())


@st.composite
def grpc_inputs(draw: st.DrawFn) -> GrpcInput:
    """Mostly well-framed ExecutePrimitive calls with odd fields; sometimes odd framing,
    odd metadata, another method or random bytes."""
    path = draw(
        st.sampled_from([EXECUTE] * 6 + [STREAM_EVENTS, SERVICE + "HealthCheck"])
        | st.sampled_from([SERVICE + "ListPrimitives", SERVICE + "Nope", "/", "/x/y"])
    )
    message: Request | bytes
    if path == EXECUTE:
        message = draw(requests() | st.binary(max_size=64))
    else:
        message = draw(st.just(_other_message(path)) | st.binary(max_size=32))
    framing = draw(st.integers(min_value=0, max_value=7))
    return GrpcInput(
        path=path,
        message=message,
        metadata=tuple(draw(st.lists(_metadata_items, max_size=3))),
        content_type=draw(st.just("application/grpc") | _content_types),
        compressed=draw(st.integers(0, 255)) if framing == 0 else 0,
        length_delta=draw(st.none() | st.integers(-8, 8) | st.just(2**32)) if framing == 1 else 0,
        tail=draw(st.binary(min_size=1, max_size=16)) if framing == 2 else b"",
    )
