"""The client subcommands of ``voicecore``: ``call``, ``events``, ``health``, ``primitives``.

Each command prints its answer (JSON, or one line per primitive) on stdout and, on failure, one
line on stderr, and returns a non-zero exit code: 1 when Voice Core answered with a failure or
could not be reached, 2 for bad arguments. The target comes from ``--endpoint`` or the
``VOICE_CORE_*`` variables of ``voicecore.client.ClientConfig``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING

from pydantic import ValidationError

from voicecore._json import JsonValue
from voicecore._proto.voicecore.v1 import ExecutePrimitiveResponse
from voicecore.client import (
    ClientConfig,
    InProcessClient,
    StreamPolicy,
    VoiceCoreClient,
    VoiceCoreClientBase,
    VoiceCoreClientError,
)

__all__ = ["add_client_commands"]

if TYPE_CHECKING:  # subscripting it at run time fails: the class is not generic there
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_client_commands(subparsers: Subparsers) -> None:
    """Add ``call``, ``events``, ``health`` and ``primitives``; each sets ``func``."""
    _add_call(subparsers)
    _add_events(subparsers)
    _add_simple(subparsers, "health", "ask the server whether it is serving", _health)
    primitives = _add_simple(subparsers, "primitives", "list the served primitives", _primitives)
    primitives.add_argument("--json", action="store_true", help="print the full JSON answer")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint", help="host:port of Voice Core (VOICE_CORE_ENDPOINT, default localhost:50051)"
    )
    parser.add_argument(
        "--timeout", type=float, help="deadline in seconds (VOICE_CORE_TIMEOUT, default 30)"
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
    call.add_argument("--purpose", default="", help="why the agent asks")
    call.add_argument("--idempotency-key", metavar="KEY", help="same key, same response")
    _common(call)
    call.set_defaults(func=_call)


def _add_events(subparsers: Subparsers) -> None:
    events = subparsers.add_parser(
        "events", help="print events as JSON lines", description="Replay (and follow) events."
    )
    events.add_argument("--conversation", default="", metavar="ID", help="only this conversation")
    events.add_argument("--after", type=int, default=0, metavar="N", help="events after sequence N")
    events.add_argument("--type", action="append", default=[], help="only this type (repeatable)")
    events.add_argument("--follow", action="store_true", help="keep printing new events")
    _common(events)
    events.set_defaults(func=_events)


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
        print(json.dumps(response.to_dict(), indent=2))
        return 0 if response.success else _fail("call", _failure_line(response))

    return _run("call", args, run)


def _events(args: argparse.Namespace) -> int:
    async def run(client: VoiceCoreClientBase) -> int:
        stream = client.stream_events(
            args.conversation, after_sequence=args.after, types=args.type, follow=args.follow
        )
        async with aclosing(stream) as events:
            async for event in events:
                print(json.dumps(event.to_dict()), flush=True)
        return 0

    return _run("events", args, run)


def _health(args: argparse.Namespace) -> int:
    async def run(client: VoiceCoreClientBase) -> int:
        health = await client.health()
        print(json.dumps(health.to_dict(), indent=2))
        if health.status == "SERVING":
            return 0
        reason = health.components.get("client", "server reports NOT_SERVING")
        return _fail("health", reason)

    return _run("health", args, run)


def _primitives(args: argparse.Namespace) -> int:
    async def run(client: VoiceCoreClientBase) -> int:
        answer = await client.list_primitives()
        if args.json:
            print(json.dumps(answer.to_dict(), indent=2))
        for info in [] if args.json else answer.primitives:
            print(f"{info.objective_type}\t{info.version}\t{info.description}")
        return 0

    return _run("primitives", args, run)


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
        return asyncio.run(main())
    except VoiceCoreClientError as exc:
        return _fail(command, str(exc))
    except KeyboardInterrupt:
        return 130


def _client(args: argparse.Namespace) -> VoiceCoreClientBase:
    overrides: dict[str, object] = {}
    if args.endpoint:
        overrides["endpoint"] = args.endpoint
    if args.timeout is not None:
        overrides["timeout"] = args.timeout
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
        loaded = json.loads(params_json)
        if not isinstance(loaded, dict):
            raise ValueError("--params-json should be a JSON object")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or key == ":":
            raise ValueError(f"--param should be KEY=VALUE or KEY:=JSON, got {pair!r}")
        if key.endswith(":"):
            params[key[:-1]] = json.loads(value)
        else:
            params[key] = value
    return params


def _failure_line(response: ExecutePrimitiveResponse) -> str:
    if response.error is None:
        return "the call failed without an error"
    return f"{response.error.code.name}: {response.error.message}"


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"])
        return f"{field}: {error['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _fail(command: str, message: str, *, code: int = 1) -> int:
    print(f"voicecore {command}: {message}", file=sys.stderr)
    return code
