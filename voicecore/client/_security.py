"""What the client checks before it sends a credential: the TLS context, and no token in clear.

Both run when ``VoiceCoreClient`` is built, so a wrong setting is a ``ValueError`` naming it
at construction, not a failed call later: it is the caller's configuration, not the server's.
"""

from __future__ import annotations

import ipaddress
import ssl

from voicecore.client._config import ClientConfig

__all__ = ["is_loopback", "refuse_token_in_clear", "ssl_context"]


def ssl_context(config: ClientConfig) -> ssl.SSLContext:
    """The TLS context ``config`` describes: its CA bundle (or the system's), its client
    certificate for mTLS, TLS 1.2 or newer, ALPN ``h2`` as gRPC needs."""
    cafile = None if config.tls_ca is None else str(config.tls_ca)
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f'"tls_ca" {config.tls_ca}: not a readable PEM CA bundle ({exc})'
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["h2"])
    if config.tls_cert is not None and config.tls_key is not None:
        try:
            context.load_cert_chain(config.tls_cert, config.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f'"tls_cert" {config.tls_cert} and "tls_key" {config.tls_key}: '
                f"not a readable PEM certificate and its key ({exc})"
            ) from None
    return context


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``; no name is resolved."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_token_in_clear(config: ClientConfig, host: str, *, encrypted: bool) -> None:
    """Raise ``ValueError`` when ``auth_token`` would cross a network in plaintext, unallowed."""
    if config.auth_token is None or encrypted or config.allow_insecure_token:
        return
    if is_loopback(host):
        return
    raise ValueError(
        f"refusing to send auth_token in plaintext to {host}: use TLS (tls, tls_ca or "
        "VOICE_CORE_TLS_CA), or set allow_insecure_token (VOICE_CORE_ALLOW_INSECURE_TOKEN=1) "
        "if the network path is trusted"
    )
