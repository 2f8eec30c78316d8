"""voicecore against a grpcio reference: throughput, latency, events, memory, start-up.

Run it with ``nox -s bench`` (``-- --quick`` for a short smoke run). Servers run pinned to CPU 0,
h2load and this script to CPU 1 (where taskset works); every server is measured in each round,
interleaved, and the table reports the median of the rounds with their spread, because the
machine is shared and single numbers are noisy. Results go to ``bench-results/bench.json``.

The TLS rows run the same server with TLS (a trustme certificate made at run time), with a
bearer token (a tokens file), and with both, in the same interleaved rounds as the plaintext
server; their cost is read against the plaintext server of the same round. ``-- --tls-only``
measures only those rows (capture_email), for more rounds in less time.

The Redis section (``_redis_bench``) puts the memory store and the Redis store side by side in
interleaved rounds of their own, after the main table; ``-- --redis-only`` measures only it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _redis_bench
import _tracing_bench
import _worst_case
from _client_load import client_calls
from _extras import (
    event_latency,
    event_rate,
    held_captures_rss,
    percentile,
    startup_seconds,
)
from _load import LoadResult, ensure_h2load, grpc_body, run_h2load
from _secure import Access, Credentials, make_credentials
from _servers import LOAD_CPU, ROOT, Running, ServerSpec, generate_stubs, pb2, start

__all__ = ["main"]

REFERENCE = "grpcio reference"
SHIPPED = "voicecore serve"
SHIPPED_TLS_TOKEN = "voicecore serve, TLS + token"
SHIPPED_TLS = "voicecore serve, TLS"
SHIPPED_TOKEN = "voicecore serve, token"
REFERENCE_TLS = "grpcio reference, TLS"
#: Each secured row and the plaintext row of the same server its cost is read against.
SECURED = {
    SHIPPED_TLS_TOKEN: SHIPPED,
    SHIPPED_TLS: SHIPPED,
    SHIPPED_TOKEN: SHIPPED,
    REFERENCE_TLS: REFERENCE,
}
#: Servers the project's own client is also measured against (capture_email).
CLIENT_ROWS = frozenset({*SECURED, *SECURED.values()})
#: Issue 10: TLS + token may cost at most this share of plaintext throughput on capture_email.
TLS_TOKEN_BUDGET = 0.25
EMAIL_PARAMS = {"transcription": "john dot smith at example dot com", "require_confirmation": False}
ECHO_PARAMS = {"text": "hello", "n": 3, "flag": True, "items": ["a", "b"], "nested": {"k": "v"}}


def _shipped_argv() -> tuple[str, ...]:
    return (
        sys.executable,
        "-m",
        "voicecore",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--debug-primitives",
    )


def _specs(stubs: Path, args: argparse.Namespace, secrets: Credentials) -> list[ServerSpec]:
    python = sys.executable
    variant = (python, "benchmarks/_variant.py", "--port", "{port}")
    reference = (python, "benchmarks/_reference.py", "--port", "{port}", "--stubs", str(stubs))
    shipped = _shipped_argv()
    tls, token = secrets.tls_args(), secrets.token_args()
    specs = [
        ServerSpec(REFERENCE, reference),
        ServerSpec(SHIPPED, shipped),
        ServerSpec(
            SHIPPED_TLS_TOKEN,
            (*shipped, *tls, *token),
            Access(ca=secrets.ca, token=secrets.token),
        ),
    ]
    if args.quick:
        return specs
    specs += [
        ServerSpec(SHIPPED_TLS, (*shipped, *tls), Access(ca=secrets.ca)),
        ServerSpec(SHIPPED_TOKEN, (*shipped, *token), Access(token=secrets.token)),
        ServerSpec(REFERENCE_TLS, (*reference, *tls), Access(ca=secrets.ca)),
    ]
    if args.tls_only:
        return specs
    specs += [
        ServerSpec("without upb codec", (*variant, "--codec", "plain")),
        ServerSpec("without write coalescing", (*variant, "--no-coalesce")),
    ]
    if importlib.util.find_spec("uvloop") is not None:
        specs.append(ServerSpec("with uvloop", (*variant, "--loop", "uvloop")))
    return specs


def _bodies(stubs: Path, folder: Path) -> dict[str, Path]:
    messages, _ = pb2(stubs)
    bodies = {}
    for name, params in (("capture_email", EMAIL_PARAMS), ("debug_echo", ECHO_PARAMS)):
        request = messages.ExecutePrimitiveRequest(objective_type=name)
        request.params.update(params)
        bodies[name] = grpc_body(request.SerializeToString(), folder, name)
    return bodies


def _check_success(server: Running, stubs: Path) -> None:
    """One real gRPC call per method: success, and the value the primitive should capture."""
    messages, services = pb2(stubs)
    access = server.spec.access
    with access.channel(f"127.0.0.1:{server.port}") as channel:
        stub: Any = services.VoiceCoreServiceStub(channel)
        request = messages.ExecutePrimitiveRequest(objective_type="capture_email")
        request.params.update(EMAIL_PARAMS)
        response = stub.ExecutePrimitive(request, timeout=10, metadata=access.headers())
        value = response.data.fields["value"].string_value
        if not response.success or value != "john.smith@example.com":
            raise RuntimeError(f"{server.spec.label}: capture_email did not succeed: {response}")
        request = messages.ExecutePrimitiveRequest(objective_type="debug_echo")
        request.params.update(ECHO_PARAMS)
        response = stub.ExecutePrimitive(request, timeout=10, metadata=access.headers())
        if not response.success or response.data.fields["text"].string_value != "hello":
            raise RuntimeError(f"{server.spec.label}: debug_echo did not succeed: {response}")


def _unary_rounds(
    args: argparse.Namespace, stubs: Path, bodies: dict[str, Path], secrets: Credentials
) -> list[dict[str, Any]]:
    """Every server, every method, max and 1,000 req/s, ``rounds`` times, interleaved."""
    specs = _specs(stubs, args, secrets)
    runs: list[dict[str, Any]] = []
    for round_index in range(args.rounds):
        rotation = round_index % len(specs)
        for spec in specs[rotation:] + specs[:rotation]:
            server = start(spec, stubs)
            try:
                if round_index == 0:
                    _check_success(server, stubs)
                runs += _measure(server, bodies, round_index, args.seconds)
            finally:
                server.stop()
    return runs


def _alternating_rounds(
    args: argparse.Namespace, stubs: Path, bodies: dict[str, Path], secrets: Credentials
) -> list[dict[str, Any]]:
    """Every server started once and kept up; then ``rounds`` rounds of one measurement per
    server in a rotating order, so that runs of different servers are seconds apart and a
    change in the machine's load hits them alike (``--tls-only``)."""
    servers: list[Running] = []
    runs: list[dict[str, Any]] = []
    try:
        for spec in _specs(stubs, args, secrets):
            servers.append(start(spec, stubs))
            _check_success(servers[-1], stubs)
        for round_index in range(args.rounds):
            rotation = round_index % len(servers)
            for server in servers[rotation:] + servers[:rotation]:
                runs += _measure(server, bodies, round_index, args.seconds)
    finally:
        for server in servers:
            server.stop()
    return runs


def _measure(
    server: Running, bodies: dict[str, Path], round_index: int, seconds: float
) -> list[dict[str, Any]]:
    """Each method at max and at 1,000 req/s on ``server``; every request must succeed."""
    runs = []
    for method, body in bodies.items():
        peak = run_h2load(server, body, seconds=seconds)
        steady = run_h2load(server, body, seconds=seconds, rate=1000)
        _require_all_succeeded(server.spec, peak, steady)
        run = {
            "round": round_index,
            "server": server.spec.label,
            "method": method,
            "max": asdict(peak),
            "at_1000": asdict(steady),
        }
        if method == "capture_email" and server.spec.label in CLIENT_ROWS:
            run["client"] = asdict(client_calls(server, EMAIL_PARAMS, seconds=seconds))
        runs.append(run)
        label = server.spec.label
        print(f"round {round_index + 1} {label:28} {method:14} {peak.rps:6.0f}/s", flush=True)
    return runs


def _require_all_succeeded(spec: ServerSpec, *results: LoadResult) -> None:
    for result in results:
        if result.succeeded != result.total:
            raise RuntimeError(f"{spec.label}: {result.total - result.succeeded} requests failed")


def _median_spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    keys = sorted(
        {(run["server"], run["method"]) for run in runs},
        key=lambda key: (key[1], key[0] != REFERENCE, key[0]),
    )
    for server, method in keys:
        mine = [run for run in runs if run["server"] == server and run["method"] == method]
        ratios = []
        for run in mine:
            reference = [
                r
                for r in runs
                if r["server"] == REFERENCE and r["method"] == method and r["round"] == run["round"]
            ]
            if reference:
                ratios.append(run["max"]["rps"] / reference[0]["max"]["rps"])
        row = {"server": server, "method": method, "ratio": _median_spread(ratios)}
        for mode in ("max", "at_1000"):
            for metric in ("rps", "p50_ms", "p99_ms", "server_cpu"):
                row[f"{mode}.{metric}"] = _median_spread([run[mode][metric] for run in mine])
        rows.append(row)
    return rows


def _same_round(
    runs: list[dict[str, Any]], server: str, method: str, round_index: int
) -> dict[str, Any] | None:
    for run in runs:
        if (run["server"], run["method"], run["round"]) == (server, method, round_index):
            return run
    return None


def _cpu_per_call(run: dict[str, Any]) -> float:
    """Server CPU seconds per call at max: less sensitive than req/s to other work on the
    machine taking the server's core."""
    return float(run["max"]["server_cpu"] / run["max"]["rps"])


def _security_costs(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each secured row against the same server in plaintext, round by round: the share of
    max req/s it costs, and both servers' p99 at 1,000 req/s."""
    rows = []
    for method in sorted({run["method"] for run in runs}):
        for secured, plain in SECURED.items():
            pairs = [
                (run, baseline)
                for run in runs
                if run["server"] == secured and run["method"] == method
                for baseline in [_same_round(runs, plain, method, run["round"])]
                if baseline is not None
            ]
            if not pairs:
                continue
            rows.append(
                {
                    **_client_costs(pairs),
                    "server": secured,
                    "baseline": plain,
                    "method": method,
                    "cost": _median_spread(
                        [1 - s["max"]["rps"] / p["max"]["rps"] for s, p in pairs]
                    ),
                    "max.rps": _median_spread([s["max"]["rps"] for s, _ in pairs]),
                    "baseline.max.rps": _median_spread([p["max"]["rps"] for _, p in pairs]),
                    "cpu_cost": _median_spread(
                        [_cpu_per_call(s) / _cpu_per_call(p) - 1 for s, p in pairs]
                    ),
                    "cpu_us": _median_spread([_cpu_per_call(s) * 1e6 for s, _ in pairs]),
                    "baseline.cpu_us": _median_spread([_cpu_per_call(p) * 1e6 for _, p in pairs]),
                    "at_1000.p99_ms": _median_spread([s["at_1000"]["p99_ms"] for s, _ in pairs]),
                    "baseline.at_1000.p99_ms": _median_spread(
                        [p["at_1000"]["p99_ms"] for _, p in pairs]
                    ),
                }
            )
    return rows


def _percent(cell: dict[str, float]) -> str:
    return f"{cell['median']:.0%} ({cell['min']:.0%} to {cell['max']:.0%})"


def _client_costs(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The project client's calls/s against the secured server and in plaintext, and the cost."""
    pairs = [(s, p) for s, p in pairs if "client" in s and "client" in p]
    if not pairs:
        return {}
    return {
        "client.rps": _median_spread([s["client"]["rps"] for s, _ in pairs]),
        "baseline.client.rps": _median_spread([p["client"]["rps"] for _, p in pairs]),
        "client.p99_ms": _median_spread([s["client"]["p99_ms"] for s, _ in pairs]),
        "baseline.client.p99_ms": _median_spread([p["client"]["p99_ms"] for _, p in pairs]),
        "client_cost": _median_spread(
            [1 - s["client"]["rps"] / p["client"]["rps"] for s, p in pairs]
        ),
    }


def _client_lines(costs: list[dict[str, Any]]) -> list[str]:
    rows = [row for row in costs if "client_cost" in row]
    if not rows:
        return []
    lines = [
        "",
        "The project's client (`VoiceCoreClient`, 16 calls in flight, one process):",
        "",
        "| method | server | client calls/s | plaintext calls/s | cost | p99 ms (plaintext) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['server']} | {_fmt(row['client.rps'])} "
            f"| {_fmt(row['baseline.client.rps'])} | {_percent(row['client_cost'])} "
            f"| {row['client.p99_ms']['median']:.1f} "
            f"({row['baseline.client.p99_ms']['median']:.1f}) |"
        )
    return lines


def _security_lines(costs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| method | server | max req/s | plaintext max req/s | throughput cost "
        "| server CPU us per call (plaintext) | CPU per call cost "
        "| p99 ms at 1,000/s (plaintext) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in costs:
        lines.append(
            f"| {row['method']} | {row['server']} | {_fmt(row['max.rps'])} "
            f"| {_fmt(row['baseline.max.rps'])} | {_percent(row['cost'])} "
            f"| {row['cpu_us']['median']:.0f} ({row['baseline.cpu_us']['median']:.0f}) "
            f"| {_percent(row['cpu_cost'])} "
            f"| {row['at_1000.p99_ms']['median']:.1f} "
            f"({row['baseline.at_1000.p99_ms']['median']:.1f}) |"
        )
    lines += _client_lines(costs)
    for row in costs:
        if row["server"] == SHIPPED_TLS_TOKEN and row["method"] == "capture_email":
            cost = row["cost"]["median"]
            verdict = "met" if cost <= TLS_TOKEN_BUDGET else "NOT met"
            lines += [
                "",
                f"Target (TLS + token costs at most {TLS_TOKEN_BUDGET:.0%} of plaintext "
                f"capture_email throughput): {verdict}, median cost {cost:.0%}.",
            ]
    return lines


def _extras(
    args: argparse.Namespace, stubs: Path, bodies: dict[str, Path], folder: Path
) -> dict[str, Any]:
    """Events, memory and start-up, measured on the shipped server (events also with upb)."""
    results: dict[str, Any] = {}
    captures = 1_000 if args.quick else 10_000
    server = start(ServerSpec(SHIPPED, _shipped_argv()), stubs)
    try:
        results["rss_idle_mb"] = server.rss_mb()
        rss, held = held_captures_rss(server, stubs, count=captures)
        results.update(held_captures=held, captures=captures, rss_held_mb=rss)
        results["events_per_s"] = event_rate(
            server, stubs, bodies["debug_echo"], calls=3_000 if args.quick else 15_000
        )
        latencies = event_latency(server, stubs, folder, seconds=args.seconds)
        results["event_latency_ms"] = {
            "count": len(latencies),
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
        }
    finally:
        server.stop()
    results["startup_s"] = _median_spread([startup_seconds(stubs) for _ in range(args.rounds)])
    results["spoken_parse"] = _accuracy_figures()
    return results


def _accuracy_figures() -> dict[str, Any]:
    """Parse-latency figures from ``benchmarks/accuracy.py --json`` output, if it was run."""
    path = ROOT / "bench-results" / "accuracy.json"
    if not path.exists():
        return {}
    found: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif ("median" in prefix or "latency" in prefix or "parse" in prefix) and isinstance(
            node, (int, float)
        ):
            found[prefix] = node

    walk(json.loads(path.read_text()), "")
    return found


def _fmt(cell: dict[str, float], digits: int = 0, scale: float = 1.0) -> str:
    median, low, high = (cell[key] * scale for key in ("median", "min", "max"))
    return f"{median:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


_HEADER = (
    "| method | server | max req/s | p50 / p99 ms at max | p50 / p99 ms at 1,000/s "
    "| server CPU at max | ratio |"
)


def _unary_line(row: dict[str, Any]) -> str:
    return (
        f"| {row['method']} | {row['server']} | {_fmt(row['max.rps'])} "
        f"| {row['max.p50_ms']['median']:.1f} / {row['max.p99_ms']['median']:.1f} "
        f"| {row['at_1000.p50_ms']['median']:.1f} / {row['at_1000.p99_ms']['median']:.1f} "
        f"| {row['max.server_cpu']['median'] * 100:.0f}% | {_fmt(row['ratio'], 2)} |"
    )


def _extra_lines(extras: dict[str, Any]) -> list[str]:
    latency = extras["event_latency_ms"]
    idle, held = extras["rss_idle_mb"], extras["rss_held_mb"]
    lines = [
        "| other (voicecore serve) | value |",
        "|---|---|",
        f"| StreamEvents to one subscriber (replay) | {extras['events_per_s']:.0f} events/s |",
        f"| emit-to-receive at 1,000 events/s | p50 {latency['p50']:.1f} ms, "
        f"p99 {latency['p99']:.1f} ms ({latency['count']} events) |",
        f"| RSS idle | {idle:.1f} MB |",
        f"| RSS with {extras['held_captures']:,} of {extras['captures']:,} captures held "
        f"| {held:.1f} MB (+{held - idle:.1f} MB) |",
        f"| start to health SERVING | {_fmt(extras['startup_s'], 2)} s |",
    ]
    for key, value in extras["spoken_parse"].items():
        lines.append(f"| accuracy bench: {key} | {value:.4g} |")
    if not extras["spoken_parse"]:
        run_first = "nox -s accuracy -- --json bench-results/accuracy.json"
        lines.append(f"| spoken-form parse median | run `{run_first}` first |")
    return lines


def render(
    rows: list[dict[str, Any]],
    costs: list[dict[str, Any]],
    extras: dict[str, Any] | None,
    rounds: int,
) -> str:
    """The table as Markdown: unary rows, what TLS and tokens cost, then events, memory,
    start-up and parse figures (``extras``, unless only the TLS rows were measured)."""
    lines = [
        f"Median of {rounds} interleaved round(s), (min-max) in brackets; "
        "ratio = max req/s / the reference's in the same round.",
        "",
        _HEADER,
        "|---|---|---|---|---|---|---|",
        *(_unary_line(row) for row in rows),
        "",
        "TLS and tokens: throughput cost = 1 - max req/s / the same server's in plaintext, "
        "same round; CPU per call cost = server CPU per call / the plaintext server's - 1.",
        "",
        *_security_lines(costs),
    ]
    if extras is not None:
        lines += ["", *_extra_lines(extras)]
    return "\n".join(lines)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="one short round, two servers (smoke run)"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 1)")
    parser.add_argument("--seconds", type=float, help="seconds per load run (default 3, quick 1)")
    parser.add_argument(
        "--tls-only",
        action="store_true",
        help="only plaintext against TLS, token and both, on capture_email (no extras)",
    )
    parser.add_argument(
        "--redis-only",
        action="store_true",
        help="only the memory store against the Redis store (a private redis-server)",
    )
    parser.add_argument("--out", type=Path, help="JSON results (default bench-results/bench.json)")
    parser.add_argument(
        "--worst-case-only",
        action="store_true",
        help="only the worst-case parse time per primitive (no servers; a few minutes)",
    )
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.seconds = args.seconds or (1.0 if args.quick else 3.0)
    if args.out is None:
        name = "bench-tls.json" if args.tls_only else "bench.json"
        name = "bench-redis.json" if args.redis_only else name
        args.out = ROOT / "bench-results" / name
    return args


def main(argv: list[str] | None = None) -> None:
    """Run every measurement, print the table and write it as JSON."""
    args = _parse_args(argv)
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})
    if args.worst_case_only:
        _worst_case_report(args, args.out.with_name("worst-case.json"))
        return
    ensure_h2load()
    stubs = generate_stubs()
    folder = Path(tempfile.mkdtemp(prefix="voicecore-bodies-"))
    bodies = _bodies(stubs, folder)
    if args.redis_only:
        _redis_report(args, stubs, bodies)
        return
    if args.tls_only:
        bodies = {"capture_email": bodies["capture_email"]}
    rounds = _alternating_rounds if args.tls_only else _unary_rounds
    runs = rounds(args, stubs, bodies, make_credentials())
    rows = _summarise(runs)
    costs = _security_costs(runs)
    extras = None if args.tls_only else _extras(args, stubs, bodies, folder)
    table = render(rows, costs, extras, args.rounds)
    print("\n" + table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = {"rows": rows, "security": costs, "extras": extras, "runs": runs, "table": table}
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {args.out}")
    if not args.tls_only:
        _redis_report(args, stubs, bodies)
        _worst_case_report(args, args.out.with_name("worst-case.json"))
        _observability_report(args)


def _redis_report(args: argparse.Namespace, stubs: Path, bodies: dict[str, Path]) -> None:
    """The memory store against the Redis store (``_redis_bench``), printed and written to
    ``bench-redis.json`` beside the main results."""
    print("\nmemory store against Redis store ...", flush=True)
    results = _redis_bench.redis_section(args, stubs, bodies)
    print("\n" + results["table"])
    out = args.out if args.redis_only else args.out.with_name("bench-redis.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")


def _observability_report(args: argparse.Namespace) -> None:
    """What tracing, metrics and the access log cost per call, each on and off."""
    import _observability_bench  # it imports this module's body builders

    print("\ntracing off, on, and sampled out ...", flush=True)
    print(
        _tracing_bench.render(_tracing_bench.tracing_cost(*((50, 5) if args.quick else (200, 30))))
    )
    print("\nmetrics and access log, the added code alone ...", flush=True)
    _observability_bench.main(["--micro"])


def _worst_case_report(args: argparse.Namespace, out: Path) -> None:
    """Worst-case parse time per primitive at the transcription limit (``_worst_case``)."""
    print("\nworst-case parse time per primitive ...", flush=True)
    timings = _worst_case.measure(repeats=1 if args.quick else 3)
    table = _worst_case.render(timings)
    print("\n" + table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"timings": [asdict(t) for t in timings], "table": table}, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
