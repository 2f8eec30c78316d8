"""What tracing costs per call: a VoiceCoreClient calling a VoiceCoreServer on loopback, with
tracing off (the API's no-op, as without the ``otel`` extra), on (the SDK, every span exported
in batches), and on but sampled out.

Client and server share one process and one event loop, so a call's time includes both ends:
client span, server span, primitive span. The machine is shared and noisy, so the modes take
turns in many short rounds, in a fresh random order each round, on the same server and
connection: a burst of load falls on every mode alike. Two figures per mode, each the median
over rounds, with the interquartile range of the rounds:
CPU time per call (``time.process_time``, all threads, so the SDK's export thread counts; what
tracing costs, and steady on a loaded machine) and the median wall time of a call.
A third figure isolates what tracing OFF adds: the hooks one call runs while no provider is
installed (server_span, the primitive and client wrappers' provider check, the trace id
lookup, traceparent injection, the attempt guard), timed alone with ``timeit``: a few
microseconds beside a call's hundreds, below what the call timings can resolve.
``python benchmarks/_tracing_bench.py [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, cast

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.util._once import Once

from voicecore import _tracing
from voicecore._call import CallInfo
from voicecore.client import VoiceCoreClient
from voicecore.client import _tracing as _client_tracing
from voicecore.config import Settings
from voicecore.server import VoiceCoreServer

__all__ = ["main", "tracing_cost"]

ECHO = {"text": "hello", "n": 3, "flag": True, "items": ["a", "b"], "nested": {"k": "v"}}


class _Discard(SpanExporter):
    """Exports by forgetting: the SDK's full work (sampling, recording, batching) without I/O."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


def _exported() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Discard()))
    return provider


MODES: dict[str, Callable[[], trace.TracerProvider | None]] = {
    "off": lambda: None,
    "on": _exported,
    "on, sampled out": lambda: TracerProvider(sampler=ALWAYS_OFF),
}


def _install(provider: trace.TracerProvider | None) -> None:
    """Make ``provider`` the global one (None: none, tracing off). OpenTelemetry lets a process
    set it once; a benchmark switching modes resets it as OpenTelemetry's own tests do."""
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    if provider is not None:
        trace.set_tracer_provider(provider)


async def _round(client: VoiceCoreClient, calls: int) -> tuple[float, float]:
    """CPU seconds per call and the median wall seconds of ``calls`` sequential echo calls."""
    times = []
    cpu = time.process_time()
    for _ in range(calls):
        started = time.perf_counter()
        response = await client.execute("debug_echo", ECHO, conversation_id="bench")
        times.append(time.perf_counter() - started)
        if not response.success:
            raise RuntimeError(f"call failed: {response.error}")
    return (time.process_time() - cpu) / calls, statistics.median(times)


async def _measure(calls: int, rounds: int) -> dict[str, Any]:
    settings = Settings(host="127.0.0.1", port=0, debug_primitives=True)
    server = VoiceCoreServer(settings)
    await server.start()
    rounds_of: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    try:
        async with VoiceCoreClient(f"127.0.0.1:{server.port}") as client:
            await _round(client, 50)  # connect and warm up
            for _ in range(rounds):
                for mode in random.sample(list(MODES), len(MODES)):
                    provider = MODES[mode]()
                    _install(provider)
                    rounds_of[mode].append(await _round(client, calls))
                    if isinstance(provider, TracerProvider):
                        provider.shutdown()  # exports what is left: inside the round's CPU
    finally:
        _install(None)
        await server.stop(grace_period=0.5)
    return {
        mode: {
            "cpu_us": statistics.median(cpu for cpu, _ in values) * 1e6,
            "cpu_iqr_us": _quartiles([cpu * 1e6 for cpu, _ in values]),
            "wall_us": statistics.median(wall for _, wall in values) * 1e6,
        }
        for mode, values in rounds_of.items()
    }


def _quartiles(values: list[float]) -> list[float]:
    low, _, high = statistics.quantiles(values, n=4)
    return [low, high]


_EVENT = cast(Any, SimpleNamespace(method_name="/m", metadata={}, peer=None, deadline=None))
_CALL = CallInfo()


def _hooks_off_once() -> None:
    """Every tracing hook one ExecutePrimitive call runs, client and server, tracing off."""
    _tracing.server_span(_EVENT, _CALL, _hooks_off_once)  # type: ignore[arg-type]
    _tracing._tracer()  # Executor.execute's wrapper
    _client_tracing._tracer()  # VoiceCoreClient.execute's wrapper
    _client_tracing.current_trace_id()
    _client_tracing.inject_traceparent({})
    with _client_tracing.rpc_attempt():
        pass


def hooks_off_ns(repeat: int = 7, number: int = 20000) -> float:
    """Nanoseconds the tracing hooks add to one call with tracing off (best of ``repeat``)."""
    _install(None)
    return min(timeit.repeat(_hooks_off_once, repeat=repeat, number=number)) / number * 1e9


def tracing_cost(calls: int = 200, rounds: int = 30) -> dict[str, Any]:
    """Per-call cost by tracing mode: ``{mode: {cpu_us, cpu_iqr_us, wall_us}}``, and
    ``hooks_ns`` under "off"."""
    result = asyncio.run(_measure(calls, rounds))
    result["off"]["hooks_ns"] = hooks_off_ns()
    return result


def render(result: dict[str, Any]) -> str:
    """One line per mode: CPU per call, its difference from off, its spread, wall time."""
    off = result["off"]["cpu_us"]
    lines = ["tracing | CPU per call | vs off | CPU IQR over rounds | wall per call"]
    for mode, cell in result.items():
        delta = cell["cpu_us"] - off
        low, high = cell["cpu_iqr_us"]
        lines.append(
            f"{mode} | {cell['cpu_us']:.0f} us | {delta:+.0f} us ({delta / off:+.1%}) "
            f"| {low:.0f}-{high:.0f} us | {cell['wall_us']:.0f} us"
        )
    lines.append(f"tracing off: the hooks alone cost {result['off']['hooks_ns']:.0f} ns per call")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per mode per round")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    print(render(tracing_cost(args.calls, args.rounds)))


if __name__ == "__main__":
    main()
