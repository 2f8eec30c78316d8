"""Certificates and tokens rotated on disk with no SIGHUP: the server notices (it polls the
files every ``file_watch_interval`` seconds, 20 ms here) and reloads them in place.

In-process servers (``VoiceCoreServer``) so that the test reads the server's log records.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from grpclib import GRPCError
from grpclib.client import Channel
from grpclib.const import Status
from loguru import logger

from tests._servers import HOST
from tests._waiting import until
from voicecore._auth import new_token, tokens_file_line
from voicecore._proto.voicecore.v1 import ListPrimitivesRequest, VoiceCoreServiceStub
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

pytestmark = pytest.mark.integration

_POLL = 0.02
FIRST = new_token()


@dataclass
class Files:
    """The server's certificate, key and tokens file, and the CA its certificates come from."""

    directory: Path
    ca: trustme.CA

    @property
    def cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def key(self) -> Path:
        return self.directory / "server.key"

    @property
    def tokens(self) -> Path:
        return self.directory / "tokens"

    def install(self, leaf: trustme.LeafCert) -> None:
        """Rotate as a deployment tool would: each new file renamed over the old one."""
        replace(self.cert, leaf.cert_chain_pems[0].bytes())
        replace(self.key, leaf.private_key_pem.bytes())

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        context.set_alpn_protocols(["h2"])
        return context


def replace(path: Path, content: bytes) -> None:
    scratch = path.with_name(path.name + ".new")
    scratch.write_bytes(content)
    os.replace(scratch, path)


def der(leaf: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())


async def served_certificate(context: ssl.SSLContext, port: int) -> bytes:
    """The DER certificate the server presents to a new connection."""
    _, writer = await asyncio.open_connection(HOST, port, ssl=context)
    try:
        certificate: bytes = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return certificate
    finally:
        writer.close()


def channel_certificate(channel: Channel) -> bytes:
    """The DER certificate the server presented to ``channel``'s open connection."""
    transport = channel._protocol.connection._transport  # type: ignore[union-attr]
    certificate: bytes = transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    return certificate


@pytest.fixture
def errors() -> Iterator[list[str]]:
    """The messages of ERROR records logged while the test runs."""
    found: list[str] = []
    logger.enable("voicecore")
    sink = logger.add(lambda message: found.append(message.record["message"]), level="ERROR")
    yield found
    logger.remove(sink)
    logger.disable("voicecore")


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path, trustme.CA())


@pytest.fixture
async def old(files: Files) -> trustme.LeafCert:
    leaf = files.ca.issue_cert(HOST)
    files.install(leaf)
    return leaf


async def serving(settings: Settings) -> AsyncIterator[VoiceCoreServer]:
    server = VoiceCoreServer(settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace_period=0)


@pytest.fixture
async def tls_server(files: Files, old: trustme.LeafCert) -> AsyncIterator[VoiceCoreServer]:
    settings = Settings(
        host=HOST, port=0, tls_cert=files.cert, tls_key=files.key, file_watch_interval=_POLL
    )
    async for server in serving(settings):
        yield server


async def health(channel: Channel) -> str:
    return (await VoiceCoreServiceStub(channel).health_check(timeout=10)).status


class TestCertificate:
    async def test_rotated_files_are_served_to_new_connections_open_ones_keep_working(
        self, tls_server: VoiceCoreServer, files: Files, old: trustme.LeafCert
    ) -> None:
        context = files.client_context()
        new = files.ca.issue_cert(HOST)
        async with Channel(HOST, tls_server.port, ssl=context) as open_channel:
            assert await health(open_channel) == "SERVING"
            assert channel_certificate(open_channel) == der(old)

            files.install(new)

            async def new_certificate_served() -> bool:
                return await served_certificate(context, tls_server.port) == der(new)

            await until(new_certificate_served)
            assert await health(open_channel) == "SERVING"
            assert channel_certificate(open_channel) == der(old)

    async def test_a_broken_file_keeps_the_old_certificate(
        self,
        tls_server: VoiceCoreServer,
        files: Files,
        old: trustme.LeafCert,
        errors: list[str],
    ) -> None:
        context = files.client_context()
        replace(files.cert, b"-----BEGIN CERTIFICATE-----\nbroken\n")
        await until(lambda: bool(errors))
        assert errors == ["TLS certificate not reloaded; still serving the previous one"]
        assert await served_certificate(context, tls_server.port) == der(old)
        # The watcher goes on looking: a good pair later is picked up.
        new = files.ca.issue_cert(HOST)
        files.install(new)

        async def new_certificate_served() -> bool:
            return await served_certificate(context, tls_server.port) == der(new)

        await until(new_certificate_served)


async def accepted(port: int, token: str) -> bool:
    """Whether the server at ``port`` accepts ``token`` for ListPrimitives."""
    async with Channel(HOST, port) as channel:
        try:
            metadata = {"authorization": f"Bearer {token}"}
            await VoiceCoreServiceStub(channel).list_primitives(
                ListPrimitivesRequest(), metadata=metadata
            )
        except GRPCError as refused:
            assert refused.status is Status.UNAUTHENTICATED
            return False
    return True


@pytest.fixture
async def token_server(files: Files) -> AsyncIterator[VoiceCoreServer]:
    files.tokens.write_text(tokens_file_line(FIRST, "acme", frozenset({"execute"})) + "\n")
    settings = Settings(host=HOST, port=0, auth_tokens_file=files.tokens, file_watch_interval=_POLL)
    async for server in serving(settings):
        yield server


async def test_tokens_file_change_is_picked_up(token_server: VoiceCoreServer, files: Files) -> None:
    """A token appended to the tokens file is accepted without a SIGHUP or a restart."""
    port, added = token_server.port, new_token()
    assert not await accepted(port, added)
    with files.tokens.open("a") as tokens:
        tokens.write(tokens_file_line(added, "acme", frozenset({"execute"})) + "\n")
    await until(lambda: accepted(port, added))
    assert await accepted(port, FIRST)
