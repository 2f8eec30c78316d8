"""VoiceCoreService: thin gRPC handlers over the registry, the executor and the event log."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

from grpclib import GRPCError
from grpclib.const import Status
from loguru import logger

from voicecore._auth import ADMIN_SCOPE
from voicecore._call import CallInfo, current_call, resolve_trace_id
from voicecore._card_crypto import card_cipher
from voicecore._codec import share_encoding
from voicecore._erasure import delete_conversation
from voicecore._execution import CALL_EVENT_TYPES, Executor
from voicecore._in_memory import in_memory_store
from voicecore._limits import execute_request_refusal, stream_request_refusal, within_limits
from voicecore._metrics import observe_turn
from voicecore._proto.google.protobuf import Struct
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
    PrimitiveInfo,
    StreamEventsRequest,
    VoiceCoreServiceBase,
)
from voicecore._version import __version__
from voicecore.capture import InMemoryCaptureStore
from voicecore.config import Settings
from voicecore.errors import EventRangeError
from voicecore.events import EventFilter, EventLog, InMemoryEventLog
from voicecore.idempotency import InMemoryIdempotencyStore
from voicecore.registry import PrimitiveRegistry, default_registry
from voicecore.stores import Store, StoreUnavailableError

__all__ = ["VoiceCoreService"]


class VoiceCoreService(VoiceCoreServiceBase):
    """The ``voicecore.v1.VoiceCoreService`` implementation.

    Also what the in-process client calls directly: every handler works without a gRPC
    stream (the trace id then comes from the request field or is generated).

    The state it shares across calls comes in through one seam, a ``Store``: capture states,
    idempotency records and the event log, which a turn writes in one commit. Without one,
    they are kept in memory, bounded by ``settings`` (``events``, ``captures`` and
    ``idempotency`` give in-memory parts of your own); a shared backend is passed as ``store``.
    """

    def __init__(
        self,
        registry: PrimitiveRegistry,
        *,
        settings: Settings,
        store: Store | None = None,
        events: InMemoryEventLog | None = None,
        captures: InMemoryCaptureStore | None = None,
        idempotency: InMemoryIdempotencyStore | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.store: Store = (
            store
            if store is not None
            else in_memory_store(
                settings, events=events, captures=captures, idempotency=idempotency
            )
        )
        self.events: EventLog = self.store.events
        self.serving = True
        self._executor = Executor(registry, settings=settings, store=self.store)
        # Built and encoded once: about 14 KB that took a millisecond to encode on every call.
        self._primitives = share_encoding(_describe(registry))
        self._started = time.monotonic()

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, store: Store | None = None
    ) -> VoiceCoreService:
        """A service with the default primitives, configured by ``settings``, on ``store`` (in
        memory if not given)."""
        settings = settings or Settings()
        shared = settings.store != "memory"  # a shared store needs the same key on every replica
        registry = default_registry(
            debug_primitives=settings.debug_primitives,
            card_cipher=card_cipher(settings.card_key, shared_store=shared),
        )
        return cls(registry, settings=settings, store=store)

    async def execute_primitive(self, message: ExecutePrimitiveRequest) -> ExecutePrimitiveResponse:
        call = current_call.get()
        refusal = execute_request_refusal(message, call.metadata_trace_id if call else "")
        if refusal is not None:
            # Refused at the edge: nothing past a bound reaches the log context, events or answer.
            message = within_limits(message)
        trace_id = resolve_trace_id(message.trace_id, call)
        time_left = None
        if call is not None:
            call.trace_id = trace_id
            if call.deadline is not None:
                time_left = call.deadline.time_remaining()
        with logger.contextualize(
            trace_id=trace_id,
            conversation_id=message.conversation_id,
            objective_type=message.objective_type,
        ):
            response = await self._executor.execute(
                message, trace_id=trace_id, time_left=time_left, refusal=refusal
            )
            _log_outcome(response)
            observe_turn(message, response)
            return response

    async def stream_events(self, message: StreamEventsRequest) -> AsyncIterator[Event]:
        call = current_call.get()
        refusal = stream_request_refusal(message, call.metadata_trace_id if call else "")
        if refusal is not None:
            raise GRPCError(Status.INVALID_ARGUMENT, refusal.message)
        trace_id = resolve_trace_id(message.trace_id, call)
        if call is not None:
            call.trace_id = trace_id
        where = EventFilter(
            message.conversation_id, frozenset(message.types), _readable_tenant(call)
        )
        follow = not message.replay_only
        # bind, not contextualize: a context variable set here would be reset across yields,
        # possibly from another context when the stream is closed.
        log = logger.bind(trace_id=trace_id, conversation_id=message.conversation_id)
        try:
            async for event in self.events.subscribe(message.after_sequence, where, follow=follow):
                yield event
        except EventRangeError as err:
            log.info("event replay refused", after_sequence=message.after_sequence)
            raise GRPCError(err.status, str(err)) from None
        except StoreUnavailableError as err:  # UNAVAILABLE: a client reconnects from its cursor
            log.warning("event stream lost the store", error=str(err))
            raise GRPCError(Status.UNAVAILABLE, str(err)) from None

    async def health_check(self, message: HealthCheckRequest) -> HealthCheckResponse:
        store = "SERVING" if await self.store.reachable() else "NOT_SERVING"
        server = "SERVING" if self.serving else "NOT_SERVING"
        status = "SERVING" if self.serving and store == "SERVING" else "NOT_SERVING"
        return HealthCheckResponse(
            status=status,
            version=__version__,
            components={
                "registry": "SERVING",
                "event_log": store,
                "store": store,
                "server": server,
            },
            uptime=timedelta(seconds=time.monotonic() - self._started),
        )

    async def list_primitives(self, message: ListPrimitivesRequest) -> ListPrimitivesResponse:
        return self._primitives

    async def delete_conversation(
        self, message: DeleteConversationRequest
    ) -> DeleteConversationResponse:
        return await delete_conversation(self.store, message)


def _readable_tenant(call: CallInfo | None) -> str | None:
    """Whose events the caller may read: its own tenant's, or every tenant's (None) as admin."""
    if call is None:
        return ""
    return None if ADMIN_SCOPE in call.scopes else call.tenant


def _log_outcome(response: ExecutePrimitiveResponse) -> None:
    """One DEBUG line per call; never the captured value, which is personal data."""
    meta = response.metadata
    assert meta is not None  # the executor always fills it
    logger.debug(
        "primitive executed",
        success=response.success,
        code=response.error.code.name if response.error is not None else "",
        state=meta.state.name,
        duration_ms=round(meta.duration.total_seconds() * 1000, 3) if meta.duration else 0.0,
        replayed=meta.replayed,
    )


def _describe(registry: PrimitiveRegistry) -> ListPrimitivesResponse:
    """Built once: the JSON Schemas do not change while the server runs."""
    return ListPrimitivesResponse(
        primitives=[
            PrimitiveInfo(
                objective_type=primitive.name,
                version=primitive.version,
                description=primitive.description,
                params_schema=Struct.from_dict(primitive.params_model.model_json_schema()),
                event_types=[
                    *CALL_EVENT_TYPES,
                    *primitive.event_types,
                ],
            )
            for primitive in registry
        ]
    )
