"""Normalising what can go wrong on a call into a ``Failure``, and the client's own exceptions.

grpclib reports trouble in several shapes (see NOTES.md): a client deadline is the builtin
``TimeoutError``, a reset stream or a lost connection is ``StreamTerminatedError``, a refused
connection is an ``OSError``, and server statuses are ``GRPCError``. ``classify`` turns each into
the response error code orchestration sees, whether retrying is safe, and what it means for the
circuit breaker.

The exceptions here are the client side of voicecore's one tree (drawn in ``voicecore.errors``):
each is a ``VoiceCoreClientError``, raised only where no response can carry the failure.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from grpclib.const import Status
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError
from loguru import logger

from voicecore._proto.voicecore.v1 import (
    Error,
    ErrorCode,
    ExecutePrimitiveResponse,
    ExecutionMetadata,
)
from voicecore.client._breaker import CallOutcome, CircuitOpenError
from voicecore.errors import VoiceCoreClientError

__all__ = [
    "EventStreamUnavailableError",
    "EventsEvictedError",
    "Failure",
    "VoiceCoreCallError",
    "breaker_outcome",
    "classify",
    "failure_response",
]


class VoiceCoreCallError(VoiceCoreClientError):
    """A call that has no failure response (``list_primitives``) failed; ``code`` says how."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


class EventStreamUnavailableError(VoiceCoreClientError):
    """``stream_events`` could not reconnect within its bounded attempts."""

    def __init__(self, after_sequence: int, attempts: int, cause: str) -> None:
        super().__init__(
            f"event stream unavailable after {attempts} reconnect attempts "
            f"(resume point: after sequence {after_sequence}): {cause}"
        )
        self.after_sequence = after_sequence
        self.attempts = attempts


class EventsEvictedError(VoiceCoreClientError):
    """The server no longer keeps the events after ``after_sequence``: they cannot be replayed.

    Raised instead of skipping the gap, so a consumer knows it missed events.
    """

    def __init__(self, after_sequence: int, detail: str) -> None:
        super().__init__(
            f"events after sequence {after_sequence} were evicted on the server and cannot be "
            f"replayed: {detail}"
        )
        self.after_sequence = after_sequence


@dataclass(frozen=True, slots=True)
class Failure:
    """A call that produced no server response: its error code, and what it implies."""

    code: ErrorCode
    message: str
    #: Safe to try again under the same idempotency key.
    retryable: bool = False
    breaker: CallOutcome = CallOutcome.FAILURE


# gRPC statuses a server sends, as (response code, retry?, counts against the breaker?).
_STATUS_MAP: dict[Status, tuple[ErrorCode, bool, CallOutcome]] = {
    Status.UNAVAILABLE: (ErrorCode.UNAVAILABLE, True, CallOutcome.FAILURE),
    Status.DEADLINE_EXCEEDED: (ErrorCode.TIMEOUT, False, CallOutcome.FAILURE),
    Status.RESOURCE_EXHAUSTED: (ErrorCode.UNAVAILABLE, False, CallOutcome.FAILURE),
    Status.CANCELLED: (ErrorCode.CANCELLED, False, CallOutcome.IGNORED),
    Status.INVALID_ARGUMENT: (ErrorCode.INVALID_PARAMS, False, CallOutcome.SUCCESS),
    # The server is healthy and refuses this client's credential: the caller's configuration
    # is wrong, like an invalid param, and no retry can fix it. INVALID_PARAMS, not INTERNAL
    # (which says the server failed); the message names the status (see _REFUSED_CREDENTIAL).
    Status.UNAUTHENTICATED: (ErrorCode.INVALID_PARAMS, False, CallOutcome.SUCCESS),
    Status.PERMISSION_DENIED: (ErrorCode.INVALID_PARAMS, False, CallOutcome.SUCCESS),
    # The server is healthy but does not know the method.
    Status.UNIMPLEMENTED: (ErrorCode.INTERNAL, False, CallOutcome.SUCCESS),
    # Nothing there to act on (DeleteConversation): the caller's business, the server is fine.
    Status.NOT_FOUND: (ErrorCode.INVALID_PARAMS, False, CallOutcome.SUCCESS),
}
# What the caller should look at when the server refuses its credential.
_REFUSED_CREDENTIAL = {
    Status.UNAUTHENTICATED: "check the client's auth_token (VOICE_CORE_AUTH_TOKEN)",
    Status.PERMISSION_DENIED: "the client's auth_token lacks the scope or tenant this call needs",
}

# Response error codes that say the server is sick; the others are the caller's business.
_SERVER_SICK = frozenset({ErrorCode.TIMEOUT, ErrorCode.INTERNAL})


def classify(exc: BaseException) -> Failure:
    """The ``Failure`` for an exception raised by an attempt (never for ``CancelledError``)."""
    if isinstance(exc, CircuitOpenError):
        return Failure(ErrorCode.CIRCUIT_BREAKER_OPEN, str(exc), breaker=CallOutcome.IGNORED)
    if isinstance(exc, GRPCError):
        code, retryable, outcome = _STATUS_MAP.get(
            exc.status, (ErrorCode.INTERNAL, False, CallOutcome.FAILURE)
        )
        message = f"gRPC {exc.status.name}: {exc.message or ''}"
        if exc.status in _REFUSED_CREDENTIAL:
            message = f"{message} ({_REFUSED_CREDENTIAL[exc.status]})"
        return Failure(code, message, retryable, outcome)
    if isinstance(exc, TimeoutError):
        return Failure(ErrorCode.TIMEOUT, "deadline exceeded before Voice Core answered")
    # After TimeoutError, which is an OSError too; ConnectionRefusedError and friends are here.
    if isinstance(exc, StreamTerminatedError | OSError):
        return Failure(ErrorCode.UNAVAILABLE, f"Voice Core unreachable: {exc}", retryable=True)
    if isinstance(exc, ValueError | TypeError):
        # Raised before anything was sent (metadata or a message that cannot be encoded):
        # the caller's argument is wrong, the server is fine.
        message = f"invalid argument: {type(exc).__name__}: {exc}"
        return Failure(ErrorCode.INVALID_PARAMS, message, breaker=CallOutcome.IGNORED)
    if not isinstance(exc, ProtocolError):
        logger.opt(exception=exc).warning("unexpected error calling Voice Core")
    return Failure(ErrorCode.INTERNAL, f"client error: {type(exc).__name__}: {exc}")


def breaker_outcome(response: ExecutePrimitiveResponse) -> CallOutcome:
    """What a server response means for the breaker: only TIMEOUT and INTERNAL count against."""
    if response.success or response.error is None:
        return CallOutcome.SUCCESS
    return CallOutcome.FAILURE if response.error.code in _SERVER_SICK else CallOutcome.SUCCESS


def failure_response(
    failure: Failure,
    *,
    trace_id: str,
    objective_type: str,
    attempts: int,
    duration: float,
) -> ExecutePrimitiveResponse:
    """A ``success=false`` response made on the client, shaped like the server's.

    ``metadata.retry_count`` counts the client's retries here, as no server ran the call.
    """
    return ExecutePrimitiveResponse(
        success=False,
        error=Error(code=failure.code, message=failure.message, retryable=failure.retryable),
        metadata=ExecutionMetadata(
            duration=datetime.timedelta(seconds=max(0.0, duration)),
            retry_count=max(0, attempts - 1),
            trace_id=trace_id,
            objective_type=objective_type,
        ),
    )
