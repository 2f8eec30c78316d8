"""The breaker load test (``benchmarks/loadtest.py``, ``nox -s loadtest``): its core on a budget of
seconds keeps the invariants, and its accounting counts what it says it counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import loadtest
from benchmarks.loadtest import Call, Options, Report, Transition
from voicecore.client import BreakerState

PHASE = 1.0


def synthetic() -> Report:
    """Two phases of a run, made by hand: a kill at 1.0 s, breakers opening after it."""
    report = Report(Options(budget_seconds=2 * PHASE, clients=2, deadline=1.0, slack=0.25))
    report.phases = [("healthy", 0.0, PHASE), ("killed", PHASE, 2 * PHASE)]
    report.marks["killed"] = PHASE
    report.calls = [
        Call(0.1, 0.010, "healthy", 0, "OK"),
        Call(0.2, 0.020, "healthy", 1, "OK", replayed=True),
        # late by 0.4 s, 0.3 s of it the load generator's own loop lag: not the client's doing
        Call(0.4, 1.400, "healthy", 1, "TIMEOUT"),
        Call(1.1, 0.500, "killed", 0, "UNAVAILABLE"),
        Call(1.3, 0.001, "killed", 0, "CIRCUIT_BREAKER_OPEN"),
        Call(1.3, 0.300, "killed", 0, "CIRCUIT_BREAKER_OPEN", retries=1),  # not a fast fail
        Call(1.4, 1.300, "killed", 1, "TIMEOUT"),  # past 1.0 s + 0.25 s
    ]
    report.transitions = [
        Transition(0.5, 1, BreakerState.OPEN),  # before the outage: not its doing
        Transition(1.2, 0, BreakerState.OPEN),
        Transition(1.6, 1, BreakerState.OPEN),
    ]
    report.lags = [(0.3, 0.0), (0.5, 0.3), (1.5, 0.01)]
    report.completions = [[("t1", 0.1), ("t2", 0.2), ("t1", 1.5)], [("t1", 1.8)]]
    report.end = 2 * PHASE
    return report


def test_a_turn_completed_twice_in_one_servers_log_is_applied_twice() -> None:
    # t1 again on the restarted server is a new application: the first died with its server.
    assert loadtest.applied_twice(synthetic().completions) == [("t1", 1.5)]


def test_summary_counts_each_phase() -> None:
    healthy, killed = loadtest.summarize(synthetic())
    assert (healthy.calls, healthy.outcomes, healthy.replays) == (3, {"OK": 2, "TIMEOUT": 1}, 1)
    assert healthy.past_deadline == 0
    assert healthy.max_lag_ms == pytest.approx(300)
    assert healthy.to_open_s is None and healthy.applied_twice == 0
    assert killed.outcomes == {"CIRCUIT_BREAKER_OPEN": 2, "UNAVAILABLE": 1, "TIMEOUT": 1}
    assert killed.fast_fail_p50_ms == killed.fast_fail_p99_ms == pytest.approx(1.0)
    assert killed.to_open_s == pytest.approx((0.2, 0.6))
    assert (killed.past_deadline, killed.applied_twice, killed.escaped) == (1, 1, 0)


def test_every_broken_invariant_is_reported() -> None:
    report = synthetic()
    report.escaped.append("RuntimeError: boom")
    assert loadtest.violations(loadtest.summarize(report)) == [
        "killed: past_deadline = 1",
        "killed: escaped = 1",
        "killed: applied_twice = 1",
    ]


def test_the_document_shows_the_table_and_the_picture() -> None:
    report = synthetic()
    rows = loadtest.summarize(report)
    text = loadtest.markdown(report, rows, "loadtest.png")
    assert "![Breaker states and outcome rates over time](loadtest.png)" in text
    assert "| killed | 4 | CIRCUIT_BREAKER_OPEN 2, UNAVAILABLE 1, TIMEOUT 1 | 0 |" in text
    assert "| 0.20–0.60 |" in text
    assert "must be 0: in this run they are not (killed: past_deadline = 1; " in text
    report.calls = [call for call in report.calls if call.latency < 1.0]
    report.completions = []
    clean = loadtest.markdown(report, loadtest.summarize(report), "loadtest.png")
    assert "must be 0: they are." in clean


def test_a_repeat_across_a_restart_is_not_counted_and_the_report_says_so() -> None:
    """Each server's log is compared with itself only (the restarted memory store starts
    empty): the document states it, and the docs/loadtest.md in the repository does too."""
    assert loadtest.applied_twice([[("t1", 1.0)], [("t1", 2.0)]]) == []
    report = synthetic()
    text = loadtest.markdown(report, loadtest.summarize(report), "loadtest.png")
    limitation = "compares each server's log with itself only"
    assert limitation in text
    docs = Path(__file__).parents[2] / "docs" / "loadtest.md"
    assert limitation in docs.read_text(encoding="utf-8")


@pytest.mark.integration
async def test_a_short_run_keeps_the_invariants() -> None:
    """Kill, restart, slow-down and recovery on a tiny budget: nothing past its deadline,
    nothing escaping the client, no turn applied twice; the faults did happen."""
    report = await loadtest.run(Options(budget_seconds=5 * 1.5, clients=2, callers=3))
    rows = {row.phase: row for row in loadtest.summarize(report)}
    assert list(rows) == list(loadtest.PHASES)
    assert all(row.calls for row in rows.values())
    assert "OK" in rows["healthy"].outcomes
    assert {"UNAVAILABLE", "CIRCUIT_BREAKER_OPEN"} & set(rows["killed"].outcomes)
    assert len(report.completions) == 2  # the observer followed both servers' logs
    assert report.completions[0]
    assert loadtest.violations(list(rows.values())) == []
