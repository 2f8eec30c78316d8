"""Build and run the grpclib server: VoiceCoreService, standard health, reflection, admission.

grpclib's own ``Server.close()`` cancels in-flight calls without sending trailers, so draining
is built here: health turns NOT_SERVING, new calls get UNAVAILABLE, event streams end with
UNAVAILABLE (clients resume elsewhere), unary calls get ``grace_period`` seconds to finish and
are then ended with UNAVAILABLE, and only then is the grpclib server closed.

One client must not lock the others out. A call takes a slot only once its request has
arrived whole (``request_arrival_timeout`` after its headers; slower requests end with
UNAVAILABLE), so streams that send headers and nothing else hold none. One HTTP/2
connection, the unit of fairness (behind a proxy every call comes from one address), may hold
``max_calls_per_connection`` calls of a kind and never more than half of the kind's slots.
Each connection is also guarded below gRPC (``voicecore._h2guard``): its stream limit and its
budgets of resets and control frames.
"""

from __future__ import annotations

import asyncio
import math
import signal
import ssl
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from grpclib import GRPCError
from grpclib.const import Cardinality, Status
from grpclib.events import RecvRequest, SendInitialMetadata, listen
from grpclib.health.check import ServiceCheck, ServiceStatus
from grpclib.health.service import Health
from grpclib.health.v1 import health_pb2
from grpclib.reflection.service import ServerReflection
from grpclib.server import Stream
from loguru import logger
from prometheus_client import CollectorRegistry

from voicecore._auth import Authenticator, Caller
from voicecore._call import CallInfo, current_call, trace_id_from_metadata
from voicecore._codec import Betterproto2Codec, UpbCodec
from voicecore._execution import CALL_EVENT_TYPES
from voicecore._file_watch import FileWatcher
from voicecore._h2guard import H2Limits
from voicecore._metrics import note_refusal, observability
from voicecore._metrics_endpoint import MetricsEndpoint
from voicecore._proto.google_proto_descriptor_pool import default_google_proto_descriptor_pool
from voicecore._receive import ReceivedStream, recv_message, recv_single_message
from voicecore._tls import CertificateReloader, client_identity, server_context
from voicecore._tracing import server_span
from voicecore._transport import CoalescingServer
from voicecore.config import Settings, is_loopback
from voicecore.errors import DrainingError, OverloadedError
from voicecore.service import VoiceCoreService
from voicecore.stores import MemoryStore
from voicecore.stores._open import open_store

if TYPE_CHECKING:
    from grpclib._typing import IServable, IServerMethodFunc  # RecvRequest.method_func's type

__all__ = ["VoiceCoreServer", "serve"]

_STORE_CHECK_TTL = 1.0  # seconds a health answer about the store is reused
_WATCH_SETTLE = 0.1  # seconds health watchers get to receive NOT_SERVING before they end
_DRAINING = DrainingError("server is shutting down; retry elsewhere")
_EVENT_STREAMS = frozenset({"/voicecore.v1.VoiceCoreService/StreamEvents"})
# Health answers while draining (NOT_SERVING is the point); a check is quick and never refused.
_HEALTH = frozenset({"/grpc.health.v1.Health/Check", "/voicecore.v1.VoiceCoreService/HealthCheck"})
# A Watch stays open: it has a limit (that of event streams), but still answers while draining.
_WATCH = frozenset({"/grpc.health.v1.Health/Watch"})
# Reflection streams stay open as long as the client sends: a small pool of their own.
_REFLECTION = frozenset(
    {
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    }
)
_MAX_REFLECTION_STREAMS = 64
#: Seconds an open client stream (reflection) may go without sending its next message.
_STREAM_IDLE_SECONDS = 10.0


@dataclass(frozen=True)
class _Kind:
    """One kind of call: its tasks in flight, its limit, the share one connection may hold,
    and whether it is still served while draining (health: NOT_SERVING is the answer)."""

    name: str
    calls: set[asyncio.Task[Any]]
    limit: float
    per_connection: float
    serves_draining: bool = False


def _connection_share(limit: int, max_per_connection: int) -> int:
    """One connection's cap: the setting, and never more than half the slots (at least one)."""
    return min(max_per_connection, max(1, limit // 2))


class _Admission:
    """Admits calls once their request has arrived, fairly across connections; ends them on stop.

    A call is admitted only after its request has arrived whole (for a unary request: the
    message and the end of the stream) within ``arrival_timeout`` seconds of its headers;
    a slower one ends with DEADLINE_EXCEEDED without ever holding a slot, so streams that
    send headers and nothing else lock nobody out. Then two limits: calls of the kind in
    flight (``max_calls`` unary, ``max_streams`` event streams; health is never refused) and
    calls of the kind one connection holds (``_connection_share``: so one connection cannot
    take every slot; a connection, not a client address, as behind a proxy every call comes
    from one address). Past either: RESOURCE_EXHAUSTED.

    Kinds: unary calls, event streams, reflection streams (a pool of 64), health checks (never
    refused) and health watches (limited like event streams). They end differently on drain:
    event streams at once (clients resume elsewhere), unary calls and reflection after the
    grace period, health last, so that watchers see NOT_SERVING before their stream ends.
    """

    def __init__(
        self,
        settings: Settings,
        cardinalities: Mapping[str, Cardinality],
    ) -> None:
        self.arrival_timeout = settings.request_arrival_timeout
        self.max_message_bytes = settings.max_message_bytes
        self.cardinalities = cardinalities
        self.draining = False
        self.unary: set[asyncio.Task[Any]] = set()
        self.streams: set[asyncio.Task[Any]] = set()
        self.health: set[asyncio.Task[Any]] = set()
        self.reflection: set[asyncio.Task[Any]] = set()
        self.watches: set[asyncio.Task[Any]] = set()
        self.stopped: set[asyncio.Task[Any]] = set()
        #: Calls whose request is still arriving: in flight, not yet holding a slot.
        self.arriving: set[asyncio.Task[Any]] = set()
        share = settings.max_calls_per_connection
        self._kinds = {
            "unary": _Kind(
                "unary",
                self.unary,
                settings.max_concurrent_calls,
                _connection_share(settings.max_concurrent_calls, share),
            ),
            "streams": _Kind(
                "streams",
                self.streams,
                settings.max_event_streams,
                _connection_share(settings.max_event_streams, share),
            ),
            "reflection": _Kind(
                "reflection",
                self.reflection,
                _MAX_REFLECTION_STREAMS,
                _connection_share(_MAX_REFLECTION_STREAMS, share),
            ),
            "health": _Kind("health", self.health, math.inf, math.inf, serves_draining=True),
            "watch": _Kind(
                "watch",
                self.watches,
                settings.max_event_streams,
                _connection_share(settings.max_event_streams, share),
                serves_draining=True,
            ),
        }
        self._held: Counter[tuple[str, object]] = Counter()

    def wrap(self, method_name: str, func: IServerMethodFunc, info: CallInfo) -> IServerMethodFunc:
        kind = self._kind(method_name)
        cardinality = self.cardinalities.get(method_name, Cardinality.UNARY_UNARY)

        async def admitted(stream: Stream[Any, Any]) -> None:
            task = asyncio.current_task()
            assert task is not None
            current_call.set(info)
            with logger.contextualize(peer=info.peer, method=method_name), self._stoppable(task):
                self._refuse_if_draining(kind)
                self.arriving.add(task)
                try:
                    received = await self._arrival(stream, cardinality)
                finally:
                    self.arriving.discard(task)
                with self._slot(kind, _connection_of(stream), task):
                    await func(received)

        return admitted

    def _kind(self, method_name: str) -> _Kind:
        for methods, name in (
            (_EVENT_STREAMS, "streams"),
            (_HEALTH, "health"),
            (_WATCH, "watch"),
            (_REFLECTION, "reflection"),
        ):
            if method_name in methods:
                return self._kinds[name]
        return self._kinds["unary"]

    def _refuse_if_draining(self, kind: _Kind) -> None:
        if self.draining and not kind.serves_draining:
            note_refusal("draining")
            raise DrainingError("server is shutting down; retry elsewhere").grpc_error()

    async def _arrival(self, stream: Stream[Any, Any], cardinality: Cardinality) -> Any:
        """The stream with its first message received, within the arrival time limit."""
        limit = self.max_message_bytes
        try:
            async with asyncio.timeout(self.arrival_timeout):
                if cardinality.client_streaming:
                    first = await recv_message(stream, limit)
                else:
                    first = await recv_single_message(stream, limit)
        except TimeoutError:
            # UNAVAILABLE, not DEADLINE_EXCEEDED: the caller's deadline has not passed, and an
            # overloaded server reading its connections in turn (``_h2guard.TurnBudget``) can
            # be what kept a promptly sent body waiting; the client retries under its key.
            note_refusal("arrival_timeout")
            raise GRPCError(
                Status.UNAVAILABLE,
                f"the request did not arrive within {self.arrival_timeout:g} s of its headers; "
                "retry",
            ) from None
        return ReceivedStream(stream, first, limit, _STREAM_IDLE_SECONDS)

    @contextmanager
    def _slot(self, kind: _Kind, connection: object, task: asyncio.Task[Any]) -> Iterator[None]:
        """Hold one of the kind's slots for ``task``, or raise RESOURCE_EXHAUSTED."""
        if kind.name == "streams":
            # A stream whose request arrived after the drain began would outlive it; a unary
            # call whose headers came before is in flight, and gets the grace period.
            self._refuse_if_draining(kind)
        key = (kind.name, connection)
        if len(kind.calls) >= kind.limit:
            note_refusal("overloaded")
            raise OverloadedError(
                f"more than {kind.limit} calls of this kind in flight"
            ).grpc_error()
        if self._held[key] >= kind.per_connection:
            note_refusal("connection_share")
            raise OverloadedError(
                f"more than {kind.per_connection} calls of this kind in flight on this connection"
            ).grpc_error()
        kind.calls.add(task)
        self._held[key] += 1
        try:
            yield
        finally:
            kind.calls.discard(task)
            self._held[key] -= 1
            if not self._held[key]:
                del self._held[key]

    @contextmanager
    def _stoppable(self, task: asyncio.Task[Any]) -> Iterator[None]:
        """A call cancelled by ``stop`` ends with UNAVAILABLE instead of no status at all."""
        try:
            yield
        except asyncio.CancelledError:
            if task not in self.stopped:
                raise
            task.uncancel()  # the stop was ours: end the call with a status instead
            raise DrainingError("server is shutting down; retry elsewhere").grpc_error() from None

    async def stop(self, tasks: set[asyncio.Task[Any]]) -> None:
        """Cancel ``tasks`` and wait (briefly) until each has sent its UNAVAILABLE trailers."""
        ending = set(tasks)
        for task in ending:
            self.stopped.add(task)
            task.cancel()
        if ending:
            await asyncio.wait(ending, timeout=1.0)
        self.stopped -= ending


def _connection_of(stream: Stream[Any, Any]) -> object:
    """The HTTP/2 connection a call came on (grpclib keeps it private): admission's unit."""
    return stream._stream.connection


class VoiceCoreServer:
    """A voicecore gRPC server: start it, then ``stop()`` drains it gracefully.

    Its Prometheus metrics (``voicecore._metrics``) go to ``metrics_registry`` if given, else
    to a registry of its own when ``settings.metrics_port`` is set; ``metrics`` is None when
    metrics are off.
    """

    def __init__(
        self,
        settings: Settings,
        service: VoiceCoreService | None = None,
        *,
        metrics_registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.service = service or VoiceCoreService.from_settings(settings)
        self._status = ServiceStatus()
        self._status.set(True)
        health = Health({self.service: [self._status, *_store_checks(self.service, settings)]})
        services = ServerReflection.extend([self.service, health], pool=_reflection_pool())
        cardinalities = _cardinalities(services)
        self._admission = _Admission(settings, cardinalities)
        observer, self.metrics = observability(
            settings,
            self.service.registry,
            CALL_EVENT_TYPES,
            self.service.events,
            cardinalities,
            metrics_registry,
            self.service.store,
        )
        self._server = CoalescingServer(
            services,
            codec=_codec(settings),
            limits=_h2_limits(settings),
            coalesce_writes=settings.coalesce_writes,
            observer=observer,
        )
        if observer is not None:
            observer.listen(self._server)
        #: The /metrics endpoint, started with the server when ``settings.metrics_port`` is set.
        self.metrics_endpoint = (
            MetricsEndpoint(self.metrics.registry, settings.metrics_host, settings.metrics_port)
            if self.metrics is not None and settings.metrics_port
            else None
        )
        self._auth = _authenticator(settings)
        listen(self._server, RecvRequest, self._on_request)
        listen(self._server, SendInitialMetadata, _echo_trace_id)
        self.port = settings.port
        self._ssl = server_context(settings)
        #: What SIGHUP runs (``serve`` installs it), in order: each rereads its own files
        #: (the TLS certificate, tokens) and keeps what it had if they are bad.
        self.reload_callbacks: list[Callable[[], None]] = []
        #: The same reloads, run when their files change (every ``file_watch_interval`` s).
        self.file_watcher = FileWatcher(settings.file_watch_interval)
        if self._ssl is not None and settings.tls_cert and settings.tls_key:
            reloader = CertificateReloader(self._ssl, settings.tls_cert, settings.tls_key)
            self.reload_callbacks.append(reloader)
            self.file_watcher.watch((settings.tls_cert, settings.tls_key), reloader)
        if self._auth is not None:
            self.reload_callbacks.append(self.reload_tokens)
            self.file_watcher.watch((self._auth.path,), self.reload_tokens)
        # Each TLS session's client identity, worked out and logged once per connection: a
        # connection carries one certificate and may carry thousands of calls.
        self._identities: weakref.WeakKeyDictionary[ssl.SSLObject, str | None] = (
            weakref.WeakKeyDictionary()
        )

    async def start(self) -> None:
        """Bind and start accepting calls; ``port`` is the bound port afterwards."""
        await self._server.start(
            self.settings.host,
            self.settings.port,
            ssl=self._ssl,
            # Workers (voicecore._workers) each listen on the one port; the kernel spreads
            # the connections over them.
            reuse_port=self.settings.workers > 1 or None,
        )
        # grpclib keeps the asyncio server private; its sockets tell which port 0 chose.
        listening = cast("asyncio.Server | None", self._server._server)
        if listening is not None and listening.sockets:
            self.port = listening.sockets[0].getsockname()[1]
        if self.metrics_endpoint is not None:
            await self.metrics_endpoint.start()
        logger.info(
            "serving",
            host=self.settings.host,
            port=self.port,
            tls=self._ssl is not None,
            mtls=self.settings.tls_client_ca is not None,
        )
        warn_if_exposed(self.settings.host, self.port, authenticated=self.settings.authenticates)
        self.file_watcher.start()

    def reload(self) -> None:
        """Run every reload callback (SIGHUP); one that raises does not stop the others."""
        for callback in self.reload_callbacks:
            try:
                callback()
            except Exception:
                logger.exception("reload failed", callback=repr(callback))

    async def stop(self, grace_period: float | None = None) -> None:
        """Drain: health NOT_SERVING, refuse new calls, end event streams, let unary calls
        finish within the grace period (then end them), end health watches, close."""
        admission = self._admission
        await self.file_watcher.stop()
        grace = self.settings.grace_period if grace_period is None else grace_period
        logger.info("draining", grace_period=grace, in_flight=len(admission.unary))
        admission.draining = True
        self.service.serving = False
        self._status.set(False)
        await admission.stop(admission.streams)
        in_flight = admission.unary | admission.reflection | admission.arriving
        if in_flight:
            await asyncio.wait(in_flight, timeout=grace)
        await admission.stop(admission.unary | admission.reflection | admission.arriving)
        if admission.watches:
            # A Watch stream needs a few loop turns to send NOT_SERVING; a load balancer that
            # sees it stops routing here before the stream ends.
            await asyncio.sleep(_WATCH_SETTLE)
        await admission.stop(admission.health | admission.watches)
        self._server.close()
        await self._server.wait_closed()
        if self.metrics_endpoint is not None:
            await self.metrics_endpoint.stop()
        logger.info("stopped")

    def reload_tokens(self) -> None:
        """Read the tokens file again (SIGHUP); without auth there is nothing to reload."""
        if self._auth is not None:
            self._auth.reload()

    async def _on_request(self, event: RecvRequest) -> None:
        info = CallInfo(
            metadata_trace_id=trace_id_from_metadata(event.metadata),
            deadline=event.deadline,
            peer=_peer_address(event.peer),
            client_identity=self._client_identity(event.peer),
        )
        if self._auth is not None:
            # Before admission and before the body is read: a refused caller holds no slot.
            caller = _authorize(self._auth, event.method_name, event.metadata, info.peer)
            if caller is not None:
                info.tenant, info.scopes = caller.tenant, caller.scopes
        event.method_func = self._admission.wrap(event.method_name, event.method_func, info)
        event.method_func = server_span(event, info, event.method_func)

    def _client_identity(self, peer: Any) -> str | None:
        """The verified client certificate's identity, logged at INFO once per connection."""
        if self.settings.tls_client_ca is None or peer is None:
            return None
        # grpclib's Peer gives the certificate but not the TLS session it came from.
        session = peer._transport.get_extra_info("ssl_object")
        if session is None:
            return client_identity(peer.cert())
        if session not in self._identities:
            identity = self._identities[session] = client_identity(peer.cert())
            logger.info("client certificate", peer=_peer_address(peer), identity=identity)
        return self._identities[session]


def warn_if_exposed(host: str, port: int, *, authenticated: bool) -> None:
    """A WARNING when other machines can reach an unauthenticated server (``insecure``)."""
    if not authenticated and not is_loopback(host):
        logger.warning(
            "serving {host}:{port} without authentication (insecure): anyone who can "
            "reach it can run captures, read every conversation's events and answer other "
            "callers' captures",
            host=host,
            port=port,
        )


def _authorize(
    auth: Authenticator, method: str, metadata: Mapping[str, Any], peer: str
) -> Caller | None:
    """The caller ``auth`` accepts for ``method``; a refusal is logged and raised."""
    try:
        return auth.check(method, metadata)
    except GRPCError as refused:
        note_refusal(refused.status.name.lower())  # unauthenticated or permission_denied
        # The reason names what is missing, never the token presented.
        logger.info(
            "call refused",
            peer=peer,
            method=method,
            status=refused.status.name,
            reason=refused.message,
        )
        raise


def _authenticator(settings: Settings) -> Authenticator | None:
    if settings.auth_tokens_file is None:
        return None
    return Authenticator(
        settings.auth_tokens_file,
        open_health=settings.auth_open_health,
        open_reflection=settings.auth_open_reflection,
    )


def _store_checks(service: VoiceCoreService, settings: Settings) -> list[ServiceCheck]:
    """A shared store's health is the server's: NOT_SERVING while it does not answer. (The
    in-memory store is this process: no check.)"""
    if isinstance(service.store, MemoryStore):
        return []
    check = ServiceCheck(
        service.store.reachable,
        check_ttl=_STORE_CHECK_TTL,
        check_timeout=settings.store_timeout + 1.0,
    )
    return [check]


def _cardinalities(services: Iterable[IServable]) -> dict[str, Cardinality]:
    """Each method path's cardinality: admission waits for a unary request's end."""
    return {
        path: handler.cardinality
        for service in services
        for path, handler in service.__mapping__().items()
    }


def _codec(settings: Settings) -> Betterproto2Codec:
    if settings.codec == "betterproto2":
        return Betterproto2Codec(settings.max_message_bytes)
    return UpbCodec(settings.max_message_bytes)


def _h2_limits(settings: Settings) -> H2Limits:
    return H2Limits(
        max_streams=settings.max_streams_per_connection,
        window=settings.flood_window,
        max_resets=settings.flood_max_resets,
        max_control_frames=settings.flood_max_control_frames,
        header_timeout=settings.request_arrival_timeout,
        max_connections=settings.max_connections,
    )


def _reflection_pool() -> Any:
    """betterproto2's embedded descriptors plus grpc.health.v1, so grpcurl can call Check.

    Reflection lists every service; without the health file in the pool, a client that
    resolves services through reflection (grpcurl) cannot call the standard health check.
    """
    pool = default_google_proto_descriptor_pool
    try:
        pool.FindFileByName(health_pb2.DESCRIPTOR.name)
    except KeyError:
        pool.AddSerializedFile(health_pb2.DESCRIPTOR.serialized_pb)
    return pool


async def _echo_trace_id(event: SendInitialMetadata) -> None:
    call = current_call.get()
    if call is not None and call.trace_id:
        event.metadata["trace-id"] = call.trace_id


def _peer_address(peer: Any) -> str:
    addr = peer.addr() if peer is not None else None
    return f"{addr[0]}:{addr[1]}" if addr else ""


async def serve(settings: Settings, service: VoiceCoreService | None = None) -> None:
    """Run a server until SIGINT or SIGTERM, then drain it; SIGHUP runs its reload callbacks
    (the TLS certificate, the tokens file).

    ``service`` serves your own registry (or shared stores); by default the built-in
    primitives with the store ``settings.store`` names, as ``voicecore serve`` does (a store
    that cannot be used raises ``StoreOpenError`` before anything listens).
    """
    if service is not None:
        await _serve_until_stopped(VoiceCoreServer(settings, service))
        return
    store = await open_store(settings)
    try:
        service = VoiceCoreService.from_settings(settings, store=store)
        await _serve_until_stopped(VoiceCoreServer(settings, service))
    finally:
        await store.aclose()


async def _serve_until_stopped(server: VoiceCoreServer) -> None:
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, server.reload)
    try:
        await stop.wait()
    finally:
        # The handlers stay until the drain is done: a repeated SIGTERM or SIGINT (systemd
        # signals every process of a unit, and --workers' parent forwards its own) would
        # otherwise kill the process halfway through it.
        try:
            await server.stop()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
