"""A grpclib codec that moves betterproto2 messages through upb, the protobuf C parser.

betterproto2 parses and serialises in pure Python: about 90 us to parse an ExecutePrimitiveRequest
carrying a small Struct and 75 us to serialise it. upb does the wire work in about 1 us, so this
codec parses bytes with upb and copies the result into the betterproto2 dataclasses (and the other
way round for encoding), as each type's plan says (``voicecore._upb``). Handlers and users still
see only betterproto2 dataclasses. Messages that are not betterproto2 dataclasses (the standard
health and reflection services use protobuf classes) take grpclib's ordinary path.
``tests/property/test_codec_equivalence.py`` proves both directions equal to betterproto2's own
``parse`` and ``bytes()`` on every message type.

A type without a plan (one that could not be built, say after a betterproto2 upgrade changed its
field metadata, or whose plan failed on a valid message) falls back to betterproto2's own parse
and ``bytes()``; every other type keeps the fast path. ``Betterproto2Codec`` (``Settings.codec``)
takes betterproto2's path for every message, for an upgrade that breaks the plans wholesale. Both
keep the limits, the cap on Struct values included: upb's generic message counts them before
betterproto2 builds any.

A message sent unchanged on many streams (one event to every follower) can be marked with
``share_encoding``: the codec then encodes it on its first send and reuses the bytes after.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar

import betterproto2
from google.protobuf.message import DecodeError
from grpclib.encoding.proto import ProtoCodec

from voicecore._upb import (
    TooManyValuesError,
    decode_without_plan,
    drop_plan,
    plan_for,
    reset_values_budget,
    restore_values_left,
    set_values_budget,
    values_left,
)
from voicecore.errors import InvalidMessageError, RequestTooLargeError

__all__ = [
    "Betterproto2Codec",
    "UpbCodec",
    "decode_message",
    "encode_message",
    "share_encoding",
]

_ENCODE_FALLBACK_ERRORS: Final = (ValueError, TypeError, OverflowError)
_M = TypeVar("_M", bound=betterproto2.Message)

#: Struct fields and list items one request may carry, at any depth. Each becomes a Python object
#: (about 35 us to build), and 4 MiB of one-byte list items is about a million of them: uncapped,
#: one request would hold the event loop for seconds. Real params carry a few dozen.
MAX_STRUCT_VALUES: Final = 10_000


class Betterproto2Codec(ProtoCodec):
    """grpclib codec: betterproto2 messages through betterproto2's own parse and ``bytes()``.

    The slow path (``Settings(codec="betterproto2")``) with the fast one's answers to bad
    requests: ``decode`` raises ``GRPCError(RESOURCE_EXHAUSTED)`` above ``max_bytes`` (grpclib
    has no receive limit of its own: NOTES.md, a 64 MiB request was accepted) or above
    ``max_values`` Struct values (``MAX_STRUCT_VALUES``, counted in upb's generic message before
    betterproto2 builds any), and ``GRPCError(INVALID_ARGUMENT)`` for bytes that are not a
    message.
    """

    def __init__(self, max_bytes: int, max_values: int = MAX_STRUCT_VALUES) -> None:
        self._max_bytes = max_bytes
        self._max_values = max_values

    def encode(self, message: Any, message_type: Any) -> bytes:
        if not isinstance(message, message_type):
            raise TypeError(f"message must be of type {message_type!r}, not {type(message)!r}")
        if isinstance(message, betterproto2.Message):
            return _encode_once(message, self._serialise)
        return super().encode(message, message_type)

    def decode(self, data: bytes, message_type: Any) -> Any:
        if len(data) > self._max_bytes:
            raise RequestTooLargeError(
                f"request of {len(data)} bytes is larger than the limit of {self._max_bytes}"
            ).grpc_error()
        if not _is_betterproto(message_type):
            return super().decode(data, message_type)
        budget = set_values_budget(self._max_values)
        try:
            return self._parse(data, message_type)
        except DecodeError:
            raise InvalidMessageError(
                f"request is not a valid {message_type.__name__}"
            ).grpc_error() from None
        except TooManyValuesError:
            raise RequestTooLargeError(
                f"request carries more than {self._max_values} Struct values (fields and list"
                " items, at any depth)"
            ).grpc_error() from None
        finally:
            reset_values_budget(budget)

    def _parse(self, data: bytes, message_type: type[_M]) -> _M:
        return decode_without_plan(data, message_type)

    def _serialise(self, message: betterproto2.Message) -> bytes:
        return bytes(message)


class UpbCodec(Betterproto2Codec):
    """grpclib codec: betterproto2 messages through upb, the default (``Settings.codec``).

    ``Betterproto2Codec``'s limits and answers, about ten times faster.
    """

    def _parse(self, data: bytes, message_type: type[_M]) -> _M:
        return decode_message(data, message_type)

    def _serialise(self, message: betterproto2.Message) -> bytes:
        return encode_message(message)


def decode_message(data: bytes, message_type: type[_M]) -> _M:
    """``message_type.parse(data)``, about ten times faster; raises protobuf's ``DecodeError``.

    A plan that fails on a message upb parsed (a bug in the plan, not in the message: betterproto2
    parses it) is dropped, and betterproto2 parses this message and every later one of the type.
    """
    plan = plan_for(message_type)
    if plan is None:
        return decode_without_plan(data, message_type)
    upb = plan.upb_class.FromString(data)
    left = values_left()
    try:
        decoded: _M = plan.decode(upb)
    except TooManyValuesError:
        raise
    except Exception as exc:
        restore_values_left(left)  # betterproto2's pass counts the values again
        decoded = decode_without_plan(data, message_type)  # bad bytes raise, keeping the plan
        drop_plan(message_type, exc)
    return decoded


def encode_message(message: betterproto2.Message) -> bytes:
    """``bytes(message)``, about ten times faster, for every message betterproto2 can parse back.

    Messages upb refuses to hold (out-of-range integers, which betterproto2 writes anyway) are
    serialised by betterproto2 itself; a plan that fails otherwise is dropped, as in decoding. A
    ``Value`` with two members set (invalid, see NOTES.md) keeps only its first member here, where
    betterproto2 writes both.
    """
    plan = plan_for(type(message))
    if plan is None:
        return bytes(message)
    target = plan.upb_class()
    try:
        plan.fill(message, target)
        data: bytes = target.SerializeToString()
    except _ENCODE_FALLBACK_ERRORS:
        return bytes(message)
    except Exception as exc:
        data = bytes(message)  # a message betterproto2 cannot write either keeps the plan
        drop_plan(type(message), exc)
    return data


# id(message) -> its bytes (None until first encoded), for messages marked by share_encoding.
# An entry goes when its message is collected (weakref.finalize runs before the id can be
# reused), so this holds no more than the shared messages still alive.
_SHARED: dict[int, bytes | None] = {}


def share_encoding(message: _M) -> _M:
    """Mark ``message`` as sent unchanged on many streams; returns it.

    Either codec then encodes it once, on its first send, and reuses those bytes for every later
    send while the message lives. The message must not be changed after it is marked (marking it
    again is harmless: it is then encoded again once).
    """
    key = id(message)
    _SHARED[key] = None
    weakref.finalize(message, _SHARED.pop, key, None)
    return message


def _encode_once(
    message: betterproto2.Message, serialise: Callable[[betterproto2.Message], bytes]
) -> bytes:
    key = id(message)
    if key not in _SHARED:
        return serialise(message)
    data = _SHARED[key]
    if data is None:
        data = _SHARED[key] = serialise(message)
    return data


def _is_betterproto(message_type: Any) -> bool:
    return isinstance(message_type, type) and issubclass(message_type, betterproto2.Message)
