"""Bearer tokens: the tokens file, the constant-time check, scopes per method, `voicecore token`."""

from __future__ import annotations

import hmac
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from grpclib import GRPCError
from grpclib.const import Status
from loguru import logger
from pydantic import ValidationError

from voicecore._auth import (
    Authenticator,
    Caller,
    TokensFileError,
    load_tokens,
    parse_tokens,
    token_digest,
    tokens_file_line,
)
from voicecore._call import CallInfo
from voicecore.cli import main
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

SERVICE = "/voicecore.v1.VoiceCoreService/"
EXECUTE = SERVICE + "ExecutePrimitive"
LIST = SERVICE + "ListPrimitives"
EVENTS = SERVICE + "StreamEvents"
HEALTH = "/grpc.health.v1.Health/Check"
REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
DIGEST = "ab" * 32


def tokens_file(tmp_path: Path, *entries: tuple[str, str, str]) -> Path:
    """A tokens file admitting each (token, tenant, comma-separated scopes)."""
    path = tmp_path / "tokens"
    lines = [
        tokens_file_line(token, tenant, frozenset(s.split(","))) for token, tenant, s in entries
    ]
    path.write_text("# voicecore tokens\n\n" + "\n".join(lines) + "\n")
    return path


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def auth(tmp_path: Path) -> Authenticator:
    """Three callers: one per scope."""
    path = tokens_file(
        tmp_path,
        ("exec-token", "acme", "execute"),
        ("events-token", "acme", "events"),
        ("admin-token", "ops", "admin"),
    )
    return Authenticator(path, open_health=True, open_reflection=False)


def status_of(auth: Authenticator, method: str, metadata: dict[str, str]) -> Status:
    with pytest.raises(GRPCError) as refused:
        auth.check(method, metadata)
    return refused.value.status


class TestTokensFile:
    def test_entries_comments_and_blank_lines(self) -> None:
        """Entries are read with their tenant and scopes; comments and blank lines are skipped."""
        text = f"# header\n\nsha256:{DIGEST} acme execute,events  # trailing comment\n"
        (entry,) = parse_tokens(text)
        assert entry.digest == bytes.fromhex(DIGEST)
        assert (entry.tenant, entry.scopes) == ("acme", frozenset({"execute", "events"}))

    @pytest.mark.parametrize(
        ("line", "complaint"),
        [
            (f"sha256:{DIGEST} acme", "expected 'sha256:<hex> <tenant>"),
            (f"md5:{DIGEST} acme execute", "should start with 'sha256:'"),
            ("sha256:zz acme execute", "should be hexadecimal"),
            ("sha256:abcd acme execute", "64 hexadecimal digits"),
            (f"sha256:{DIGEST} acme execute,root", "unknown scope 'root'"),
            (f"sha256:{DIGEST} acme execute extra", "expected 'sha256:<hex> <tenant>"),
        ],
    )
    def test_malformed_line_is_named_by_number(self, line: str, complaint: str) -> None:
        """The error names the line's number and what is wrong with it."""
        with pytest.raises(TokensFileError, match="line 3: ") as error:
            parse_tokens(f"# ok\nsha256:{DIGEST} acme admin\n{line}\n")
        assert complaint in str(error.value)

    def test_unreadable_file(self, tmp_path: Path) -> None:
        with pytest.raises(TokensFileError, match="cannot read tokens file"):
            load_tokens(tmp_path / "missing")

    def test_file_line_holds_the_hash_not_the_token(self) -> None:
        """What `voicecore token` tells you to append parses back, and has no token in it."""
        line = tokens_file_line("s3cret-token", "acme", frozenset({"events", "execute"}))
        assert "s3cret-token" not in line
        assert line == f"sha256:{token_digest('s3cret-token').hex()} acme execute,events"
        (entry,) = parse_tokens(line)
        assert entry.digest == token_digest("s3cret-token")


class TestSettings:
    def test_malformed_file_fails_at_start_up(self, tmp_path: Path) -> None:
        """Settings refuse a bad tokens file with one message naming the line."""
        path = tmp_path / "tokens"
        path.write_text(f"sha256:{DIGEST} acme execute\nnot a valid line at all\n")
        with pytest.raises(ValidationError, match="line 2"):
            Settings(auth_tokens_file=path)

    def test_serve_reports_a_malformed_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "tokens"
        path.write_text("sha256:00 acme execute\n")
        assert main(["serve", "--auth-tokens-file", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("voicecore serve: auth_tokens_file: ") and "line 1" in err

    def test_default_is_no_auth(self) -> None:
        settings = Settings()
        assert settings.auth_tokens_file is None
        assert (settings.auth_open_health, settings.auth_open_reflection) == (True, False)


class TestChecker:
    @pytest.mark.parametrize(
        ("token", "method", "tenant"),
        [
            ("exec-token", EXECUTE, "acme"),
            ("exec-token", LIST, "acme"),
            ("events-token", EVENTS, "acme"),
            ("admin-token", EXECUTE, "ops"),
            ("admin-token", EVENTS, "ops"),
            ("admin-token", SERVICE + "HealthCheck", None),
            ("admin-token", REFLECTION, "ops"),
        ],
    )
    def test_scope_lets_the_caller_in(
        self, auth: Authenticator, token: str, method: str, tenant: str | None
    ) -> None:
        """Each scope opens its methods; admin opens all; health needs no token at all."""
        caller = auth.check(method, bearer(token))
        assert (caller.tenant if caller else None) == tenant

    @pytest.mark.parametrize(
        ("token", "method", "missing"),
        [
            ("exec-token", EVENTS, "'events'"),
            ("events-token", EXECUTE, "'execute'"),
            ("events-token", LIST, "'execute'"),
            ("exec-token", REFLECTION, "'admin'"),
        ],
    )
    def test_scope_missing_is_permission_denied(
        self, auth: Authenticator, token: str, method: str, missing: str
    ) -> None:
        """A known token without the method's scope: PERMISSION_DENIED naming the scope."""
        with pytest.raises(GRPCError) as refused:
            auth.check(method, bearer(token))
        assert refused.value.status is Status.PERMISSION_DENIED
        assert missing in str(refused.value.message)
        assert token not in str(refused.value.message)

    @pytest.mark.parametrize(
        "metadata",
        [
            {},
            {"authorization": "Bearer wrong-token"},
            {"authorization": "Bearer exec-token2"},
            {"authorization": "Basic exec-token"},
            {"authorization": "Bearer "},
            {"other": "Bearer exec-token"},
        ],
    )
    def test_missing_or_wrong_token_is_unauthenticated(
        self, auth: Authenticator, metadata: dict[str, str]
    ) -> None:
        """No token, an unknown one or another scheme: UNAUTHENTICATED, the token not echoed."""
        with pytest.raises(GRPCError) as refused:
            auth.check(EXECUTE, metadata)
        assert refused.value.status is Status.UNAUTHENTICATED
        assert "token" in str(refused.value.message)
        assert "wrong-token" not in str(refused.value.message)

    def test_scheme_is_case_insensitive(self, auth: Authenticator) -> None:
        assert auth.check(EXECUTE, {"authorization": "bearer exec-token"}) == Caller(
            "acme", frozenset({"execute"})
        )

    def test_health_and_reflection_settings(self, tmp_path: Path) -> None:
        """Health closed and reflection open when told: then health needs a token."""
        path = tokens_file(tmp_path, ("t", "acme", "execute"))
        auth = Authenticator(path, open_health=False, open_reflection=True)
        assert auth.check(REFLECTION, {}) is None
        assert status_of(auth, HEALTH, {}) is Status.UNAUTHENTICATED
        assert status_of(auth, HEALTH, bearer("t")) is Status.PERMISSION_DENIED

    def test_default_reflection_is_closed(self, auth: Authenticator) -> None:
        assert status_of(auth, REFLECTION, {}) is Status.UNAUTHENTICATED
        assert auth.check(HEALTH, {}) is None

    @pytest.mark.parametrize("token", ["exec-token", "admin-token", "nope", "exec-toke"])
    def test_every_entry_is_compared_in_constant_time(
        self, auth: Authenticator, token: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One compare_digest per entry, on hashes, whether the token matches first, last or
        not at all: no early exit that would tell how close a guess came."""
        compared: list[tuple[bytes, bytes]] = []
        real = hmac.compare_digest

        def counted(a: Any, b: Any) -> bool:
            compared.append((a, b))
            return real(a, b)

        monkeypatch.setattr(hmac, "compare_digest", counted)
        try:
            auth.check(EXECUTE, bearer(token))
        except GRPCError:
            pass
        assert len(compared) == len(auth.entries) == 3
        assert all(a == token_digest(token) for a, _ in compared)


class TestReload:
    def test_reload_adds_a_token(self, tmp_path: Path) -> None:
        path = tokens_file(tmp_path, ("old", "acme", "execute"))
        auth = Authenticator(path, open_health=True, open_reflection=False)
        assert status_of(auth, EXECUTE, bearer("new")) is Status.UNAUTHENTICATED
        tokens_file(tmp_path, ("old", "acme", "execute"), ("new", "beta", "execute"))
        assert auth.reload()
        assert auth.check(EXECUTE, bearer("new")) == Caller("beta", frozenset({"execute"}))

    def test_bad_file_keeps_the_old_tokens(self, tmp_path: Path) -> None:
        """A malformed file on reload: the old entries stay, an ERROR names the line."""
        path = tokens_file(tmp_path, ("old", "acme", "execute"))
        auth = Authenticator(path, open_health=True, open_reflection=False)
        path.write_text(path.read_text() + "garbage\n")
        errors: list[str] = []
        logger.enable("voicecore")
        sink = logger.add(errors.append, level="ERROR", format="{message}")
        try:
            assert not auth.reload()
        finally:
            logger.remove(sink)
            logger.disable("voicecore")
        assert len(errors) == 1 and "line 4" in errors[0]
        assert auth.check(EXECUTE, bearer("old")) == Caller("acme", frozenset({"execute"}))

    @pytest.mark.parametrize("emptied", ["", "# every token revoked\n\n"])
    def test_a_file_with_no_tokens_keeps_the_old_ones(self, tmp_path: Path, emptied: str) -> None:
        """An emptied file (caught between truncate and write) locks nobody out: the old
        entries stay and an ERROR says why."""
        path = tokens_file(tmp_path, ("old", "acme", "execute"))
        auth = Authenticator(path, open_health=True, open_reflection=False)
        path.write_text(emptied)
        errors: list[str] = []
        logger.enable("voicecore")
        sink = logger.add(errors.append, level="ERROR", format="{message}")
        try:
            assert not auth.reload()
        finally:
            logger.remove(sink)
            logger.disable("voicecore")
        assert len(errors) == 1 and "has no tokens" in errors[0]
        assert auth.check(EXECUTE, bearer("old")) == Caller("acme", frozenset({"execute"}))

    def test_a_file_with_no_tokens_is_accepted_when_none_were_in_use(self, tmp_path: Path) -> None:
        """Started from an empty file, an empty reload changes nothing and is no error."""
        path = tmp_path / "tokens"
        path.write_text("")
        auth = Authenticator(path, open_health=True, open_reflection=False)
        assert auth.reload()
        assert auth.entries == ()


def recording_wrap(infos: list[CallInfo]) -> Any:
    """A stand-in for ``_Admission.wrap`` that records each call's CallInfo."""

    def wrap(name: str, func: Any, info: CallInfo) -> Any:
        infos.append(info)
        return func

    return wrap


class TestServerAdmission:
    async def test_caller_lands_on_call_info(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The accepted caller's tenant and scopes are on the CallInfo admission gets."""
        path = tokens_file(tmp_path, ("t", "acme", "execute,events"))
        server = VoiceCoreServer(Settings(auth_tokens_file=path))
        infos: list[CallInfo] = []
        monkeypatch.setattr(server._admission, "wrap", recording_wrap(infos))
        event = SimpleNamespace(
            metadata=bearer("t"), method_name=EXECUTE, method_func=None, deadline=None, peer=None
        )
        await server._on_request(event)  # type: ignore[arg-type]
        assert (infos[0].tenant, infos[0].scopes) == ("acme", frozenset({"execute", "events"}))

    async def test_open_health_has_no_caller(self, tmp_path: Path) -> None:
        """Health needs no token: admitted with no tenant and no scopes."""
        path = tokens_file(tmp_path, ("t", "acme", "execute"))
        server = VoiceCoreServer(Settings(auth_tokens_file=path))
        infos: list[CallInfo] = []
        server._admission.wrap = recording_wrap(infos)  # type: ignore[method-assign]
        event = SimpleNamespace(
            metadata={}, method_name=HEALTH, method_func=None, deadline=None, peer=None
        )
        await server._on_request(event)  # type: ignore[arg-type]
        assert (infos[0].tenant, infos[0].scopes) == ("", frozenset())

    async def test_refused_before_admission(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A wrong token never reaches admission: no slot, no body read."""
        path = tokens_file(tmp_path, ("t", "acme", "execute"))
        server = VoiceCoreServer(Settings(auth_tokens_file=path))
        admitted: list[CallInfo] = []
        monkeypatch.setattr(server._admission, "wrap", recording_wrap(admitted))
        event = SimpleNamespace(
            metadata=bearer("x"), method_name=EXECUTE, method_func=None, deadline=None, peer=None
        )
        with pytest.raises(GRPCError):
            await server._on_request(event)  # type: ignore[arg-type]
        assert admitted == []

    async def test_reload_without_auth_does_nothing(self) -> None:
        server = VoiceCoreServer(Settings())
        server.reload_tokens()
        assert server._auth is None


class TestTokenCommand:
    def test_prints_token_then_its_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Two lines: a fresh token, then the tokens-file line that admits it."""
        assert main(["token", "--tenant", "acme", "--scopes", "execute,events"]) == 0
        token, line = capsys.readouterr().out.splitlines()
        assert len(token) >= 43 and token not in line
        (entry,) = parse_tokens(line)
        assert entry.digest == token_digest(token)
        assert (entry.tenant, entry.scopes) == ("acme", frozenset({"execute", "events"}))

    def test_tokens_differ(self, capsys: pytest.CaptureFixture[str]) -> None:
        main(["token", "--tenant", "a", "--scopes", "admin"])
        main(["token", "--tenant", "a", "--scopes", "admin"])
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] != lines[2]

    @pytest.mark.parametrize(
        ("tenant", "scopes", "complaint"),
        [
            ("", "execute", "tenant"),
            ("a b", "execute", "tenant"),
            ("acme", "execute,root", "unknown scope 'root'"),
            ("acme", "", "unknown scope ''"),
        ],
    )
    def test_invalid_tenant_or_scope(
        self, tenant: str, scopes: str, complaint: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["token", "--tenant", tenant, "--scopes", scopes]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and complaint in captured.err
