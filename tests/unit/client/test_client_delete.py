"""The client's delete_conversation over a scripted transport: what it sends, retries, raises."""

from __future__ import annotations

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from tests.unit.client.test_client_pipeline import ScriptedClient, refused
from voicecore._proto.voicecore.v1 import ErrorCode
from voicecore.client import BreakerState, VoiceCoreCallError


class TestDeleteConversation:
    async def test_sends_the_request_and_returns_the_answer(self) -> None:
        client = ScriptedClient()
        answer = await client.delete_conversation(
            "call-1", allow_missing=True, tenant="acme", trace_id="a" * 32
        )
        assert answer.sequence == 7
        (sent,) = client.deletes
        assert (sent.conversation_id, sent.allow_missing, sent.tenant) == ("call-1", True, "acme")
        assert sent.trace_id == "a" * 32

    async def test_a_trace_id_is_made_when_none_is_given(self) -> None:
        client = ScriptedClient()
        await client.delete_conversation("call-1")
        assert len(client.deletes[0].trace_id) == 32

    async def test_an_unreachable_server_is_retried(self) -> None:
        client = ScriptedClient([refused()])
        assert (await client.delete_conversation("call-1")).sequence == 7
        assert len(client.deletes) == 2

    async def test_not_found_raises_at_once_and_spares_the_breaker(self) -> None:
        """Nothing held is the caller's business: no retry, no breaker failure."""
        not_found = GRPCError(Status.NOT_FOUND, "conversation_id: no such conversation")
        client = ScriptedClient([not_found] * 10)
        for _ in range(10):
            with pytest.raises(VoiceCoreCallError) as failed:
                await client.delete_conversation("call-1")
            assert failed.value.code is ErrorCode.INVALID_PARAMS
            assert "NOT_FOUND" in failed.value.message
        assert len(client.deletes) == 10
        assert client.breaker.state is BreakerState.CLOSED

    async def test_a_bad_trace_id_is_refused_before_sending(self) -> None:
        client = ScriptedClient()
        with pytest.raises(ValueError, match="trace_id"):
            await client.delete_conversation("call-1", trace_id="not a trace id")
        assert not client.deletes
