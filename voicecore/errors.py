"""The voicecore exception tree: one root, a server side and a client side.

Factored out so that every layer can raise these without import loops: this module imports
nothing from voicecore (only grpclib and the standard library), so the client can import it
without the server. Catching ``VoicecoreError`` catches everything voicecore raises on purpose.

Server side: raised while serving a call, each carrying how it travels on the wire. The service
boundary maps them; anything else is a bug and becomes ``INTERNAL`` with no stack trace on the
wire. Client side: raised to a caller of ``voicecore.client`` where no response can carry the
failure (``execute`` and ``health`` raise none). Client errors whose fields are client types
(a breaker state, an ``ErrorCode``) are defined beside them, under ``VoiceCoreClientError``, and
exported by ``voicecore.client``.

::

    VoicecoreError                          (root; never raised itself)
    │ server side
    ├── PrimitiveError                      outcome sent in the response, gRPC status OK
    │   ├── PrimitiveNotFoundError          PRIMITIVE_NOT_FOUND
    │   ├── InvalidParamsError              INVALID_PARAMS (pydantic errors in details)
    │   │   └── IdempotencyConflictError    the key was used for a different request
    │   ├── PrimitiveTimeoutError           TIMEOUT
    │   └── TransientPrimitiveError         retried in the timeout; INTERNAL once retries run out
    ├── EventRangeError                     OUT_OF_RANGE: after_sequence cannot be replayed
    │   ├── EventRangeEvictedError          the requested events were evicted
    │   └── EventCursorAheadError           the cursor is past the newest event
    ├── AdmissionError                      rejected before running: a gRPC status, not a response
    │   ├── InvalidMessageError             INVALID_ARGUMENT: the bytes are not the message
    │   ├── RequestTooLargeError            RESOURCE_EXHAUSTED
    │   ├── OverloadedError                 RESOURCE_EXHAUSTED
    │   └── DrainingError                   UNAVAILABLE
    │ client side
    └── VoiceCoreClientError                raised by voicecore.client, never sent on the wire
        ├── CircuitOpenError                the breaker refused the call (client/_breaker.py)
        ├── VoiceCoreCallError              list_primitives got no answer (client/_errors.py)
        ├── EventStreamUnavailableError     stream_events gave up reconnecting (client/_errors.py)
        └── EventsEvictedError              the resume point was evicted (client/_errors.py)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from grpclib import GRPCError
from grpclib.const import Status

__all__ = [
    "AdmissionError",
    "DrainingError",
    "EventCursorAheadError",
    "EventRangeError",
    "EventRangeEvictedError",
    "IdempotencyConflictError",
    "InvalidMessageError",
    "InvalidParamsError",
    "OverloadedError",
    "PrimitiveError",
    "PrimitiveNotFoundError",
    "PrimitiveTimeoutError",
    "RequestTooLargeError",
    "TransientPrimitiveError",
    "VoiceCoreClientError",
    "VoicecoreError",
]


class VoicecoreError(Exception):
    """Base of every error voicecore raises on purpose."""


class PrimitiveError(VoicecoreError):
    """An expected outcome of a primitive call, sent as ``success=false`` with ``error.code``.

    ``code`` is the name of a ``voicecore.v1.ErrorCode`` member; the service turns it into the
    enum, so this module stays free of generated code.
    """

    code: ClassVar[str] = "INTERNAL"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, object] = details or {}


class PrimitiveNotFoundError(PrimitiveError):
    """No primitive is registered under the requested ``objective_type``."""

    code = "PRIMITIVE_NOT_FOUND"

    def __init__(self, objective_type: str, known: Sequence[str]) -> None:
        known_list = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"objective_type {objective_type!r} is not registered; known: {known_list}",
            details={"objective_type": objective_type, "known": sorted(known)},
        )


class InvalidParamsError(PrimitiveError):
    """The params or a request field failed validation; ``details["errors"]`` names each field."""

    code = "INVALID_PARAMS"

    def __init__(self, message: str, errors: Sequence[Mapping[str, object]]) -> None:
        super().__init__(message, details={"errors": [dict(e) for e in errors]})


class IdempotencyConflictError(InvalidParamsError):
    """The idempotency key was already used for a request with different content."""

    def __init__(self) -> None:
        message = "idempotency_key was already used for a different request"
        super().__init__(
            message,
            [{"loc": ["idempotency_key"], "msg": message, "type": "idempotency_conflict"}],
        )


class PrimitiveTimeoutError(PrimitiveError):
    """The primitive did not finish within the effective timeout; its work was cancelled."""

    code = "TIMEOUT"
    retryable = True

    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"primitive did not finish within {timeout:.3f} s", details={"timeout_seconds": timeout}
        )


class TransientPrimitiveError(PrimitiveError):
    """A failure worth retrying (a flaky dependency); retried with backoff inside the timeout."""

    code = "INTERNAL"
    retryable = True


class EventRangeError(VoicecoreError):
    """A subscriber's ``after_sequence`` is outside what the log can replay.

    Sent as gRPC ``OUT_OF_RANGE`` so a client can tell a gap from an empty log.
    """

    status: ClassVar[Status] = Status.OUT_OF_RANGE


class EventRangeEvictedError(EventRangeError):
    """A subscriber asked to replay events that retention has already evicted."""

    def __init__(self, after_sequence: int, oldest_available: int) -> None:
        super().__init__(
            f"after_sequence {after_sequence} is older than the retained log; "
            f"the oldest event kept is {oldest_available}"
        )
        self.after_sequence = after_sequence
        self.oldest_available = oldest_available


class EventCursorAheadError(EventRangeError):
    """``after_sequence`` is past the newest event: it came from another log (another server).

    Following from there would skip every event until the sequences caught up, silently.
    """

    def __init__(self, after_sequence: int, last_sequence: int) -> None:
        super().__init__(
            f"after_sequence {after_sequence} is ahead of this log, whose newest event is "
            f"{last_sequence}; resume from 0 to replay what this server keeps"
        )
        self.after_sequence = after_sequence
        self.last_sequence = last_sequence


class AdmissionError(VoicecoreError):
    """A request refused before it ran; sent as a gRPC status, not as a response."""

    status: ClassVar[Status] = Status.UNAVAILABLE

    def grpc_error(self) -> GRPCError:
        """The gRPC status and message this refusal travels as."""
        return GRPCError(self.status, str(self))


class InvalidMessageError(AdmissionError):
    """The request bytes are not a valid message of the method's type."""

    status = Status.INVALID_ARGUMENT


class RequestTooLargeError(AdmissionError):
    """The request message is larger than the configured limit."""

    status = Status.RESOURCE_EXHAUSTED


class OverloadedError(AdmissionError):
    """Too many calls are in flight; the client should back off."""

    status = Status.RESOURCE_EXHAUSTED


class DrainingError(AdmissionError):
    """The server is shutting down and takes no new calls."""

    status = Status.UNAVAILABLE


class VoiceCoreClientError(VoicecoreError):
    """Base of the few exceptions the client raises (``execute`` and ``health`` raise none)."""
