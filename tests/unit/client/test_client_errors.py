"""Normalising grpclib's failure shapes into response codes, retry safety and breaker outcomes."""

from __future__ import annotations

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError

from voicecore._proto.voicecore.v1 import Error, ErrorCode, ExecutePrimitiveResponse
from voicecore.client import BreakerState, CallOutcome, CircuitOpenError
from voicecore.client._errors import breaker_outcome, classify, failure_response

FAILURE, SUCCESS, IGNORED = CallOutcome.FAILURE, CallOutcome.SUCCESS, CallOutcome.IGNORED

CASES: dict[str, tuple[BaseException, ErrorCode, bool, CallOutcome]] = {
    "grpclib deadline": (TimeoutError(), ErrorCode.TIMEOUT, False, FAILURE),
    "stream reset": (StreamTerminatedError("reset"), ErrorCode.UNAVAILABLE, True, FAILURE),
    "refused connection": (
        ConnectionRefusedError(111, "refused"),
        ErrorCode.UNAVAILABLE,
        True,
        FAILURE,
    ),
    "reset connection": (ConnectionResetError(), ErrorCode.UNAVAILABLE, True, FAILURE),
    "other OSError": (OSError("no route"), ErrorCode.UNAVAILABLE, True, FAILURE),
    "status UNAVAILABLE": (GRPCError(Status.UNAVAILABLE), ErrorCode.UNAVAILABLE, True, FAILURE),
    "status DEADLINE_EXCEEDED": (
        GRPCError(Status.DEADLINE_EXCEEDED),
        ErrorCode.TIMEOUT,
        False,
        FAILURE,
    ),
    "status RESOURCE_EXHAUSTED": (
        GRPCError(Status.RESOURCE_EXHAUSTED),
        ErrorCode.UNAVAILABLE,
        False,
        FAILURE,
    ),
    "status INTERNAL": (GRPCError(Status.INTERNAL), ErrorCode.INTERNAL, False, FAILURE),
    "status UNKNOWN": (GRPCError(Status.UNKNOWN), ErrorCode.INTERNAL, False, FAILURE),
    "status CANCELLED": (GRPCError(Status.CANCELLED), ErrorCode.CANCELLED, False, IGNORED),
    "status INVALID_ARGUMENT": (
        GRPCError(Status.INVALID_ARGUMENT),
        ErrorCode.INVALID_PARAMS,
        False,
        SUCCESS,
    ),
    "status UNAUTHENTICATED": (
        GRPCError(Status.UNAUTHENTICATED),
        ErrorCode.INVALID_PARAMS,
        False,
        SUCCESS,
    ),
    "status PERMISSION_DENIED": (
        GRPCError(Status.PERMISSION_DENIED),
        ErrorCode.INVALID_PARAMS,
        False,
        SUCCESS,
    ),
    "status UNIMPLEMENTED": (GRPCError(Status.UNIMPLEMENTED), ErrorCode.INTERNAL, False, SUCCESS),
    "protocol error": (ProtocolError("bad"), ErrorCode.INTERNAL, False, FAILURE),
    "open breaker": (
        CircuitOpenError("t", BreakerState.OPEN, 1.0),
        ErrorCode.CIRCUIT_BREAKER_OPEN,
        False,
        IGNORED,
    ),
}


class TestClassify:
    """Each failure shape maps to one code, a retry decision and a breaker outcome."""

    @pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
    def test_table(self, case: tuple[BaseException, ErrorCode, bool, CallOutcome]) -> None:
        """The classification matches the table."""
        exc, code, retryable, outcome = case
        failure = classify(exc)
        assert (failure.code, failure.retryable, failure.breaker) == (code, retryable, outcome)

    @pytest.mark.parametrize(
        ("status", "hint"),
        [(Status.UNAUTHENTICATED, "auth_token"), (Status.PERMISSION_DENIED, "scope")],
    )
    def test_refused_credential_names_the_status(self, status: Status, hint: str) -> None:
        """A refused credential says which status the server sent and what to check."""
        message = classify(GRPCError(status, "no token")).message
        assert message.startswith(f"gRPC {status.name}: no token (")
        assert hint in message

    def test_unexpected_exception_is_internal(self) -> None:
        """A bug-shaped exception becomes INTERNAL instead of escaping."""
        failure = classify(KeyError("x"))
        assert failure.code is ErrorCode.INTERNAL
        assert "KeyError" in failure.message


def _response(code: ErrorCode | None) -> ExecutePrimitiveResponse:
    if code is None:
        return ExecutePrimitiveResponse(success=True)
    return ExecutePrimitiveResponse(success=False, error=Error(code=code, message="x"))


class TestBreakerOutcome:
    """Server answers count against the breaker only when they say the server is sick."""

    @pytest.mark.parametrize(
        ("code", "outcome"),
        [
            (None, SUCCESS),
            (ErrorCode.INVALID_PARAMS, SUCCESS),
            (ErrorCode.PRIMITIVE_NOT_FOUND, SUCCESS),
            (ErrorCode.TIMEOUT, FAILURE),
            (ErrorCode.INTERNAL, FAILURE),
        ],
    )
    def test_response_outcome(self, code: ErrorCode | None, outcome: CallOutcome) -> None:
        """Caller mistakes are successes for the breaker; TIMEOUT and INTERNAL are failures."""
        assert breaker_outcome(_response(code)) is outcome


class TestFailureResponse:
    """Client-made failures look like server responses."""

    def test_shape(self) -> None:
        """success=false, the error code, and metadata with the trace id and retries."""
        response = failure_response(
            classify(ConnectionRefusedError()),
            trace_id="t" * 32,
            objective_type="capture_email",
            attempts=3,
            duration=0.25,
        )
        assert not response.success
        assert response.error is not None and response.error.code is ErrorCode.UNAVAILABLE
        assert response.error.retryable
        assert response.metadata is not None
        assert response.metadata.trace_id == "t" * 32
        assert response.metadata.objective_type == "capture_email"
        assert response.metadata.retry_count == 2
