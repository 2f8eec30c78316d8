"""TLS and the auth token pass straight through VoiceCoreClient to the channel and metadata."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
import trustme
from grpclib.events import RecvRequest, listen
from grpclib.server import Server

from tests._servers import free_port
from voicecore._proto.voicecore.v1 import ErrorCode
from voicecore.client import ClientConfig, VoiceCoreClient
from voicecore.config import Settings
from voicecore.service import VoiceCoreService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class TlsServer:
    """An in-process grpclib server with a test CA, remembering each request's metadata."""

    port: int
    client_context: ssl.SSLContext
    metadata: list[dict[str, str]] = field(default_factory=list)


@pytest_asyncio.fixture(loop_scope="module")
async def tls_server() -> AsyncIterator[TlsServer]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server_context.set_alpn_protocols(["h2"])
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    client_context.set_alpn_protocols(["h2"])

    server = Server([VoiceCoreService.from_settings(Settings(debug_primitives=True))])
    seen: list[dict[str, str]] = []

    async def remember(event: RecvRequest) -> None:
        seen.append({key: str(value) for key, value in event.metadata.items()})

    listen(server, RecvRequest, remember)
    port = free_port()
    await server.start("127.0.0.1", port, ssl=server_context)
    try:
        running = TlsServer(port, client_context)
        running.metadata = seen
        yield running
    finally:
        server.close()
        await server.wait_closed()


class TestPassThrough:
    """What the caller configures reaches the wire unchanged."""

    async def test_tls_and_token(self, tls_server: TlsServer) -> None:
        """A call over TLS carries the bearer token and the trace id as metadata."""
        config = ClientConfig(auth_token="tok-123")  # type: ignore[arg-type]
        async with VoiceCoreClient(
            f"127.0.0.1:{tls_server.port}", config=config, ssl=tls_server.client_context
        ) as client:
            response = await client.execute(
                "debug_echo", {"a": "b"}, conversation_id="c", trace_id="f" * 32
            )
        assert response.success
        assert tls_server.metadata[-1]["authorization"] == "Bearer tok-123"
        assert tls_server.metadata[-1]["trace-id"] == "f" * 32

    async def test_untrusted_certificate_unavailable(self, tls_server: TlsServer) -> None:
        """A server certificate the client does not trust is a failure response, not a raise."""
        untrusting = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        untrusting.set_alpn_protocols(["h2"])
        async with VoiceCoreClient(f"127.0.0.1:{tls_server.port}", ssl=untrusting) as client:
            response = await client.execute("debug_echo", {}, conversation_id="c")
        assert response.error is not None and response.error.code is ErrorCode.UNAVAILABLE
        assert "CERTIFICATE_VERIFY_FAILED" in response.error.message
        assert tls_server.metadata == []
