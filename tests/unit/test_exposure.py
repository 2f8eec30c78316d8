"""Safe defaults: the server binds loopback unless told, and says what an insecure bind exposes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger
from pydantic import ValidationError

from tests._cases import cases
from voicecore.config import Settings, is_loopback
from voicecore.server import warn_if_exposed

LOOPBACK = ["127.0.0.1", "127.8.9.10", "::1", "localhost"]
REACHABLE = ["0.0.0.0", "::", "10.0.0.5", "192.168.1.20", "voice.example.com"]


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    """The messages voicecore logs at WARNING and above while the test runs."""
    captured: list[str] = []
    logger.enable("voicecore")
    sink = logger.add(lambda m: captured.append(m.record["message"]), level="WARNING")
    yield captured
    logger.remove(sink)
    logger.disable("voicecore")


class TestLoopback:
    @cases("host", LOOPBACK)
    def test_loopback_hosts(self, host: str) -> None:
        """Only this machine reaches these."""
        assert is_loopback(host)

    @cases("host", REACHABLE)
    def test_reachable_hosts(self, host: str) -> None:
        """Other machines may reach these; a name may resolve anywhere."""
        assert not is_loopback(host)


class TestDefaults:
    def test_binds_loopback_by_default(self) -> None:
        """With nothing configured the server is reachable from this machine only."""
        settings = Settings()
        assert (settings.host, settings.insecure) == ("127.0.0.1", False)

    @cases("host", REACHABLE)
    def test_reachable_bind_needs_insecure(self, host: str) -> None:
        """Another address without authentication is refused, naming the way out."""
        with pytest.raises(ValidationError, match="VOICECORE_INSECURE=true"):
            Settings(host=host)

    @cases("host", REACHABLE)
    def test_insecure_allows_it(self, host: str) -> None:
        """Told so, the server binds it."""
        assert Settings(host=host, insecure=True).host == host

    def test_environment_says_insecure(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """VOICECORE_HOST=0.0.0.0 with VOICECORE_INSECURE=true, as in a container."""
        monkeypatch.setenv("VOICECORE_HOST", "0.0.0.0")
        monkeypatch.setenv("VOICECORE_INSECURE", "true")
        assert Settings().insecure


class TestWarning:
    def test_reachable_bind_warns_what_is_exposed(self, warnings: list[str]) -> None:
        """One WARNING with the address and what anyone reaching it can do."""
        warn_if_exposed("0.0.0.0", 50051, authenticated=False)
        assert warnings == [
            "serving 0.0.0.0:50051 without authentication (insecure): anyone who can "
            "reach it can run captures, read every conversation's events and answer other "
            "callers' captures"
        ]

    def test_loopback_bind_is_quiet(self, warnings: list[str]) -> None:
        """Nothing to warn about on 127.0.0.1."""
        warn_if_exposed("127.0.0.1", 50051, authenticated=False)
        assert warnings == []

    def test_authenticated_bind_is_quiet(self, warnings: list[str]) -> None:
        """Callers must show a token: nothing is open to whoever reaches the address."""
        warn_if_exposed("0.0.0.0", 50051, authenticated=True)
        assert warnings == []


class TestWithTokens:
    def test_client_certificates_allow_a_reachable_bind(self, tmp_path: Path) -> None:
        """mTLS authenticates callers too: no --insecure needed."""
        for name in ("cert.pem", "key.pem", "ca.pem"):
            (tmp_path / name).write_text("")
        settings = Settings(
            host="0.0.0.0",
            tls_cert=tmp_path / "cert.pem",
            tls_key=tmp_path / "key.pem",
            tls_client_ca=tmp_path / "ca.pem",
        )
        assert settings.authenticates and not settings.insecure

    def test_tokens_file_allows_a_reachable_bind(self, tmp_path: Path) -> None:
        """A tokens file authenticates callers, so no --insecure is needed."""
        tokens = tmp_path / "tokens"
        tokens.write_text("sha256:" + "0" * 64 + " acme execute\n")
        settings = Settings(host="0.0.0.0", auth_tokens_file=tokens)
        assert settings.authenticates and not settings.insecure
