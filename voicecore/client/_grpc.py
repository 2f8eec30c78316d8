"""``VoiceCoreClient``: the Voice Core client over gRPC (a grpclib ``Channel`` and the stub)."""

from __future__ import annotations

import asyncio
import ssl as _ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping

from grpclib.client import Channel
from grpclib.const import Cardinality
from prometheus_client import REGISTRY, CollectorRegistry

from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    DeleteConversationResponse,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    HealthCheckResponse,
    ListPrimitivesResponse,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore._trace import new_trace_id
from voicecore.client._base import Sleep, VoiceCoreClientBase
from voicecore.client._breaker import TransitionCallback
from voicecore.client._config import ClientConfig, parse_endpoint
from voicecore.client._security import refuse_token_in_clear, ssl_context
from voicecore.client._tracing import inject_traceparent, rpc_attempt, traced_execute

__all__ = ["VoiceCoreClient"]

_STREAM_EVENTS = "/voicecore.v1.VoiceCoreService/StreamEvents"
SslOption = bool | _ssl.SSLContext | None


class VoiceCoreClient(VoiceCoreClientBase):
    """Async client of a Voice Core server; use it as ``async with VoiceCoreClient(...) as vc``.

    ``endpoint`` (``host:port``) overrides ``config.endpoint``. ``ssl`` goes straight to the
    grpclib ``Channel`` (``True`` for the system trust store, or an ``SSLContext``); without it
    ``config.tls`` decides, with ``config.tls_ca``, ``tls_cert`` and ``tls_key`` when given.
    ``config.auth_token`` is sent as ``authorization: Bearer`` metadata, and only over TLS or to a
    loopback target unless ``config.allow_insecure_token``: otherwise construction raises
    ``ValueError``. The connection opens on the first call and is reopened by grpclib after it
    drops.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        config: ClientConfig | None = None,
        ssl: SslOption = None,
        on_breaker_transition: TransitionCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        metrics_registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        config = config or ClientConfig()
        if endpoint is not None:
            config = config.model_copy(update={"endpoint": endpoint})
            parse_endpoint(endpoint)
        super().__init__(
            config,
            on_breaker_transition=on_breaker_transition,
            clock=clock,
            sleep=sleep,
            metrics_registry=metrics_registry,
        )
        self._host, self._port = parse_endpoint(config.endpoint)
        self._ssl: SslOption = ssl if ssl is not None else _configured_ssl(config)
        refuse_token_in_clear(config, self._host, encrypted=self._ssl not in (None, False))
        self._open: tuple[Channel, VoiceCoreServiceStub] | None = None

    execute = traced_execute(VoiceCoreClientBase.execute)

    @property
    def _channel(self) -> Channel:
        return self._connection()[0]

    @property
    def _stub(self) -> VoiceCoreServiceStub:
        return self._connection()[1]

    def _connection(self) -> tuple[Channel, VoiceCoreServiceStub]:
        # Made on first use: a grpclib Channel binds to the event loop running when it is
        # built, so a client constructed before ``asyncio.run`` would fail on its first call.
        if self._open is None:
            channel = Channel(self._host, self._port, ssl=self._ssl)
            self._open = (channel, VoiceCoreServiceStub(channel))
        return self._open

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        on_breaker_transition: TransitionCallback | None = None,
    ) -> VoiceCoreClientBase:
        """The client ``VOICE_CORE_*`` variables describe: gRPC, or in-process when
        ``VOICE_CORE_USE_GRPC`` is false. See ``ClientConfig.from_env``.
        """
        config = ClientConfig.from_env(env)
        if config.use_grpc:
            return cls(config=config, on_breaker_transition=on_breaker_transition)
        from voicecore.client._inprocess import InProcessClient

        return InProcessClient(config=config, on_breaker_transition=on_breaker_transition)

    async def aclose(self) -> None:
        """Close the channel; in-flight calls fail as UNAVAILABLE. A later call reopens it."""
        if self._open is not None:
            self._open[0].close()
            self._open = None

    def _metadata(self, trace_id: str) -> dict[str, str]:
        metadata = {"trace-id": trace_id}
        if self.config.auth_token is not None:
            metadata["authorization"] = f"Bearer {self.config.auth_token.get_secret_value()}"
        inject_traceparent(metadata)
        return metadata

    async def _send_execute(
        self, request: ExecutePrimitiveRequest, time_left: float
    ) -> ExecutePrimitiveResponse:
        with rpc_attempt():
            return await self._stub.execute_primitive(
                request, timeout=time_left, metadata=self._metadata(request.trace_id)
            )

    async def _open_events(
        self, request: StreamEventsRequest, timeout: float | None
    ) -> AsyncIterator[Event | None]:
        # The channel, not the stub: the stub hides the moment the server accepts the call,
        # which is what tells a working reconnect from a failing one.
        async with self._channel.request(
            _STREAM_EVENTS,
            Cardinality.UNARY_STREAM,
            StreamEventsRequest,
            Event,
            timeout=timeout,
            metadata=self._metadata(request.trace_id),
        ) as stream:
            await stream.send_message(request, end=True)
            await stream.recv_initial_metadata()
            yield None
            async for event in stream:
                yield event

    async def _send_health(self, time_left: float) -> HealthCheckResponse:
        return await self._stub.health_check(
            timeout=time_left, metadata=self._metadata(new_trace_id())
        )

    async def _send_list(self, time_left: float) -> ListPrimitivesResponse:
        return await self._stub.list_primitives(
            timeout=time_left, metadata=self._metadata(new_trace_id())
        )

    async def _send_delete(
        self, request: DeleteConversationRequest, time_left: float
    ) -> DeleteConversationResponse:
        return await self._stub.delete_conversation(
            request, timeout=time_left, metadata=self._metadata(request.trace_id)
        )


def _configured_ssl(config: ClientConfig) -> SslOption:
    """What ``config`` asks of TLS: none, grpclib's default context, or one from its files."""
    if not config.tls:
        return None
    if config.tls_ca is None and config.tls_cert is None:
        return True
    return ssl_context(config)
