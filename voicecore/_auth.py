"""Bearer-token authentication: a tokens file of hashes, tenants and scopes, checked per call.

The tokens file has one entry per line, ``sha256:<hex> <tenant> <scope>[,<scope>...]``, where
the hex is the SHA-256 of the token: the token itself is never stored, so a leaked file lets
nobody in. ``#`` starts a comment; blank lines are skipped. A call presents its token as
``authorization: Bearer <token>`` metadata; the token's hash is compared with every entry's
by ``hmac.compare_digest``, all of them whatever matched, so how long a check takes says
nothing about how close a guess came.

Scopes: ``execute`` (ExecutePrimitive, ListPrimitives), ``events`` (StreamEvents) and
``admin`` (every method, every tenant's events, and DeleteConversation of any tenant's
conversation: with ``execute``, only of the caller's own). The standard health service is open
unless told otherwise; server reflection is closed unless told otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grpclib import GRPCError
from grpclib.const import Status
from loguru import logger

__all__ = [
    "ADMIN_SCOPE",
    "SCOPES",
    "Authenticator",
    "Caller",
    "TokenEntry",
    "TokensFileError",
    "load_tokens",
    "new_token",
    "parse_tokens",
    "token_digest",
    "tokens_file_line",
    "validate_scopes",
    "validate_tenant",
]

SCOPES = ("execute", "events", "admin")
#: The scope that may do everything, including read every tenant's events.
ADMIN_SCOPE = "admin"
_DIGEST_PREFIX = "sha256:"
_SERVICE = "/voicecore.v1.VoiceCoreService/"
#: The scope each method needs besides ``admin``; a method not listed needs ``admin``.
_METHOD_SCOPES = {
    _SERVICE + "ExecutePrimitive": "execute",
    _SERVICE + "ListPrimitives": "execute",
    _SERVICE + "StreamEvents": "events",
    # A tenant erases its own callers' data with the token that made it (a policy of "forget
    # at the end of the call" needs no operator): admin tokens read every tenant's events, so
    # handing them to tenants for erasure would be worse. Another tenant needs admin (there).
    _SERVICE + "DeleteConversation": "execute",
}
# voicecore's own HealthCheck answers what the standard one does: open or closed with it.
_HEALTH_METHODS = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        _SERVICE + "HealthCheck",
    }
)
_REFLECTION_PREFIXES = (
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
)


class TokensFileError(ValueError):
    """The tokens file cannot be read or has a malformed line (the message names it)."""


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """One tokens-file line: the SHA-256 of a token, its tenant and its scopes."""

    digest: bytes
    tenant: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a call comes from, once its token is accepted."""

    tenant: str
    scopes: frozenset[str]


def token_digest(token: str) -> bytes:
    """The SHA-256 of ``token``: what the tokens file stores and what calls are compared by."""
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    """A new random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def validate_tenant(tenant: str) -> str:
    """``tenant`` if it is a usable name: not empty, no whitespace (the file splits on it)."""
    if not tenant or any(char.isspace() for char in tenant):
        raise ValueError("tenant should be a non-empty name without whitespace")
    return tenant


def validate_scopes(text: str) -> frozenset[str]:
    """The comma-separated scopes in ``text``; each must be one of ``SCOPES``."""
    scopes = frozenset(part.strip() for part in text.split(","))
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise ValueError(
            f"unknown scope {', '.join(map(repr, unknown))}; scopes are {', '.join(SCOPES)}"
        )
    return scopes


def tokens_file_line(token: str, tenant: str, scopes: frozenset[str]) -> str:
    """The tokens-file line that lets ``token`` in as ``tenant`` with ``scopes``."""
    ordered = ",".join(scope for scope in SCOPES if scope in scopes)
    return f"{_DIGEST_PREFIX}{token_digest(token).hex()} {tenant} {ordered}"


def parse_tokens(text: str, source: str = "tokens file") -> tuple[TokenEntry, ...]:
    """The entries of a tokens file's ``text``; a malformed line raises, naming its number."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            entries.append(_parse_line(line))
        except ValueError as exc:
            raise TokensFileError(f"{source} line {number}: {exc}") from None
    return tuple(entries)


def _parse_line(line: str) -> TokenEntry:
    fields = line.split()
    if len(fields) != 3:
        raise ValueError("expected 'sha256:<hex> <tenant> <scope>[,<scope>...]'")
    digest_text, tenant, scopes = fields
    if not digest_text.startswith(_DIGEST_PREFIX):
        raise ValueError("the token hash should start with 'sha256:'")
    try:
        digest = bytes.fromhex(digest_text.removeprefix(_DIGEST_PREFIX))
    except ValueError:
        raise ValueError("the token hash should be hexadecimal") from None
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError("the token hash should be 64 hexadecimal digits (a SHA-256)")
    return TokenEntry(digest, validate_tenant(tenant), validate_scopes(scopes))


def load_tokens(path: Path) -> tuple[TokenEntry, ...]:
    """The entries of the tokens file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TokensFileError(f"cannot read tokens file {path}: {exc}") from None
    return parse_tokens(text, source=str(path))


class Authenticator:
    """Checks each call's bearer token against the tokens file and the method's scope."""

    def __init__(self, path: Path, *, open_health: bool, open_reflection: bool) -> None:
        self.path = path
        self.open_health = open_health
        self.open_reflection = open_reflection
        self.entries = load_tokens(path)

    def reload(self) -> bool:
        """Read the tokens file again; a bad file keeps the entries in use (logged as ERROR).

        A file with no entries is bad while there are entries in use: it is far likelier a
        file caught between its truncation and its write (an editor, ``>``) than a wish to
        lock every client out. To revoke every token, stop the server.
        """
        try:
            entries = load_tokens(self.path)
        except TokensFileError as exc:
            logger.error("tokens file not reloaded; the previous tokens stay in use: {}", exc)
            return False
        if not entries and self.entries:
            logger.error(
                "tokens file not reloaded; the previous tokens stay in use: {} has no tokens",
                self.path,
            )
            return False
        self.entries = entries
        logger.info("tokens file reloaded", entries=len(self.entries))
        return True

    def check(self, method: str, metadata: Mapping[str, str | bytes]) -> Caller | None:
        """The caller of ``method``, None for an open method; GRPCError if refused."""
        if self._is_open(method):
            return None
        caller = self._identify(metadata)
        needed = _METHOD_SCOPES.get(method, ADMIN_SCOPE)
        if ADMIN_SCOPE not in caller.scopes and needed not in caller.scopes:
            raise GRPCError(
                Status.PERMISSION_DENIED,
                f"this token lacks the {needed!r} scope that {method} needs",
            )
        return caller

    def _is_open(self, method: str) -> bool:
        if method in _HEALTH_METHODS:
            return self.open_health
        return method.startswith(_REFLECTION_PREFIXES) and self.open_reflection

    def _identify(self, metadata: Mapping[str, str | bytes]) -> Caller:
        token = _bearer_token(metadata)
        if token is None:
            raise GRPCError(
                Status.UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata"
            )
        digest = token_digest(token)
        found: TokenEntry | None = None
        for entry in self.entries:  # every entry, matched or not: the time says nothing
            if hmac.compare_digest(digest, entry.digest) and found is None:
                found = entry
        if found is None:
            raise GRPCError(Status.UNAUTHENTICATED, "the bearer token is not a known token")
        return Caller(found.tenant, found.scopes)


def _bearer_token(metadata: Mapping[str, str | bytes]) -> str | None:
    value = metadata.get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
