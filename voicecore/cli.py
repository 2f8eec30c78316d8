"""The ``voicecore`` command: ``serve`` runs the server; the client commands call one."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import ssl
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from voicecore._auth import (
    SCOPES,
    new_token,
    tokens_file_line,
    validate_scopes,
    validate_tenant,
)
from voicecore._cli_client import add_client_commands
from voicecore._logging import configure_logging
from voicecore._version import __version__
from voicecore.config import Settings

__all__ = ["build_parser", "main"]


def _serve_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the voicecore gRPC server. Each flag can also be set as VOICECORE_<NAME>.",
    )
    serve.add_argument("--host", help="address to bind (VOICECORE_HOST, default 127.0.0.1)")
    serve.add_argument(
        "--insecure",
        action="store_const",
        const=True,
        help="serve a non-loopback address without authentication (VOICECORE_INSECURE)",
    )
    serve.add_argument("--port", type=int, help="TCP port (VOICECORE_PORT, default 50051)")
    serve.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="certificate chain: serve TLS, with --tls-key; reread on SIGHUP (VOICECORE_TLS_CERT)",
    )
    serve.add_argument(
        "--tls-key", metavar="PEM", help="private key of --tls-cert (VOICECORE_TLS_KEY)"
    )
    serve.add_argument(
        "--tls-client-ca",
        metavar="PEM",
        help="require client certificates this CA signed: mTLS (VOICECORE_TLS_CLIENT_CA)",
    )
    serve.add_argument(
        "--default-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds a call may run when it sets none (VOICECORE_DEFAULT_TIMEOUT, default 30)",
    )
    serve.add_argument(
        "--log-level", metavar="LEVEL", help="TRACE..CRITICAL (VOICECORE_LOG_LEVEL, default INFO)"
    )
    serve.add_argument(
        "--log-json",
        action="store_const",
        const=True,
        help="log one JSON object per line (VOICECORE_LOG_JSON)",
    )
    serve.add_argument(
        "--debug-primitives",
        action="store_const",
        const=True,
        help="also serve debug_echo, debug_sleep, debug_flaky (VOICECORE_DEBUG_PRIMITIVES)",
    )
    serve.add_argument(
        "--event-retention",
        type=int,
        metavar="N",
        help="events kept for replay (VOICECORE_EVENT_RETENTION, default 100000)",
    )
    serve.add_argument(
        "--grace-period",
        type=float,
        metavar="SECONDS",
        help="seconds in-flight calls get on shutdown (VOICECORE_GRACE_PERIOD, default 10)",
    )
    serve.add_argument(
        "--auth-tokens-file",
        type=Path,
        metavar="PATH",
        help="require a bearer token listed in this file; SIGHUP reloads it "
        "(VOICECORE_AUTH_TOKENS_FILE; 'voicecore token' makes entries)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes serving the port, under one parent that forwards signals; more than 1 "
        "needs a shared store (VOICECORE_WORKERS, default 1)",
    )
    serve.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics; 0: off "
        "(VOICECORE_METRICS_PORT, default 0)",
    )
    serve.add_argument(
        "--metrics-host",
        metavar="HOST",
        help="address of the metrics port (VOICECORE_METRICS_HOST, default 127.0.0.1)",
    )
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        help="one INFO line per call (VOICECORE_ACCESS_LOG, default on)",
    )
    serve.add_argument(
        "--store",
        metavar="URL",
        help="memory, or a Redis URL replicas share: redis://host:6379/0 "
        "(VOICECORE_STORE; password also VOICECORE_STORE_PASSWORD)",
    )
    serve.add_argument(
        "--store-prefix", metavar="PREFIX", help="Redis key prefix (VOICECORE_STORE_PREFIX, vc)"
    )
    # A peer that disconnects makes writes fail with EPIPE; with SIGPIPE's default action the
    # kernel would kill the whole server instead, so serve keeps Python's "ignore".
    serve.set_defaults(func=_serve, dies_on_closed_pipe=False)


# What binding the address can fail with: the person who ran the command can fix each.
_CANNOT_LISTEN = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})


def _serve(args: argparse.Namespace) -> int:
    flags = {
        name: getattr(args, name)
        for name in (
            "host",
            "insecure",
            "port",
            "tls_cert",
            "tls_key",
            "tls_client_ca",
            "default_timeout",
            "log_level",
            "log_json",
            "debug_primitives",
            "event_retention",
            "grace_period",
            "auth_tokens_file",
            "workers",
            "metrics_port",
            "metrics_host",
            "access_log",
            "store",
            "store_prefix",
        )
        if getattr(args, name) is not None
    }
    try:
        settings = Settings(**flags)
    except ValidationError as exc:
        print(f"voicecore serve: {_first_error(exc)}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json=settings.log_json)
    if settings.workers > 1:
        from voicecore._workers import supervise

        return _reporting_start_errors(settings, lambda: supervise(settings, _serve_one))
    return _serve_one(settings)


def _serve_one(settings: Settings) -> int:
    """Serve in this process until SIGTERM or SIGINT (one worker's life); the exit status."""
    from voicecore._tracing import configure_from_env, shutdown_tracing
    from voicecore.server import serve

    # In the worker, not the parent: the SDK's export thread must not be forked.
    configure_from_env()

    def run() -> int:
        try:
            asyncio.run(serve(settings))
        finally:
            shutdown_tracing()  # bounded: a silent collector must not hold the exit
        return 0

    return _reporting_start_errors(settings, run)


def _reporting_start_errors(settings: Settings, run: Callable[[], int]) -> int:
    """``run()``, with the start failures a person can fix told in one line (status 1 or 2)."""
    from voicecore.stores import StoreOpenError

    try:
        return run()
    except StoreOpenError as exc:
        print(f"voicecore serve: {exc}", file=sys.stderr)
        return 2
    except ssl.SSLError as exc:  # an OSError too, but not one of binding the address
        print(
            f"voicecore serve: cannot use the TLS certificate, key or client CA: {exc} "
            "(check --tls-cert, --tls-key and --tls-client-ca)",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        if exc.errno not in _CANNOT_LISTEN:
            raise
        print(
            f"voicecore serve: cannot listen on {settings.host}:{settings.port}: "
            f"{os.strerror(exc.errno)} (choose another with --host/--port or "
            "VOICECORE_HOST/VOICECORE_PORT)",
            file=sys.stderr,
        )
        return 1


def _token_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = subparsers.add_parser(
        "token",
        help="make a new bearer token",
        description="Make a new random bearer token. Prints two lines: the token (give it to "
        "the client), then the line to append to the server's tokens file.",
    )
    token.add_argument("--tenant", required=True, help="the tenant the token's calls belong to")
    token.add_argument(
        "--scopes",
        required=True,
        metavar="SCOPE[,SCOPE...]",
        help=f"what the token may call: {', '.join(SCOPES)}",
    )
    token.set_defaults(func=_token)


def _token(args: argparse.Namespace) -> int:
    try:
        tenant = validate_tenant(args.tenant)
        scopes = validate_scopes(args.scopes)
    except ValueError as exc:
        print(f"voicecore token: {exc}", file=sys.stderr)
        return 2
    token = new_token()
    print(token)
    print(tokens_file_line(token, tenant, scopes))
    return 0


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in error["loc"])
    # Our own checks' messages are whole sentences: without pydantic's "Value error, " prefix.
    message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
    return f"{field}: {message}" if field else message


# --help is read by people in a terminal: plain text, unlike the docstrings' reST.
_DESCRIPTION = (
    "Voice Core turns what a caller said into a validated value (email, phone number, date, "
    "code, yes/no) over gRPC. 'serve' runs the server; 'token' makes a bearer token for it; "
    "'call', 'events', 'health' and 'primitives' call a running one. "
    "'voicecore COMMAND --help' describes each command."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="voicecore", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"voicecore {__version__}")
    # The client commands write to stdout, often a pipe: `voicecore events --follow | head`
    # should end quietly when head exits, as Unix tools do.
    parser.set_defaults(dies_on_closed_pipe=True)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _serve_parser(subparsers)
    _token_parser(subparsers)
    add_client_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voicecore`` console script."""
    args = build_parser().parse_args(argv)
    if argv is None and args.dies_on_closed_pipe:  # run as the command, not called from Python
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    code: int = args.func(args)
    return code
