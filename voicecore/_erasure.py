"""DeleteConversation: erase one conversation of the caller's tenant, as AIP-135 describes a delete.

The store does the erasure atomically (``Store.erase``): the conversation's capture states and
idempotency records are forgotten, its events deleted from the log, and one ``ERASURE_EVENT``
appended whose payload holds only counts, so a follower sees that the erasure happened and
a later replay of the conversation sees that event alone. Events already delivered are not
recalled.

Conversation ids name a different conversation in each tenant. The erased one is the caller's
tenant's, so another tenant's conversation of the same id is untouched and, to the caller, does
not exist; ``tenant`` names another tenant, which only the ``admin`` scope may (auth asks for
``execute`` at least: ``voicecore._auth`` says why). A conversation that holds nothing (never
used, already erased, expired, or another tenant's) is ``NOT_FOUND`` with one message whatever
the reason, unless ``allow_missing``, which answers OK with nothing erased and no event: a
retried erasure can ask for that.
"""

from __future__ import annotations

from grpclib import GRPCError
from grpclib.const import Status
from loguru import logger

from voicecore._auth import ADMIN_SCOPE
from voicecore._call import CallInfo, current_call, resolve_trace_id
from voicecore._limits import delete_request_refusal
from voicecore._proto.voicecore.v1 import DeleteConversationRequest, DeleteConversationResponse
from voicecore.events import ERASURE_EVENT, NewEvent
from voicecore.stores import Store, StoreUnavailableError

__all__ = ["delete_conversation"]


async def delete_conversation(
    store: Store, message: DeleteConversationRequest
) -> DeleteConversationResponse:
    """Erase ``message.conversation_id`` in the caller's tenant (see the module docstring)."""
    call = current_call.get()
    refusal = delete_request_refusal(message, call.metadata_trace_id if call else "")
    if refusal is not None:
        raise GRPCError(Status.INVALID_ARGUMENT, refusal.message)
    trace_id = resolve_trace_id(message.trace_id, call)
    tenant = _tenant(message, call)
    if call is not None:
        call.trace_id = trace_id
    event = NewEvent(ERASURE_EVENT, message.conversation_id, trace_id, tenant=tenant)
    log = logger.bind(trace_id=trace_id, conversation_id=message.conversation_id)
    try:
        erasure = await store.erase(event)
    except StoreUnavailableError as err:  # nothing written: the erasure may be sent again
        log.warning("conversation not erased: the store did not answer", error=str(err))
        raise GRPCError(Status.UNAVAILABLE, str(err)) from None
    if erasure is None:
        if message.allow_missing:
            return DeleteConversationResponse()
        raise GRPCError(Status.NOT_FOUND, "conversation_id: no such conversation holds anything")
    log.info("conversation erased", sequence=erasure.sequence, **erasure.payload())
    return DeleteConversationResponse(
        sequence=erasure.sequence,
        events_deleted=erasure.events,
        captures_forgotten=erasure.captures,
        records_forgotten=erasure.records,
    )


def _tenant(message: DeleteConversationRequest, call: CallInfo | None) -> str:
    """The tenant whose conversation is erased: the caller's, or the one an admin names."""
    own = call.tenant if call is not None else ""
    if not message.tenant or message.tenant == own:
        return own
    if call is None or ADMIN_SCOPE not in call.scopes:
        raise GRPCError(
            Status.PERMISSION_DENIED, "tenant: another tenant's conversation needs the admin scope"
        )
    return message.tenant
