"""OpenTelemetry traces on the server: a SERVER span per RPC, a child span per primitive run.

Only the OpenTelemetry API is imported here. Until a tracer provider is installed (``voicecore
serve`` installs the SDK's when the ``otel`` extra is there and ``OTEL_*`` variables ask for it,
see ``configure_from_env``; an embedding application may install its own), every hook returns at
once and the handler runs unwrapped: tracing off costs one provider lookup per call.

Names follow the stable OpenTelemetry RPC conventions (semconv 1.45): the span is named after
``rpc.method`` (``voicecore.v1.VoiceCoreService/ExecutePrimitive``), with ``rpc.system.name``
``grpc`` and ``rpc.status_code`` the status name; only the statuses that mean the server failed
make it an error span. grpclib has no interceptors, and it sends no trailers event for a call
the client cancels, so the span wraps the handler itself (``server_span``) and ends whatever
way the handler does.

One trace id. The span continues a W3C ``traceparent``, whose trace id is also voicecore's
(``voicecore._call``). With no ``traceparent`` and no ``trace-id``, voicecore's new trace id is
the span's, so a trace id in a log line or a response always finds the trace. A caller that
names another trace id (the request field, ``trace-id`` metadata) keeps it; the spans carry it
as ``voicecore.trace_id``.

No captured value is ever an attribute or an event: spans carry names, states, counts and
codes, never params, data or error messages (which may quote what the caller said).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Awaitable, Callable, Container, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, Protocol, TypeVar

from grpclib import GRPCError
from grpclib.const import Status
from loguru import logger
from opentelemetry import trace
from opentelemetry.trace import (
    Span,
    SpanKind,
    StatusCode,
    format_trace_id,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from voicecore._call import CallInfo
from voicecore._metrics import UNKNOWN
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest, ExecutePrimitiveResponse
from voicecore._trace import tracer
from voicecore._version import __version__

if TYPE_CHECKING:
    from grpclib._typing import IServerMethodFunc
    from grpclib.events import RecvRequest
    from grpclib.server import Stream
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

__all__ = [
    "configure_from_env",
    "note_retry",
    "server_span",
    "shutdown_tracing",
    "traced_primitive",
]

_INSTRUMENTATION: Final = "voicecore"
#: W3C Trace Context itself, not the globally configured propagator: voicecore's trace-id rule
#: reads ``traceparent``, and this one never loads entry points per process.
_PROPAGATOR: Final = TraceContextTextMapPropagator()
#: Server statuses that make an error span (semconv): the others are the caller's doing.
_SERVER_ERRORS: Final = frozenset(
    {
        Status.UNKNOWN,
        Status.DEADLINE_EXCEEDED,
        Status.UNIMPLEMENTED,
        Status.INTERNAL,
        Status.UNAVAILABLE,
        Status.DATA_LOSS,
    }
)
PRIMITIVE_SPAN: Final = "voicecore.primitive"
RETRY_EVENT: Final = "voicecore.retry"


class _Registered(Protocol):
    """What a traced executor tells: the objective types it knows (its registry)."""

    @property
    def registry(self) -> Container[str]: ...


P = ParamSpec("P")
S = TypeVar("S", bound=_Registered)


def server_span(event: RecvRequest, call: CallInfo, func: IServerMethodFunc) -> IServerMethodFunc:
    """``func`` run inside a SERVER span continuing the call's ``traceparent``; ``func`` itself
    while tracing is off. Without a trace id of its own, the call takes the span's."""
    tracing = tracer(_INSTRUMENTATION)
    if tracing is None:
        return func
    method = event.method_name.lstrip("/")
    parent = _PROPAGATOR.extract(event.metadata)
    attributes = {"rpc.system.name": "grpc", "rpc.method": method, **_peer(event.peer)}
    deadline = event.deadline

    async def traced(stream: Stream[Any, Any]) -> None:
        with tracing.start_as_current_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,  # an exception's message may quote the caller
            set_status_on_exception=False,
        ) as span:
            if not call.metadata_trace_id:
                call.metadata_trace_id = format_trace_id(span.get_span_context().trace_id)
            status = Status.OK
            try:
                await func(stream)
            except GRPCError as err:
                status = err.status
                raise
            except asyncio.CancelledError:
                late = deadline is not None and deadline.time_remaining() <= 0
                status = Status.DEADLINE_EXCEEDED if late else Status.CANCELLED
                raise
            except Exception:
                status = Status.UNKNOWN  # what grpclib answers for an unexpected exception
                raise
            finally:
                _end_server_span(span, status, call.trace_id)

    return traced


def _end_server_span(span: Span, status: Status, trace_id: str) -> None:
    span.set_attribute("rpc.status_code", status.name)
    if trace_id:
        span.set_attribute("voicecore.trace_id", trace_id)
    if status in _SERVER_ERRORS:
        span.set_attribute("error.type", status.name)
        span.set_status(StatusCode.ERROR)


def _peer(peer: Any) -> dict[str, str | int]:
    address = peer.addr() if peer is not None else None
    if not address:
        return {}
    return {"network.peer.address": str(address[0]), "network.peer.port": int(address[1])}


def traced_primitive(
    execute: Callable[
        Concatenate[S, ExecutePrimitiveRequest, P], Awaitable[ExecutePrimitiveResponse]
    ],
) -> Callable[Concatenate[S, ExecutePrimitiveRequest, P], Awaitable[ExecutePrimitiveResponse]]:
    """Decorates ``Executor.execute``: one INTERNAL span per turn (replays included) with its
    objective type, resulting state, retry count and an event per retry (``note_retry``).

    The objective type is the caller's text: one the executor's registry does not hold is
    ``unknown`` on the span (as in the metrics), so a span carries no caller's text.
    """

    @functools.wraps(execute)
    async def traced(
        self: S, request: ExecutePrimitiveRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> ExecutePrimitiveResponse:
        tracing = tracer(_INSTRUMENTATION)
        if tracing is None:
            return await execute(self, request, *args, **kwargs)
        with tracing.start_as_current_span(
            PRIMITIVE_SPAN,
            attributes={"voicecore.objective_type": _registered(self, request.objective_type)},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                response = await execute(self, request, *args, **kwargs)
            except asyncio.CancelledError:
                span.set_attribute("error.type", "CANCELLED")
                span.set_status(StatusCode.ERROR)
                raise
            _describe_turn(span, response)
            return response

    return traced


def _registered(executor: _Registered, objective_type: str) -> str:
    return objective_type if objective_type in executor.registry else UNKNOWN


def _describe_turn(span: Span, response: ExecutePrimitiveResponse) -> None:
    meta = response.metadata
    assert meta is not None  # the executor always fills it
    span.set_attributes(
        {
            "voicecore.state": meta.state.name,
            "voicecore.retry_count": meta.retry_count,
            "voicecore.replayed": meta.replayed,
            "voicecore.trace_id": meta.trace_id,
        }
    )
    if response.error is not None:
        span.set_attribute("error.type", response.error.code.name)
        span.set_status(StatusCode.ERROR)


def note_retry(retry: int, error: BaseException) -> None:
    """A span event on the running primitive's span: retry number ``retry`` is about to run
    after ``error`` (its type only: its message may quote the caller)."""
    trace.get_current_span().add_event(
        RETRY_EVENT, {"voicecore.retry_count": retry, "error.type": type(error).__name__}
    )


#: Exporters ``OTEL_TRACES_EXPORTER`` may name; "none" (or nothing else asked for) means off.
_EXPORTERS: Final = frozenset({"otlp", "console"})
#: Seconds one OTLP export may take (retries included) unless ``OTEL_EXPORTER_OTLP_TIMEOUT`` or
#: ``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` says: the SDK's 10 s, against a collector that never
#: answers, would hold a stopping server past Kubernetes' 30 s termination grace.
EXPORT_TIMEOUT_SECONDS: Final = 2.0
_TIMEOUT_VARIABLES: Final = frozenset(
    {"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"}
)
#: The protocol of the one OTLP exporter the ``otel`` extra ships.
_PROTOCOL: Final = "http/protobuf"
_PROTOCOL_VARIABLES: Final = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
#: The longest the last export may hold a stopping process (``shutdown_tracing``).
SHUTDOWN_BOUND_SECONDS: Final = 3.0
#: The shutdown of the SDK provider ``configure_from_env`` installed; None before or after.
_installed_shutdown: Callable[[], None] | None = None


def configure_from_env(env: Mapping[str, str] | None = None) -> bool:
    """Install the OpenTelemetry SDK as the standard ``OTEL_*`` variables ask; True if it did.

    Tracing is asked for by ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``; ``none`` is off)
    or, with that unset, by an OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``); ``OTEL_SDK_DISABLED=true`` turns it off. The
    service is named by ``OTEL_SERVICE_NAME``, ``voicecore`` by default. The SDK comes with
    the ``otel`` extra; asked for without it, a WARNING says how to install it. Spans are
    exported in batches over OTLP/HTTP (protobuf; another ``OTEL_EXPORTER_OTLP_PROTOCOL`` gets
    a WARNING), each export given ``EXPORT_TIMEOUT_SECONDS`` unless ``OTEL_EXPORTER_OTLP_TIMEOUT``
    says; ``shutdown_tracing`` flushes them, bounded, when the server has stopped.
    """
    global _installed_shutdown
    env = os.environ if env is None else env
    exporters = _exporters_asked(env)
    if not exporters:
        return False
    try:
        provider = _sdk_provider(exporters, env)
    except ImportError:
        logger.warning(
            "OTEL_* variables ask for traces but the OpenTelemetry SDK is not installed: "
            "pip install 'voicecore[otel]'",
        )
        return False
    trace.set_tracer_provider(provider)
    _installed_shutdown = provider.shutdown
    logger.info("tracing", exporters=sorted(exporters))
    return True


def shutdown_tracing(bound: float = SHUTDOWN_BOUND_SECONDS) -> None:
    """Export the spans still queued and stop the SDK ``configure_from_env`` installed, waiting
    at most ``bound`` seconds: what is not exported by then is dropped.

    ``voicecore serve`` calls it when the drain has ended. Without it the SDK's own exit hook
    flushes with no bound of ours (up to 30 s against a collector that never answers). The
    shutdown runs in a daemon thread so that a stuck export cannot hold the exit; the SDK's
    exit hook then finds it shut down and returns at once.
    """
    global _installed_shutdown
    shutdown, _installed_shutdown = _installed_shutdown, None
    if shutdown is None:
        return
    stopping = threading.Thread(target=shutdown, name="voicecore-trace-shutdown", daemon=True)
    stopping.start()
    stopping.join(bound)
    if stopping.is_alive():
        logger.warning("spans not exported before exit were dropped", bound_seconds=bound)


def _sdk_provider(exporters: frozenset[str], env: Mapping[str, str]) -> SdkTracerProvider:
    """The SDK's provider exporting to ``exporters``; raises ImportError without the extra.

    The SDK reads the rest of the process environment itself: the exporters their
    ``OTEL_EXPORTER_OTLP_*`` variables (endpoint, headers, timeout), the provider its sampler
    (``OTEL_TRACES_SAMPLER``), the resource ``OTEL_SERVICE_NAME`` and
    ``OTEL_RESOURCE_ATTRIBUTES``; a service they leave unnamed is ``voicecore``. An export
    times out after ``EXPORT_TIMEOUT_SECONDS`` unless a timeout variable says otherwise. Spans
    go over OTLP/HTTP (protobuf) only: another ``OTEL_EXPORTER_OTLP_PROTOCOL`` gets a WARNING.
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    resource = Resource.create({"service.version": __version__})
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "voicecore"}))
    provider = SdkTracerProvider(resource=resource)
    chosen: list[SpanExporter] = []
    if "otlp" in exporters:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        _warn_unshipped_protocol(env)
        timeout = None if _TIMEOUT_VARIABLES & env.keys() else EXPORT_TIMEOUT_SECONDS
        chosen.append(OTLPSpanExporter(timeout=timeout))
    if "console" in exporters:
        chosen.append(ConsoleSpanExporter())
    for exporter in chosen:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _warn_unshipped_protocol(env: Mapping[str, str]) -> None:
    """The ``otel`` extra ships the OTLP/HTTP exporter alone: a gRPC protocol asked for is not
    honoured, and the person who set it should know why their collector's gRPC port is quiet."""
    for variable in _PROTOCOL_VARIABLES:
        protocol = env.get(variable, "").strip().lower()
        if protocol:
            if protocol != _PROTOCOL:
                logger.warning(
                    "only OTLP over http/protobuf is supported: spans are sent with it",
                    variable=variable,
                    protocol=protocol,
                )
            return


def _exporters_asked(env: Mapping[str, str]) -> frozenset[str]:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return frozenset()
    named = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not named:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return frozenset({"otlp"}) if endpoint else frozenset()
    asked = frozenset(name.strip() for name in named.split(",")) - {"none", ""}
    for unknown in sorted(asked - _EXPORTERS):
        logger.warning("unknown OTEL_TRACES_EXPORTER ignored", exporter=unknown)
    return asked & _EXPORTERS
