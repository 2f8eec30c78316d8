"""Request headers checked before grpclib sees them, so each bad one gets a precise answer.

grpclib answers a wrong content type or ``te`` and a bad ``grpc-timeout`` with gRPC status
UNKNOWN, and a ``-bin`` metadata value that is not base64 makes its request handler fail before
it has a stream to answer on, so the client waits for its own deadline. ``header_problem`` finds
each of these first; ``refuse`` answers it (``GuardedHandler.accept`` calls both).

grpclib also answers UNKNOWN when a call's deadline has passed by the time its handler task
starts (a ``grpc-timeout`` of 0, or a short one behind a busy loop turn). ``restamped`` measures
the deadline from the headers' arrival, as gRPC means it, and hands grpclib the time that is left
when the task starts; a call with under a millisecond left is DEADLINE_EXCEEDED at once.

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
from grpclib.metadata import Deadline, decode_bin_value
from grpclib.protocol import Stream

__all__ = ["ARRIVAL_TOO_LATE", "HeaderProblem", "header_problem", "refuse", "restamped"]

_GRPC: Final = "application/grpc"
_SUBTYPES: Final = frozenset({"", "proto"})
_ECHOED_NAME: Final = 64  # characters of a client's header name quoted in a refusal
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


ARRIVAL_TOO_LATE: Final = HeaderProblem(
    200, Status.DEADLINE_EXCEEDED, "the call's deadline passed before it could start"
)
#: Less time than this left when the handler starts: the call cannot finish, and grpclib would
#: take a deadline that runs out between two of its lines for a bug (UNKNOWN).
_LEAST_TIME_LEFT: Final = 0.001
_MAX_TIMEOUT_MS: Final = 99_999_999  # 8 digits, the protocol's most


def restamped(
    headers: Sequence[tuple[str, str]], deadline: Deadline | None
) -> list[tuple[str, str]] | None:
    """``headers`` with ``grpc-timeout`` set to the time ``deadline`` has left now; None if
    that is under a millisecond. Headers without a deadline come back unchanged."""
    if deadline is None:
        return list(headers)
    left = deadline.time_remaining()
    if left < _LEAST_TIME_LEFT:
        return None
    timeout = f"{min(int(left * 1000), _MAX_TIMEOUT_MS)}m"
    return [(key, value) for key, value in headers if key != "grpc-timeout"] + [
        ("grpc-timeout", timeout)
    ]


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
            # The name goes back as a header, whose encoding costs time quadratic in length.
            return _invalid(f"{key[:_ECHOED_NAME]} should be base64")
    return None
