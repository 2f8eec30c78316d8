"""A private redis-server for a test: loopback, a free port, a temporary directory, no persistence.

``running_redis(directory)`` starts one and always stops it; ``RedisServer.url`` is what
``--store`` takes. ``stop()`` and ``start()`` (the same port again, so the URL stays valid) and
``kill()`` (SIGKILL) are for outage tests (without persistence, a restarted server has lost
everything); ``pause()`` and ``resume()`` (SIGSTOP, SIGCONT) make it a server that does not
answer but keeps its data. With ``password`` the server requires it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests._servers import HOST, free_port
from voicecore.stores._redis import RedisStore

__all__ = ["RedisServer", "open_redis_store", "running_redis"]

_START_TIMEOUT = 10.0
_POLL_SECONDS = 0.01


class RedisServer:
    """One redis-server process on 127.0.0.1 (see the module docstring)."""

    def __init__(self, directory: Path, *, password: str | None = None) -> None:
        self.directory = directory
        self.password = password
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``, with the password if there is one."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (on the same port as before) and return once it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:  # pragma: no cover - CI installs it (.ci/run)
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        command = [binary, "--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly"]
        command += ["no", "--dir", str(self.directory), "--protected-mode", "no"]
        if self.password:
            command += ["--requirepass", self.password]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.directory
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._answers_ping():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on {HOST}:{self.port}")
            time.sleep(_POLL_SECONDS)

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait for it; nothing if it is not running."""
        self._end(kill=False)

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash would."""
        self._end(kill=True)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections open, commands unanswered, data kept."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server go on (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _end(self, *, kill: bool) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # a paused server could not end
        process.kill() if kill else process.terminate()
        try:
            process.wait(timeout=_START_TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover - a server that ignores SIGTERM
            process.kill()
            process.wait()

    def _answers_ping(self) -> bool:
        auth = f"AUTH {self.password}\r\n" if self.password else ""
        try:
            with socket.create_connection((HOST, self.port), timeout=1.0) as sock:
                sock.sendall(f"{auth}PING\r\n".encode())
                return b"+PONG" in _read_replies(sock, 2 if auth else 1)
        except OSError:
            return False


def _read_replies(sock: socket.socket, lines: int) -> bytes:
    data = b""
    while data.count(b"\r\n") < lines:
        chunk = sock.recv(256)
        if not chunk:
            break
        data += chunk
    return data


@contextmanager
def running_redis(directory: Path, *, password: str | None = None) -> Iterator[RedisServer]:
    """A started ``RedisServer`` in ``directory``, always stopped when the block ends."""
    server = RedisServer(directory, password=password)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def open_redis_store(redis: RedisServer, *, prefix: str = "", **options: Any) -> RedisStore:
    """A ``RedisStore`` on ``redis`` under ``prefix`` (a fresh random one by default, so tests
    sharing a server see none of each other's keys); ``options`` go to ``RedisStore.open``."""
    prefix = prefix or f"t{uuid.uuid4().hex[:8]}"
    return await RedisStore.open(redis.url, prefix=prefix, **options)
