"""The client subcommands of ``voicecore``: ``call``, ``events``, ``health``, ``primitives``,
``delete-conversation``.

Each command prints its answer (JSON, or one line per primitive) on stdout and, on failure, one
line on stderr, and returns a non-zero exit code: 1 when Voice Core answered with a failure or
could not be reached, 2 for bad arguments. The target and its credentials (TLS files, token)
come from the options or the ``VOICE_CORE_*`` variables of ``voicecore.client.ClientConfig``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import struct
import sys
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import betterproto2
from google.protobuf.descriptor import FieldDescriptor
from pydantic import ValidationError

from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import ExecutePrimitiveResponse, ListPrimitivesResponse
from voicecore.client import (
    ClientConfig,
    InProcessClient,
    StreamPolicy,
    VoiceCoreClient,
    VoiceCoreClientBase,
    VoiceCoreClientError,
)

__all__ = ["add_client_commands", "readable"]

if TYPE_CHECKING:  # subscripting it at run time fails: the class is not generic there
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_client_commands(subparsers: Subparsers) -> None:
    """Add ``call``, ``events``, ``health``, ``primitives`` and ``delete-conversation``; each
    sets ``func``."""
    _add_call(subparsers)
    _add_events(subparsers)
    _add_simple(subparsers, "health", "ask the server whether it is serving", _health)
    _add_primitives(subparsers)
    _add_delete(subparsers)


def _common(parser: argparse.ArgumentParser) -> None:
    # SIGPIPE's default action would kill the command, silently, when the server closes the
    # socket (a refused TLS handshake does); a closed stdout is handled in ``_run`` instead.
    parser.set_defaults(dies_on_closed_pipe=False)
    parser.add_argument(
        "--endpoint",
        metavar="HOST:PORT",
        help="host:port of Voice Core (VOICE_CORE_ENDPOINT, default localhost:50051)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="deadline in seconds (VOICE_CORE_TIMEOUT, default 30)",
    )
    parser.add_argument(
        "--tls-ca",
        metavar="PEM",
        help="CA bundle that signs the server's certificate; implies TLS (VOICE_CORE_TLS_CA)",
    )
    parser.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="client certificate for mTLS, with --tls-key (VOICE_CORE_TLS_CERT)",
    )
    parser.add_argument(
        "--tls-key", metavar="PEM", help="the client certificate's key (VOICE_CORE_TLS_KEY)"
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="bearer token (VOICE_CORE_AUTH_TOKEN; prefer it: arguments show in process lists)",
    )
    parser.add_argument(
        "--allow-insecure-token",
        action="store_true",
        help="send the token in plaintext to a non-loopback target "
        "(VOICE_CORE_ALLOW_INSECURE_TOKEN)",
    )


def _add_call(subparsers: Subparsers) -> None:
    call = subparsers.add_parser(
        "call",
        help="execute one primitive and print the response as JSON",
        description="Execute one primitive. --param key=value sends a string; key:=JSON sends "
        "a JSON value (numbers, booleans, lists).",
    )
    call.add_argument("objective_type", metavar="OBJECTIVE_TYPE", help="e.g. capture_email")
    call.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one param (repeatable); KEY:=JSON for a non-string value",
    )
    call.add_argument("--params-json", metavar="JSON", help="params as one JSON object")
    call.add_argument("--conversation", default="", metavar="ID", help="conversation id")
    call.add_argument("--trace-id", metavar="ID", help="trace id (default: generated)")
    call.add_argument("--purpose", default="", metavar="TEXT", help="why the agent asks")
    call.add_argument("--idempotency-key", metavar="KEY", help="same key, same response")
    _common(call)
    call.set_defaults(func=_call)


def _add_events(subparsers: Subparsers) -> None:
    events = subparsers.add_parser(
        "events",
        help="print events as JSON lines",
        description="Print the events the server keeps, one JSON object per line, then with "
        "--follow new ones as they happen. 'voicecore primitives --json' lists the event types "
        "of each primitive.",
    )
    events.add_argument("--conversation", default="", metavar="ID", help="only this conversation")
    events.add_argument("--after", type=int, default=0, metavar="N", help="events after sequence N")
    events.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="TYPE",
        help="only events of this type, e.g. capture.confirmed (repeatable; default: every type)",
    )
    events.add_argument("--follow", action="store_true", help="keep printing new events")
    _common(events)
    events.set_defaults(func=_events)


def _add_primitives(subparsers: Subparsers) -> None:
    primitives = _add_simple(
        subparsers,
        "primitives",
        "list the served primitives, or print one's params as a JSON Schema",
        _primitives,
    )
    primitives.add_argument(
        "objective_type",
        nargs="?",
        metavar="OBJECTIVE_TYPE",
        help="the primitive whose params to print, e.g. capture_email",
    )
    primitives.add_argument(
        "--json",
        action="store_true",
        help="print the whole answer as JSON: every primitive with its params schema and events",
    )


def _add_delete(subparsers: Subparsers) -> None:
    delete = _add_simple(
        subparsers,
        "delete-conversation",
        "erase a conversation: its held captures, idempotency records and events",
        _delete,
    )
    delete.add_argument("conversation_id", metavar="CONVERSATION_ID", help="the conversation")
    delete.add_argument(
        "--allow-missing",
        action="store_true",
        help="succeed when the conversation holds nothing (default: NOT_FOUND, exit 1)",
    )
    delete.add_argument(
        "--tenant", default="", metavar="NAME", help="another tenant's conversation (admin token)"
    )
    delete.add_argument("--trace-id", metavar="ID", help="trace id (default: generated)")


def _add_simple(
    subparsers: Subparsers, name: str, help: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
    _common(parser)
    parser.set_defaults(func=func)
    return parser


def _call(args: argparse.Namespace) -> int:
    try:
        params = _parse_params(args.param, args.params_json)
    except ValueError as exc:
        return _fail("call", str(exc), code=2)

    async def run(client: VoiceCoreClientBase) -> int:
        response = await client.execute(
            args.objective_type,
            params,
            conversation_id=args.conversation,
            purpose=args.purpose,
            trace_id=args.trace_id,
            idempotency_key=args.idempotency_key,
        )
        _print_json(response)
        return 0 if response.success else _fail("call", _failure_line(response))

    return _run("call", args, run)


def _events(args: argparse.Namespace) -> int:
    async def run(client: VoiceCoreClientBase) -> int:
        stream = client.stream_events(
            args.conversation, after_sequence=args.after, types=args.type, follow=args.follow
        )
        async with aclosing(stream) as events:
            async for event in events:
                print(json.dumps(readable(event)), flush=True)
        return 0

    return _run("events", args, run)


def _health(args: argparse.Namespace) -> int:
    async def run(client: VoiceCoreClientBase) -> int:
        health = await client.health()
        _print_json(health)
        if health.status == "SERVING":
            return 0
        reason = health.components.get("client", "server reports NOT_SERVING")
        return _fail("health", reason)

    return _run("health", args, run)


def _primitives(args: argparse.Namespace) -> int:
    async def run(client: VoiceCoreClientBase) -> int:
        answer = await client.list_primitives()
        if args.json:
            _print_json(answer)
        elif args.objective_type is not None:
            return _print_params_schema(answer, args.objective_type)
        else:
            for info in answer.primitives:
                print(f"{info.objective_type}\t{info.version}\t{info.description}")
        return 0

    return _run("primitives", args, run)


def _delete(args: argparse.Namespace) -> int:
    async def run(client: VoiceCoreClientBase) -> int:
        answer = await client.delete_conversation(
            args.conversation_id,
            allow_missing=args.allow_missing,
            tenant=args.tenant,
            trace_id=args.trace_id,
        )
        _print_json(answer)
        return 0

    return _run("delete-conversation", args, run)


def _print_params_schema(answer: ListPrimitivesResponse, objective_type: str) -> int:
    for info in answer.primitives:
        if info.objective_type == objective_type:
            schema = (info.params_schema or Struct()).to_dict()
            print(json.dumps(_whole_numbers_as_ints(schema), indent=2))
            return 0
    served = ", ".join(info.objective_type for info in answer.primitives)
    return _fail("primitives", f"no primitive {objective_type!r}; the server serves {served}")


def _run(
    command: str,
    args: argparse.Namespace,
    body: Callable[[VoiceCoreClientBase], Awaitable[int]],
) -> int:
    """Build the client, run ``body`` with it, and turn what can go wrong into an exit code."""
    try:
        client = _client(args)
    except (ValidationError, ValueError) as exc:
        return _fail(command, _one_line(exc), code=2)

    async def main() -> int:
        async with client:
            return await body(client)

    try:
        code = asyncio.run(main())
        sys.stdout.flush()  # here, so a reader that went away is seen below, not at exit
        return code
    except VoiceCoreClientError as exc:
        return _fail(command, str(exc))
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        return 130


def _reader_gone() -> int:
    """stdout's reader went away (``| head``): stop quietly with the shell's SIGPIPE status."""
    # Point stdout at /dev/null, or the flush at exit fails again and prints a warning.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def _client(args: argparse.Namespace) -> VoiceCoreClientBase:
    overrides: dict[str, object] = {}
    if args.endpoint:
        overrides["endpoint"] = args.endpoint
    if args.timeout is not None:
        overrides["timeout"] = args.timeout
    for flag in ("tls_ca", "tls_cert", "tls_key"):
        if getattr(args, flag):
            overrides[flag] = getattr(args, flag)
            overrides["tls"] = True
    if args.token:
        overrides["auth_token"] = args.token
    if args.allow_insecure_token:
        overrides["allow_insecure_token"] = True
    if getattr(args, "follow", True) is False:
        # A one-off replay should report an absent server now, not after minutes of patience.
        overrides["stream"] = StreamPolicy(max_reconnects=0)
    config = ClientConfig.from_env()
    config = ClientConfig.model_validate({**config.model_dump(), **overrides})
    if not config.use_grpc:
        return InProcessClient(config=config)
    return VoiceCoreClient(config=config)


def _parse_params(pairs: list[str], params_json: str | None) -> dict[str, JsonValue]:
    params: dict[str, JsonValue] = {}
    if params_json:
        loaded = _json_argument("--params-json", params_json)
        if not isinstance(loaded, dict):
            raise ValueError("--params-json should be a JSON object")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or key == ":":
            raise ValueError(f"--param should be KEY=VALUE or KEY:=JSON, got {pair!r}")
        if key.endswith(":"):
            name = key[:-1]
            hint = f"{name}={value} would send it as a string"
            params[name] = _json_argument(f"--param {pair}", value, hint)
        else:
            params[key] = value
    return params


def _json_argument(flag: str, text: str, hint: str = "") -> JsonValue:
    """``text`` parsed as JSON; a ValueError that quotes ``flag`` (the user's own words), then
    ``hint``, when it is not JSON."""
    try:
        value: JsonValue = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg[0].lower()}{exc.msg[1:]} at character {exc.pos + 1}"
        message = f"{flag}: not valid JSON ({problem})"
        raise ValueError(f"{message}; {hint}" if hint else message) from None
    return value


def _failure_line(response: ExecutePrimitiveResponse) -> str:
    if response.error is None:
        return "the call failed without an error"
    return f"{response.error.code.name}: {response.error.message}"


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"])
        if not field:  # a rule across fields: its message names them
            return str(error["msg"]).removeprefix("Value error, ")
        return f"{field}: {error['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _fail(command: str, message: str, *, code: int = 1) -> int:
    print(f"voicecore {command}: {message}", file=sys.stderr)
    return code


def _print_json(message: betterproto2.Message) -> None:
    print(json.dumps(readable(message), indent=2))


def readable(message: betterproto2.Message) -> dict[str, Any]:
    """``message.to_dict()`` with the numbers a person means.

    A Struct holds every number as a double, so whole ones print as ints (``"attempts": 1``,
    not ``1.0``); a float32 field prints the shortest decimal that float32 reads back as the
    same value (``0.7125``, not ``0.7124999761581421``). The field types come from the message's
    protobuf descriptor, so only Struct values and float32 fields change.
    """
    descriptor = type(message).DESCRIPTOR  # type: ignore[attr-defined]
    return _readable_fields(message.to_dict(), descriptor)


_STRUCT_TYPES = frozenset(
    {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
)
# Doubles hold every integer up to 2**53 exactly; a larger whole double may not be the integer
# that was sent, so it stays as it is.
_EXACT_INTEGERS = 2.0**53


def _readable_fields(fields: dict[str, Any], descriptor: Any) -> dict[str, Any]:
    by_json_name = {field.json_name: field for field in descriptor.fields}
    return {name: _readable_value(value, by_json_name[name]) for name, value in fields.items()}


def _readable_value(value: Any, field: Any) -> Any:
    if isinstance(value, list):  # a repeated field: each item is of the field's type
        return [_readable_value(item, field) for item in value]
    if field.type == FieldDescriptor.TYPE_FLOAT and isinstance(value, float):
        return _shortest_float32(value)
    message_type = field.message_type
    if message_type is None or not isinstance(value, dict):  # a scalar, or a well-known string
        return value
    if message_type.full_name in _STRUCT_TYPES:
        return _whole_numbers_as_ints(value)
    if message_type.GetOptions().map_entry:
        entry_value = message_type.fields_by_name["value"]
        return {key: _readable_value(item, entry_value) for key, item in value.items()}
    return _readable_fields(value, message_type)


def _whole_numbers_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_INTEGERS:
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_numbers_as_ints(item) for key, item in value.items()}
    return value


def _shortest_float32(value: float) -> float:
    """The shortest decimal that float32 reads as the same number as ``value``."""
    single = _as_float32(value)
    for digits in range(1, 9):
        candidate = float(f"{value:.{digits}g}")
        if _as_float32(candidate) == single:
            return candidate
    return float(f"{value:.9g}")  # 9 significant digits tell every two float32 values apart


def _as_float32(value: float) -> float | None:
    """``value`` rounded to float32; None when float32 cannot hold it (rounded up past its
    largest value, as a short decimal of a number near it may be)."""
    try:
        single: float = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return None
    return single
