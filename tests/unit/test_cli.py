"""The `voicecore` command line: subcommands and serve's flags."""

from __future__ import annotations

import pytest

from voicecore.cli import build_parser, main


class TestParser:
    def test_every_subcommand_is_offered(self) -> None:
        """`voicecore --help` lists serve and the client commands."""
        help_text = build_parser().format_help()
        for name in ("serve", "call", "events", "health", "primitives"):
            assert name in help_text

    def test_serve_flags_are_parsed(self) -> None:
        """Flags land in the namespace; unset ones stay None so the environment can apply."""
        args = build_parser().parse_args(["serve", "--port", "6000", "--log-json"])
        assert (args.port, args.log_json, args.host, args.debug_primitives) == (
            6000,
            True,
            None,
            None,
        )

    def test_invalid_setting_exits_2_naming_the_field(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A value Settings refuses is reported in one line, before anything starts."""
        assert main(["serve", "--default-timeout", "-1"]) == 2
        assert "default_timeout" in capsys.readouterr().err

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--version prints the package version."""
        with pytest.raises(SystemExit) as info:
            main(["--version"])
        assert info.value.code == 0
        assert capsys.readouterr().out.startswith("voicecore ")

    def test_cross_field_error_is_one_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A refusal that involves two settings still prints a single clear line."""
        assert main(["serve", "--default-timeout", "900"]) == 2
        err = capsys.readouterr().err
        assert "default_timeout should not exceed max_timeout" in err
        assert err.count("\n") == 1
