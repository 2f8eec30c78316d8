"""capture_card over gRPC, turn by turn (number, expiry, CVV, a corrected part, yes; keys), and
the card never in clear: not in events, log records at TRACE, idempotency records or the
capture store's stored bytes, in memory and on a real Redis."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
from grpclib.client import Channel
from loguru import logger
from pydantic import SecretStr
from redis.asyncio import Redis

from tests._redis import RedisServer
from tests.integration.test_capture_scenarios import Conversation, stub
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    ExecutePrimitiveRequest,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer
from voicecore.service import VoiceCoreService
from voicecore.stores._redis import RedisStore

if TYPE_CHECKING:
    from loguru import Message

__all__ = ["stub"]  # the real server's stub fixture, shared with the other scenarios

pytestmark = pytest.mark.integration

NC = PrimitiveState.NEEDS_CONFIRMATION
COMPLETED = PrimitiveState.COMPLETED
INCOMPLETE = PrimitiveState.INCOMPLETE
VISA = "4111111111111111"
SPACED = "4111 1111 1111 1111"
MC = "5555555555554444"
CVV, NEW_CVV = "737", "468"
CLEAR = [VISA, SPACED, MC, "4111", "5555", "1111 1111", CVV, NEW_CVV]
SAID = "uh my card number is 4111 1111 1111 1111"
REFERENCE = {"reference_date": "2026-12-01"}
KEY = SecretStr(base64.b64encode(bytes(range(32))).decode())


@pytest.fixture
def trace_lines() -> Iterator[list[str]]:
    """Every voicecore log record at TRACE and above, as JSON of the parts a request can reach:
    the message, the extras and any exception."""
    lines: list[str] = []

    def keep(message: Message) -> None:
        record = message.record
        parts = {"message": record["message"], "extra": record["extra"]}
        lines.append(json.dumps({**parts, "exception": str(record["exception"])}, default=str))

    logger.enable("voicecore")
    sink = logger.add(keep, level="TRACE")
    yield lines
    logger.remove(sink)
    logger.disable("voicecore")


def shows(value: str, text: str) -> bool:
    """Whether ``value`` stands in ``text`` as a whole token: digits inside an id or a
    timestamp are chance, not a leak."""
    return re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", text) is not None


def leaks(texts: list[str]) -> list[tuple[str, str]]:
    return [(value, text) for text in texts for value in CLEAR if shows(value, text)]


async def event_payloads(stub: VoiceCoreServiceStub, conversation_id: str) -> list[str]:
    request = StreamEventsRequest(conversation_id=conversation_id, replay_only=True)
    return [json.dumps(event.to_dict()) async for event in stub.stream_events(request)]


async def scenario(call: Conversation) -> dict[str, Any]:
    """Number, expiry, CVV, a new number and CVV in the answer, yes (retried): the data of
    the completing turn and of its retry must agree."""
    first = await call.say(SAID, key="t1")
    assert (first.state, first.data["reason"], first.data["last4"]) == (
        INCOMPLETE,
        "need_expiry",
        "1111",
    )
    second = await call.say("it expires oh four twenty seven", key="t2")
    assert (second.state, second.data["reason"]) == (INCOMPLETE, "need_cvv")
    third = await call.say(f"the security code is {' '.join(CVV)}", key="t3")
    assert (third.state, third.data["value"]) == (NC, "************1111")
    assert third.data["readback"] == "a Visa ending in one one one one, expiring April 2027"
    fixed = await call.say(f"no, the card number is 5555 5555 5555 4444 and cvv {NEW_CVV}", "t4")
    assert (fixed.state, fixed.data["brand"], fixed.data["value"]) == (
        NC,
        "mastercard",
        "************4444",
    )
    done = await call.say("yes that's right", key="t5")
    retried = await call.say("yes that's right", key="t5")
    assert (done.state, done.data["value"], done.data["cvv"]) == (COMPLETED, MC, NEW_CVV)
    assert (retried.replayed, retried.data) == (True, done.data)
    return done.data


async def keyed_scenario(call: Conversation) -> dict[str, Any]:
    """The whole card keyed in one entry, "number#expiry#cvv#"; another whole card keyed at
    the readback corrects it; 1 confirms (retried): the completing data agree."""
    held = await call.say("", key="k1", dtmf=f"{VISA}#0427#{CVV}#")
    assert (held.state, held.data["value"], held.data["expiry"]) == (
        NC,
        "************1111",
        "04/27",
    )
    fixed = await call.say("", key="k2", dtmf=f"{MC}#0528#{NEW_CVV}#")
    assert (fixed.state, fixed.data["brand"], fixed.data["expiry"]) == (NC, "mastercard", "05/28")
    done = await call.say("", key="k3", dtmf="1")
    retried = await call.say("", key="k3", dtmf="1")
    assert (done.state, done.data["value"], done.data["cvv"]) == (COMPLETED, MC, NEW_CVV)
    assert (retried.replayed, retried.data) == (True, done.data)
    return done.data


SCENARIOS = pytest.mark.parametrize("run", [scenario, keyed_scenario], ids=["said", "keyed"])


class TestOverGrpc:
    async def test_capture_correct_confirm(self, stub: VoiceCoreServiceStub) -> None:
        call = Conversation(stub, "capture_card", "card-1", dict(REFERENCE))
        await scenario(call)
        events = await call.event_types()
        assert "capture.corrected" in events and "capture.confirmed" in events

    async def test_keypad(self, stub: VoiceCoreServiceStub) -> None:
        call = Conversation(stub, "capture_card", "card-2", dict(REFERENCE))
        number = await call.say("", dtmf=f"{VISA}#")
        assert (number.state, number.data["reason"]) == (INCOMPLETE, "need_expiry")
        held = await call.say("", dtmf=f"0427{CVV}#")
        assert (held.state, held.data["value"]) == (NC, "************1111")
        done = await call.say("", dtmf="1")
        assert (done.state, done.data["value"], done.data["cvv"]) == (COMPLETED, VISA, CVV)

    async def test_keypad_one_entry_correct_confirm(self, stub: VoiceCoreServiceStub) -> None:
        call = Conversation(stub, "capture_card", "card-4", dict(REFERENCE))
        await keyed_scenario(call)
        events = await call.event_types()
        assert "capture.corrected" in events and "capture.confirmed" in events

    @SCENARIOS
    async def test_events_and_logs_never_show_the_card(
        self, stub: VoiceCoreServiceStub, trace_lines: list[str], run: Any
    ) -> None:
        """Every event payload and every log record (message and extras, at TRACE) of the
        whole scenario, said or keyed: brand and last four at most."""
        call = Conversation(stub, "capture_card", f"card-3-{run.__name__}", dict(REFERENCE))
        await run(call)
        payloads = await event_payloads(stub, call.conversation_id)
        assert len(payloads) > (10 if run is scenario else 8) and any(
            "capture turn done" in line for line in trace_lines
        )
        assert leaks([*payloads, *trace_lines]) == []

    def test_the_check_finds_a_leak(self) -> None:
        """The whole-token match sees the number, spaced or not, and the CVV."""
        assert leaks([f'{{"value": "{VISA}"}}', f"said {SPACED}!", f"cvv={CVV}"]) != []
        assert leaks(["trace 94111111111111111", "************1111", "t=0.7370"]) == []


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


async def stored(client: Redis, prefix: str) -> list[str]:
    """Every value under ``prefix``, key names included, read by its type (not DUMP: it may
    compress strings). The store keeps strings (states, records), streams (events), sorted
    sets (a conversation's keys, the held captures) and sets (a conversation's events); a key
    of another type fails the test rather than go unread."""
    texts: list[str] = []
    async for raw in client.scan_iter(match=f"{prefix}*"):
        key = _text(raw)
        kind = _text(await client.type(key))
        assert kind in ("string", "stream", "zset", "set"), (key, kind)
        texts.append(key)
        if kind == "string":
            texts.append(_text(await client.get(key) or b""))
        elif kind == "stream":
            texts.append(repr(await client.xrange(key)))
        elif kind == "zset":
            texts.append(repr(await client.zrange(key, 0, -1, withscores=True)))
        else:
            texts.append(repr(await client.smembers(key)))
    return texts


@asynccontextmanager
async def card_server(
    redis: RedisServer, key: SecretStr | None
) -> AsyncIterator[tuple[VoiceCoreServiceStub, Redis, str]]:
    settings = Settings(host="127.0.0.1", port=0, store=redis.url, card_key=key)
    store = await RedisStore.open(redis.url, prefix="card")
    server = VoiceCoreServer(settings, VoiceCoreService.from_settings(settings, store=store))
    await server.start()
    client = Redis.from_url(redis.url)
    try:
        async with Channel("127.0.0.1", server.port) as channel:
            yield VoiceCoreServiceStub(channel), client, "card"
    finally:
        await client.aclose()
        await server.stop(grace_period=0.5)
        await store.aclose()


class _Watched(Conversation):
    """A conversation that reads everything Redis holds after each turn."""

    client: Redis
    seen: list[str]

    async def say(self, transcription: str, key: str = "", **params: Any) -> Any:
        turn = await super().say(transcription, key, **params)
        self.seen.extend(await stored(self.client, "card"))
        return turn


class TestRedis:
    @SCENARIOS
    async def test_redis_holds_only_tokens(self, redis: RedisServer, run: Any) -> None:
        """Capture states, idempotency records and events as Redis keeps them, after every
        turn, the card said or keyed: tokens while the capture is open, never the number or
        CVV."""
        async with card_server(redis, KEY) as (stub, client, _):
            call = _Watched(stub, "capture_card", "card-r1", dict(REFERENCE))
            call.client, call.seen = client, []
            await run(call)
            assert any("card1." in text for text in call.seen)  # sealed state and record
            assert leaks(call.seen) == []
            keys = [_text(raw) async for raw in client.scan_iter(match="card*")]
            assert not any("capture" in key and "card-r1" in key for key in keys)

    async def test_without_a_key_cards_are_refused(self, redis: RedisServer) -> None:
        async with card_server(redis, None) as (stub, client, _):
            request = ExecutePrimitiveRequest(
                objective_type="capture_card",
                conversation_id="card-r2",
                params=Struct.from_dict({"transcription": SAID}),
            )
            response = await stub.execute_primitive(request)
            assert not response.success and response.error is not None
            assert response.error.code == ErrorCode.INVALID_PARAMS
            assert "VOICECORE_CARD_KEY" in response.error.message
            assert leaks(await stored(client, "card")) == []
