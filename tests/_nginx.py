"""nginx in front of voicecore replicas: Debian's nginx on a free loopback port, always stopped.

The site is ``examples/nginx.conf``, the file the docs show, with its ports put in: the
``listen`` line gets the harness's port and the upstream's ``server`` lines become the given
backends (and ``grpc_read_timeout`` may be set, to show what it holds). A substitution that
finds nothing fails, so the example cannot drift from what is tested. The harness wraps the
site in a top-level configuration that keeps every path (pid, logs, temp files) inside a
temporary prefix directory: no root, no system paths, no system nginx touched.
"""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests._servers import HOST, ServerProcess, free_port
from tests._waiting import until

__all__ = ["EXAMPLE", "Nginx", "site_config", "start_nginx"]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nginx.conf"
_START_TIMEOUT = 20.0
_MAIN = """\
pid nginx.pid;
error_log error.log info;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include {site};
}}
"""
_LISTEN = re.compile(r"^(\s*listen )127\.0\.0\.1:\d+( http2;)$", re.M)
_UPSTREAM_SERVERS = re.compile(
    r"^(\s*)server 127\.0\.0\.1:\d+;\n(?:\s*server 127\.0\.0\.1:\d+;\n)*", re.M
)
_READ_TIMEOUT = re.compile(r"^(\s*grpc_read_timeout )\S+;$", re.M)


def _substitute(pattern: re.Pattern[str], replace: str, text: str) -> str:
    text, count = pattern.subn(replace, text)
    if count != 1:
        raise ValueError(f"{EXAMPLE.name}: {pattern.pattern!r} matched {count} times, not once")
    return text


def site_config(port: int, backends: Sequence[int], *, read_timeout: str | None = None) -> str:
    """``examples/nginx.conf`` listening on ``port`` in front of ``backends`` (ports on
    127.0.0.1), with ``grpc_read_timeout`` set to ``read_timeout`` if given."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = _substitute(_LISTEN, rf"\g<1>{HOST}:{port}\g<2>", text)
    servers = "".join(rf"\g<1>server {HOST}:{backend};\n" for backend in backends)
    text = _substitute(_UPSTREAM_SERVERS, servers, text)
    if read_timeout is not None:
        text = _substitute(_READ_TIMEOUT, rf"\g<1>{read_timeout};", text)
    return text


@dataclass(frozen=True)
class Nginx:
    """A running nginx: where it listens, and its prefix directory (``error.log`` in it)."""

    host: str
    port: int
    prefix: Path
    process: ServerProcess

    @property
    def error_log(self) -> str:
        """What nginx has logged so far."""
        return (self.prefix / "error.log").read_text(errors="replace")


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


@asynccontextmanager
async def start_nginx(
    prefix: Path, backends: Sequence[int], *, read_timeout: str | None = None
) -> AsyncIterator[Nginx]:
    """nginx in the foreground with ``prefix`` as its directory, proxying gRPC to
    ``backends`` per ``site_config``; stopped (SIGTERM, then SIGKILL) when the block ends."""
    executable = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    site = prefix / "voicecore.conf"
    site.write_text(site_config(port, backends, read_timeout=read_timeout))
    (prefix / "nginx.conf").write_text(_MAIN.format(site=site))
    argv = [executable, "-p", str(prefix), "-c", "nginx.conf", "-e", "error.log"]
    with (prefix / "stderr.log").open("ab") as stderr:
        process = ServerProcess([*argv, "-g", "daemon off;"], port, stderr=stderr)
    nginx = Nginx(HOST, port, prefix, process)
    try:
        await until(
            lambda: _accepts(port) or process.exit_code() is not None, timeout=_START_TIMEOUT
        )
        if process.exit_code() is not None:
            raise RuntimeError(f"nginx did not start: {nginx.error_log}")
        yield nginx
    finally:
        await process.stop_async()
