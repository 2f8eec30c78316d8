"""Server TLS: the SSL context the settings describe, its certificate reloaded in place, and
the identity a client certificate proves.

The certificate is reloaded into the SAME context (``load_cert_chain`` again): new handshakes
get the new certificate and connections already open keep the session they have. The files
are read once per reload, so that the pair checked is the pair served even when a rotation
lands in the middle of the reload.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loguru import logger

from voicecore.config import Settings

__all__ = ["CertificateReloader", "client_identity", "server_context"]


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context (TLS 1.2 or later, ALPN h2), or None to serve plaintext.

    With ``tls_client_ca``, clients must present a certificate that CA signed.
    """
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["h2"])
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    if settings.tls_client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=settings.tls_client_ca)
    return context


class CertificateReloader:
    """Rereads the certificate and key into ``context``; a pair that fails keeps the old one."""

    def __init__(self, context: ssl.SSLContext, cert: Path, key: Path) -> None:
        self.context = context
        self.cert = cert
        self.key = key

    def __call__(self) -> None:
        # Tried on a scratch context first: OpenSSL drops the old key as soon as a new
        # certificate that does not match it is set, so a bad pair loaded straight into the
        # serving context would leave it unable to complete any handshake.
        # Both loads read one private copy of the files' bytes: read from the files twice, a
        # rotation landing between the reads would put an unchecked, perhaps mismatched, pair
        # into the serving context. (``load_cert_chain`` takes paths only.)
        try:
            cert_pem, key_pem = self.cert.read_bytes(), self.key.read_bytes()
            with tempfile.TemporaryDirectory(prefix="voicecore-tls-") as folder:  # mode 0700
                cert = _private_file(Path(folder, "cert.pem"), cert_pem)
                key = _private_file(Path(folder, "key.pem"), key_pem)
                ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
                self.context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            logger.error(
                "TLS certificate not reloaded; still serving the previous one",
                cert=str(self.cert),
                key=str(self.key),
                error=str(exc),
            )
            return
        logger.info("TLS certificate reloaded", cert=str(self.cert))


def _private_file(path: Path, content: bytes) -> Path:
    """``path``, created readable by this user only, holding ``content``."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    return path


def client_identity(certificate: Mapping[str, Any] | None) -> str | None:
    """What a verified client certificate names: its subject CN and SAN DNS/URI entries.

    ``certificate`` is ``SSLObject.getpeercert()``'s dict; None or empty (no client
    certificate, or one that was not verified) is no identity.
    """
    if not certificate:
        return None
    names = [
        f"CN={value}"
        for rdn in certificate.get("subject", ())
        for key, value in rdn
        if key == "commonName"
    ]
    names += [
        f"{kind}:{value}"
        for kind, value in certificate.get("subjectAltName", ())
        if kind in ("DNS", "URI")
    ]
    return ", ".join(names) or None
