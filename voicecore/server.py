"""Build and run the grpclib server: VoiceCoreService, standard health, reflection, admission.

grpclib's own ``Server.close()`` cancels in-flight calls without sending trailers, so draining
is built here: health turns NOT_SERVING, new calls get UNAVAILABLE, event streams end with
UNAVAILABLE (clients resume elsewhere), unary calls get ``grace_period`` seconds to finish and
are then ended with UNAVAILABLE, and only then is the grpclib server closed.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any, cast

from grpclib.events import RecvRequest, SendInitialMetadata, listen
from grpclib.health.check import ServiceStatus
from grpclib.health.service import Health
from grpclib.health.v1 import health_pb2
from grpclib.reflection.service import ServerReflection
from grpclib.server import Stream
from loguru import logger

from voicecore._call import CallInfo, current_call, trace_id_from_metadata
from voicecore._codec import UpbCodec
from voicecore._proto.google_proto_descriptor_pool import default_google_proto_descriptor_pool
from voicecore._transport import CoalescingServer
from voicecore.config import Settings
from voicecore.errors import DrainingError, OverloadedError
from voicecore.service import VoiceCoreService

if TYPE_CHECKING:
    from grpclib._typing import IServerMethodFunc  # the protocol RecvRequest.method_func has

__all__ = ["VoiceCoreServer", "serve"]

_WATCH_SETTLE = 0.1  # seconds health watchers get to receive NOT_SERVING before they end
_DRAINING = DrainingError("server is shutting down; retry elsewhere")
_EVENT_STREAMS = frozenset({"/voicecore.v1.VoiceCoreService/StreamEvents"})
# Health answers while draining (NOT_SERVING is the point) and never counts as load.
_HEALTH = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/voicecore.v1.VoiceCoreService/HealthCheck",
    }
)


class _Admission:
    """Counts calls in flight, refuses them when overloaded or draining, ends them on stop.

    Three kinds of call end differently on drain: event streams at once (clients resume
    elsewhere), unary calls after the grace period, health calls last, so that watchers see
    NOT_SERVING before their stream ends.
    """

    def __init__(self, max_calls: int, max_streams: int) -> None:
        self.max_calls = max_calls
        self.max_streams = max_streams
        self.draining = False
        self.unary: set[asyncio.Task[Any]] = set()
        self.streams: set[asyncio.Task[Any]] = set()
        self.health: set[asyncio.Task[Any]] = set()
        self.stopped: set[asyncio.Task[Any]] = set()

    def wrap(self, method_name: str, func: IServerMethodFunc, info: CallInfo) -> IServerMethodFunc:
        calls, limit = self._kind(method_name)

        async def admitted(stream: Stream[Any, Any]) -> None:
            if self.draining and calls is not self.health:
                raise DrainingError("server is shutting down; retry elsewhere").grpc_error()
            if len(calls) >= limit:
                raise OverloadedError(
                    f"more than {limit} calls of this kind in flight"
                ).grpc_error()
            task = asyncio.current_task()
            assert task is not None
            calls.add(task)
            current_call.set(info)
            try:
                with logger.contextualize(peer=info.peer, method=method_name):
                    await func(stream)
            except asyncio.CancelledError:
                if task not in self.stopped:
                    raise
                task.uncancel()  # the stop was ours: end the call with a status instead
                raise DrainingError(
                    "server is shutting down; retry elsewhere"
                ).grpc_error() from None
            finally:
                calls.discard(task)

        return admitted

    def _kind(self, method_name: str) -> tuple[set[asyncio.Task[Any]], float]:
        if method_name in _EVENT_STREAMS:
            return self.streams, self.max_streams
        if method_name in _HEALTH:
            return self.health, float("inf")
        return self.unary, self.max_calls

    async def stop(self, tasks: set[asyncio.Task[Any]]) -> None:
        """Cancel ``tasks`` and wait (briefly) until each has sent its UNAVAILABLE trailers."""
        ending = set(tasks)
        for task in ending:
            self.stopped.add(task)
            task.cancel()
        if ending:
            await asyncio.wait(ending, timeout=1.0)
        self.stopped -= ending


class VoiceCoreServer:
    """A voicecore gRPC server: start it, then ``stop()`` drains it gracefully."""

    def __init__(self, settings: Settings, service: VoiceCoreService | None = None) -> None:
        self.settings = settings
        self.service = service or VoiceCoreService.from_settings(settings)
        self._status = ServiceStatus()
        self._status.set(True)
        self._admission = _Admission(settings.max_concurrent_calls, settings.max_event_streams)
        health = Health({self.service: [self._status]})
        services = ServerReflection.extend([self.service, health], pool=_reflection_pool())
        self._server = CoalescingServer(services, codec=UpbCodec(settings.max_message_bytes))
        listen(self._server, RecvRequest, self._on_request)
        listen(self._server, SendInitialMetadata, _echo_trace_id)
        self.port = settings.port

    async def start(self) -> None:
        """Bind and start accepting calls; ``port`` is the bound port afterwards."""
        await self._server.start(self.settings.host, self.settings.port)
        # grpclib keeps the asyncio server private; its sockets tell which port 0 chose.
        listening = cast("asyncio.Server | None", self._server._server)
        if listening is not None and listening.sockets:
            self.port = listening.sockets[0].getsockname()[1]
        logger.info("serving", host=self.settings.host, port=self.port)

    async def stop(self, grace_period: float | None = None) -> None:
        """Drain: health NOT_SERVING, refuse new calls, end event streams, let unary calls
        finish within the grace period (then end them), end health watches, close."""
        admission = self._admission
        grace = self.settings.grace_period if grace_period is None else grace_period
        logger.info("draining", grace_period=grace, in_flight=len(admission.unary))
        admission.draining = True
        self.service.serving = False
        self._status.set(False)
        await admission.stop(admission.streams)
        if admission.unary:
            await asyncio.wait(set(admission.unary), timeout=grace)
        await admission.stop(admission.unary)
        if admission.health:
            # A Watch stream needs a few loop turns to send NOT_SERVING; a load balancer that
            # sees it stops routing here before the stream ends.
            await asyncio.sleep(_WATCH_SETTLE)
        await admission.stop(admission.health)
        self._server.close()
        await self._server.wait_closed()
        logger.info("stopped")

    async def _on_request(self, event: RecvRequest) -> None:
        info = CallInfo(
            metadata_trace_id=trace_id_from_metadata(event.metadata),
            deadline=event.deadline,
            peer=_peer_address(event.peer),
        )
        event.method_func = self._admission.wrap(event.method_name, event.method_func, info)


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


async def serve(settings: Settings) -> None:
    """Run a server until SIGINT or SIGTERM, then drain it."""
    server = VoiceCoreServer(settings)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
