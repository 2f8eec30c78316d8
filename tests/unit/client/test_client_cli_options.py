"""The client commands' credential options reach the client they build, over the variables."""

from __future__ import annotations

import io
import ssl
from pathlib import Path

import pytest
import trustme

from voicecore._cli_client import _client
from voicecore.cli import build_parser, main
from voicecore.client import VoiceCoreClient

COMMANDS = [["call", "capture_email"], ["events"], ["health"], ["primitives"]]


@pytest.fixture(autouse=True)
def no_client_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the VOICE_CORE_* variables it means."""
    for name in ("ENDPOINT", "TLS", "TLS_CA", "TLS_CERT", "TLS_KEY", "AUTH_TOKEN"):
        monkeypatch.delenv(f"VOICE_CORE_{name}", raising=False)
    monkeypatch.delenv("VOICE_CORE_ALLOW_INSECURE_TOKEN", raising=False)


@pytest.fixture
def pem_files(tmp_path: Path) -> dict[str, str]:
    """A CA bundle, and a client certificate with its key, as PEM files."""
    ca = trustme.CA()
    client_cert = ca.issue_cert("client.test")
    files = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(files["ca"])
    client_cert.cert_chain_pems[0].write_to_path(files["cert"])
    client_cert.private_key_pem.write_to_path(files["key"])
    return files


def built(*argv: str) -> VoiceCoreClient:
    """The gRPC client a command line builds."""
    client = _client(build_parser().parse_args(list(argv)))
    assert isinstance(client, VoiceCoreClient)
    return client


class TestOptions:
    """Every client command takes the TLS and token options."""

    @pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
    def test_tls_files_and_token(self, command: list[str], pem_files: dict[str, str]) -> None:
        """--tls-ca/--tls-cert/--tls-key make TLS with those files; --token is the token."""
        client = built(
            *command,
            "--endpoint",
            "voice-core.internal:443",
            "--tls-ca",
            pem_files["ca"],
            "--tls-cert",
            pem_files["cert"],
            "--tls-key",
            pem_files["key"],
            "--token",
            "tok",
        )
        config = client.config
        assert config.tls and str(config.tls_ca) == pem_files["ca"]
        assert (str(config.tls_cert), str(config.tls_key)) == (pem_files["cert"], pem_files["key"])
        assert config.auth_token is not None and config.auth_token.get_secret_value() == "tok"
        assert isinstance(client._ssl, ssl.SSLContext)

    def test_token_from_the_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without --token, VOICE_CORE_AUTH_TOKEN is the token; --token wins over it."""
        monkeypatch.setenv("VOICE_CORE_AUTH_TOKEN", "from-env")
        from_env = built("health").config.auth_token
        assert from_env is not None and from_env.get_secret_value() == "from-env"
        given = built("health", "--token", "given").config.auth_token
        assert given is not None and given.get_secret_value() == "given"

    def test_allow_insecure_token(self) -> None:
        """--allow-insecure-token lets a token go in plaintext to a remote target."""
        client = built(
            "health", "--endpoint", "10.0.0.7:50051", "--token", "t", "--allow-insecure-token"
        )
        assert client.config.allow_insecure_token and client._ssl is None

    def test_token_in_clear_refused(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A token to a remote plaintext target exits 2 naming the option, and not the token."""
        code = main(["health", "--endpoint", "10.0.0.7:50051", "--token", "s3cret"])
        err = capsys.readouterr().err
        assert code == 2
        assert err.startswith("voicecore health: refusing to send auth_token in plaintext")
        assert "s3cret" not in err

    def test_cert_without_key_refused(
        self, pem_files: dict[str, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--tls-cert without --tls-key exits 2 saying both are needed."""
        assert main(["health", "--tls-cert", pem_files["cert"]]) == 2
        assert capsys.readouterr().err == (
            'voicecore health: "tls_cert" and "tls_key" should be given together (mTLS) '
            "or neither\n"
        )


class _ReaderGone(io.StringIO):
    """A stdout whose reader went away: flushing fails as a closed pipe does."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        return self._fd


def test_closed_stdout_ends_quietly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reader that went away: the shell's SIGPIPE status, nothing on stderr."""
    monkeypatch.setenv("VOICE_CORE_USE_GRPC", "false")
    with (tmp_path / "stdout").open("w") as target:
        monkeypatch.setattr("sys.stdout", _ReaderGone(target.fileno()))
        assert main(["primitives"]) == 141
    assert capsys.readouterr().err == ""
