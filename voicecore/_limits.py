"""What one request may carry: the bounds on its string fields, checked before anything runs.

Every string a caller sends is kept somewhere (events, idempotency records, capture keys, log
context) or sent back (response metadata, the ``trace-id`` header), so each has a bound; a
request that breaks one is refused whole, before any turn is applied, with every offending field
named. The bounds are far above what real callers send (a UUID is 36 characters). The trace
id's rule lives in ``voicecore._trace``, which the client shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final, TypeVar

from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    ExecutePrimitiveRequest,
    StreamEventsRequest,
)
from voicecore._trace import TRACE_ID_RULE, is_valid_trace_id
from voicecore.errors import InvalidParamsError

__all__ = [
    "MAX_CONVERSATION_ID",
    "MAX_EVENT_TYPES",
    "MAX_IDEMPOTENCY_KEY",
    "MAX_OBJECTIVE_TYPE",
    "MAX_PURPOSE",
    "MAX_REPORTED_ERRORS",
    "MAX_TENANT",
    "delete_request_refusal",
    "execute_request_refusal",
    "limited_errors",
    "stream_request_refusal",
    "within_limits",
]

MAX_OBJECTIVE_TYPE: Final = 128
MAX_CONVERSATION_ID: Final = 256
MAX_IDEMPOTENCY_KEY: Final = 256
MAX_PURPOSE: Final = 1_000
#: A tenant named in a request (DeleteConversation); the tokens file's have no bound of their own.
MAX_TENANT: Final = 256
#: Types in a StreamEvents filter (each at most MAX_OBJECTIVE_TYPE characters).
MAX_EVENT_TYPES: Final = 64
#: Field errors listed in an error's details; the rest are counted ("and 12 more").
MAX_REPORTED_ERRORS: Final = 20

_EXECUTE_BOUNDS: Final = (
    ("objective_type", MAX_OBJECTIVE_TYPE),
    ("conversation_id", MAX_CONVERSATION_ID),
    ("idempotency_key", MAX_IDEMPOTENCY_KEY),
    ("purpose", MAX_PURPOSE),
)

_E = TypeVar("_E")
# One refused field: (where, what is wrong).
_Problem = tuple[str, str]


def execute_request_refusal(
    request: ExecutePrimitiveRequest, metadata_trace_id: str = ""
) -> InvalidParamsError | None:
    """INVALID_PARAMS naming every field of ``request`` out of bounds, or None if all fit.

    ``metadata_trace_id`` is the ``trace-id`` metadata the call carried, if any.
    """
    problems = [_too_long(name, getattr(request, name), limit) for name, limit in _EXECUTE_BOUNDS]
    problems += _trace_id_problems(request.trace_id, metadata_trace_id)
    return _refusal(problems)


def stream_request_refusal(
    request: StreamEventsRequest, metadata_trace_id: str = ""
) -> InvalidParamsError | None:
    """The same for a StreamEvents request and its type filter."""
    problems = [_too_long("conversation_id", request.conversation_id, MAX_CONVERSATION_ID)]
    problems += _trace_id_problems(request.trace_id, metadata_trace_id)
    if len(request.types) > MAX_EVENT_TYPES:
        problems.append(("types", f"should have at most {MAX_EVENT_TYPES} items"))
    elif any(len(type) > MAX_OBJECTIVE_TYPE for type in request.types):
        problems.append(("types", f"each should be at most {MAX_OBJECTIVE_TYPE} characters"))
    return _refusal(problems)


def delete_request_refusal(
    request: DeleteConversationRequest, metadata_trace_id: str = ""
) -> InvalidParamsError | None:
    """The same for a DeleteConversation request, whose conversation_id is required."""
    problems = [_too_long("conversation_id", request.conversation_id, MAX_CONVERSATION_ID)]
    if not request.conversation_id:
        problems.append(("conversation_id", "is required"))
    problems.append(_too_long("tenant", request.tenant, MAX_TENANT))
    problems += _trace_id_problems(request.trace_id, metadata_trace_id)
    return _refusal(problems)


def within_limits(request: ExecutePrimitiveRequest) -> ExecutePrimitiveRequest:
    """A copy of a refused ``request`` that is safe to report on: params dropped, over-long
    fields and a bad trace id emptied, so the refusal's events and response cannot echo
    megabytes back."""

    emptied: dict[str, Any] = {
        name: "" for name, limit in _EXECUTE_BOUNDS if len(getattr(request, name)) > limit
    }
    if not is_valid_trace_id(request.trace_id):
        emptied["trace_id"] = ""
    return replace(request, params=None, **emptied)


def limited_errors(errors: Sequence[_E]) -> tuple[Sequence[_E], str]:
    """At most MAX_REPORTED_ERRORS of ``errors`` to report, and " and N more" (or "") to add
    to the message: ten thousand unknown keys must not make a megabyte error response."""
    extra = len(errors) - MAX_REPORTED_ERRORS
    if extra <= 0:
        return errors, ""
    return errors[:MAX_REPORTED_ERRORS], f" and {extra} more"


def _trace_id_problems(field: str, metadata: str) -> list[_Problem | None]:
    rule = f"should be {TRACE_ID_RULE}"
    return [
        (source, rule) if value and not is_valid_trace_id(value) else None
        for source, value in (("trace_id", field), ("trace-id metadata", metadata))
    ]


def _too_long(name: str, value: str, limit: int) -> _Problem | None:
    if len(value) <= limit:
        return None
    return name, f"should be at most {limit} characters, not {len(value)}"


def _refusal(found: list[_Problem | None]) -> InvalidParamsError | None:
    problems = [problem for problem in found if problem is not None]
    if not problems:
        return None
    errors = [{"loc": [where], "msg": what, "type": "value_error"} for where, what in problems]
    return InvalidParamsError("; ".join(f"{where}: {what}" for where, what in problems), errors)
