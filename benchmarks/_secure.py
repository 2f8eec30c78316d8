"""TLS certificates and a bearer token made at run time, for the TLS rows of the bench.

trustme makes a CA and a certificate for 127.0.0.1 signed by it; ``voicecore token``'s own
functions make a token and its tokens-file line. A server row says what it needs (``Access``):
the CA its clients trust, the token they send, or both.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc
import trustme

from voicecore._auth import new_token, tokens_file_line

__all__ = ["Access", "Credentials", "make_credentials"]

# A few other tenants' entries: the server compares a call's token with every entry.
_OTHER_TENANTS = 9


@dataclass(frozen=True, slots=True)
class Access:
    """What a client needs to reach a server: the CA bundle that signed its certificate
    (None: plaintext) and the bearer token it sends (None: no token)."""

    ca: Path | None = None
    token: str | None = None

    @property
    def scheme(self) -> str:
        """The URL scheme h2load connects with."""
        return "https" if self.ca is not None else "http"

    def headers(self) -> list[tuple[str, str]]:
        """The request headers the token adds (gRPC metadata)."""
        return [] if self.token is None else [("authorization", f"Bearer {self.token}")]

    def channel(self, target: str) -> grpc.Channel:
        """A grpcio channel to ``target`` that trusts the CA (or a plaintext one)."""
        if self.ca is None:
            return grpc.insecure_channel(target)
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(self.ca.read_bytes()))

    def aio_channel(self, target: str) -> grpc.aio.Channel:
        """``channel`` for asyncio."""
        if self.ca is None:
            return grpc.aio.insecure_channel(target)
        credentials = grpc.ssl_channel_credentials(self.ca.read_bytes())
        return grpc.aio.secure_channel(target, credentials)


@dataclass(frozen=True, slots=True)
class Credentials:
    """The files on disk: the CA, the server's certificate and key, a tokens file and the
    token it admits (tenant ``bench``, scopes execute and events)."""

    ca: Path
    cert: Path
    key: Path
    tokens: Path
    token: str

    def tls_args(self) -> tuple[str, ...]:
        """``serve``'s TLS flags (the grpcio reference takes the same two)."""
        return ("--tls-cert", str(self.cert), "--tls-key", str(self.key))

    def token_args(self) -> tuple[str, ...]:
        """``serve``'s token flag."""
        return ("--auth-tokens-file", str(self.tokens))


def make_credentials(folder: Path | None = None) -> Credentials:
    """A CA, a certificate for 127.0.0.1 and a tokens file, written into ``folder`` (a new
    temporary folder by default)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="voicecore-bench-tls-"))
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = Credentials(
        ca=folder / "ca.pem",
        cert=folder / "server.pem",
        key=folder / "server.key",
        tokens=folder / "tokens",
        token=new_token(),
    )
    ca.cert_pem.write_to_path(str(files.ca))
    for index, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(str(files.cert), append=index > 0)
    leaf.private_key_pem.write_to_path(str(files.key))
    scopes = frozenset({"execute", "events"})
    lines = [tokens_file_line(new_token(), f"other-{i}", scopes) for i in range(_OTHER_TENANTS)]
    lines.append(tokens_file_line(files.token, "bench", scopes))
    files.tokens.write_text("\n".join(lines) + "\n")
    return files
