"""Request headers checked before grpclib sees them, so each bad one gets a precise answer.

grpclib answers a wrong content type or ``te`` and a bad ``grpc-timeout`` with gRPC status
UNKNOWN, and a ``-bin`` metadata value that is not base64 makes its request handler fail before
it has a stream to answer on, so the client waits for its own deadline. ``header_problem`` finds
each of these first; ``refuse`` answers it (``GuardedHandler.accept`` calls both).

A content type that is not gRPC at all gets HTTP 415, as the gRPC HTTP/2 protocol asks (so a
plain HTTP client cannot take the error for a success); every other problem is a gRPC status
on HTTP 200: INVALID_ARGUMENT naming the header.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from grpclib.const import Status
from grpclib.metadata import decode_bin_value
from grpclib.protocol import Stream

__all__ = ["HeaderProblem", "header_problem", "refuse"]

_GRPC: Final = "application/grpc"
_SUBTYPES: Final = frozenset({"", "proto"})
_TIMEOUT: Final = re.compile(r"[0-9]{1,8}[HMSmun]")


@dataclass(frozen=True, slots=True)
class HeaderProblem:
    """How to refuse a request: its HTTP status, gRPC status and message."""

    http_status: int
    status: Status
    message: str


def header_problem(headers: Sequence[tuple[str, str]]) -> HeaderProblem | None:
    """The first thing wrong with a request's headers that grpclib would mishandle, or None."""
    fields = dict(headers)
    return (
        _content_type_problem(fields.get("content-type"))
        or _te_problem(fields.get("te"))
        or _timeout_problem(headers)
        or _binary_metadata_problem(headers)
    )


async def refuse(stream: Stream, problem: HeaderProblem) -> None:
    """Answer ``stream`` with ``problem`` (headers only) and reset it if still open."""
    await stream.send_headers(
        [
            (":status", str(problem.http_status)),
            ("content-type", _GRPC),
            ("grpc-status", str(problem.status.value)),
            ("grpc-message", problem.message),
        ],
        end_stream=True,
    )
    if stream.closable:
        stream.reset_nowait()


def _invalid(message: str) -> HeaderProblem:
    return HeaderProblem(200, Status.INVALID_ARGUMENT, message)


def _content_type_problem(content_type: str | None) -> HeaderProblem | None:
    if content_type is None:
        return HeaderProblem(415, Status.INVALID_ARGUMENT, "content-type is missing")
    base, _, subtype = content_type.partition("+")
    if base != _GRPC:
        return HeaderProblem(
            415, Status.INVALID_ARGUMENT, "content-type should be application/grpc"
        )
    if subtype not in _SUBTYPES:
        return _invalid("content-type should be application/grpc or application/grpc+proto")
    return None


def _te_problem(te: str | None) -> HeaderProblem | None:
    return None if te == "trailers" else _invalid('te should be "trailers"')


def _timeout_problem(headers: Sequence[tuple[str, str]]) -> HeaderProblem | None:
    # The gRPC HTTP/2 protocol's TimeoutValue is at most 8 digits; grpclib takes any number.
    if all(_TIMEOUT.fullmatch(value) for key, value in headers if key == "grpc-timeout"):
        return None
    return _invalid("grpc-timeout should be 1 to 8 digits and a unit (H, M, S, m, u, n)")


def _binary_metadata_problem(headers: Sequence[tuple[str, str]]) -> HeaderProblem | None:
    for key, value in headers:
        if not key.endswith("-bin"):
            continue
        try:
            decode_bin_value(value.encode("ascii"))
        except (binascii.Error, ValueError):
            return _invalid(f"{key} should be base64")
    return None
