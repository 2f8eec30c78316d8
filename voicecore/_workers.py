"""``voicecore serve --workers N``: N processes serving one port, under one parent.

Each worker is a whole server (``serve_one``, the CLI's single-process path) listening on the
same port with SO_REUSEPORT; the kernel hands each new connection to one of them. That spreads
connections, not calls: a client that keeps one channel (as ``VoiceCoreClient`` does) keeps one
worker busy, while many clients, or a proxy in front that balances per call (nginx, Envoy), use
them all.

The parent serves nothing. It checks that the port is free, so that a second ``serve`` on the
port fails as it does with one worker instead of quietly joining the first one's SO_REUSEPORT
group; it forks the workers; it forwards SIGTERM and SIGINT (every worker drains) and SIGHUP
(every worker reloads) to each worker; and it exits once every worker has.

A worker that exits when nobody asked it to is not restarted. The parent logs it, drains the
other workers and exits with that worker's status (at least 1). A restart inside the process
would hide a crash loop: the pod or unit would look healthy with one worker fewer, and nothing
would count the restarts. Kubernetes and systemd already restart a failed process with backoff,
count the restarts and alert on them, so the failure is theirs to see. Exiting loses nothing that
restarting would keep: more than one worker needs a store every worker shares, and that store
outlives the process.

Linux only (``prctl``), like the deployments it is for.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress

from loguru import logger

from voicecore._metrics_endpoint import for_worker
from voicecore._tls import server_context
from voicecore.config import Settings

__all__ = ["supervise"]

_STOPPING = frozenset({signal.SIGTERM, signal.SIGINT})
_FORWARDED = _STOPPING | {signal.SIGHUP}
_WATCHED = _FORWARDED | {signal.SIGCHLD}
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def supervise(settings: Settings, serve_one: Callable[[Settings], int]) -> int:
    """Run ``settings.workers`` processes, each ``serve_one(settings)``, until all have exited.

    Returns the exit status: 0 when every worker drained after SIGTERM or SIGINT; otherwise that
    of the first worker that failed or exited unasked (128 + N for one killed by signal N).
    Raises ``OSError`` when the port is taken and ``ssl.SSLError`` for unusable TLS files, before
    any worker starts.

    SIGTERM, SIGINT, SIGHUP and SIGCHLD stay blocked in this process afterwards: it is meant to
    exit with the status returned, and a stop signal coming after the last worker has gone
    would otherwise kill it first (status 143 instead of 0).
    """
    server_context(settings)  # bad TLS files: one error here, not one from every worker
    with _reserved_port(settings.host, settings.port) as port:
        settings = settings.model_copy(update={"port": port})
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        parent = _Parent(settings, serve_one, unblocked)
        for index in range(settings.workers):
            parent.fork(index)
        logger.info("workers started", port=port, pids=sorted(parent.workers))
        return parent.wait()


@contextmanager
def _reserved_port(host: str, port: int) -> Iterator[int]:
    """The port, checked free and held (port 0: a free one) until the workers are done.

    A plain bind first: SO_REUSEPORT alone would let this server join the group of another one
    already listening there. Then a bound, never listening, SO_REUSEPORT socket holds the port
    for the workers: the kernel hands connections to listening sockets only.
    """
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's own bind
        probe.bind(address)
        port = probe.getsockname()[1]
    with socket.socket(family, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((address[0], port, *address[2:]))
        yield port


class _Parent:
    """The workers' parent: forks them, forwards signals, reaps them, decides the status."""

    def __init__(
        self,
        settings: Settings,
        serve_one: Callable[[Settings], int],
        unblocked: Iterable[int],
    ) -> None:
        self.settings = settings
        self.serve_one = serve_one
        self.unblocked = unblocked
        self.pid = os.getpid()
        #: Live workers: pid -> index.
        self.workers: dict[int, int] = {}
        self.stopping = False
        self.status = 0

    def fork(self, index: int) -> None:
        """Start worker ``index``; in the child, serve and exit without returning here."""
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        # The child runs on in this frame, which coverage cannot trace after a fork; _worker,
        # a new frame, it can.
        if pid == 0:  # pragma: no cover - the worker: it never returns into the parent's code
            status = 1
            try:
                status = _worker(index, self.pid, self.settings, self.serve_one, self.unblocked)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        self.workers[pid] = index

    def wait(self) -> int:
        """Forward signals and reap workers until none is left; the exit status."""
        while self.workers:
            signum = signal.sigwaitinfo(_WATCHED).si_signo
            if signum == signal.SIGCHLD:
                self._reap()
            else:
                self._forward(signal.Signals(signum))
        return self.status

    def _forward(self, signum: signal.Signals) -> None:
        if signum in _STOPPING and not self.stopping:
            logger.info("stopping workers", signal=signum.name, workers=len(self.workers))
            self.stopping = True
        for pid in self.workers:
            with suppress(ProcessLookupError):  # exited; reaped on the next SIGCHLD
                os.kill(pid, signum)

    def _reap(self) -> None:
        while self.workers:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            self._ended(pid, self.workers.pop(pid), os.waitstatus_to_exitcode(wait_status))

    def _ended(self, pid: int, index: int, code: int) -> None:
        status = code if code >= 0 else 128 - code
        if self.stopping and status == 0:
            logger.info("worker stopped", worker=index, pid=pid)
            return
        self.status = self.status or status or 1
        if self.stopping:
            logger.error("worker failed while stopping", worker=index, pid=pid, status=status)
            return
        logger.error(
            "worker exited unasked: stopping the others (none is restarted)",
            worker=index,
            pid=pid,
            status=status,
        )
        self._forward(signal.SIGTERM)


def _worker(
    index: int,
    parent: int,
    settings: Settings,
    serve_one: Callable[[Settings], int],
    unblocked: Iterable[int],
) -> int:
    """One worker's life after the fork; its exit status."""
    try:
        # Its own process group: a Ctrl-C in the terminal reaches the parent alone, which
        # forwards it once; otherwise each worker would get it twice, and the second kills.
        os.setpgid(0, 0)
        if not _stops_with(parent):  # pragma: no cover - the parent died within microseconds
            return 1
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        with logger.contextualize(worker=index, pid=os.getpid()):
            return serve_one(for_worker(settings, index))  # its own metrics port
    except BaseException:
        logger.exception("worker failed", worker=index)
        return 1


def _stops_with(parent: int) -> bool:
    """Have the kernel send this process SIGTERM when ``parent`` dies, so that no orphan keeps
    serving the port; False if it is gone already."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    return os.getppid() == parent
