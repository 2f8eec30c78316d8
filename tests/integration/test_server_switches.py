"""A server with its fast paths switched off (``codec``, ``coalesce_writes``) serves the same."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status

from voicecore import _codec
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest, VoiceCoreServiceStub
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

pytestmark = pytest.mark.integration

SWITCHES = [
    {"codec": "upb", "coalesce_writes": True},
    {"codec": "betterproto2", "coalesce_writes": True},
    {"codec": "upb", "coalesce_writes": False},
    {"codec": "betterproto2", "coalesce_writes": False},
]


@pytest.fixture
def upb_decodes(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """The message types the codec decodes through upb during the test."""
    decoded: list[type] = []
    decode: Callable[[bytes, type], object] = _codec.decode_message

    def counted(data: bytes, message_type: type) -> object:
        decoded.append(message_type)
        return decode(data, message_type)

    monkeypatch.setattr(_codec, "decode_message", counted)
    return decoded


@pytest.fixture(params=SWITCHES, ids=lambda switches: "-".join(map(str, switches.values())))
def settings(request: pytest.FixtureRequest) -> Settings:
    """Each combination of the switches, on a small message limit."""
    return Settings.model_validate(
        {
            "host": "127.0.0.1",
            "port": 0,
            "debug_primitives": True,
            "max_message_bytes": 4096,
            **request.param,
        }
    )


@pytest.fixture
async def stub(settings: Settings) -> AsyncIterator[VoiceCoreServiceStub]:
    """A stub on a running server with ``settings``."""
    server = VoiceCoreServer(settings)
    await server.start()
    try:
        async with Channel("127.0.0.1", server.port) as channel:
            yield VoiceCoreServiceStub(channel)
    finally:
        await server.stop(grace_period=0)


def _echo(params: dict[str, object]) -> ExecutePrimitiveRequest:
    return ExecutePrimitiveRequest(
        objective_type="debug_echo", params=Struct.from_dict(params), conversation_id="c"
    )


class TestSwitchedOff:
    async def test_calls_are_answered(
        self, stub: VoiceCoreServiceStub, settings: Settings, upb_decodes: list[type]
    ) -> None:
        """An echo comes back whatever the switches; upb decodes requests only when chosen."""
        response = await stub.execute_primitive(_echo({"word": "hello", "n": [1, 2]}))
        assert response.success and response.data == Struct.from_dict(
            {"word": "hello", "n": [1, 2]}
        )
        listed = await stub.list_primitives()
        assert "debug_echo" in {primitive.objective_type for primitive in listed.primitives}
        assert (ExecutePrimitiveRequest in upb_decodes) is (settings.codec == "upb")

    async def test_size_limit_holds(self, stub: VoiceCoreServiceStub) -> None:
        """A request over max_message_bytes is RESOURCE_EXHAUSTED with either codec."""
        with pytest.raises(GRPCError) as caught:
            await stub.execute_primitive(_echo({"big": "x" * 5000}))
        assert caught.value.status is Status.RESOURCE_EXHAUSTED
