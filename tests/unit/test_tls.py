"""Server TLS: settings that go together, the context, in-place reload, the client identity."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from loguru import logger
from pydantic import ValidationError

from voicecore._tls import CertificateReloader, client_identity, server_context
from voicecore.cli import main
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer


def write_pair(cert: trustme.LeafCert, directory: Path, name: str) -> tuple[Path, Path]:
    """``cert``'s chain and key as PEM files in ``directory``."""
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    return cert_path, key_path


def served_certificate(server: ssl.SSLContext, ca: trustme.CA) -> bytes:
    """The DER certificate ``server`` presents in a handshake (in memory, no socket)."""
    client = ssl.create_default_context()
    ca.configure_trust(client)
    client.check_hostname = False
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(client_in, client_out)
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    done: set[ssl.SSLObject] = set()
    for _ in range(10):  # a TLS 1.3 handshake takes two round trips
        for side in (client_side, server_side):
            try:
                side.do_handshake()
                done.add(side)
            except ssl.SSLWantReadError:
                pass
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if client_side in done:
            break
    certificate = client_side.getpeercert(binary_form=True)
    assert certificate is not None
    return certificate


@pytest.fixture
def errors() -> Iterator[list[dict[str, Any]]]:
    """The ERROR records logged while the test runs, with their extra fields."""
    found: list[dict[str, Any]] = []
    logger.enable("voicecore")
    sink = logger.add(
        lambda message: found.append(
            {"message": message.record["message"], **message.record["extra"]}
        ),
        level="ERROR",
    )
    yield found
    logger.remove(sink)
    logger.disable("voicecore")


class TestSettings:
    """The certificate and key go together; mTLS needs TLS."""

    @pytest.mark.parametrize(
        ("files", "error"),
        [
            (["tls_cert"], "tls_cert and tls_key go together"),
            (["tls_key"], "tls_cert and tls_key go together"),
            (["tls_client_ca"], "tls_client_ca needs tls_cert and tls_key"),
        ],
    )
    def test_half_a_configuration_is_refused(
        self, tmp_path: Path, files: list[str], error: str
    ) -> None:
        for name in files:
            (tmp_path / name).touch()
        with pytest.raises(ValidationError, match=error):
            Settings(**{name: tmp_path / name for name in files})  # type: ignore[arg-type]

    def test_a_missing_file_is_refused_naming_the_setting(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "key.pem").touch()
        argv = ["serve", "--tls-cert", str(tmp_path / "nope.pem"), "--tls-key"]
        assert main([*argv, str(tmp_path / "key.pem")]) == 2
        assert "tls_cert: Path does not point to a file" in capsys.readouterr().err

    def test_unusable_pem_exits_2_in_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A certificate that is no PEM (or a key that does not match) is refused at start."""
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        cert.write_text("not a certificate\n")
        key.write_text("not a key\n")
        assert main(["serve", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("voicecore serve: cannot use the TLS certificate, key or client CA")
        assert err.count("\n") == 1

    def test_files_from_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name in ("cert", "key", "client_ca"):
            (tmp_path / name).touch()
            monkeypatch.setenv(f"VOICECORE_TLS_{name.upper()}", str(tmp_path / name))
        settings = Settings()
        assert (settings.tls_cert, settings.tls_key, settings.tls_client_ca) == (
            tmp_path / "cert",
            tmp_path / "key",
            tmp_path / "client_ca",
        )

    def test_no_tls_by_default(self) -> None:
        assert server_context(Settings()) is None


class TestContext:
    """The context: TLS 1.2 or later, client certificates only with mTLS."""

    def test_tls_only(self, tmp_path: Path) -> None:
        ca = trustme.CA()
        cert, key = write_pair(ca.issue_cert("127.0.0.1"), tmp_path, "server")
        context = server_context(Settings(tls_cert=cert, tls_key=key))
        assert context is not None
        assert context.minimum_version is ssl.TLSVersion.TLSv1_2
        assert context.verify_mode is ssl.CERT_NONE

    def test_client_ca_requires_client_certificates(self, tmp_path: Path) -> None:
        ca = trustme.CA()
        cert, key = write_pair(ca.issue_cert("127.0.0.1"), tmp_path, "server")
        client_ca = tmp_path / "clients.pem"
        ca.cert_pem.write_to_path(str(client_ca))
        context = server_context(Settings(tls_cert=cert, tls_key=key, tls_client_ca=client_ca))
        assert context is not None
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert len(context.get_ca_certs()) == 1  # the client CA, trusted for client certificates


class TestReload:
    """A reload swaps the certificate in the same context; a bad one keeps the old."""

    def test_new_certificate_served_after_reload(self, tmp_path: Path) -> None:
        ca = trustme.CA()
        old, new = ca.issue_cert("127.0.0.1"), ca.issue_cert("127.0.0.1")
        cert, key = write_pair(old, tmp_path, "server")
        context = server_context(Settings(tls_cert=cert, tls_key=key))
        assert context is not None
        assert served_certificate(context, ca) == _der(old)
        write_pair(new, tmp_path, "server")
        CertificateReloader(context, cert, key)()
        assert served_certificate(context, ca) == _der(new)

    @pytest.mark.parametrize("broken", ["missing", "mismatched"])
    def test_bad_files_keep_the_old_certificate(
        self, tmp_path: Path, broken: str, errors: list[dict[str, Any]]
    ) -> None:
        ca = trustme.CA()
        old = ca.issue_cert("127.0.0.1")
        cert, key = write_pair(old, tmp_path, "server")
        context = server_context(Settings(tls_cert=cert, tls_key=key))
        assert context is not None
        if broken == "missing":
            key.unlink()
        else:  # a new certificate beside the old key: OpenSSL would drop the key
            ca.issue_cert("127.0.0.1").cert_chain_pems[0].write_to_path(str(cert))
        CertificateReloader(context, cert, key)()
        assert served_certificate(context, ca) == _der(old)
        assert [error["message"] for error in errors] == [
            "TLS certificate not reloaded; still serving the previous one"
        ]
        assert errors[0]["cert"] == str(cert)

    def test_a_rotation_during_the_reload_serves_the_pair_checked(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A new certificate written over the file between the check and the load (beside a
        key it does not match) does not reach the serving context: the pair read and checked
        is the pair served, and the context still completes handshakes."""
        ca = trustme.CA()
        old, new, stray = (ca.issue_cert("127.0.0.1") for _ in range(3))
        cert, key = write_pair(old, tmp_path, "server")
        context = server_context(Settings(tls_cert=cert, tls_key=key))
        assert context is not None
        write_pair(new, tmp_path, "server")
        real = ssl.SSLContext.load_cert_chain
        loads: list[object] = []

        def rotating(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
            real(self, *args, **kwargs)
            loads.append(self)
            if len(loads) == 1:  # the check passed: now the rotation lands
                stray.cert_chain_pems[0].write_to_path(str(cert))

        monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", rotating)
        CertificateReloader(context, cert, key)()
        monkeypatch.undo()
        assert served_certificate(context, ca) == _der(new)
        assert len(loads) == 2 and loads[1] is context

    @pytest.mark.asyncio  # a server is built inside a running event loop
    async def test_one_failing_callback_does_not_stop_the_others(
        self, errors: list[dict[str, Any]]
    ) -> None:
        server = VoiceCoreServer(Settings())
        ran: list[str] = []

        def failing() -> None:
            ran.append("failing")
            raise RuntimeError("tokens file unreadable")

        server.reload_callbacks.extend([failing, lambda: ran.append("next")])
        server.reload()
        assert ran == ["failing", "next"]
        assert [error["message"] for error in errors] == ["reload failed"]

    @pytest.mark.asyncio
    async def test_plaintext_server_has_no_reload_callback(self) -> None:
        assert VoiceCoreServer(Settings()).reload_callbacks == []


class TestClientIdentity:
    """What a verified client certificate names."""

    def test_subject_and_san(self) -> None:
        certificate = {
            "subject": ((("organizationName", "Acme"),), (("commonName", "agent-7"),)),
            "subjectAltName": (
                ("DNS", "agent.example"),
                ("URI", "spiffe://acme/agent"),
                ("IP Address", "10.0.0.1"),
            ),
        }
        assert (
            client_identity(certificate) == "CN=agent-7, DNS:agent.example, URI:spiffe://acme/agent"
        )

    @pytest.mark.parametrize(
        "certificate", [None, {}, {"subjectAltName": (("IP Address", "10.0.0.1"),)}]
    )
    def test_nothing_named_is_no_identity(self, certificate: dict[str, Any] | None) -> None:
        assert client_identity(certificate) is None


def _der(cert: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
