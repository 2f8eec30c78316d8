"""A grpclib codec that moves betterproto2 messages through upb, the protobuf C parser.

betterproto2 parses and serialises in pure Python: about 90 us to parse an ExecutePrimitiveRequest
carrying a small Struct and 75 us to serialise it. upb does the wire work in about 1 us, so this
codec parses bytes with upb and copies the result into the betterproto2 dataclasses (and the other
way round for encoding). Handlers and users still see only betterproto2 dataclasses.

The copy is driven by each dataclass's betterproto2 field metadata and the upb class made at run
time from the descriptor betterproto2 embeds, so no second set of generated code is needed. Struct
and Value, the hot and deeply nested types, have hand-written copies. Messages that are not
betterproto2 dataclasses (the standard health and reflection services use protobuf classes) take
grpclib's ordinary path. ``tests/property/test_codec_equivalence.py`` proves both directions equal
to betterproto2's own ``parse`` and ``bytes()`` on every message type.

A message sent unchanged on many streams (one event to every follower) can be marked with
``share_encoding``: the codec then encodes it on its first send and reuses the bytes after.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import betterproto2
from google.protobuf.message import DecodeError
from google.protobuf.message_factory import GetMessageClass
from grpclib.encoding.proto import ProtoCodec

from voicecore._proto.google.protobuf import ListValue, NullValue, Struct, Value
from voicecore.errors import InvalidMessageError, RequestTooLargeError

__all__ = [
    "UpbCodec",
    "decode_message",
    "encode_message",
    "share_encoding",
]

_Decoder = Callable[[Any], Any]  # upb value -> betterproto2 value
_Filler = Callable[[Any, Any], None]  # (betterproto2 message, upb message) -> None
_ENCODE_FALLBACK_ERRORS: Final = (ValueError, TypeError, OverflowError)
_M = TypeVar("_M", bound=betterproto2.Message)

#: Struct fields and list items one request may carry, at any depth. Each becomes a Python object
#: (about 35 us to build), and 4 MiB of one-byte list items is about a million of them: uncapped,
#: one request would hold the event loop for seconds. Real params carry a few dozen.
MAX_STRUCT_VALUES: Final = 10_000


class _TooManyValuesError(Exception):
    """Raised inside decoding when a request carries more Struct values than its budget."""


class _ValueBudget:
    """How many more Struct values the message being decoded may carry."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise _TooManyValuesError


# Set while UpbCodec decodes a request; None (no limit) for every other decode.
_values_budget: ContextVar[_ValueBudget | None] = ContextVar("voicecore_values", default=None)


class UpbCodec(ProtoCodec):
    """grpclib codec: betterproto2 messages through upb; refuses requests over ``max_bytes``.

    grpclib has no receive limit of its own (NOTES.md: a 64 MiB request was accepted), so
    ``decode`` raises ``GRPCError(RESOURCE_EXHAUSTED)`` above the limit or when the message
    carries more than ``max_values`` Struct values (``MAX_STRUCT_VALUES``), and
    ``GRPCError(INVALID_ARGUMENT)`` for bytes that are not a valid message.
    """

    def __init__(self, max_bytes: int, max_values: int = MAX_STRUCT_VALUES) -> None:
        self._max_bytes = max_bytes
        self._max_values = max_values

    def encode(self, message: Any, message_type: Any) -> bytes:
        if not isinstance(message, message_type):
            raise TypeError(f"message must be of type {message_type!r}, not {type(message)!r}")
        if isinstance(message, betterproto2.Message):
            return _encode_once(message)
        return super().encode(message, message_type)

    def decode(self, data: bytes, message_type: Any) -> Any:
        if len(data) > self._max_bytes:
            raise RequestTooLargeError(
                f"request of {len(data)} bytes is larger than the limit of {self._max_bytes}"
            ).grpc_error()
        if not _is_betterproto(message_type):
            return super().decode(data, message_type)
        budget = _values_budget.set(_ValueBudget(self._max_values))
        try:
            return decode_message(data, message_type)
        except DecodeError:
            raise InvalidMessageError(
                f"request is not a valid {message_type.__name__}"
            ).grpc_error() from None
        except _TooManyValuesError:
            raise RequestTooLargeError(
                f"request carries more than {self._max_values} Struct values (fields and list"
                " items, at any depth)"
            ).grpc_error() from None
        finally:
            _values_budget.reset(budget)


def decode_message(data: bytes, message_type: type[_M]) -> _M:
    """``message_type.parse(data)``, about ten times faster; raises protobuf's ``DecodeError``."""
    plan = _plan(message_type)
    decoded: _M = plan.decode(plan.upb_class.FromString(data))
    return decoded


def encode_message(message: betterproto2.Message) -> bytes:
    """``bytes(message)``, about ten times faster, for every message betterproto2 can parse back.

    Messages upb refuses to hold (out-of-range integers, which betterproto2 writes anyway) are
    serialised by betterproto2 itself. A ``Value`` with two members set (invalid, see NOTES.md)
    keeps only its first member here, where betterproto2 writes both.
    """
    plan = _plan(type(message))
    target = plan.upb_class()
    try:
        plan.fill(message, target)
    except _ENCODE_FALLBACK_ERRORS:
        return bytes(message)
    data: bytes = target.SerializeToString()
    return data


# id(message) -> its bytes (None until first encoded), for messages marked by share_encoding.
# An entry goes when its message is collected (weakref.finalize runs before the id can be
# reused), so this holds no more than the shared messages still alive.
_SHARED: dict[int, bytes | None] = {}


def share_encoding(message: _M) -> _M:
    """Mark ``message`` as sent unchanged on many streams; returns it.

    ``UpbCodec`` then encodes it once, on its first send, and reuses those bytes for every
    later send while the message lives. The message must not be changed after it is marked
    (marking it again is harmless: it is then encoded again once).
    """
    key = id(message)
    _SHARED[key] = None
    weakref.finalize(message, _SHARED.pop, key, None)
    return message


def _encode_once(message: betterproto2.Message) -> bytes:
    key = id(message)
    if key not in _SHARED:
        return encode_message(message)
    data = _SHARED[key]
    if data is None:
        data = _SHARED[key] = encode_message(message)
    return data


def _is_betterproto(message_type: Any) -> bool:
    return isinstance(message_type, type) and issubclass(message_type, betterproto2.Message)


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to copy one message type between upb and betterproto2."""

    upb_class: Any
    decode: _Decoder
    fill: _Filler


_PLANS: dict[type[betterproto2.Message], _Plan] = {}


def _plan(message_type: type[betterproto2.Message]) -> _Plan:
    plan = _PLANS.get(message_type)
    if plan is None:
        plan = _PLANS[message_type] = _build_plan(message_type)
    return plan


def _build_plan(message_type: type[betterproto2.Message]) -> _Plan:
    upb_class = GetMessageClass(message_type.DESCRIPTOR)  # type: ignore[attr-defined]
    if message_type is Struct:
        return _Plan(upb_class, _decode_struct, _fill_struct)
    if message_type is Value:
        return _Plan(upb_class, _decode_value, _fill_value)
    if message_type is ListValue:
        return _Plan(upb_class, _decode_list, _fill_list)
    return _Plan(upb_class, *_field_copiers(message_type))


# Struct, Value and ListValue: every params, data, details and payload is one, so they get
# hand-written copies instead of the generic per-field ones.


def _spend_values(count: int) -> None:
    budget = _values_budget.get()
    if budget is not None:
        budget.spend(count)


def _decode_struct(upb: Any) -> Struct:
    _spend_values(len(upb.fields))  # before building any of them
    return Struct(fields={key: _decode_value(value) for key, value in upb.fields.items()})


def _decode_list(upb: Any) -> ListValue:
    _spend_values(len(upb.values))
    return ListValue(values=[_decode_value(value) for value in upb.values])


def _decode_value(upb: Any) -> Value:
    kind = upb.WhichOneof("kind")
    if kind == "string_value":
        return Value(string_value=upb.string_value)
    if kind == "number_value":
        return Value(number_value=upb.number_value)
    if kind == "bool_value":
        return Value(bool_value=upb.bool_value)
    if kind == "struct_value":
        return Value(struct_value=_decode_struct(upb.struct_value))
    if kind == "list_value":
        return Value(list_value=_decode_list(upb.list_value))
    if kind == "null_value":
        return Value(null_value=NullValue(upb.null_value))
    return Value()


def _fill_struct(struct: Struct, upb: Any) -> None:
    fields = upb.fields
    for key, value in struct.fields.items():
        _fill_value(value, fields[key])


def _fill_list(values: ListValue, upb: Any) -> None:
    items = upb.values
    for value in values.values:
        _fill_value(value, items.add())


def _fill_value(value: Value, upb: Any) -> None:
    # betterproto2 writes every member that is not None; a valid Value has at most one.
    if value.string_value is not None:
        upb.string_value = value.string_value
    elif value.number_value is not None:
        upb.number_value = value.number_value
    elif value.bool_value is not None:
        upb.bool_value = value.bool_value
    elif value.struct_value is not None:
        upb.struct_value.SetInParent()
        _fill_struct(value.struct_value, upb.struct_value)
    elif value.list_value is not None:
        upb.list_value.SetInParent()
        _fill_list(value.list_value, upb.list_value)
    elif value.null_value is not None:
        upb.null_value = int(value.null_value)


# Every other message: copiers built once per type from betterproto2's field metadata.


def _field_copiers(message_type: type[betterproto2.Message]) -> tuple[_Decoder, _Filler]:
    proto_meta: Any = message_type._betterproto  # type: ignore[arg-type]
    plain: list[tuple[str, _Decoder | None]] = []  # always copied
    present: list[tuple[str, _Decoder | None]] = []  # copied when upb says the field is set
    oneofs: dict[str, dict[str, _Decoder | None]] = {}
    fillers: list[tuple[str, _Filler]] = []
    for name, meta in proto_meta.meta_by_field_name.items():
        value_class = proto_meta.cls_by_field[f"{name}.value" if meta.map_meta else name]
        if meta.group:
            oneofs.setdefault(meta.group, {})[name] = _field_decoder(meta, value_class)
        elif meta.optional:
            present.append((name, _field_decoder(meta, value_class)))
        else:
            plain.append((name, _field_decoder(meta, value_class)))
        fillers.append((name, _field_filler(name, meta, value_class)))

    def decode(upb: Any) -> Any:
        kwargs = {name: _apply(convert, getattr(upb, name)) for name, convert in plain}
        for name, convert in present:
            if upb.HasField(name):
                kwargs[name] = _apply(convert, getattr(upb, name))
        for group, members in oneofs.items():
            which = upb.WhichOneof(group)
            if which is not None:
                kwargs[which] = _apply(members[which], getattr(upb, which))
        return message_type(**kwargs)

    def fill(message: Any, upb: Any) -> None:
        for name, fill_field in fillers:
            value = getattr(message, name)
            if value is not None:
                fill_field(value, upb)

    return decode, fill


def _apply(convert: _Decoder | None, value: Any) -> Any:
    return value if convert is None else convert(value)


def _field_decoder(meta: Any, value_class: Any) -> _Decoder | None:
    """upb field value -> betterproto2 field value; None means the value is used as it is."""
    if meta.map_meta:
        value_meta = meta.map_meta[1]
        convert_value = _single_decoder(value_meta.proto_type, value_meta.unwrap, value_class)
        if convert_value is None:
            return dict
        return lambda upb: {key: convert_value(value) for key, value in upb.items()}
    convert = _single_decoder(meta.proto_type, meta.unwrap, value_class)
    if not meta.repeated:
        return convert
    if convert is None:
        return list
    return lambda upb: [convert(value) for value in upb]


def _single_decoder(proto_type: str, unwrap: Any, value_class: Any) -> _Decoder | None:
    if proto_type == betterproto2.TYPE_ENUM:
        return value_class  # type: ignore[no-any-return]
    if proto_type != betterproto2.TYPE_MESSAGE:
        return None
    if unwrap is not None:
        return lambda upb: _plan(unwrap()).decode(upb).to_wrapped()
    return lambda upb: _plan(value_class).decode(upb)


def _field_filler(name: str, meta: Any, value_class: Any) -> _Filler:
    """Copies one betterproto2 field value (never None) into the upb message."""
    single = meta.map_meta[1] if meta.map_meta else meta
    fill_message = _message_filler(single.proto_type, single.unwrap, value_class)
    if fill_message is None:
        scalar = int if single.proto_type == betterproto2.TYPE_ENUM else None
        return _scalar_filler(name, meta, scalar)
    if meta.map_meta:

        def fill_map(value: Any, upb: Any) -> None:
            target = getattr(upb, name)
            for key, item in value.items():
                fill_message(item, target[key])

        return fill_map
    if meta.repeated:

        def fill_repeated(value: Any, upb: Any) -> None:
            target = getattr(upb, name)
            for item in value:
                fill_message(item, target.add())

        return fill_repeated

    def fill_single(value: Any, upb: Any) -> None:
        target = getattr(upb, name)
        target.SetInParent()  # an empty submessage is still present
        fill_message(value, target)

    return fill_single


def _scalar_filler(name: str, meta: Any, convert: Callable[[Any], Any] | None) -> _Filler:
    if meta.map_meta:
        if convert is None:
            return lambda value, upb: getattr(upb, name).update(value)
        return lambda value, upb: getattr(upb, name).update(
            {key: convert(item) for key, item in value.items()}
        )
    if meta.repeated:
        if convert is None:
            return lambda value, upb: getattr(upb, name).extend(value)
        return lambda value, upb: getattr(upb, name).extend(map(convert, value))
    if convert is None:
        return lambda value, upb: setattr(upb, name, value)
    return lambda value, upb: setattr(upb, name, convert(value))


def _message_filler(proto_type: str, unwrap: Any, value_class: Any) -> _Filler | None:
    """For message-typed values: fills one into a given upb message; None for scalars."""
    if proto_type != betterproto2.TYPE_MESSAGE:
        return None
    if unwrap is not None:
        return lambda value, upb: _plan(unwrap()).fill(unwrap().from_wrapped(value), upb)
    return lambda value, upb: _plan(value_class).fill(value, upb)
