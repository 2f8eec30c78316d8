"""OpenTelemetry traces on the client: a CLIENT span per ``execute``, and ``traceparent`` sent.

Only the OpenTelemetry API is imported (about 9 ms, beside the client's 430). Until the
application installs a tracer provider (the SDK's, or its own) ``execute`` runs unwrapped.

One span per ``execute``, named and described by the stable OpenTelemetry RPC conventions
(``voicecore.v1.VoiceCoreService/ExecutePrimitive``, ``rpc.system.name`` ``grpc``,
``rpc.status_code`` of the last attempt, ``server.address``/``server.port``); its retries are
span events (``voicecore.client.attempt_failed``) and ``voicecore.client.attempts`` counts the
calls sent, so a retried turn is one span whose every attempt carries the same
``traceparent``: the server spans of all its attempts are its children. Every non-OK status
makes it an error span, as the conventions say for clients; a turn the server answered with
``success=false`` is a completed RPC (``voicecore.error_code`` says why it failed).

The trace id: unless the caller names one, a call's voicecore trace id is its span's, so the
response's ``metadata.trace_id``, the server's log lines and the trace agree.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, ParamSpec, Protocol, cast

from grpclib.exceptions import GRPCError, StreamTerminatedError
from opentelemetry import trace
from opentelemetry.trace import (
    Span,
    SpanKind,
    StatusCode,
    format_trace_id,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from voicecore._proto.voicecore.v1 import ExecutePrimitiveResponse
from voicecore._trace import tracer
from voicecore.client._config import ClientConfig, parse_endpoint

__all__ = [
    "ATTEMPT_FAILED",
    "EXECUTE",
    "current_trace_id",
    "inject_traceparent",
    "rpc_attempt",
    "traced_execute",
]

#: The server's bound on an objective type (``voicecore._limits``, which the client does not
#: import): a span keeps no more of the caller's text than a request may carry.
_MAX_OBJECTIVE_TYPE: Final = 128

EXECUTE: Final = "voicecore.v1.VoiceCoreService/ExecutePrimitive"
ATTEMPT_FAILED: Final = "voicecore.client.attempt_failed"
_INSTRUMENTATION: Final = "voicecore.client"
#: W3C Trace Context itself: the server's trace-id rule reads ``traceparent``.
_PROPAGATOR: Final = TraceContextTextMapPropagator()

P = ParamSpec("P")


class _Configured(Protocol):
    """What the span reads of a client (``VoiceCoreClientBase``, which imports this module)."""

    config: ClientConfig


@dataclass(slots=True)
class _Attempts:
    """The calls one ``execute`` sent, and the gRPC status of the last."""

    count: int = 0
    last_status: str | None = None


_attempts: ContextVar[_Attempts | None] = ContextVar("voicecore_client_attempts", default=None)


def current_trace_id() -> str:
    """The trace id (32 hex digits) of the span running now; "" when there is none."""
    context = trace.get_current_span().get_span_context()
    return format_trace_id(context.trace_id) if context.is_valid else ""


def inject_traceparent(metadata: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` (and ``tracestate``) for the span running now; nothing without one."""
    _PROPAGATOR.inject(metadata)


def traced_execute(
    execute: Callable[P, Coroutine[Any, Any, ExecutePrimitiveResponse]],
) -> Callable[P, Coroutine[Any, Any, ExecutePrimitiveResponse]]:
    """``VoiceCoreClientBase.execute`` inside a CLIENT span while tracing is on."""

    @functools.wraps(execute)
    async def traced(*args: P.args, **kwargs: P.kwargs) -> ExecutePrimitiveResponse:
        tracing = tracer(_INSTRUMENTATION)
        if tracing is None:
            return await execute(*args, **kwargs)
        client = cast(_Configured, args[0])
        objective_type = kwargs.get("objective_type", args[1] if len(args) > 1 else "")
        host, port = parse_endpoint(client.config.endpoint)
        with tracing.start_as_current_span(
            EXECUTE,
            kind=SpanKind.CLIENT,
            attributes={
                "rpc.system.name": "grpc",
                "rpc.method": EXECUTE,
                "server.address": host,
                "server.port": port,
                # The client cannot know the server's types: cut at the bound a request has.
                "voicecore.objective_type": str(objective_type)[:_MAX_OBJECTIVE_TYPE],
            },
            record_exception=False,  # an exception's message may quote the caller
            set_status_on_exception=False,
        ) as span:
            attempts = _Attempts()
            token = _attempts.set(attempts)
            try:
                response = await execute(*args, **kwargs)
            finally:
                _attempts.reset(token)
            _end_client_span(span, response, attempts)
            return response

    return traced


def _end_client_span(span: Span, response: ExecutePrimitiveResponse, attempts: _Attempts) -> None:
    span.set_attribute("voicecore.client.attempts", attempts.count)
    assert response.metadata is not None  # server and client failures alike carry it
    span.set_attribute("voicecore.trace_id", response.metadata.trace_id)
    status = attempts.last_status
    if status is not None:
        span.set_attribute("rpc.status_code", status)
    if response.error is None:
        return
    if status == "OK":  # the server answered: the turn failed, the RPC did not
        span.set_attribute("voicecore.error_code", response.error.code.name)
        return
    # No answer: the last attempt's status, or (nothing sent: breaker open) the client's code.
    span.set_attribute("error.type", status or response.error.code.name)
    span.set_status(StatusCode.ERROR)


def rpc_attempt() -> _Attempt:
    """Around one call sent by ``execute``: counts it, keeps its status, and adds an event to
    the CLIENT span when it fails. Outside a traced ``execute`` it does nothing."""
    return _Attempt()


class _Attempt:
    __slots__ = ("_attempts",)

    def __enter__(self) -> None:
        self._attempts = _attempts.get()
        if self._attempts is not None:
            self._attempts.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        attempts = self._attempts
        if attempts is None:
            return
        attempts.last_status = "OK" if exc is None else _status_of(exc)
        if exc is not None:
            trace.get_current_span().add_event(
                ATTEMPT_FAILED,
                {
                    "voicecore.client.attempt": attempts.count,
                    "rpc.status_code": attempts.last_status,
                },
            )


def _status_of(exc: BaseException) -> str:
    """The gRPC status name a failed call ended with, as the client saw it."""
    if isinstance(exc, GRPCError):
        return exc.status.name
    if isinstance(exc, TimeoutError):  # grpclib's client deadline
        return "DEADLINE_EXCEEDED"
    if isinstance(exc, asyncio.CancelledError):
        return "CANCELLED"
    if isinstance(exc, StreamTerminatedError | OSError):  # never connected, or connection lost
        return "UNAVAILABLE"
    return "UNKNOWN"
