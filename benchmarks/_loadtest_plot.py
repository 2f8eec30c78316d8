"""The load test's picture: breaker states and outcome rates over time (matplotlib).

Apart from ``benchmarks/loadtest.py`` because matplotlib is installed by ``nox -s loadtest``
alone (pinned there), not by the project's dev group.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from benchmarks.loadtest import OK, Report
from voicecore.client import BreakerState

__all__ = ["draw"]

BIN_SECONDS = 0.5
COLOURS = {
    OK: "tab:green",
    "CIRCUIT_BREAKER_OPEN": "tab:orange",
    "UNAVAILABLE": "tab:red",
    "TIMEOUT": "tab:purple",
}
STATES = (BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN)
STATE_COLOURS = ("tab:green", "gold", "tab:red")


def _rates(report: Report) -> tuple[list[float], dict[str, list[float]]]:
    bins = max(1, int(report.end / BIN_SECONDS) + 1)
    edges = [i * BIN_SECONDS for i in range(bins)]
    outcomes = sorted({c.outcome for c in report.calls}, key=lambda o: (o not in COLOURS, o))
    rates = {outcome: [0.0] * bins for outcome in outcomes}
    for call in report.calls:
        rates[call.outcome][min(bins - 1, int(call.start / BIN_SECONDS))] += 1 / BIN_SECONDS
    return edges, rates


def _states(report: Report) -> tuple[list[float], dict[BreakerState, list[int]]]:
    """How many clients are in each state, at each transition (a step function)."""
    current = dict.fromkeys(range(report.options.clients), BreakerState.CLOSED)
    times = [0.0]
    counts = {
        state: [report.options.clients if state is BreakerState.CLOSED else 0] for state in STATES
    }
    for transition in sorted(report.transitions, key=lambda t: t.time):
        current[transition.client] = transition.new
        times.append(transition.time)
        for state in STATES:
            counts[state].append(sum(s is state for s in current.values()))
    times.append(report.end)
    for state in STATES:
        counts[state].append(counts[state][-1])
    return times, counts


def draw(report: Report, path: Path) -> None:
    """Write the picture to ``path`` (PNG)."""
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 5.5), sharex=True, height_ratios=(3, 1.4), layout="constrained"
    )
    edges, rates = _rates(report)
    for outcome, values in rates.items():
        top.step(edges, values, where="post", label=outcome, color=COLOURS.get(outcome))
    top.set_ylabel("calls per second")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    times, counts = _states(report)
    bottom.stackplot(
        times,
        [counts[state] for state in STATES],
        labels=[state.value for state in STATES],
        colors=STATE_COLOURS,
        step="post",
    )
    bottom.set_ylabel("clients")
    bottom.set_ylim(0, report.options.clients)
    bottom.set_xlabel("seconds")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    for axes in (top, bottom):
        for index, (name, start, end) in enumerate(report.phases):
            if index % 2:
                axes.axvspan(start, end, color="0.93", zorder=0)
            if axes is top:
                axes.text(
                    start, 1.01, f" {name}", transform=axes.get_xaxis_transform(), va="bottom"
                )
        axes.set_xlim(0, report.end)
    top.set_title("Breaker under load: outcome rates (top), breaker states (bottom)", pad=16)
    figure.savefig(path, dpi=72)
    plt.close(figure)
