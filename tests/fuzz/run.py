"""Fuzz a live ``voicecore serve`` over gRPC and raw HTTP/2 for a time budget (``nox -s fuzz``).

    python -m tests.fuzz.run --budget-seconds 60 [--seed N]

Two campaigns take turns in batches, each batch one hypothesis run: ``grpc`` (paths, metadata,
``grpc-timeout``, the 5-byte prefix, message fields, params) and ``h2`` (frame sequences and
floods). After every input: the process must be alive, a HealthCheck on a long-lived channel
must answer (which also orders the ticker's lag reports before the next input), the loop must
not have stalled, and the call must not end INTERNAL/UNKNOWN or (with valid metadata) without
an answer. After every batch: grpc.health.v1 Check and HealthCheck on a fresh connection, and
the server's RSS against ``--max-rss-mb``. A failing input is shrunk by hypothesis (within
``--shrink-seconds``), then the server is restarted if it died or stopped answering.

Exit status 1 if anything was found, each finding printed with its minimal input's repr as the
reproducer.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

from tests.fuzz._grpc_inputs import EXECUTE, STREAM_EVENTS, GrpcInput, Request, grpc_inputs
from tests.fuzz._h2_inputs import H2Input, h2_inputs, send_h2
from tests.fuzz._live import LiveServer
from tests.fuzz._wire import raw_call
from tests.property.test_params_fuzz import OBJECTIVE_TYPES
from voicecore._proto.voicecore.v1 import ErrorCode, ExecutePrimitiveResponse

__all__ = ["Finding", "main"]

STALL_MS = 100.0  # the loop must never be late by more than this ...
STALL_CPU_MS = 50.0  # ... while busy itself (not merely unscheduled on a loaded machine)
CALL_TIMEOUT = 5.0
BATCH = 40
_EXIT_WAIT = 0.5  # a server that failed a health check gets this long to show it has exited
_BAD_STATUSES = {2: "UNKNOWN", 13: "INTERNAL"}


class Finding(Exception):
    """Something the server must never do; ``kind`` says which."""

    kind = "finding"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.campaign = ""
        self.reproducer = ""
        self.times = 1  # batches that found it


# One class per kind: hypothesis shrinks each distinct exception type as its own bug.
class Crash(Finding):
    kind = "crash"


class Unresponsive(Finding):
    kind = "unresponsive"


class Stall(Finding):
    kind = "stall"


class Hang(Finding):
    kind = "hang"


class Internal(Finding):
    kind = "internal"


class Unanswered(Finding):
    kind = "unanswered"


class Unhealthy(Finding):
    kind = "unhealthy"


class Memory(Finding):
    kind = "memory"


# --- one input of each campaign --------------------------------------------------------------


async def run_grpc(server: LiveServer, value: GrpcInput) -> Finding | None:
    """One raw gRPC call; its own outcome only (the shared checks come after)."""
    outcome = await raw_call(
        server.host, server.port, value.headers(server.target), value.body(), CALL_TIMEOUT
    )
    if outcome.timed_out:
        # a following StreamEvents never ends by design; a unary call must
        return None if value.path == STREAM_EVENTS else Hang(f"no answer in {CALL_TIMEOUT} s")
    if outcome.grpc_status in _BAD_STATUSES:
        name = _BAD_STATUSES[outcome.grpc_status]
        return Internal(f"grpc-status {name}: {outcome.grpc_message!r}")
    if not outcome.answered and value.metadata_is_valid():
        return Unanswered(f"no grpc-status: reset={outcome.reset_code} closed={outcome.closed}")
    if outcome.grpc_status == 0 and value.path == EXECUTE and len(outcome.body) >= 5:
        response = ExecutePrimitiveResponse.parse(outcome.body[5:])
        if response.error is not None and response.error.code == ErrorCode.INTERNAL:
            return Internal(f"ErrorCode.INTERNAL: {response.error.message!r}")
    return None


async def run_h2(server: LiveServer, value: H2Input) -> Finding | None:
    """One connection's frame sequence."""
    outcome = await send_h2(server.host, server.port, value)
    if outcome.internal:
        return Internal(f"grpc-status in trailers: {outcome.grpc_statuses}")
    return None


@dataclass(frozen=True)
class Campaign:
    """A kind of input: its strategy and how one is run."""

    name: str
    strategy: st.SearchStrategy[Any]
    run: Callable[[LiveServer, Any], Awaitable[Finding | None]]


CAMPAIGNS = (Campaign("grpc", grpc_inputs(), run_grpc), Campaign("h2", h2_inputs(), run_h2))


# --- the fuzzer ------------------------------------------------------------------------------


@dataclass
class Fuzzer:
    """Runs batches until the budget is spent; keeps the findings and the counts."""

    server: LiveServer
    loop: asyncio.AbstractEventLoop
    deadline: float
    shrink_seconds: float
    max_rss_mb: float
    inputs: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)  # first and latest sample of this process
    _seen: dict[str, Finding | None] = field(default_factory=dict)
    _shrink_until: float = 0.0
    _restart: bool = False

    def out_of_time(self) -> bool:
        """The budget is spent, or this batch's shrinking is."""
        now = time.monotonic()
        return now > self.deadline or (self._shrink_until > 0 and now > self._shrink_until)

    def check(self, campaign: Campaign, value: object) -> None:
        """Run one input (the hypothesis test body); raise its finding.

        An input seen before answers from the record, so that hypothesis's replay of the
        minimal example does not run (and perhaps kill) the server again.
        """
        key = repr(value)
        if key not in self._seen:
            if self.out_of_time():
                return
            self._seen[key] = self.loop.run_until_complete(self._run_one(campaign, value))
        finding = self._seen[key]
        if finding is not None:
            if not self._shrink_until:
                self._shrink_until = time.monotonic() + self.shrink_seconds
            raise finding

    async def _run_one(self, campaign: Campaign, value: object) -> Finding | None:
        if self._restart or self.server.exit_code() is not None:
            await self._fresh_server()
        self.inputs[campaign.name] += 1
        try:
            own = await campaign.run(self.server, value)
        except OSError:  # connection refused or reset: the checks below tell whether it died
            own = None
        after = await self._after_input()
        finding = after or own  # a crash or a stall says more than what the call saw
        if finding is not None:
            finding.campaign, finding.reproducer = campaign.name, repr(value)
        return finding

    async def _after_input(self) -> Finding | None:
        code = self.server.exit_code()
        if code is not None:
            self._restart = True
            return Crash(f"the server exited with status {code}")
        try:
            await self.server.custom_health()
        except Exception as exc:  # whatever it is, the server did not answer a health check
            self._restart = True
            code = await self.server.wait_exit(_EXIT_WAIT)
            if code is not None:  # it died while the health check was on its way
                return Crash(f"the server exited with status {code}")
            return Unresponsive(f"HealthCheck after the input failed: {exc!r}")
        stalls = [s for s in self.server.new_stalls() if s.lag_ms > STALL_MS]
        busy = [s for s in stalls if s.cpu_ms >= STALL_CPU_MS]
        if busy:
            worst = max(busy, key=lambda s: s.lag_ms)
            return Stall(f"event loop blocked {worst.lag_ms:.0f} ms ({worst.cpu_ms:.0f} ms CPU)")
        return None

    async def _fresh_server(self) -> None:
        await self.server.start()
        self._restart = False
        await _warm_up(self.server)
        self.rss = [self.server.rss_mb()]

    def run_batch(self, campaign: Campaign, batch_seed: int) -> None:
        """One hypothesis run of ``BATCH`` inputs, then the batch checks."""
        self._shrink_until = 0.0

        @seed(batch_seed)
        @settings(
            max_examples=BATCH,
            database=None,
            deadline=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=True,
            verbosity=Verbosity.quiet,
        )
        @given(value=campaign.strategy)
        def fuzz(value: object) -> None:
            self.check(campaign, value)

        try:
            fuzz()
        except Finding as finding:
            self._record(finding)
        except BaseExceptionGroup as group:
            for each in group.exceptions:
                if not isinstance(each, Finding):
                    raise
                self._record(each)
        self._seen.clear()
        self.loop.run_until_complete(self._after_batch(campaign))

    async def _after_batch(self, campaign: Campaign) -> None:
        if self._restart or self.server.exit_code() is not None:
            return  # the input that did it is already recorded
        problem = await self.server.probe()
        if problem:
            self._batch_finding(Unhealthy(problem), campaign)
            return
        self.rss[1:] = [self.server.rss_mb()]
        if self.rss[-1] > self.max_rss_mb:
            grew = f"RSS {self.rss[0]:.0f} -> {self.rss[-1]:.0f} MiB, over {self.max_rss_mb:.0f}"
            self._batch_finding(Memory(grew), campaign)

    def _batch_finding(self, finding: Finding, campaign: Campaign) -> None:
        finding.campaign = campaign.name
        finding.reproducer = "(the batch as a whole; rerun with the same --seed)"
        self._record(finding)
        self._restart = True

    def _record(self, finding: Finding) -> None:
        """Keep one finding per kind and detail: the one with the shortest reproducer."""
        key = (finding.kind, finding.campaign, finding.detail)
        same = [f for f in self.findings if (f.kind, f.campaign, f.detail) == key]
        finding.times = 1 + sum(f.times for f in same)
        if same and len(same[0].reproducer) <= len(finding.reproducer):
            same[0].times = finding.times
            return
        self.findings = [f for f in self.findings if f not in same] + [finding]


async def _warm_up(server: LiveServer) -> None:
    """A first call of each primitive builds caches (regexes, schemas): not a stall to report."""
    for objective_type in OBJECTIVE_TYPES:
        request = Request(objective_type, {"transcription": "yes twenty one at gmail dot com"})
        value = GrpcInput(path=EXECUTE, message=request)
        await raw_call(server.host, server.port, value.headers(server.target), value.body(), 10.0)
    await server.custom_health()
    server.new_stalls()


# --- command line ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__)
    parser.add_argument("--budget-seconds", type=float, default=300.0, help="default 300")
    parser.add_argument("--seed", type=int, help="base seed of the batches (default: random)")
    parser.add_argument("--shrink-seconds", type=float, default=30.0, help="per batch")
    parser.add_argument("--max-rss-mb", type=float, default=512.0, help="server RSS ceiling")
    return parser


def _report(fuzzer: Fuzzer, spent: float) -> int:
    total = sum(fuzzer.inputs.values())
    per = ", ".join(f"{name} {count}" for name, count in sorted(fuzzer.inputs.items()))
    print(f"\n{total} inputs in {spent:.0f} s ({per}); server starts: {fuzzer.server.starts}")
    if fuzzer.rss:
        print(f"server RSS {fuzzer.rss[0]:.0f} -> {fuzzer.rss[-1]:.0f} MiB (last process)")
    for number, finding in enumerate(fuzzer.findings, 1):
        print(f"\n[{number}] {finding.kind} ({finding.campaign}): {finding.detail}")
        print(f"    found in {finding.times} batch(es); the shortest input is shown")
        print(f"    reproducer: {finding.reproducer}")
    print(f"\n{len(fuzzer.findings)} findings")
    return 1 if fuzzer.findings else 0


def main(argv: list[str] | None = None) -> int:
    """Run the campaigns for the budget; 1 if anything was found."""
    args = _parser().parse_args(argv)
    base_seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"fuzzing for {args.budget_seconds:.0f} s, --seed {base_seed}", flush=True)
    loop = asyncio.new_event_loop()
    server = LiveServer("--debug-primitives")
    started = time.monotonic()
    fuzzer = Fuzzer(
        server, loop, started + args.budget_seconds, args.shrink_seconds, args.max_rss_mb
    )
    try:
        loop.run_until_complete(fuzzer._fresh_server())
        batch = 0
        while time.monotonic() < fuzzer.deadline:
            campaign = CAMPAIGNS[batch % len(CAMPAIGNS)]
            fuzzer.run_batch(campaign, base_seed + batch)
            batch += 1
            print(f"batch {batch} ({campaign.name}): {sum(fuzzer.inputs.values())} inputs, "
                  f"{len(fuzzer.findings)} findings", flush=True)  # fmt: skip
    finally:
        loop.run_until_complete(server.stop())
        server.close()
        loop.close()
    return _report(fuzzer, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
