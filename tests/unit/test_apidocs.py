"""docs/api.md (docs/apidocs.py, ``nox -s docs``): every proto element documented, file current."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from grpclib.const import Status

from docs import apidocs
from voicecore._proto.voicecore.v1 import ErrorCode
from voicecore.primitives import builtin_primitives

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"service", "method", "message", "field", "enum", "enum value"}

SKETCH = """\
syntax = "proto3";
package demo.v1;

// Said.
service Demo {
  rpc Quiet(Ask) returns (stream Ask);
  // Said.
  rpc Both(stream Ask) returns (stream Ask);
}

// Said.
message Ask {
  // Said.
  string said = 1;
  map<string, int32> tally = 2;
  // Said.
  message Inner {
    bool flag = 1;
  }
}

enum Colour {
  // Said.
  COLOUR_UNSPECIFIED = 0;
  RED = 1;
}
"""


@pytest.fixture(scope="module")
def contract() -> Any:
    (file,) = [f for f in apidocs.descriptor_set().file if f.name == apidocs.PROTO_FILE]
    return file


@pytest.fixture(scope="module")
def sketch(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("proto")
    (root / "demo.proto").write_text(SKETCH, encoding="utf-8")
    (file,) = apidocs.descriptor_set(root, "demo.proto").file
    return file


def test_every_proto_element_has_a_comment(contract: Any) -> None:
    found = apidocs.elements(contract)
    assert {element.kind for element in found} == KINDS
    assert len(found) > 70  # 1 service, 4 methods, 11 messages and their fields, 2 enums
    assert apidocs.undocumented(contract) == []


def test_undocumented_names_each_element_without_a_comment(sketch: Any) -> None:
    assert apidocs.undocumented(sketch) == [
        "method demo.v1.Demo.Quiet",
        "field demo.v1.Ask.tally",
        "field demo.v1.Ask.Inner.flag",
        "enum demo.v1.Colour",
        "enum value demo.v1.Colour.RED",
    ]


def test_docs_api_md_is_what_the_generator_writes(contract: Any) -> None:
    """The drift check `nox -s docs` makes, here too: regenerate with `nox -s docs`."""
    written = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert apidocs.render(contract, builtin_primitives()) == written


def test_the_reference_shows_every_element_and_primitive(contract: Any) -> None:
    text = apidocs.render(contract, builtin_primitives())
    for element in apidocs.elements(contract):
        short = element.name.rsplit(".", 1)[-1]
        assert short in text, element
    for primitive in builtin_primitives():
        section = text.split(f"\n### {primitive.name}\n", 1)[1].split("\n### ", 1)[0]
        assert "Params JSON Schema" in section
        # the example ran: a response with its fixed trace id and no error
        assert f'"traceId": "{apidocs.TRACE_ID}"' in section
        assert '"success": true' in section


def test_kinds_and_map_types_are_rendered(sketch: Any) -> None:
    text = "\n".join(apidocs._contract(sketch))
    assert "| `Quiet` | [Ask](#ask) | [Ask](#ask) | server streaming |" in text
    assert "| bidirectional streaming |" in text
    assert "| `tally` | 2 | map<`string`, `int32`> |" in text
    assert apidocs._kind(True, False) == "client streaming"
    assert apidocs._kind(False, False) == "unary"


def test_every_error_code_has_advice() -> None:
    assert set(apidocs.ERROR_ADVICE) == {code.name for code in ErrorCode}


def test_a_primitive_without_an_example_is_refused() -> None:
    examples = {name: turn for name, turn in apidocs.EXAMPLES.items() if name != "capture_date"}
    with pytest.raises(KeyError, match="capture_date"):
        apidocs._primitives(builtin_primitives(), examples)


def test_an_error_code_without_advice_is_refused(
    contract: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(apidocs.ERROR_ADVICE, "TIMEOUT")
    with pytest.raises(KeyError, match="TIMEOUT"):
        apidocs._errors(contract)


def test_every_status_the_server_raises_is_documented() -> None:
    """Each ``Status.X`` the server side names (the client's are its own) has a row."""
    # _tracing and _metrics name statuses to classify spans and calls (CANCELLED, UNKNOWN...);
    # they answer none.
    server_side = [
        p
        for p in (ROOT / "voicecore").rglob("*.py")
        if "client" not in p.parts and p.name not in {"_tracing.py", "_metrics.py"}
    ]
    named = {
        match
        for path in server_side
        if "_proto" not in path.parts
        for match in re.findall(r"\bStatus\.([A-Z_]+)", path.read_text(encoding="utf-8"))
    }
    assert named
    assert {Status[name] for name in named} <= set(apidocs.STATUS_CASES)
