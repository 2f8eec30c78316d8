"""What the client checks before it sends a credential: TLS settings, and no token in clear."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from pydantic import ValidationError

from voicecore.client import ClientConfig, VoiceCoreClient
from voicecore.client._security import is_loopback, ssl_context


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def pem_files(ca: trustme.CA, tmp_path: Path) -> dict[str, Path]:
    """A CA bundle, and a client certificate with its key, as PEM files."""
    client_cert = ca.issue_cert("client@example.test")
    files = {
        "tls_ca": tmp_path / "ca.pem",
        "tls_cert": tmp_path / "client.pem",
        "tls_key": tmp_path / "client.key",
    }
    ca.cert_pem.write_to_path(str(files["tls_ca"]))
    client_cert.cert_chain_pems[0].write_to_path(str(files["tls_cert"]))
    client_cert.private_key_pem.write_to_path(str(files["tls_key"]))
    return files


class TestTokenInClear:
    """A token goes over plaintext only to loopback, or when the caller says so."""

    @pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]"])
    def test_loopback_allowed(self, host: str) -> None:
        """Loopback targets take a token without TLS: it never leaves the machine."""
        client = VoiceCoreClient(f"{host}:50051", config=ClientConfig(auth_token="t"))  # type: ignore[arg-type]
        assert client.config.auth_token is not None

    @pytest.mark.parametrize(
        "host", ["voice-core.internal", "10.0.0.7", "[2001:db8::1]", "0.0.0.0"]
    )
    def test_remote_refused(self, host: str) -> None:
        """A remote plaintext target with a token is refused at construction, naming the fix."""
        config = ClientConfig(auth_token="s3cret")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="allow_insecure_token") as refused:
            VoiceCoreClient(f"{host}:50051", config=config)
        assert "s3cret" not in str(refused.value)

    def test_remote_allowed_when_told(self) -> None:
        """allow_insecure_token=True lets the caller accept the risk."""
        config = ClientConfig(auth_token="t", allow_insecure_token=True)  # type: ignore[arg-type]
        assert VoiceCoreClient("10.0.0.7:50051", config=config).config.allow_insecure_token

    @pytest.mark.parametrize(
        "tls", [{"tls": True}, {"ssl": True}, {"ssl": ssl.create_default_context()}]
    )
    def test_remote_over_tls_allowed(self, tls: dict[str, object]) -> None:
        """Over TLS (config or the ssl argument) a remote target takes the token."""
        config = ClientConfig(auth_token="t", tls=bool(tls.get("tls")))  # type: ignore[arg-type]
        ssl_argument = tls.get("ssl")
        assert isinstance(ssl_argument, bool | ssl.SSLContext | None)
        VoiceCoreClient("10.0.0.7:50051", config=config, ssl=ssl_argument)

    def test_ssl_false_argument_is_plaintext(self) -> None:
        """ssl=False turns TLS off, so the token check applies again."""
        config = ClientConfig(auth_token="t", tls=True)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="plaintext"):
            VoiceCoreClient("10.0.0.7:50051", config=config, ssl=False)

    def test_no_token_no_check(self) -> None:
        """Without a token, plaintext to a remote target is the caller's business."""
        VoiceCoreClient("10.0.0.7:50051")

    def test_from_env(self) -> None:
        """The variables reach the check: refused, then allowed by the opt-in variable."""
        env = {"VOICE_CORE_ENDPOINT": "10.0.0.7:50051", "VOICE_CORE_AUTH_TOKEN": "t"}
        with pytest.raises(ValueError, match="VOICE_CORE_ALLOW_INSECURE_TOKEN"):
            VoiceCoreClient.from_env(env)
        allowed = VoiceCoreClient.from_env({**env, "VOICE_CORE_ALLOW_INSECURE_TOKEN": "1"})
        assert allowed.config.allow_insecure_token

    @pytest.mark.parametrize(
        ("host", "loopback"),
        [
            ("localhost.", True),
            ("::1", True),
            ("127.0.0.1", True),
            ("128.0.0.1", False),
            ("localhost.example", False),
            ("::", False),
        ],
    )
    def test_is_loopback(self, host: str, loopback: bool) -> None:
        """Only localhost and loopback addresses count; names are not resolved."""
        assert is_loopback(host) is loopback


class TestTlsSettings:
    """The TLS files: from arguments or variables, coherent, and loaded into a context."""

    def test_variables(self, pem_files: dict[str, Path]) -> None:
        """VOICE_CORE_TLS_CA/CERT/KEY land in their fields and imply TLS."""
        config = ClientConfig.from_env(
            {
                "VOICE_CORE_TLS_CA": str(pem_files["tls_ca"]),
                "VOICE_CORE_TLS_CERT": str(pem_files["tls_cert"]),
                "VOICE_CORE_TLS_KEY": str(pem_files["tls_key"]),
            }
        )
        assert config.tls
        assert (config.tls_ca, config.tls_cert, config.tls_key) == (
            pem_files["tls_ca"],
            pem_files["tls_cert"],
            pem_files["tls_key"],
        )

    @pytest.mark.parametrize("field", ["tls_ca", "tls_cert", "tls_key"])
    def test_any_file_implies_tls(self, field: str, pem_files: dict[str, Path]) -> None:
        """A CA alone implies TLS; a cert or key alone is refused (both or neither)."""
        if field == "tls_ca":
            assert ClientConfig.model_validate({field: pem_files[field]}).tls
            return
        with pytest.raises(ValidationError, match='"tls_cert" and "tls_key"'):
            ClientConfig.model_validate({field: pem_files[field]})

    def test_tls_false_with_files_refused(self, pem_files: dict[str, Path]) -> None:
        """tls=false contradicts a CA bundle: refused rather than silently plaintext."""
        with pytest.raises(ValidationError, match='"tls" is false'):
            ClientConfig(tls=False, tls_ca=pem_files["tls_ca"])

    def test_context_trusts_the_ca(self, ca: trustme.CA, pem_files: dict[str, Path]) -> None:
        """The context holds the CA and the client certificate, speaks h2, refuses old TLS."""
        context = ssl_context(ClientConfig(**pem_files))  # type: ignore[arg-type]
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        assert context.minimum_version is ssl.TLSVersion.TLSv1_2
        reference = ssl.create_default_context(cadata=ca.cert_pem.bytes().decode())
        assert context.get_ca_certs() == reference.get_ca_certs() != []

    def test_client_uses_the_files(self, pem_files: dict[str, Path]) -> None:
        """VoiceCoreClient builds its channel's context from the files; ssl= still wins."""
        config = ClientConfig(**pem_files)  # type: ignore[arg-type]
        built = VoiceCoreClient("10.0.0.7:50051", config=config)._ssl
        assert isinstance(built, ssl.SSLContext) and built.get_ca_certs()
        assert VoiceCoreClient("10.0.0.7:50051", config=config, ssl=True)._ssl is True
        assert VoiceCoreClient("10.0.0.7:50051", config=ClientConfig(tls=True))._ssl is True

    def test_unreadable_ca_refused(self, tmp_path: Path) -> None:
        """A CA path that is missing or not PEM is a ValueError naming tls_ca."""
        not_pem = tmp_path / "ca.pem"
        not_pem.write_text("not a certificate")
        for path in (tmp_path / "missing.pem", not_pem):
            with pytest.raises(ValueError, match='"tls_ca"'):
                VoiceCoreClient("10.0.0.7:50051", config=ClientConfig(tls_ca=path))

    def test_mismatched_key_refused(self, ca: trustme.CA, pem_files: dict[str, Path]) -> None:
        """A key that is not the certificate's is a ValueError naming tls_cert and tls_key."""
        other_key = pem_files["tls_key"].with_name("other.key")
        ca.issue_cert("other.test").private_key_pem.write_to_path(str(other_key))
        config = ClientConfig(tls_cert=pem_files["tls_cert"], tls_key=other_key)
        with pytest.raises(ValueError, match='"tls_cert" .* and "tls_key"'):
            ssl_context(config)
