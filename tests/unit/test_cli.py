"""The `voicecore` command line: subcommands and serve's flags."""

from __future__ import annotations

import json
import os
import re

import pytest

from voicecore._cli_client import readable
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    Event,
    ExecutePrimitiveResponse,
    ExecutionMetadata,
    HealthCheckResponse,
    ListPrimitivesResponse,
    PrimitiveInfo,
)
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


class TestHelp:
    """--help is plain text for people in a terminal."""

    @pytest.mark.parametrize(
        "command", [[], ["serve"], ["call"], ["events"], ["health"], ["primitives"]]
    )
    def test_no_markup(self, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        """No reST (``literal``, `text`, :role:) in the help of voicecore or any subcommand."""
        with pytest.raises(SystemExit) as info:
            main([*command, "--help"])
        assert info.value.code == 0
        help_text = capsys.readouterr().out
        assert help_text.startswith("usage: voicecore")
        assert "`" not in help_text
        assert re.search(r":[a-z]+:", help_text) is None

    def test_events_type_is_documented(self, capsys: pytest.CaptureFixture[str]) -> None:
        """events --help says what --type filters and where the types are listed."""
        with pytest.raises(SystemExit):
            main(["events", "--help"])
        help_text = " ".join(capsys.readouterr().out.split())
        assert "--type TYPE only events of this type, e.g. capture.confirmed" in help_text
        assert "'voicecore primitives --json' lists the event types" in help_text


class TestParamErrors:
    """A param that is not what its flag says names the flag and the param, exit 2."""

    def test_param_json_names_the_param(self, capsys: pytest.CaptureFixture[str]) -> None:
        """KEY:=JSON with a value that is not JSON quotes the flag and says how to send text."""
        assert main(["call", "capture_email", "--param", "max_attempts:=abc"]) == 2
        assert capsys.readouterr().err == (
            "voicecore call: --param max_attempts:=abc: not valid JSON (expecting value at "
            "character 1); max_attempts=abc would send it as a string\n"
        )

    def test_params_json_names_the_flag(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--params-json that is not JSON says where it stops being JSON."""
        assert main(["call", "capture_email", "--params-json", '{"a": }']) == 2
        assert capsys.readouterr().err == (
            "voicecore call: --params-json: not valid JSON (expecting value at character 7)\n"
        )


def _float32(value: float) -> float:
    """``value`` as a float32 field holds it: what the client reads off the wire."""
    return ExecutionMetadata.parse(bytes(ExecutionMetadata(confidence=value))).confidence


class TestReadable:
    """JSON output shows the numbers a person means."""

    def test_struct_numbers_and_float32_as_meant(self) -> None:
        """Whole Struct numbers print as ints, a float32 field without float32's noise."""
        sent = ExecutePrimitiveResponse(
            success=True,
            data=Struct.from_dict(
                {"attempts": 1, "ratio": 0.5, "scores": [2, 0.25], "nested": {"maxLength": 2000}}
            ),
            metadata=ExecutionMetadata(confidence=0.7125, attempt=1, last_event_sequence=7),
        )
        received = ExecutePrimitiveResponse.parse(bytes(sent))
        assert received.metadata is not None and received.metadata.confidence != 0.7125
        assert json.dumps(readable(received)) == (
            '{"success": true, "data": {"attempts": 1, "ratio": 0.5, "scores": [2, 0.25], '
            '"nested": {"maxLength": 2000}}, "metadata": {"confidence": 0.7125, '
            '"attempt": 1, "lastEventSequence": "7"}}'
        )

    @pytest.mark.parametrize(
        ("confidence", "printed"),
        [
            (0.1, 0.1),
            (1 / 3, 0.33333334),
            (1.0, 1.0),
            (0.10427499562501907, 0.104274996),  # one of the float32 values that need 9 digits
            (3.4028234663852886e38, 3.4028235e38),  # float32's largest; 3.403e38 overflows it
        ],
    )
    def test_float32_shortest(self, confidence: float, printed: float) -> None:
        """A float32 prints as the shortest decimal float32 reads back as the same value."""
        metadata = ExecutionMetadata(confidence=_float32(confidence))
        assert readable(metadata) == {"confidence": printed}
        assert _float32(printed) == metadata.confidence

    def test_struct_numbers_past_two_to_the_53_stay_floats(self) -> None:
        """A whole double too large to be an exact integer is not passed off as one."""
        event = Event(payload=Struct.from_dict({"small": 2.0**53, "large": 2.0**53 * 2}))
        assert readable(event) == {"payload": {"small": 2**53, "large": 2.0**54}}

    def test_map_and_repeated_fields(self) -> None:
        """Maps and repeated messages keep their shape."""
        health = HealthCheckResponse(status="SERVING", components={"server": "SERVING"})
        assert readable(health) == {"status": "SERVING", "components": {"server": "SERVING"}}
        answer = ListPrimitivesResponse(
            primitives=[
                PrimitiveInfo(objective_type="a", params_schema=Struct.from_dict({"maximum": 10}))
            ]
        )
        assert readable(answer) == {
            "primitives": [{"objectiveType": "a", "paramsSchema": {"maximum": 10}}]
        }


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client commands run Voice Core in this process: no server needed."""
    for name in [name for name in os.environ if name.startswith("VOICE_CORE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VOICE_CORE_USE_GRPC", "false")


@pytest.mark.usefixtures("in_process")
class TestPrimitives:
    """voicecore primitives: a list, one primitive's params schema, or the whole answer."""

    def test_params_schema_of_one(self, capsys: pytest.CaptureFixture[str]) -> None:
        """OBJECTIVE_TYPE prints its params JSON Schema, whole numbers as ints."""
        assert main(["primitives", "capture_email"]) == 0
        out = capsys.readouterr().out
        schema = json.loads(out)
        assert schema["properties"]["max_attempts"] == {
            "type": "integer",
            "title": "Max Attempts",
            "default": 3,
            "minimum": 1,
            "maximum": 10,
        }
        assert '"maxLength": 2000' in out  # the case: was 2000.0
        assert re.search(r"\d\.0\b", out) is None

    def test_unknown_primitive(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown name exits 1, listing what the server serves."""
        assert main(["primitives", "capture_nothing"]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("voicecore primitives: no primitive 'capture_nothing'; ")
        assert "capture_email, " in captured.err

    def test_json_has_every_schema(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--json prints every primitive with its params schema and event types."""
        assert main(["primitives", "--json"]) == 0
        answer = json.loads(capsys.readouterr().out)
        by_type = {info["objectiveType"]: info for info in answer["primitives"]}
        assert by_type["capture_email"]["paramsSchema"]["type"] == "object"
        assert "capture.confirmed" in by_type["capture_email"]["eventTypes"]

    def test_list(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without arguments: one tab-separated line per primitive."""
        assert main(["primitives"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert (
            "capture_email\t1.0.0\tCapture an email address spoken or spelled by the caller."
            in lines
        )
