"""TLS, mTLS and the auth token pass through VoiceCoreClient to the channel and metadata; a
server that refuses the credential gets one attempt per call and never opens the breaker."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
import trustme
from grpclib.const import Status
from grpclib.events import RecvRequest, listen
from grpclib.exceptions import GRPCError
from grpclib.server import Server

from tests._servers import free_port
from voicecore._proto.voicecore.v1 import ErrorCode
from voicecore.client import BreakerState, ClientConfig, VoiceCoreClient
from voicecore.config import Settings
from voicecore.service import VoiceCoreService

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class TlsServer:
    """An in-process grpclib server with a test CA, remembering each request's metadata."""

    port: int
    client_context: ssl.SSLContext
    metadata: list[dict[str, str]] = field(default_factory=list)
    server: Server | None = None


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pem_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The CA bundle, and a client certificate it signed with its key, as ClientConfig fields."""
    folder = tmp_path_factory.mktemp("pem")
    files = {name: folder / f"{name}.pem" for name in ("tls_ca", "tls_cert", "tls_key")}
    client_cert = ca.issue_cert("orchestrator@example.test")
    ca.cert_pem.write_to_path(str(files["tls_ca"]))
    client_cert.cert_chain_pems[0].write_to_path(str(files["tls_cert"]))
    client_cert.private_key_pem.write_to_path(str(files["tls_key"]))
    return files


async def _serving(
    server_context: ssl.SSLContext | None, client_context: ssl.SSLContext
) -> AsyncIterator[TlsServer]:
    server = Server([VoiceCoreService.from_settings(Settings(debug_primitives=True))])
    running = TlsServer(free_port(), client_context, server=server)

    async def remember(event: RecvRequest) -> None:
        running.metadata.append({key: str(value) for key, value in event.metadata.items()})

    listen(server, RecvRequest, remember)
    await server.start("127.0.0.1", running.port, ssl=server_context)
    try:
        yield running
    finally:
        server.close()
        await server.wait_closed()


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server_context.set_alpn_protocols(["h2"])
    return server_context


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    client_context.set_alpn_protocols(["h2"])
    return client_context


@pytest_asyncio.fixture(loop_scope="module")
async def tls_server(ca: trustme.CA) -> AsyncIterator[TlsServer]:
    """TLS with a certificate for 127.0.0.1 signed by the test CA."""
    async for running in _serving(_server_context(ca), _client_context(ca)):
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def mtls_server(ca: trustme.CA) -> AsyncIterator[TlsServer]:
    """Like ``tls_server``, and it requires a client certificate signed by the test CA."""
    server_context = _server_context(ca)
    server_context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(server_context)
    async for running in _serving(server_context, _client_context(ca)):
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def guarded_server() -> AsyncIterator[TlsServer]:
    """Plaintext on loopback; refuses every call: PERMISSION_DENIED for the token "reader",
    UNAUTHENTICATED for any other, as an authenticating server would."""
    async for running in _serving(None, ssl.create_default_context()):

        async def refuse(event: RecvRequest) -> None:
            if event.metadata.get("authorization") == "Bearer reader":
                raise GRPCError(Status.PERMISSION_DENIED, "token lacks scope execute")
            raise GRPCError(Status.UNAUTHENTICATED, "unknown token")

        assert running.server is not None
        listen(running.server, RecvRequest, refuse)
        yield running


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


class TestConfiguredTls:
    """TLS from ClientConfig's files: a CA bundle, and a client certificate for mTLS."""

    async def test_ca_bundle(self, tls_server: TlsServer, pem_files: dict[str, Path]) -> None:
        """tls_ca alone makes TLS that trusts the test CA; the token goes over it."""
        config = ClientConfig(tls_ca=pem_files["tls_ca"], auth_token="tok-ca")  # type: ignore[arg-type]
        async with VoiceCoreClient(f"127.0.0.1:{tls_server.port}", config=config) as client:
            response = await client.execute("debug_echo", {}, conversation_id="c")
        assert response.success
        assert tls_server.metadata[-1]["authorization"] == "Bearer tok-ca"

    async def test_mtls(self, mtls_server: TlsServer, pem_files: dict[str, Path]) -> None:
        """With the client certificate and key, a server that requires one answers."""
        async with VoiceCoreClient(
            f"127.0.0.1:{mtls_server.port}",
            config=ClientConfig(**pem_files),  # type: ignore[arg-type]
        ) as client:
            response = await client.execute("debug_echo", {}, conversation_id="c")
        assert response.success
        assert len(mtls_server.metadata) == 1

    async def test_mtls_without_client_certificate(
        self, mtls_server: TlsServer, pem_files: dict[str, Path]
    ) -> None:
        """Without a client certificate the server refuses the connection: UNAVAILABLE, and
        no request reached it."""
        seen = len(mtls_server.metadata)
        config = ClientConfig(tls_ca=pem_files["tls_ca"])
        async with VoiceCoreClient(f"127.0.0.1:{mtls_server.port}", config=config) as client:
            response = await client.execute("debug_echo", {}, conversation_id="c")
        assert response.error is not None and response.error.code is ErrorCode.UNAVAILABLE
        assert len(mtls_server.metadata) == seen


class TestRefusedCredential:
    """A server that refuses the credential: the caller's error, once per call."""

    @pytest.mark.parametrize(
        ("token", "status"),
        [("wrong", "UNAUTHENTICATED"), ("reader", "PERMISSION_DENIED")],
    )
    async def test_one_attempt_breaker_closed(
        self, guarded_server: TlsServer, token: str, status: str
    ) -> None:
        """Ten refused calls: ten requests on the wire, INVALID_PARAMS naming the status, and
        the breaker still closed."""
        config = ClientConfig(auth_token=token)  # type: ignore[arg-type]
        async with VoiceCoreClient(f"127.0.0.1:{guarded_server.port}", config=config) as client:
            for _ in range(10):
                response = await client.execute("debug_echo", {}, conversation_id="c")
                assert response.error is not None
                assert response.error.code is ErrorCode.INVALID_PARAMS
                assert response.error.message.startswith(f"gRPC {status}: ")
            assert client.breaker.state is BreakerState.CLOSED
        assert len(guarded_server.metadata) == 10
