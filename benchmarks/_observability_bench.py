"""What metrics and the access log cost per call: ``voicecore serve`` with each on and off.

Each variant is the shipped server (``python -m voicecore serve``) with other flags, pinned and
loaded like ``bench.py``'s servers (h2load, ``debug_echo`` and ``capture_email`` at full
speed), in interleaved rounds; the table gives the median of the rounds. The cost per call is
the server's CPU time per call (CPU share / requests per second) above the variant with
everything off. The access log goes to stderr, here /dev/null, as text or JSON lines.

    python benchmarks/_observability_bench.py [--rounds 3] [--seconds 3]
    python benchmarks/_observability_bench.py --micro

On a shared, loaded machine whole-server figures move by more than these costs, so
``--micro`` times the added code itself, best of repeated batches of CPU time: a call's task
started through ``CallObserver.spawn`` (with metrics, access log, both) against a plain
``create_task``, and the per-call listeners and hooks of a capture turn.

``bench.py`` can run it at its end with one line: ``_observability_bench.main([])``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import run_h2load
from _servers import (
    ROOT,
    SERVER_CPU,
    Running,
    ServerSpec,
    _answers,
    free_port,
    generate_stubs,
    taskset_prefix,
)
from bench import _bodies
from grpclib.const import Status
from grpclib.events import RecvMessage, SendMessage, SendTrailingMetadata

from tests._servers import ServerProcess

__all__ = ["main"]

_SERVE = (sys.executable, "-m", "voicecore", "serve", "--port", "{port}", "--debug-primitives")
VARIANTS = {
    "all off": ("--no-access-log",),
    "access log": (),
    "access log, JSON": ("--log-json",),
    "metrics": ("--no-access-log", "--metrics-port", "{metrics}"),
    "metrics + access log": ("--metrics-port", "{metrics}"),
}


def _start(label: str, extra: tuple[str, ...], stubs: Path, devnull: int) -> Running:
    port, metrics = free_port(), free_port()
    argv = [part.replace("{metrics}", str(metrics)) for part in (*_SERVE, *extra)]
    spec = ServerSpec(label, tuple(argv))
    command = [*taskset_prefix(SERVER_CPU), *spec.command(port)]
    process = ServerProcess(command, port, cwd=ROOT, stderr=devnull)
    running = Running(spec, port, process)
    deadline = time.monotonic() + 30
    while not _answers(port, stubs):
        if process.exit_code() is not None or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"{label} did not start: {' '.join(command)}")
        time.sleep(0.05)
    return running


def main(argv: list[str] | None = None) -> None:
    """Run every variant ``--rounds`` times, interleaved, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--micro", action="store_true", help="time the added code alone")
    args = parser.parse_args(argv)
    if args.micro:
        for json_lines in (False, True):
            asyncio.run(_micro(json_lines))
        return
    stubs = generate_stubs()
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    devnull = os.open(os.devnull, os.O_WRONLY)
    with tempfile.TemporaryDirectory() as tmp:
        bodies = _bodies(stubs, Path(tmp))
        labels = list(VARIANTS)
        for round_index in range(args.rounds):
            rotation = round_index % len(labels)
            for label in labels[rotation:] + labels[:rotation]:
                server = _start(label, VARIANTS[label], stubs, devnull)
                try:
                    for method, body in bodies.items():
                        load = run_h2load(server, body, seconds=args.seconds)
                        if load.succeeded != load.total:
                            raise RuntimeError(f"{label}: {load.total - load.succeeded} failed")
                        per_call = load.server_cpu / load.rps * 1e6
                        results.setdefault((label, method), []).append((load.rps, per_call))
                        print(f"round {round_index + 1} {label:22} {method:14} {load.rps:6.0f}/s")
                finally:
                    server.stop()
    os.close(devnull)
    _print_table(results)


_PATH = "/voicecore.v1.VoiceCoreService/ExecutePrimitive"
_HEADERS = [
    (":method", "POST"),
    (":scheme", "http"),
    (":path", _PATH),
    (":authority", "127.0.0.1"),
    ("content-type", "application/grpc"),
    ("te", "trailers"),
]


async def _micro(json_lines: bool) -> None:
    """Print the CPU µs per call of each observer and of the hooks (see the docstring)."""
    from loguru import logger
    from prometheus_client import CollectorRegistry

    from voicecore import _metrics
    from voicecore._access_log import AccessLog
    from voicecore._json import struct_from_dict
    from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest
    from voicecore.config import Settings
    from voicecore.server import VoiceCoreServer

    logger.remove()
    logger.add(open(os.devnull, "w"), level="INFO", serialize=json_lines)
    logger.enable("voicecore")
    settings = Settings(port=0, debug_primitives=True)
    server = VoiceCoreServer(settings, metrics_registry=CollectorRegistry())
    observer = server._server.observer
    assert observer is not None and observer.metrics is not None
    metrics, paths = observer.metrics, observer.paths
    observers = {
        "observer, nothing on": _metrics.CallObserver(paths, None, None),
        "observer, metrics": _metrics.CallObserver(paths, metrics, None),
        "observer, access log": _metrics.CallObserver(paths, None, AccessLog()),
        "observer, both": _metrics.CallObserver(paths, metrics, AccessLog()),
    }
    request = ExecutePrimitiveRequest(
        objective_type="capture_email",
        params=struct_from_dict({"transcription": "john at gmail dot com"}),
        conversation_id="c",
    )
    response = await server.service.execute_primitive(request)
    loop = asyncio.get_running_loop()

    async def nothing() -> None:
        pass

    async def tasks(observer: _metrics.CallObserver | None, n: int = 2000) -> float:
        started = time.process_time()
        for _ in range(n):
            if observer is None:
                task = loop.create_task(nothing())
            else:
                task = observer.spawn(loop, nothing(), None, _HEADERS)
            await task
            await asyncio.sleep(0)  # the done callback runs
        return (time.process_time() - started) / n * 1e6

    async def hooks(n: int = 2000) -> float:
        record = _metrics.CallRecord(_PATH, metrics.series(_PATH), None, metrics)
        token = _metrics._current.set(record)
        trailers = SendTrailingMetadata(
            metadata={}, status=Status.OK, status_message=None, status_details=None
        )
        started = time.process_time()
        for _ in range(n):
            await _metrics._on_trailers(trailers)
            await _metrics._on_received(RecvMessage(message=None))
            await _metrics._on_sent(SendMessage(message=None))
            _metrics.observe_turn(request, response)
            for _ in range(3):
                _metrics.observe_event("primitive.started", "capture_email")
        _metrics._current.reset(token)
        return (time.process_time() - started) / n * 1e6

    print(f"\n{'JSON' if json_lines else 'text'} log lines, CPU µs per call (best of 7):")
    print(f"  create_task alone: {min([await tasks(None) for _ in range(7)]):.1f}")
    for label, each in observers.items():
        print(f"  {label}: {min([await tasks(each) for _ in range(7)]):.1f}")
    print(f"  metrics hooks of a capture turn: {min([await hooks() for _ in range(7)]):.1f}")


def _print_table(results: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    print("\n| variant | method | req/s (median) | server CPU µs/call | cost vs all off |")
    print("|---|---|---|---|---|")
    for method in sorted({method for _, method in results}):
        base = statistics.median(cpu for _, cpu in results[("all off", method)])
        for label in VARIANTS:
            rps = statistics.median(r for r, _ in results[(label, method)])
            cpu = statistics.median(c for _, c in results[(label, method)])
            print(f"| {label} | {method} | {rps:.0f} | {cpu:.0f} | {cpu - base:+.0f} µs |")


if __name__ == "__main__":
    main()
