"""The circuit breaker under load: ``nox -s loadtest`` (``-- --budget-seconds 30`` for CI size).

Many orchestration clients (``VoiceCoreClient``, each with its own breaker) run phone-number
captures, two turns each (the number, then "yes"), against a ``voicecore serve`` subprocess
reached through a fault proxy on loopback (``tests/faultproxy.py``). The server is, in phases:

* ``healthy``;
* ``killed``: SIGKILL, nothing listens behind the proxy;
* ``restarted``: a new server on the same port (recovery is when it answers SERVING);
* ``slowed``: the proxy delays every chunk past the client's deadline;
* ``recovered``: the delay is lifted.

Each caller sends every turn with an idempotency key and a trace id of its own, and re-sends
a turn that got no answer (``UNAVAILABLE``, ``TIMEOUT``, ``CIRCUIT_BREAKER_OPEN``) under the same
key after a short backoff, as orchestration would. An observer follows each server's event log
directly (not through the proxy), so a turn the server applied twice shows as two
``primitive.completed`` events with its trace id in one server's log. Only within one server:
each log is compared with itself, and the restarted server's memory store starts empty, so a
turn applied just before the SIGKILL and re-sent to the restarted server is applied again
there unseen by this count (expected with the memory store, which keeps nothing across a
restart).

Per phase it reports calls, outcomes, p50/p99 latency, the fast-fail latency while a breaker is
open, the time from the outage to open and from the recovery to closed (over the clients, fastest
and slowest), calls past their deadline, exceptions escaping the client and turns applied twice
(the last three must be 0: ``main`` exits 1 otherwise), and draws the breaker states and outcome
rates over time (``benchmarks/_loadtest_plot.py``, matplotlib). With ``--write-docs`` it writes
docs/loadtest.md and docs/loadtest.png.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import importlib
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grpclib.client import Channel

from tests._servers import HOST, ServerProcess, free_port, serve_command, wait_serving
from tests.faultproxy import FaultProxy
from voicecore._proto.voicecore.v1 import (
    ErrorCode,
    PrimitiveState,
    StreamEventsRequest,
    VoiceCoreServiceStub,
)
from voicecore.client import BreakerConfig, BreakerState, ClientConfig, VoiceCoreClient

__all__ = ["Options", "PhaseRow", "Report", "applied_twice", "main", "run", "summarize"]

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("healthy", "killed", "restarted", "slowed", "recovered")
OUTAGES = {"killed", "slowed"}
RECOVERIES = {"restarted", "recovered"}
OK = "OK"
# Outcomes after which the caller sends the same turn again, under the same key.
RESEND = {ErrorCode.UNAVAILABLE.name, ErrorCode.TIMEOUT.name, ErrorCode.CIRCUIT_BREAKER_OPEN.name}
COMPLETED_EVENT = "primitive.completed"
LAG_PERIOD = 0.02
TURNS = ("my number is four one five five five five two six seven one", "yes that's right")


@dataclass(frozen=True)
class Options:
    """The load and the fault schedule; the defaults are what docs/loadtest.md shows."""

    budget_seconds: float = 100.0
    clients: int = 4
    callers: int = 8
    deadline: float = 1.0
    #: The proxy's delay per chunk while slowed, as a multiple of the deadline.
    slow_factor: float = 1.5
    #: How long a caller takes between turns, and waits before re-sending a turn.
    think: float = 0.2
    backoff: float = 0.2
    #: Re-sends of one turn before the caller gives up on the conversation.
    resends: int = 10
    #: A call is past its deadline when it returns later than the deadline plus this.
    slack: float = 0.25
    breaker: BreakerConfig = BreakerConfig(
        failure_threshold=5, open_seconds=1.0, half_open_successes=2, half_open_max_calls=2
    )

    @property
    def phase_seconds(self) -> float:
        return self.budget_seconds / len(PHASES)


@dataclass(frozen=True)
class Call:
    """One ``execute`` as a caller saw it (times in seconds since the run began)."""

    start: float
    latency: float
    phase: str
    client: int
    outcome: str
    replayed: bool = False
    #: Attempts after the first inside this ``execute`` (the client's own retries).
    retries: int = 0


@dataclass(frozen=True)
class Transition:
    """A breaker's change of state."""

    time: float
    client: int
    new: BreakerState


@dataclass
class Report:
    """Everything one run recorded."""

    options: Options
    calls: list[Call] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    #: (phase name, start, end)
    phases: list[tuple[str, float, float]] = field(default_factory=list)
    #: The moment each outage began and each recovery was complete, by phase.
    marks: dict[str, float] = field(default_factory=dict)
    escaped: list[str] = field(default_factory=list)
    #: Per server incarnation: the trace ids of its primitive.completed events, with when seen.
    completions: list[list[tuple[str, float]]] = field(default_factory=list)
    end: float = 0.0
    #: (when, how late) of a timer that should fire every LAG_PERIOD: the load generator's own
    #: event-loop lag, which no asyncio client can beat.
    lags: list[tuple[float, float]] = field(default_factory=list)
    #: The machine's 1-minute load average when the phases began: context for the latencies.
    load_average: float = 0.0

    def phase_at(self, moment: float) -> str:
        """The phase running at ``moment``; the first before the run, the last after it."""
        for name, _, end in self.phases:
            if moment < end:
                return name
        return self.phases[-1][0] if self.phases else PHASES[0]


@dataclass(frozen=True)
class PhaseRow:
    """The summary of one phase."""

    phase: str
    calls: int
    outcomes: dict[str, int]
    replays: int
    p50_ms: float
    p99_ms: float
    fast_fail_p50_ms: float | None
    fast_fail_p99_ms: float | None
    to_open_s: tuple[float, float] | None
    to_closed_s: tuple[float, float] | None
    past_deadline: int
    max_lag_ms: float
    escaped: int
    applied_twice: int


def applied_twice(completions: Sequence[Sequence[tuple[str, float]]]) -> list[tuple[str, float]]:
    """Each repeat completion of a trace id within one server's log, with when it was seen."""
    repeats = []
    for incarnation in completions:
        seen: set[str] = set()
        for trace_id, moment in incarnation:
            if trace_id in seen:
                repeats.append((trace_id, moment))
            seen.add(trace_id)
    return repeats


class _Clock:
    """Seconds since the phases began (negative while the run is being set up)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._start = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self._start


async def _watch_lag(report: Report, clock: _Clock, stop: asyncio.Event) -> None:
    """Sample how late a LAG_PERIOD timer fires, until ``stop``."""
    while not stop.is_set():
        before = clock()
        await asyncio.sleep(LAG_PERIOD)
        report.lags.append((before, max(0.0, clock() - before - LAG_PERIOD)))


async def _follow(port: int, seen: list[tuple[str, float]], clock: _Clock) -> None:
    """Record the trace id of every primitive.completed event of the server on ``port``."""
    request = StreamEventsRequest(types=[COMPLETED_EVENT], trace_id="loadtest-observer")
    channel = Channel(HOST, port)
    try:
        async for event in VoiceCoreServiceStub(channel).stream_events(request):
            seen.append((event.trace_id, clock()))
    except Exception:  # the server was killed under the stream: its log is gone with it
        pass
    finally:
        channel.close()


class _Caller:
    """One simulated orchestration session after another, until ``stop`` is set."""

    def __init__(
        self, client: VoiceCoreClient, number: int, name: str, report: Report, clock: _Clock
    ) -> None:
        self.client = client
        self.number = number
        self.name = name
        self.report = report
        self.clock = clock

    async def run(self, stop: asyncio.Event) -> None:
        conversation = 0
        while not stop.is_set():
            conversation += 1
            await self._conversation(f"{self.name}-{conversation}", stop)

    async def _conversation(self, conversation_id: str, stop: asyncio.Event) -> None:
        options = self.report.options
        for turn, said in enumerate(TURNS):
            turn_id = f"{conversation_id}-t{turn}"
            for _ in range(options.resends + 1):
                if stop.is_set():
                    return
                outcome, state = await self._turn(conversation_id, turn_id, said)
                if outcome not in RESEND:
                    break
                await asyncio.sleep(options.backoff)
            else:
                return  # gave up on this caller: the next conversation starts
            if outcome != OK or state in (PrimitiveState.INCOMPLETE, PrimitiveState.FAILED):
                return  # the held value was lost with a killed server: start over
            await asyncio.sleep(options.think)

    async def _turn(self, conversation_id: str, turn_id: str, said: str) -> tuple[str, object]:
        start = self.clock()
        try:
            response = await self.client.execute(
                "capture_phone",
                {"transcription": said},
                conversation_id=conversation_id,
                idempotency_key=turn_id,
                trace_id=turn_id,
                purpose="call you back",
            )
        except Exception as exc:  # the client promises never to raise: count any that escape
            self.report.escaped.append(f"{type(exc).__name__}: {exc}")
            return "EXCEPTION", None
        latency = self.clock() - start
        meta = response.metadata
        replayed = meta is not None and meta.replayed
        if response.success:
            outcome = OK
        else:
            outcome = response.error.code.name if response.error else "NO_ERROR"
        retries = meta.retry_count if meta is not None else 0
        phase = self.report.phase_at(start)
        call = Call(start, latency, phase, self.number, outcome, replayed, retries)
        self.report.calls.append(call)
        return outcome, meta.state if meta is not None else None


def _recorder(
    report: Report, client: int, clock: _Clock
) -> Callable[[BreakerState, BreakerState], None]:
    def record(old: BreakerState, new: BreakerState) -> None:
        report.transitions.append(Transition(clock(), client, new))

    return record


@contextlib.asynccontextmanager
async def _server(port: int) -> AsyncIterator[list[ServerProcess]]:
    """The server subprocesses of the run (the list grows on restart); all stopped at the end."""
    servers = [ServerProcess(serve_command(port), port)]
    try:
        yield servers
    finally:
        for server in servers:
            await server.stop_async()


async def run(options: Options) -> Report:
    """Run the phases once and return what was recorded."""
    report = Report(options)
    clock = _Clock()
    port = free_port()
    stop = asyncio.Event()
    followers: list[asyncio.Task[None]] = []

    def follow() -> None:
        seen: list[tuple[str, float]] = []
        report.completions.append(seen)
        followers.append(asyncio.create_task(_follow(port, seen, clock)))

    async with _server(port) as servers, FaultProxy(HOST, port) as proxy:
        await wait_serving(HOST, port)
        follow()
        config = ClientConfig(timeout=options.deadline, breaker=options.breaker)
        clients = [
            VoiceCoreClient(
                proxy.endpoint,
                config=config,
                on_breaker_transition=_recorder(report, n, clock),
            )
            for n in range(options.clients)
        ]
        callers = [
            _Caller(client, n, f"c{n}-{k}", report, clock)
            for n, client in enumerate(clients)
            for k in range(options.callers)
        ]
        # Connected and warm (the server's first capture loads its phone metadata), as an
        # orchestrator in production is: the healthy phase is the steady state.
        for client in clients:
            await client.execute("capture_phone", {"transcription": TURNS[0]}, conversation_id="")
        clock.reset()
        report.load_average = os.getloadavg()[0]
        tasks = [asyncio.create_task(caller.run(stop)) for caller in callers]
        tasks.append(asyncio.create_task(_watch_lag(report, clock, stop)))
        try:
            await _phases(report, clock, servers, proxy, port, follow)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            report.end = clock()
            for client in clients:
                await client.aclose()
            for task in followers:
                task.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
    return report


async def _phases(
    report: Report,
    clock: _Clock,
    servers: list[ServerProcess],
    proxy: FaultProxy,
    port: int,
    follow: Callable[[], None],
) -> None:
    options = report.options
    for name in PHASES:
        start = clock()
        report.phases.append((name, start, start + options.phase_seconds))
        if name == "killed":
            report.marks[name] = clock()
            servers[-1].process.kill()
            await servers[-1].wait_exit(10.0)
        elif name == "restarted":
            servers.append(ServerProcess(serve_command(port), port))
            await wait_serving(HOST, port)
            report.marks[name] = clock()
            follow()
        elif name == "slowed":
            report.marks[name] = clock()
            proxy.delay = options.deadline * options.slow_factor
        elif name == "recovered":
            proxy.delay = 0.0
            report.marks[name] = clock()
        await asyncio.sleep(max(0.0, start + options.phase_seconds - clock()))
    # The phases end where they were meant to, whatever a start-up took from the last one.
    report.phases[-1] = (PHASES[-1], report.phases[-1][1], clock())


def _percentile(values: Sequence[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _span(report: Report, phase: str, target: BreakerState) -> tuple[float, float] | None:
    """Fastest and slowest client to reach ``target`` after the phase's mark, in seconds."""
    mark = report.marks.get(phase)
    if mark is None:
        return None
    _, _, end = next(p for p in report.phases if p[0] == phase)
    delays = []
    for client in range(report.options.clients):
        reached = [
            t.time - mark
            for t in report.transitions
            if t.client == client and t.new is target and mark <= t.time < end
        ]
        if reached:
            delays.append(min(reached))
    return (min(delays), max(delays)) if delays else None


def summarize(report: Report) -> list[PhaseRow]:
    """One row per phase."""
    deadline = report.options.deadline + report.options.slack
    lag_times = [moment for moment, _ in report.lags]
    twice = Counter(report.phase_at(moment) for _, moment in applied_twice(report.completions))
    escaped_total = len(report.escaped)
    rows = []
    for name, _, _ in report.phases:
        calls = [c for c in report.calls if c.phase == name]
        latencies = sorted(c.latency * 1000 for c in calls) or [0.0]
        # Refused on the first attempt: never on the network (a retry refused waited first).
        fast = [
            c.latency * 1000
            for c in calls
            if c.outcome == "CIRCUIT_BREAKER_OPEN" and c.retries == 0
        ]
        rows.append(
            PhaseRow(
                phase=name,
                calls=len(calls),
                outcomes=dict(Counter(c.outcome for c in calls).most_common()),
                replays=sum(c.replayed for c in calls),
                p50_ms=_percentile(latencies, 50),
                p99_ms=_percentile(latencies, 99),
                fast_fail_p50_ms=_percentile(fast, 50) if fast else None,
                fast_fail_p99_ms=_percentile(fast, 99) if fast else None,
                to_open_s=_span(report, name, BreakerState.OPEN) if name in OUTAGES else None,
                to_closed_s=(
                    _span(report, name, BreakerState.CLOSED) if name in RECOVERIES else None
                ),
                # Late beyond what the load generator's own loop lag explains.
                past_deadline=sum(
                    c.latency > deadline + _lag_during(report.lags, lag_times, c) for c in calls
                ),
                max_lag_ms=1000
                * max(
                    (lag for moment, lag in report.lags if report.phase_at(moment) == name),
                    default=0.0,
                ),
                # Escapes are not timed (no response): they count against the whole run.
                escaped=escaped_total if name == report.phases[-1][0] else 0,
                applied_twice=twice[name],
            )
        )
    return rows


def _lag_during(lags: Sequence[tuple[float, float]], times: Sequence[float], call: Call) -> float:
    """The worst event-loop lag seen while ``call`` ran (0 without samples)."""
    first = bisect.bisect_left(times, call.start)
    last = bisect.bisect_right(times, call.start + call.latency + LAG_PERIOD)
    return max((lag for _, lag in lags[first:last]), default=0.0)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _seconds(span: tuple[float, float] | None) -> str:
    return "–" if span is None else f"{span[0]:.2f}–{span[1]:.2f}"


def table(rows: Sequence[PhaseRow]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| phase | calls | outcomes | replays | p50 ms | p99 ms | fast-fail p50/p99 ms "
        "| outage→open s | recovery→closed s | past deadline | escaped | applied twice "
        "| loop lag max ms |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        outcomes = ", ".join(f"{name} {count}" for name, count in row.outcomes.items()) or "–"
        fast = (
            "–"
            if row.fast_fail_p50_ms is None
            else f"{_ms(row.fast_fail_p50_ms)} / {_ms(row.fast_fail_p99_ms)}"
        )
        lines.append(
            f"| {row.phase} | {row.calls} | {outcomes} | {row.replays} | {row.p50_ms:.1f} "
            f"| {row.p99_ms:.1f} | {fast} | {_seconds(row.to_open_s)} "
            f"| {_seconds(row.to_closed_s)} | {row.past_deadline} | {row.escaped} "
            f"| {row.applied_twice} | {row.max_lag_ms:.0f} |"
        )
    return "\n".join(lines)


def violations(rows: Sequence[PhaseRow]) -> list[str]:
    """The invariants the run broke: calls past their deadline, escapes, turns applied twice."""
    found = []
    for row in rows:
        for what in ("past_deadline", "escaped", "applied_twice"):
            if getattr(row, what):
                found.append(f"{row.phase}: {what} = {getattr(row, what)}")
    return found


def markdown(report: Report, rows: Sequence[PhaseRow], picture: str) -> str:
    """docs/loadtest.md."""
    o = report.options
    b = o.breaker
    broken = violations(rows)
    verdict = "they are" if not broken else "in this run they are not (" + "; ".join(broken) + ")"
    return f"""# The circuit breaker under load

<!-- Written by benchmarks/loadtest.py (nox -s loadtest); edit that script, not this file. -->

{o.clients} orchestration clients (`VoiceCoreClient`, one breaker each) run {o.callers} callers
each, {o.clients * o.callers} in all, against a `voicecore serve` subprocess behind a fault proxy
on loopback. A caller captures a phone number in two turns (the number, then "yes"), each turn with
its own idempotency key, and re-sends a turn that got `UNAVAILABLE`, `TIMEOUT` or
`CIRCUIT_BREAKER_OPEN` under the same key after {o.backoff:g} s. The server is healthy, then
killed (SIGKILL), restarted on the same port, slowed (the proxy delays each chunk by
{o.deadline * o.slow_factor:g} s, past the client's {o.deadline:g} s deadline), and recovered,
{o.phase_seconds:g} s per phase. Breaker: {b.failure_threshold} consecutive failures open it for
{b.open_seconds:g} s; {b.half_open_successes} trial successes close it. Measured on
{os.cpu_count()} cores, load average {report.load_average:.1f} as the phases began (the load
generator, the server and whatever else the machine runs share them).

```
nox -s loadtest
```

![Breaker states and outcome rates over time]({picture})

{table(rows)}

- A call counts in the phase it began in (a call begun just before the kill ends after it).
- **outage→open** and **recovery→closed**: from the kill (or the slow-down) to each client's
  breaker opening, and from the restarted server answering SERVING (or the delay lifted) to its
  closing; fastest–slowest client.
- **fast-fail**: the calls an open breaker refused on their first attempt, without touching the
  network (a call refused on a retry waited for its first attempt).
- **replays**: answers the server gave from its idempotency record (`metadata.replayed`): a turn
  re-sent after its first answer was lost on the way back, not run again.
- **past deadline**: calls that returned more than {o.slack:g} s after their {o.deadline:g} s
  deadline, beyond the load generator's own event-loop lag while they ran (**loop lag**: how late
  a {LAG_PERIOD * 1000:g} ms timer fired; no asyncio client returns sooner than its loop lets
  it); **escaped**: exceptions out of `execute`, which promises none; **applied twice**: a
  trace id with two `primitive.completed` events in one server's log, as an observer following
  the log directly saw them. All three must be 0: {verdict}.
- **applied twice** compares each server's log with itself only: a turn applied just before the
  SIGKILL whose answer was lost, re-sent to the restarted server, is applied again there and not
  counted. That is expected with the memory store the load test runs (it keeps nothing across a
  restart); a shared store (Redis) would answer the re-sent turn from its idempotency record.
- The killed server's state went with it: a caller whose held number was lost starts over, which
  the restarted phase shows as conversations begun again, not as errors.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run once, print the table, and write the picture and (``--write-docs``) docs/loadtest.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--budget-seconds", type=float, default=Options.budget_seconds)
    parser.add_argument("--clients", type=int, default=Options.clients)
    parser.add_argument("--callers", type=int, default=Options.callers)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "voicecore-loadtest",
        help="the picture's folder without --write-docs (default: %(default)s)",
    )
    parser.add_argument("--write-docs", action="store_true", help="docs/loadtest.md and .png")
    args = parser.parse_args(argv)
    options = Options(
        budget_seconds=args.budget_seconds, clients=args.clients, callers=args.callers
    )
    report = asyncio.run(run(options))
    rows = summarize(report)
    print(table(rows))
    out = ROOT / "docs" if args.write_docs else args.out
    out.mkdir(parents=True, exist_ok=True)
    # matplotlib is installed by `nox -s loadtest` alone, so the plot is imported only here.
    plot = importlib.import_module("benchmarks._loadtest_plot")
    plot.draw(report, out / "loadtest.png")
    if args.write_docs:
        (out / "loadtest.md").write_text(markdown(report, rows, "loadtest.png"), encoding="utf-8")
    print(f"wrote {out / 'loadtest.png'}")
    broken = violations(rows)
    for line in broken:
        print(f"invariant broken: {line}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
