"""Reading a call's request messages: bounded in size before they are buffered, and in time.

grpclib reads a message's 5-byte prefix and then buffers (and acknowledges to the client) as
many bytes as the prefix declares; the codec's size check comes only after the whole body has
arrived, so a prefix declaring 2 GiB made the server buffer whatever the client sent. Here the
prefix is checked first: a declared length over ``max_bytes`` is RESOURCE_EXHAUSTED before a
byte of the body is read. Compression (which this server does not support) is UNIMPLEMENTED and
a message cut short is INVALID_ARGUMENT, where grpclib raised and answered UNKNOWN.

``ReceivedStream`` hands the handler the first message admission already received, and reads
every later one (client-streaming methods: reflection) the same way, each within ``idle``
seconds, so an open stream that stops sending does not hold its slot for ever.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any, Final

from grpclib import GRPCError
from grpclib.const import Status
from grpclib.server import Stream
from grpclib.stream import StreamIterator

from voicecore.errors import InvalidMessageError, RequestTooLargeError

__all__ = ["ReceivedStream", "recv_message", "recv_single_message"]

_PREFIX: Final = struct.Struct(">?I")


async def recv_message(stream: Stream[Any, Any], max_bytes: int) -> Any:
    """The next request message of ``stream`` (None at the end), size-checked before reading.

    Uses grpclib's private stream parts (pinned grpclib): its public ``recv_message`` is the
    one that buffers before checking.
    """
    try:
        prefix = await stream._stream.recv_data(_PREFIX.size)
        if not prefix:
            return None
        compressed, length = _PREFIX.unpack(prefix)
        if compressed:
            raise GRPCError(
                Status.UNIMPLEMENTED,
                "compressed messages are not supported: send them uncompressed (flag 0)",
            )
        if length > max_bytes:
            raise RequestTooLargeError(
                f"request of {length} bytes is larger than the limit of {max_bytes}"
            ).grpc_error()
        body = await stream._stream.recv_data(length)
    except (AssertionError, struct.error):  # grpclib asserts that what it reads is whole
        raise InvalidMessageError(
            "the request ends inside a message or its 5-byte prefix"
        ).grpc_error() from None
    message = stream._codec.decode(body, stream._recv_type)
    (message,) = await stream._dispatch.recv_message(message)
    return message


async def recv_single_message(stream: Stream[Any, Any], max_bytes: int) -> Any:
    """The one message of a unary request; none or a second is INVALID_ARGUMENT."""
    message = await recv_message(stream, max_bytes)
    if message is None or await recv_message(stream, max_bytes) is not None:
        raise InvalidMessageError("a unary request carries exactly one message").grpc_error()
    return message


class ReceivedStream(StreamIterator[Any]):
    """A call's stream whose first message admission has already received.

    The handler's first ``recv_message`` returns that message; later ones are read with
    ``recv_message`` above, each within ``idle`` seconds (then DEADLINE_EXCEEDED). Everything
    else is the stream's own.
    """

    def __init__(self, stream: Stream[Any, Any], first: Any, max_bytes: int, idle: float) -> None:
        self._stream = stream
        self._first: Any = first
        self._first_taken = False
        self._max_bytes = max_bytes
        self._idle = idle

    async def recv_message(self) -> Any:
        if not self._first_taken:
            self._first_taken = True
            return self._first
        try:
            async with asyncio.timeout(self._idle):
                return await recv_message(self._stream, self._max_bytes)
        except TimeoutError:
            raise GRPCError(
                Status.DEADLINE_EXCEEDED, f"no message for {self._idle:g} s on an open stream"
            ) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
