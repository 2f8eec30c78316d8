"""One exception tree: every error voicecore raises on purpose is a ``VoicecoreError``."""

from __future__ import annotations

import pytest

import voicecore.client
import voicecore.idempotency
from voicecore._proto.voicecore.v1 import ErrorCode
from voicecore.client import (
    BreakerState,
    CircuitOpenError,
    EventsEvictedError,
    EventStreamUnavailableError,
    VoiceCoreCallError,
)
from voicecore.errors import (
    AdmissionError,
    DrainingError,
    EventCursorAheadError,
    EventRangeError,
    EventRangeEvictedError,
    IdempotencyConflictError,
    InvalidMessageError,
    InvalidParamsError,
    OverloadedError,
    PrimitiveError,
    PrimitiveNotFoundError,
    PrimitiveTimeoutError,
    RequestTooLargeError,
    TransientPrimitiveError,
    VoiceCoreClientError,
    VoicecoreError,
)

SERVER_ERRORS: list[Exception] = [
    PrimitiveNotFoundError("missing", ["email"]),
    InvalidParamsError("bad", []),
    IdempotencyConflictError(),
    PrimitiveTimeoutError(1.0),
    TransientPrimitiveError("flaky"),
    EventRangeEvictedError(1, 5),
    EventCursorAheadError(9, 5),
    InvalidMessageError("garbage"),
    RequestTooLargeError("large"),
    OverloadedError("busy"),
    DrainingError("stopping"),
]
CLIENT_ERRORS: list[Exception] = [
    CircuitOpenError("target", BreakerState.OPEN, 1.0),
    VoiceCoreCallError(ErrorCode.UNAVAILABLE, "down"),
    EventStreamUnavailableError(3, 8, "refused"),
    EventsEvictedError(3, "gone"),
]
SERVER_BRANCHES = (PrimitiveError, EventRangeError, AdmissionError)


class TestOneRoot:
    @pytest.mark.parametrize("error", SERVER_ERRORS + CLIENT_ERRORS, ids=lambda e: type(e).__name__)
    def test_catching_the_root_catches_it(self, error: Exception) -> None:
        """``except VoicecoreError`` catches every server and client error."""
        with pytest.raises(VoicecoreError) as caught:
            raise error
        assert caught.value is error

    @pytest.mark.parametrize("error", SERVER_ERRORS, ids=lambda e: type(e).__name__)
    def test_server_errors_are_on_the_server_side(self, error: Exception) -> None:
        """Each server error is under one server branch and never a client error."""
        assert isinstance(error, SERVER_BRANCHES)
        assert not isinstance(error, VoiceCoreClientError)

    @pytest.mark.parametrize("error", CLIENT_ERRORS, ids=lambda e: type(e).__name__)
    def test_client_errors_are_on_the_client_side(self, error: Exception) -> None:
        """Each client error is a ``VoiceCoreClientError`` and under no server branch."""
        with pytest.raises(VoiceCoreClientError):
            raise error
        assert not isinstance(error, SERVER_BRANCHES)

    def test_idempotency_conflict_is_invalid_params(self) -> None:
        """A reused key with other content is an INVALID_PARAMS outcome naming the key."""
        conflict = IdempotencyConflictError()
        assert issubclass(IdempotencyConflictError, InvalidParamsError)
        assert conflict.code == "INVALID_PARAMS"
        assert conflict.details["errors"] == [
            {
                "loc": ["idempotency_key"],
                "msg": "idempotency_key was already used for a different request",
                "type": "idempotency_conflict",
            }
        ]


class TestImportedWhereUsersImportThem:
    def test_idempotency_module_still_exports_the_conflict(self) -> None:
        """``voicecore.idempotency.IdempotencyConflictError`` is the one in errors."""
        assert voicecore.idempotency.IdempotencyConflictError is IdempotencyConflictError

    def test_client_exports_its_error_base(self) -> None:
        """``voicecore.client.VoiceCoreClientError`` is the one in errors."""
        assert voicecore.client.VoiceCoreClientError is VoiceCoreClientError
