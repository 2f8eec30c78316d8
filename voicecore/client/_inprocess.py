"""``InProcessClient``: the client interface over a ``VoiceCoreService`` in this process.

For development, tests and single-process deployments (``VOICE_CORE_USE_GRPC=false``): the same
handlers the server runs are called directly, with the call's deadline handed over exactly as
the gRPC server hands it over, so timeouts behave the same. The breaker and the retry loop stay
in place (they see no transport failures here, but server-side TIMEOUT and INTERNAL still count).

The server side is imported when a client is built, not with this module: importing
``voicecore.client`` stays light for processes that only call a server over gRPC.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from grpclib.metadata import Deadline
from prometheus_client import REGISTRY, CollectorRegistry

from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    DeleteConversationResponse,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    HealthCheckRequest,
    HealthCheckResponse,
    ListPrimitivesRequest,
    ListPrimitivesResponse,
    StreamEventsRequest,
)
from voicecore.client._base import Sleep, VoiceCoreClientBase
from voicecore.client._breaker import TransitionCallback
from voicecore.client._config import ClientConfig

if TYPE_CHECKING:
    from voicecore.config import Settings
    from voicecore.service import VoiceCoreService

__all__ = ["InProcessClient"]


class InProcessClient(VoiceCoreClientBase):
    """The ``VoiceCoreClient`` interface, running Voice Core's registry in this process.

    Pass a ``service`` to share one (and its event log) between clients, or ``settings`` to
    build one (``Settings()`` by default, so ``VOICECORE_*`` variables apply).
    """

    def __init__(
        self,
        service: VoiceCoreService | None = None,
        *,
        settings: Settings | None = None,
        config: ClientConfig | None = None,
        on_breaker_transition: TransitionCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        metrics_registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        config = config or ClientConfig(use_grpc=False)
        super().__init__(
            config,
            on_breaker_transition=on_breaker_transition,
            clock=clock,
            sleep=sleep,
            metrics_registry=metrics_registry,
        )
        if service is None:
            from voicecore.service import VoiceCoreService  # the server side, on first use

            service = VoiceCoreService.from_settings(settings)
        self.service = service

    async def aclose(self) -> None:
        """Nothing to release: the service lives as long as it is referenced."""

    async def _send_execute(
        self, request: ExecutePrimitiveRequest, time_left: float
    ) -> ExecutePrimitiveResponse:
        from voicecore._call import CallInfo, current_call  # the server's call context

        # Called while serving an RPC, the turn stays in that caller's tenant.
        outer = current_call.get()
        tenant = outer.tenant if outer is not None else ""
        deadline = Deadline.from_timeout(time_left)
        token = current_call.set(CallInfo(deadline=deadline, tenant=tenant))
        try:
            return await self.service.execute_primitive(request)
        finally:
            current_call.reset(token)

    async def _open_events(
        self, request: StreamEventsRequest, timeout: float | None
    ) -> AsyncIterator[Event | None]:
        yield None
        async for event in self.service.stream_events(request):
            # The log shares one Event among its subscribers; each caller gets its own copy,
            # as it would from the wire.
            yield copy.deepcopy(event)

    async def _send_health(self, time_left: float) -> HealthCheckResponse:
        return await self.service.health_check(HealthCheckRequest())

    async def _send_list(self, time_left: float) -> ListPrimitivesResponse:
        return await self.service.list_primitives(ListPrimitivesRequest())

    async def _send_delete(
        self, request: DeleteConversationRequest, time_left: float
    ) -> DeleteConversationResponse:
        from voicecore._call import CallInfo, current_call  # the server's call context

        # Called while serving an RPC, the erasure is that caller's, with its tenant and scopes.
        outer = current_call.get()
        call = CallInfo(deadline=Deadline.from_timeout(time_left))
        if outer is not None:
            call.tenant, call.scopes = outer.tenant, outer.scopes
        token = current_call.set(call)
        try:
            return await self.service.delete_conversation(request)
        finally:
            current_call.reset(token)
