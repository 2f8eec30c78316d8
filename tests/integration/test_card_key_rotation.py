"""A card key rotated across replicas on one real Redis, over gRPC: a card held at a replica on
the old key completes at one listing "new,old", and at one listing only the new key the capture
is lost and the caller asked again (no error), with nothing in clear in Redis."""

from __future__ import annotations

import base64
from contextlib import AsyncExitStack

import pytest
from pydantic import SecretStr

from tests._redis import RedisServer
from tests.integration.test_capture_card import (
    COMPLETED,
    CVV,
    INCOMPLETE,
    NC,
    REFERENCE,
    VISA,
    card_server,
    leaks,
    stored,
)
from tests.integration.test_capture_scenarios import Conversation

__all__: list[str] = []

pytestmark = pytest.mark.integration

OLD = base64.b64encode(bytes(range(32))).decode()
NEW = base64.b64encode(bytes(range(1, 33))).decode()
SAID = f"card number 4111 1111 1111 1111 expires 04/27 security code {CVV}"


async def test_a_rotation_across_replicas(redis: RedisServer) -> None:
    async with AsyncExitStack() as stack:
        old, _, _ = await stack.enter_async_context(card_server(redis, SecretStr(f"k1:{OLD}")))
        both, client, prefix = await stack.enter_async_context(
            card_server(redis, SecretStr(f"k2:{NEW},k1:{OLD}"))
        )
        new, _, _ = await stack.enter_async_context(card_server(redis, SecretStr(f"k2:{NEW}")))
        kept = Conversation(old, "capture_card", "rotated-kept", dict(REFERENCE))
        assert (await kept.say(SAID)).state == NC
        kept.stub = both
        done = await kept.say("yes")
        assert (done.state, done.data["value"], done.data["cvv"]) == (COMPLETED, VISA, CVV)

        lost = Conversation(old, "capture_card", "rotated-lost", dict(REFERENCE))
        assert (await lost.say(SAID)).state == NC
        lost.stub = new
        again = await lost.say("yes")
        assert (again.state, again.data["reason"]) == (INCOMPLETE, "no_value_heard")
        assert "value" not in again.data
        assert (await lost.say(SAID)).state == NC
        assert (await lost.say("yes")).data["value"] == VISA
        assert leaks(await stored(client, prefix)) == []
