"""What the server knows about the RPC being handled: metadata trace id, deadline, peer, caller,
client certificate identity.

A grpclib ``RecvRequest`` listener stores a ``CallInfo`` in a context variable before the handler
runs; the handler reads it and records the resolved trace id, which a ``SendInitialMetadata``
listener echoes back as ``trace-id`` metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from grpclib.metadata import Deadline

from voicecore._trace import is_valid_trace_id, new_trace_id

__all__ = ["CallInfo", "current_call", "resolve_trace_id", "trace_id_from_metadata"]

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_INVALID_TRACE_ID = "0" * 32


@dataclass(slots=True)
class CallInfo:
    """One RPC's transport facts; ``trace_id`` is filled in once the handler resolves it.

    ``tenant`` and ``scopes`` are those of the caller's bearer token; empty without auth or
    on a method open to everyone (health).
    """

    metadata_trace_id: str = ""
    deadline: Deadline | None = None
    peer: str = ""
    trace_id: str = ""
    tenant: str = ""
    scopes: frozenset[str] = frozenset()
    #: What the verified client certificate names (``voicecore._tls.client_identity``), mTLS only.
    client_identity: str | None = None


current_call: ContextVar[CallInfo | None] = ContextVar("voicecore_call", default=None)


def trace_id_from_metadata(metadata: Mapping[str, str | bytes]) -> str:
    """The ``trace-id`` metadata value, else the trace id of a valid W3C ``traceparent``.

    A ``trace-id`` is returned as sent, valid or not, so the call can be refused naming it;
    an invalid ``traceparent`` is ignored, as W3C Trace Context asks.
    """
    trace_id = metadata.get("trace-id")
    if isinstance(trace_id, str) and trace_id:
        return trace_id
    traceparent = metadata.get("traceparent")
    if isinstance(traceparent, str):
        match = _TRACEPARENT.match(traceparent.strip().lower())
        if match and match.group(1) != _INVALID_TRACE_ID:
            return match.group(1)
    return ""


def resolve_trace_id(field: str, call: CallInfo | None) -> str:
    """The request field, else what the metadata carried, else a new id; an invalid id
    (see ``voicecore._trace``) is skipped, so the call is reported under a usable one."""
    if is_valid_trace_id(field):
        return field
    if call is not None and is_valid_trace_id(call.metadata_trace_id):
        return call.metadata_trace_id
    return new_trace_id()
