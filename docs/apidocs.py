"""Write docs/api.md, the API reference, from the proto's comments and the registered primitives.

``nox -s docs`` runs it (``python -m docs.apidocs``); the session then fails when the committed
docs/api.md differs. The wire contract comes from protoc's own parse: grpcio-tools' protoc writes
a descriptor set with ``--include_source_info``, and each element's comment is the
``SourceCodeInfo`` location of its path (service ``6,i``, method ``6,i,2,j``, message ``4,k``,
field ``4,k,2,n``, enum ``5,e``, enum value ``5,e,2,v``). The primitives part runs each built-in
primitive in this process on a fixed example, with a fixed trace id and event clock, so the
examples are what the server answers and the file is the same on every run.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
    FileDescriptorSet,
)
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ErrorCode, ExecutePrimitiveRequest
from voicecore.client._errors import classify
from voicecore.config import Settings
from voicecore.events import InMemoryEventLog
from voicecore.primitive import Primitive
from voicecore.primitives import builtin_primitives
from voicecore.registry import PrimitiveRegistry
from voicecore.service import VoiceCoreService

__all__ = ["Element", "descriptor_set", "elements", "render", "undocumented"]

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "proto"
PROTO_FILE = "voicecore/v1/voice_core.proto"
OUTPUT = ROOT / "docs" / "api.md"

# SourceCodeInfo path numbers (descriptor.proto field numbers).
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _VALUE, _METHOD = 2, 3, 2, 2

# A fenced block's source, in the comment above it (tests/unit/test_docs.py reads these).
GENERATED = "<!-- nox -s docs -->"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
_EVENT_TIME = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

# One turn per primitive, as an orchestrator would send it.
EXAMPLES: dict[str, dict[str, Any]] = {
    "capture_email": {"transcription": "it's jane dot doe at example dot com"},
    "capture_phone": {"transcription": "four one five five five five two six seven one"},
    "capture_date": {
        "transcription": "the fifth of march",
        "reference_date": "2026-12-01",
    },
    "capture_time": {"transcription": "half past three in the afternoon"},
    "capture_number": {"transcription": "two hundred and fifty", "max_value": 1000},
    "capture_digits": {"transcription": "nine four one zero three", "min_length": 5},
    "capture_name": {"transcription": "D O E, doe"},
    "capture_amount": {"transcription": "uh, it's twelve fifty", "max_value": 500},
    "capture_choice": {
        "transcription": "the second one please",
        "options": [
            {"id": "morning", "label": "Tuesday morning", "synonyms": ["the morning"]},
            {"id": "afternoon", "label": "Tuesday afternoon", "synonyms": ["after lunch"]},
        ],
    },
    "capture_address": {
        "transcription": "my address is one twenty three main street apartment four b, "
        "san francisco california nine four one oh seven"
    },
    "capture_card": {
        "transcription": "it's 4111 1111 1111 1111, expires oh four twenty seven, cvv 123",
        "reference_date": "2026-01-15",
    },
    "confirm": {
        "transcription": "yes that's right",
        "alternatives": [{"transcription": "yes that's right", "confidence": 0.92}],
    },
}

# What a client should do for each ErrorCode a response can carry.
ERROR_ADVICE: dict[str, str] = {
    "ERROR_CODE_UNSPECIFIED": "Never sent; treat as INTERNAL.",
    "PRIMITIVE_NOT_FOUND": "Fix the configuration: the objective_type is not served here "
    "(`ListPrimitives` says what is). Do not retry.",
    "INVALID_PARAMS": "Fix the request: `details.errors` names each field. Do not retry as is; "
    "an `idempotency_conflict` means the key was reused for a different turn.",
    "TIMEOUT": "Retryable (`retryable` is true) with the same idempotency key while the turn "
    "still matters; otherwise ask the caller again.",
    "INTERNAL": "A server failure: retry once with the same idempotency key if `retryable`, "
    "else report it with the trace id and ask the caller again.",
    "CIRCUIT_BREAKER_OPEN": "Made by the client, nothing was sent: fall back (transfer, "
    "ask the caller to hold) and try again after the breaker's open interval.",
    "UNAVAILABLE": "Made by the client after its retries: the server is unreachable. "
    "Fall back as for CIRCUIT_BREAKER_OPEN.",
    "CANCELLED": "The call was cancelled (usually by the caller's side): nothing to do.",
}

# The gRPC statuses the server sends, when it sends them, and what a client should do.
STATUS_CASES: dict[Status, tuple[str, str]] = {
    Status.OK: (
        "Every ExecutePrimitive outcome, failures included (see `error.code`).",
        "Read `success` and `error`.",
    ),
    Status.INVALID_ARGUMENT: (
        "The bytes are not the method's message, a header is malformed, or a StreamEvents or "
        "DeleteConversation field is out of bounds (or missing).",
        "Fix the client; do not retry.",
    ),
    Status.UNAUTHENTICATED: (
        "Auth is on and the bearer token is missing or unknown.",
        "Fix the configuration (`VOICE_CORE_AUTH_TOKEN`); do not retry.",
    ),
    Status.PERMISSION_DENIED: (
        "The token lacks the scope the method needs (or, in DeleteConversation, names another "
        "tenant without admin).",
        "Fix the token's scopes; do not retry.",
    ),
    Status.NOT_FOUND: (
        "DeleteConversation: the conversation holds nothing (never used, already erased, "
        "expired, or another tenant's).",
        "Nothing to erase; send `allow_missing` to get OK instead.",
    ),
    Status.RESOURCE_EXHAUSTED: (
        "Too many calls in flight (server or connection share), or a message over the limit.",
        "Back off; the breaker counts it as a failure.",
    ),
    Status.UNAVAILABLE: (
        "The server is draining (shutting down), its store does not answer, or a request did "
        "not arrive whole in time (often an overloaded server).",
        "Retry with the same idempotency key, on another replica if there is one.",
    ),
    Status.DEADLINE_EXCEEDED: (
        "The call's deadline passed before it started.",
        "Ask the caller again or give up the turn; a larger deadline if it keeps happening.",
    ),
    Status.OUT_OF_RANGE: (
        "StreamEvents: `after_sequence` was evicted, or is ahead of this server's log.",
        "Resume from 0 (what the server still keeps) and accept the gap.",
    ),
    Status.UNIMPLEMENTED: (
        "An unknown method, or a compressed message.",
        "Fix the client (send uncompressed messages); do not retry.",
    ),
    Status.INTERNAL: (
        "A bug while serving, with no stack trace on the wire.",
        "Report it with the trace id.",
    ),
}

_SCALARS = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in FieldDescriptorProto.Type.items()
    if name not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}


@dataclass(frozen=True, slots=True)
class Element:
    """One documentable element of a proto file: its kind, full name and comment."""

    kind: str
    name: str
    comment: str


def descriptor_set(
    proto_root: Path = PROTO_ROOT, proto_file: str = PROTO_FILE
) -> FileDescriptorSet:
    """protoc's parse of ``proto_file``, comments included (grpcio-tools' bundled protoc)."""
    import grpc_tools

    includes = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        # A subprocess: protoc's main reports errors on stderr and by exit status only.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"-I{proto_root}",
                f"-I{includes}",
                "--include_source_info",
                f"--descriptor_set_out={out}",
                proto_file,
            ],
            check=True,
        )
        return FileDescriptorSet.FromString(out.read_bytes())


def _comments(file: FileDescriptorProto) -> dict[tuple[int, ...], str]:
    found = {}
    for location in file.source_code_info.location:
        text = location.leading_comments or location.trailing_comments
        if text.strip():
            lines = [line.removeprefix(" ") for line in text.strip("\n").split("\n")]
            found[tuple(location.path)] = "\n".join(lines).strip()
    return found


def _message_elements(
    message: DescriptorProto, prefix: str, path: tuple[int, ...], comments: Mapping[Any, str]
) -> Iterator[Element]:
    name = f"{prefix}.{message.name}"
    yield Element("message", name, comments.get(path, ""))
    for n, field in enumerate(message.field):
        yield Element("field", f"{name}.{field.name}", comments.get((*path, _FIELD, n), ""))
    for k, nested in enumerate(message.nested_type):
        if not nested.options.map_entry:  # map<k, v>: protoc's entry type, not written
            yield from _message_elements(nested, name, (*path, _NESTED, k), comments)


def elements(file: FileDescriptorProto) -> list[Element]:
    """Every service, method, message, field, enum and enum value of ``file``, in file order."""
    comments = _comments(file)
    found: list[Element] = []
    for i, service in enumerate(file.service):
        name = f"{file.package}.{service.name}"
        found.append(Element("service", name, comments.get((_SERVICE, i), "")))
        for j, method in enumerate(service.method):
            comment = comments.get((_SERVICE, i, _METHOD, j), "")
            found.append(Element("method", f"{name}.{method.name}", comment))
    for k, message in enumerate(file.message_type):
        found.extend(_message_elements(message, file.package, (_MESSAGE, k), comments))
    for e, enum in enumerate(file.enum_type):
        name = f"{file.package}.{enum.name}"
        found.append(Element("enum", name, comments.get((_ENUM, e), "")))
        for v, value in enumerate(enum.value):
            found.append(
                Element(
                    "enum value", f"{name}.{value.name}", comments.get((_ENUM, e, _VALUE, v), "")
                )
            )
    return found


def undocumented(file: FileDescriptorProto) -> list[str]:
    """The elements of ``file`` without a comment, as ``kind name``."""
    return [f"{e.kind} {e.name}" for e in elements(file) if not e.comment]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(name: str) -> str:
    return name.lower().replace(".", "")


def _type_link(type_name: str, package: str) -> str:
    name = type_name.removeprefix(".")
    short = name.removeprefix(f"{package}.")
    return f"[{short}](#{_anchor(short)})" if short != name else f"`{name}`"


def _field_type(field: FieldDescriptorProto, message: DescriptorProto, package: str) -> str:
    if field.type in _SCALARS:
        base = f"`{_SCALARS[field.type]}`"
    else:
        entry = next(
            (
                n
                for n in message.nested_type
                if field.type_name.endswith(f".{message.name}.{n.name}")
            ),
            None,
        )
        if entry is not None and entry.options.map_entry:
            key, value = entry.field
            return f"map<{_field_type(key, entry, package)}, {_field_type(value, entry, package)}>"
        base = _type_link(field.type_name, package)
    return f"repeated {base}" if field.label == FieldDescriptorProto.LABEL_REPEATED else base


def _kind(client_streaming: bool, server_streaming: bool) -> str:
    if client_streaming and server_streaming:
        return "bidirectional streaming"
    if client_streaming:
        return "client streaming"
    return "server streaming" if server_streaming else "unary"


def _json_block(value: object) -> list[str]:
    return [GENERATED, "```json", json.dumps(value, indent=2, ensure_ascii=False), "```"]


def _contract(file: FileDescriptorProto) -> list[str]:
    comments = {e.name: e.comment for e in elements(file)}
    package = file.package
    out: list[str] = []
    for service in file.service:
        full = f"{package}.{service.name}"
        out += [f"## Service {full}", "", comments[full], ""]
        out += ["| Method | Request | Response | Kind | Description |", "|---|---|---|---|---|"]
        for m in service.method:
            out.append(
                f"| `{m.name}` | {_type_link(m.input_type, package)} | "
                f"{_type_link(m.output_type, package)} | "
                f"{_kind(m.client_streaming, m.server_streaming)} | "
                f"{_cell(comments[f'{full}.{m.name}'])} |"
            )
        out.append("")
    out += ["## Messages", ""]
    for message in file.message_type:
        full = f"{package}.{message.name}"
        out += [f"### {message.name}", "", comments[full], ""]
        if not message.field:
            out += ["No fields.", ""]
            continue
        out += ["| Field | Number | Type | Description |", "|---|---|---|---|"]
        for field in message.field:
            kind = _field_type(field, message, package)
            comment = _cell(comments[f"{full}.{field.name}"])
            out.append(f"| `{field.name}` | {field.number} | {kind} | {comment} |")
        out.append("")
    out += ["## Enums", ""]
    for enum in file.enum_type:
        out += _enum(enum, f"{package}.{enum.name}", comments)
    return out


def _enum(enum: EnumDescriptorProto, full: str, comments: Mapping[str, str]) -> list[str]:
    out = [f"### {enum.name}", "", comments[full], "", "| Name | Number | Description |"]
    out.append("|---|---|---|")
    for value in enum.value:
        out.append(
            f"| `{value.name}` | {value.number} | {_cell(comments[f'{full}.{value.name}'])} |"
        )
    return [*out, ""]


def _schema_type(schema: Mapping[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_schema_type(option) for option in schema["anyOf"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_schema_type(schema.get('items', {}))}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _params_table(schema: Mapping[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    out = ["| Param | Type | Default |", "|---|---|---|"]
    for name, prop in schema["properties"].items():
        default = "required" if name in required else f"`{json.dumps(prop.get('default'))}`"
        out.append(f"| `{name}` | {_cell(_schema_type(prop))} | {default} |")
    return out


async def _example(primitive: Primitive[Any], params: Mapping[str, Any]) -> tuple[Any, Any]:
    """The request and the response of one turn, run in a fresh in-process service."""
    events = InMemoryEventLog(1000, clock=lambda: _EVENT_TIME)
    service = VoiceCoreService(PrimitiveRegistry([primitive]), settings=Settings(), events=events)
    request = ExecutePrimitiveRequest(
        objective_type=primitive.name,
        params=Struct.from_dict(dict(params)),
        conversation_id="call-42",
        trace_id=TRACE_ID,
        purpose="book your appointment",
        idempotency_key="turn-1",
    )
    response = await service.execute_primitive(request)
    assert response.metadata is not None
    response.metadata.duration = timedelta(0)  # the server's wall time: fixed for the file
    return request.to_dict(), response.to_dict()


def _primitives(primitives: list[Primitive[Any]], examples: Mapping[str, Any]) -> list[str]:
    out = [
        "## Primitives",
        "",
        "What `ListPrimitives` answers, with one turn of each run in process (a fresh server, "
        f"trace id `{TRACE_ID}`; `metadata.duration`, the server's wall time, is shown as 0). "
        "Requests and responses are in the proto3 JSON mapping.",
        "",
    ]
    for primitive in sorted(primitives, key=lambda p: p.name):
        if primitive.name not in examples:
            raise KeyError(f"docs/apidocs.py: EXAMPLES has no turn for {primitive.name!r}")
        schema = primitive.params_model.model_json_schema()
        request, response = asyncio.run(_example(primitive, examples[primitive.name]))
        event_types = ", ".join(f"`{t}`" for t in primitive.event_types) or "none of its own"
        out += [
            f"### {primitive.name}",
            "",
            f"{primitive.description} Version {primitive.version}.",
        ]
        out += ["", f"Events beyond `primitive.*`: {event_types}.", ""]
        about = _cell(str(schema.get("description", ""))).replace("``", "`")  # rST to Markdown
        out += [about, "", *_params_table(schema), ""]
        out += ["<details><summary>Params JSON Schema</summary>", "", *_json_block(schema)]
        out += ["", "</details>", "", "Example request:", "", *_json_block(request), ""]
        out += ["Its response:", "", *_json_block(response), ""]
    return out


def _errors(file: FileDescriptorProto) -> list[str]:
    comments = {e.name: e.comment for e in elements(file)}
    enum = next(e for e in file.enum_type if e.name == ErrorCode.__name__)
    out = [
        "## Errors and what to do",
        "",
        "An ExecutePrimitive outcome travels in the response, with gRPC status OK: "
        "`success` false and `error.code`. The Python client (`voicecore.client`) makes the last "
        "three codes itself when no response came, so `execute` never raises for a sick server.",
        "",
        "| `error.code` | Meaning | What a client should do |",
        "|---|---|---|",
    ]
    for value in enum.value:
        if value.name not in ERROR_ADVICE:
            raise KeyError(f"docs/apidocs.py: ERROR_ADVICE has nothing for {value.name}")
        meaning = _cell(comments[f"{file.package}.{enum.name}.{value.name}"])
        out.append(f"| `{value.name}` | {meaning} | {ERROR_ADVICE[value.name]} |")
    out += [
        "",
        "A gRPC status other than OK means the call did not run (or, for StreamEvents, ended). "
        "The last column is the `error.code` the Python client turns it into, and whether it "
        "retries on its own (under the same idempotency key, within its retry budget).",
        "",
        "| gRPC status | When the server sends it | What to do | Python client |",
        "|---|---|---|---|",
    ]
    for status, (when, advice) in STATUS_CASES.items():
        if status is Status.OK:
            client = "the response"
        else:
            failure = classify(GRPCError(status, ""))
            client = f"`{failure.code.name}`, {'retried' if failure.retryable else 'not retried'}"
        out.append(f"| `{status.name}` | {when} | {advice} | {client} |")
    return [*out, ""]


def render(file: FileDescriptorProto, primitives: list[Primitive[Any]]) -> str:
    """docs/api.md for ``file`` and ``primitives``."""
    lines = [
        "# API reference",
        "",
        f"<!-- Generated by docs/apidocs.py from proto/{file.name}: edit the proto's comments "
        "or the tool, then run `nox -s docs`. -->",
        "",
        f"The gRPC contract of voicecore, package `{file.package}` (`proto/{file.name}`), "
        "generated from the comments in the proto file by `nox -s docs`, followed by each "
        "primitive's params and an example turn, and the errors a client can meet. "
        "A server with reflection on also answers `grpcurl -plaintext HOST:PORT describe`.",
        "",
        *_contract(file),
        *_errors(file),
        *_primitives(primitives, EXAMPLES),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    """Write docs/api.md."""
    (file,) = [f for f in descriptor_set().file if f.name == PROTO_FILE]
    OUTPUT.write_text(render(file, builtin_primitives()), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
