"""Server tracing hooks: the status a span ends with, the off path, cancellation, OTEL_* setup."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import pytest
from grpclib import GRPCError
from grpclib.const import Status
from grpclib.events import RecvRequest
from grpclib.metadata import Deadline
from grpclib.server import Stream
from loguru import logger
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider, StatusCode

from tests._otel import installed, recorded_spans, reset_global_provider, span_named
from voicecore import _tracing, cli
from voicecore._call import CallInfo
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
from voicecore._trace import tracer
from voicecore._tracing import (
    EXPORT_TIMEOUT_SECONDS,
    PRIMITIVE_SPAN,
    configure_from_env,
    note_retry,
    server_span,
    shutdown_tracing,
)
from voicecore._version import __version__
from voicecore.config import Settings
from voicecore.primitive import Primitive, PrimitiveContext, PrimitiveParams, PrimitiveResult
from voicecore.registry import PrimitiveRegistry, default_registry
from voicecore.service import VoiceCoreService

METHOD = "/voicecore.v1.VoiceCoreService/ExecutePrimitive"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def _event(deadline: Deadline | None = None, metadata: dict[str, str] | None = None) -> RecvRequest:
    """What server_span reads of grpclib's RecvRequest (no peer: an in-memory channel)."""
    fake = SimpleNamespace(
        method_name=METHOD, metadata=metadata or {}, peer=None, deadline=deadline
    )
    return cast(RecvRequest, fake)


def _raising(exc: BaseException) -> Any:
    async def handler(stream: Stream[Any, Any]) -> None:
        raise exc

    return handler


async def _ended_with(exc: BaseException, deadline: Deadline | None = None) -> dict[str, Any]:
    """Run a handler raising ``exc`` in a server span; the span's attributes and status."""
    with recorded_spans() as exporter:
        traced = server_span(_event(deadline), CallInfo(), _raising(exc))
        with pytest.raises(type(exc)):
            await traced(cast(Stream[Any, Any], None))
        span = span_named(exporter.get_finished_spans(), METHOD.lstrip("/"))
    return {**(span.attributes or {}), "status": span.status.status_code}


class TestServerSpanStatus:
    async def test_a_status_the_caller_caused_is_not_an_error(self) -> None:
        """INVALID_ARGUMENT is the caller's doing: recorded, but the span is no error."""
        ended = await _ended_with(GRPCError(Status.INVALID_ARGUMENT, "bad"))
        assert ended["rpc.status_code"] == "INVALID_ARGUMENT"
        assert "error.type" not in ended and ended["status"] is StatusCode.UNSET

    async def test_a_status_the_server_caused_is_an_error(self) -> None:
        """UNAVAILABLE (draining) is a server error: error.type and status ERROR."""
        ended = await _ended_with(GRPCError(Status.UNAVAILABLE, "draining"))
        assert ended["rpc.status_code"] == ended["error.type"] == "UNAVAILABLE"
        assert ended["status"] is StatusCode.ERROR

    async def test_cancelled_past_the_deadline_is_deadline_exceeded(self) -> None:
        """Cancelled with no time left: grpclib's deadline ended it."""
        ended = await _ended_with(asyncio.CancelledError(), Deadline.from_timeout(0))
        assert ended["rpc.status_code"] == "DEADLINE_EXCEEDED"
        assert ended["status"] is StatusCode.ERROR

    async def test_cancelled_with_time_left_is_cancelled(self) -> None:
        """Cancelled before the deadline (the client went away): CANCELLED, no error."""
        ended = await _ended_with(asyncio.CancelledError(), Deadline.from_timeout(60))
        assert ended["rpc.status_code"] == "CANCELLED" and ended["status"] is StatusCode.UNSET

    async def test_an_unexpected_exception_is_unknown_and_its_message_is_not_kept(
        self,
    ) -> None:
        """grpclib answers UNKNOWN; the message (maybe the caller's words) is not recorded."""
        ended = await _ended_with(RuntimeError("secret-words"))
        assert ended["rpc.status_code"] == ended["error.type"] == "UNKNOWN"
        assert "secret-words" not in json.dumps({k: str(v) for k, v in ended.items()})


class TestTracingOff:
    def test_without_a_provider_the_handler_runs_unwrapped(self) -> None:
        """No SDK installed: server_span hands back the handler itself, so it costs nothing."""
        handler = _raising(RuntimeError())
        assert server_span(_event(), CallInfo(), handler) is handler

    def test_an_explicit_no_op_provider_is_off_too(self) -> None:
        """A NoOpTracerProvider installed by the application is off as well."""
        handler = _raising(RuntimeError())
        with installed(NoOpTracerProvider()):
            assert server_span(_event(), CallInfo(), handler) is handler

    def test_a_provider_named_by_the_environment_is_asked_for(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """OTEL_PYTHON_TRACER_PROVIDER set: the provider the API loads from it traces."""
        monkeypatch.setattr("voicecore._trace._PROVIDER_FROM_ENV", True)
        monkeypatch.setattr(trace, "get_tracer_provider", TracerProvider)
        handler = _raising(RuntimeError())
        assert server_span(_event(), CallInfo(), handler) is not handler

    def test_a_retry_outside_any_span_is_harmless(self) -> None:
        """note_retry with no span running does nothing (and does not raise)."""
        note_retry(1, RuntimeError())
        assert not trace.get_current_span().get_span_context().is_valid


class TestOneTracerLookup:
    def test_server_and_client_spans_have_their_own_scope(
        self, spans: InMemorySpanExporter
    ) -> None:
        """The one lookup (voicecore._trace) names each side's scope, with voicecore's version,
        and looks each tracer up once per provider."""
        server, client = tracer("voicecore"), tracer("voicecore.client")
        assert server is not None and client is not None
        assert tracer("voicecore") is server
        with server.start_as_current_span("server side"):
            with client.start_as_current_span("client side"):
                pass
        scopes = {
            span.name: (span.instrumentation_scope.name, span.instrumentation_scope.version)
            for span in spans.get_finished_spans()
            if span.instrumentation_scope is not None
        }
        assert scopes == {
            "server side": ("voicecore", __version__),
            "client side": ("voicecore.client", __version__),
        }


class _Stuck(Primitive[PrimitiveParams]):
    """Runs until cancelled; says when it has started."""

    name: ClassVar[str] = "stuck"
    version: ClassVar[str] = "0.0.1"
    description: ClassVar[str] = "waits forever"
    params_model: ClassVar[type[PrimitiveParams]] = PrimitiveParams
    started: asyncio.Event

    async def execute(self, params: PrimitiveParams, ctx: PrimitiveContext) -> PrimitiveResult:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class TestPrimitiveSpan:
    async def test_a_cancelled_turn_ends_its_span_as_cancelled(
        self, spans: InMemorySpanExporter
    ) -> None:
        """Cancelling the turn ends the primitive span with error.type CANCELLED."""
        stuck = _Stuck()
        stuck.started = asyncio.Event()
        service = VoiceCoreService(PrimitiveRegistry([stuck]), settings=Settings())
        task = asyncio.create_task(
            service.execute_primitive(ExecutePrimitiveRequest(objective_type="stuck"))
        )
        await stuck.started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        primitive = span_named(spans.get_finished_spans(), PRIMITIVE_SPAN)
        assert (primitive.attributes or {})["error.type"] == "CANCELLED"
        assert primitive.status.status_code is StatusCode.ERROR

    @pytest.mark.parametrize(
        ("objective_type", "on_span"),
        [("debug_echo", "debug_echo"), ("no_such_type", "unknown"), ("x" * 128, "unknown")],
    )
    async def test_the_objective_type_is_a_registered_name_or_unknown(
        self, spans: InMemorySpanExporter, objective_type: str, on_span: str
    ) -> None:
        """The caller's objective type reaches the span only if the registry holds it."""
        service = VoiceCoreService(default_registry(debug_primitives=True), settings=Settings())
        await service.execute_primitive(
            ExecutePrimitiveRequest(
                objective_type=objective_type, params=Struct.from_dict({"word": "hi"})
            )
        )
        primitive = span_named(spans.get_finished_spans(), PRIMITIVE_SPAN)
        assert (primitive.attributes or {})["voicecore.objective_type"] == on_span


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """voicecore's WARNING messages while the test runs."""
    found: list[str] = []
    logger.enable("voicecore")
    sink = logger.add(lambda m: found.append(m.record["message"]), level="WARNING")
    yield found
    logger.remove(sink)
    logger.disable("voicecore")


@pytest.fixture
def global_provider() -> Iterator[None]:
    """Whatever configure_from_env installs is shut down and removed afterwards."""
    reset_global_provider()
    yield
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
    reset_global_provider()
    _tracing._installed_shutdown = None


class TestConfigureFromEnv:
    @pytest.mark.parametrize(
        "env",
        [
            {},
            {"OTEL_SERVICE_NAME": "voicecore"},
            {"OTEL_TRACES_EXPORTER": "none"},
            {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"},
            {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"},
        ],
    )
    def test_nothing_asked_for_leaves_tracing_off(
        self, env: dict[str, str], global_provider: None
    ) -> None:
        """No exporter and no endpoint (or none, or the SDK disabled): the API's no-op."""
        assert configure_from_env(env) is False
        assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)

    @pytest.mark.parametrize(
        "env",
        [
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/"},
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces"},
            {"OTEL_TRACES_EXPORTER": "console"},
            {"OTEL_TRACES_EXPORTER": "otlp,console"},
        ],
    )
    def test_an_exporter_or_endpoint_installs_the_sdk(
        self, env: dict[str, str], global_provider: None
    ) -> None:
        """An endpoint or a named exporter installs the SDK, its service named voicecore."""
        assert configure_from_env(env) is True
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider)
        assert provider.resource.attributes["service.name"] == "voicecore"

    def test_the_service_name_variable_names_the_service(
        self, global_provider: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """OTEL_SERVICE_NAME (read by the SDK) wins over the default."""
        monkeypatch.setenv("OTEL_SERVICE_NAME", "agent-core")
        assert configure_from_env({"OTEL_TRACES_EXPORTER": "console"}) is True
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider)
        assert provider.resource.attributes["service.name"] == "agent-core"

    def test_an_unknown_exporter_is_named_in_a_warning(
        self, global_provider: None, warnings: list[str]
    ) -> None:
        """An exporter voicecore cannot make is ignored with a WARNING; alone, tracing is off."""
        assert configure_from_env({"OTEL_TRACES_EXPORTER": "zipkin"}) is False
        assert warnings == ["unknown OTEL_TRACES_EXPORTER ignored"]

    def test_without_the_sdk_a_warning_says_how_to_install_it(
        self, global_provider: None, warnings: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Asked for but not installed: tracing stays off and the WARNING names the extra."""
        monkeypatch.setitem(sys.modules, "opentelemetry.sdk.resources", None)
        assert configure_from_env({"OTEL_TRACES_EXPORTER": "console"}) is False
        assert len(warnings) == 1 and "voicecore[otel]" in warnings[0]

    @pytest.mark.parametrize(
        ("timeout_env", "timeout"),
        [
            ({}, EXPORT_TIMEOUT_SECONDS),
            ({"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}, None),
            ({"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "7"}, None),
        ],
    )
    def test_the_otlp_export_times_out_soon_unless_a_variable_says(
        self,
        timeout_env: dict[str, str],
        timeout: float | None,
        global_provider: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The short default replaces the SDK's 10 s; a timeout variable is left to the SDK."""
        from opentelemetry.exporter.otlp.proto.http import trace_exporter

        made: list[float | None] = []

        class Recording(trace_exporter.OTLPSpanExporter):
            def __init__(self, *, timeout: float | None = None) -> None:
                made.append(timeout)
                super().__init__(timeout=timeout)

        monkeypatch.setattr(trace_exporter, "OTLPSpanExporter", Recording)
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/", **timeout_env}
        assert configure_from_env(env) is True
        assert made == [timeout]

    @pytest.mark.parametrize(
        ("protocol_env", "warned"),
        [
            ({}, False),
            ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, False),
            ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, True),
            ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, True),
            (
                {
                    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
                    "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                },
                False,
            ),
        ],
    )
    def test_a_protocol_other_than_http_protobuf_is_warned_about(
        self,
        protocol_env: dict[str, str],
        warned: bool,
        global_provider: None,
        warnings: list[str],
    ) -> None:
        """Only the HTTP exporter ships: another protocol gets one WARNING (the traces
        variable, as in the SDK, wins over the general one)."""
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9/", **protocol_env}
        assert configure_from_env(env) is True
        expected = ["only OTLP over http/protobuf is supported: spans are sent with it"]
        assert warnings == (expected if warned else [])


class TestShutdownTracing:
    def test_the_installed_provider_is_the_one_shut_down(self, global_provider: None) -> None:
        """configure_from_env keeps the shutdown of the provider it installed, and
        shutdown_tracing uses it once."""
        assert configure_from_env({"OTEL_TRACES_EXPORTER": "console"}) is True
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider)
        assert _tracing._installed_shutdown == provider.shutdown
        shutdown_tracing()
        assert _tracing._installed_shutdown is None

    def test_nothing_installed_is_nothing_to_do(self) -> None:
        _tracing._installed_shutdown = None
        shutdown_tracing()
        assert _tracing._installed_shutdown is None

    def test_a_stuck_export_does_not_hold_the_exit(
        self, warnings: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A shutdown that never ends (a collector that never answers) is left behind after
        the bound, with a WARNING that spans were dropped."""
        release = threading.Event()
        entered = threading.Event()

        def stuck() -> None:
            entered.set()
            release.wait()

        monkeypatch.setattr(_tracing, "_installed_shutdown", stuck)
        try:
            shutdown_tracing(bound=0.01)
            assert entered.is_set()
            assert not release.is_set()  # returned while the shutdown was still stuck
            assert warnings == ["spans not exported before exit were dropped"]
        finally:
            release.set()

    @pytest.mark.parametrize("fails", [False, True])
    def test_serve_shuts_tracing_down_when_the_drain_ends(
        self, fails: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``voicecore serve`` flushes its spans itself once serve() returns (or fails)."""
        steps: list[str] = []

        async def serve(settings: Settings) -> None:
            steps.append("served")
            if fails:
                raise RuntimeError("boom")

        monkeypatch.setattr("voicecore.server.serve", serve)
        monkeypatch.setattr(_tracing, "configure_from_env", lambda: steps.append("configured"))
        monkeypatch.setattr(_tracing, "shutdown_tracing", lambda: steps.append("shut down"))
        if fails:
            with pytest.raises(RuntimeError):
                cli._serve_one(Settings())
        else:
            assert cli._serve_one(Settings()) == 0
        assert steps == ["configured", "served", "shut down"]
