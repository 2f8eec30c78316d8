"""Copying betterproto2 messages to and from upb messages: one plan per message type.

The copy is driven by each dataclass's betterproto2 field metadata and the upb class made at run
time from the descriptor betterproto2 embeds, so no second set of generated code is needed. Struct
and Value, the hot and deeply nested types, have hand-written copies. ``voicecore._codec`` uses
the plans to parse and serialise with upb.

A type whose plan cannot be built (say a betterproto2 upgrade changed its field metadata), or
whose plan fails while copying (``drop_plan``), has none: ``plan_for`` returns None and one
warning names it. ``voicecore._codec`` then lets betterproto2 parse and serialise that type, and
a field of that type inside another message is copied through its bytes; every other type keeps
its plan.

While a values budget is set (``set_values_budget``), decoding counts the Struct fields and list
items it builds and raises ``TooManyValuesError`` once the budget is spent. A type without a plan
is counted too, in upb's generic message made from the descriptor (which needs no plan), before
betterproto2 builds anything: the cap holds on every path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, TypeVar

import betterproto2
from google.protobuf.message import DecodeError
from google.protobuf.message_factory import GetMessageClass
from loguru import logger

from voicecore._proto.google.protobuf import ListValue, NullValue, Struct, Value

__all__ = [
    "Plan",
    "TooManyValuesError",
    "decode_without_plan",
    "drop_plan",
    "parse_betterproto",
    "plan_for",
    "reset_values_budget",
    "restore_values_left",
    "set_values_budget",
    "values_left",
]

_Decoder = Callable[[Any], Any]  # upb value -> betterproto2 value
_Filler = Callable[[Any, Any], None]  # (betterproto2 message, upb message) -> None
_M = TypeVar("_M", bound=betterproto2.Message)


class TooManyValuesError(Exception):
    """Raised inside decoding when a request carries more Struct values than its budget."""


class _ValueBudget:
    """How many more Struct values the message being decoded may carry."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise TooManyValuesError


# Set while UpbCodec decodes a request; None (no limit) for every other decode.
_values_budget: ContextVar[_ValueBudget | None] = ContextVar("voicecore_values", default=None)


def set_values_budget(limit: int) -> Token[_ValueBudget | None]:
    """Allow the decodes that follow (in this context) ``limit`` Struct values in all."""
    return _values_budget.set(_ValueBudget(limit))


def reset_values_budget(token: Token[_ValueBudget | None]) -> None:
    """End the budget ``set_values_budget`` returned ``token`` for."""
    _values_budget.reset(token)


def values_left() -> int | None:
    """What is left of the values budget now (None without one), for ``restore_values_left``."""
    budget = _values_budget.get()
    return None if budget is None else budget.left


def restore_values_left(left: int | None) -> None:
    """Gives back what decodes since ``values_left`` returned ``left`` spent (a failed one)."""
    budget = _values_budget.get()
    if budget is not None and left is not None:
        budget.left = left


def decode_without_plan(data: bytes, message_type: type[_M]) -> _M:
    """betterproto2's parse of ``data``, once upb has charged its Struct values to the budget."""
    if _values_budget.get() is not None:
        _spend_upb_values(_upb_class(message_type).FromString(data))
    return parse_betterproto(data, message_type)


def parse_betterproto(data: bytes, message_type: type[_M]) -> _M:
    """``message_type.parse(data)``, raising protobuf's ``DecodeError`` for bad bytes."""
    try:
        return message_type.parse(data)
    except Exception as exc:
        # betterproto2 has no error of its own for bad bytes: KeyError, EOFError,
        # UnicodeDecodeError, struct.error, ValueError... all mean the same thing here.
        raise DecodeError(f"not a valid {message_type.__name__}: {exc!r}") from exc


@dataclass(frozen=True, slots=True)
class Plan:
    """How to copy one message type between upb and betterproto2."""

    upb_class: Any
    decode: _Decoder
    fill: _Filler


# Each message type's plan; None for a type whose plan could not be built, which betterproto2
# parses and serialises itself.
_PLANS: dict[type[betterproto2.Message], Plan | None] = {}


def plan_for(message_type: type[betterproto2.Message]) -> Plan | None:
    """The plan of ``message_type``, built on first use; None (warned once) if it cannot be."""
    try:
        return _PLANS[message_type]
    except KeyError:
        pass
    try:
        plan = _PLANS[message_type] = _build_plan(message_type)
    except Exception as exc:
        drop_plan(message_type, exc)
        return None
    return plan


def drop_plan(message_type: type[betterproto2.Message], error: Exception) -> None:
    """From now on betterproto2 parses and serialises ``message_type``; warns once, naming it."""
    # Failing every call over one type would be worse than running it ten times slower.
    _PLANS[message_type] = None
    logger.bind(message_type=message_type.__qualname__, error=repr(error)).warning(
        "upb codec cannot copy this message type; betterproto2 parses and serialises it,"
        " within the same cap on Struct values"
    )


def _decode_nested(message_type: type[_M], upb: Any) -> _M:
    """A message-typed field's value, copied from upb (or, without a plan, re-parsed)."""
    plan = plan_for(message_type)
    if plan is None:
        if _values_budget.get() is not None:
            _spend_upb_values(upb)
        return parse_betterproto(upb.SerializeToString(), message_type)
    decoded: _M = plan.decode(upb)
    return decoded


def _fill_nested(message_type: type[_M], message: _M, upb: Any) -> None:
    """Copies a message-typed field's value into upb (or, without a plan, merges its bytes)."""
    plan = plan_for(message_type)
    if plan is None:
        upb.MergeFromString(bytes(message))
    else:
        plan.fill(message, upb)


@functools.cache
def _upb_class(message_type: type[betterproto2.Message]) -> Any:
    return GetMessageClass(message_type.DESCRIPTOR)  # type: ignore[attr-defined]


def _build_plan(message_type: type[betterproto2.Message]) -> Plan:
    upb_class = _upb_class(message_type)
    if message_type is Struct:
        return Plan(upb_class, _decode_struct, _fill_struct)
    if message_type is Value:
        return Plan(upb_class, _decode_value, _fill_value)
    if message_type is ListValue:
        return Plan(upb_class, _decode_list, _fill_list)
    return Plan(upb_class, *_field_copiers(message_type))


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


def _spend_upb_values(upb: Any) -> None:
    """Charges the Struct fields and list items in any upb message, at any depth, to the budget.

    Each Struct or list is charged before its items are visited, so a message over the budget
    stops the walk after at most the budget's worth of them.
    """
    name = upb.DESCRIPTOR.full_name
    if name == _STRUCT_NAME:
        _spend_values(len(upb.fields))
    elif name == _LIST_NAME:
        _spend_values(len(upb.values))
    for field, value in upb.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is not None:
                _spend_all_upb_values(value.values())
        elif field.is_repeated:
            _spend_all_upb_values(value)
        else:
            _spend_upb_values(value)


def _spend_all_upb_values(messages: Any) -> None:
    for upb in messages:
        _spend_upb_values(upb)


_STRUCT_NAME = Struct.DESCRIPTOR.full_name
_LIST_NAME = ListValue.DESCRIPTOR.full_name


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
        return lambda upb: _decode_nested(unwrap(), upb).to_wrapped()
    return lambda upb: _decode_nested(value_class, upb)


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
        return lambda value, upb: _fill_nested(unwrap(), unwrap().from_wrapped(value), upb)
    return lambda value, upb: _fill_nested(value_class, value, upb)
