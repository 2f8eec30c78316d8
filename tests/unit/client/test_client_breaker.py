"""The circuit breaker's state machine, driven by a fake clock: no test sleeps."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests._fakes import FakeClock
from voicecore.client import (
    BreakerConfig,
    BreakerState,
    CallOutcome,
    CircuitBreaker,
    CircuitOpenError,
    RateWindow,
)

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
OK, FAIL, SKIP = CallOutcome.SUCCESS, CallOutcome.FAILURE, CallOutcome.IGNORED


@dataclass
class Harness:
    """A breaker with a fake clock that records every transition."""

    config: BreakerConfig = field(default_factory=BreakerConfig)
    clock: FakeClock = field(default_factory=lambda: FakeClock(1000.0))
    transitions: list[tuple[BreakerState, BreakerState]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.breaker = CircuitBreaker(
            self.config,
            name="test",
            clock=self.clock,
            on_transition=lambda old, new: self.transitions.append((old, new)),
        )

    def call(self, outcome: CallOutcome, duration: float = 0.0) -> bool:
        """One call ending with ``outcome``; False if the breaker refused it."""
        try:
            permit = self.breaker.acquire()
        except CircuitOpenError:
            return False
        self.clock.advance(duration)
        self.breaker.record(permit, outcome)
        return True


# Each step: an outcome to call with ("wait N" moves the clock), and the state expected after.
Step = tuple[CallOutcome | str, BreakerState]


def four_failures() -> list[Step]:
    """Four failures: one short of the default threshold, still closed."""
    return [(FAIL, CLOSED)] * 4


TRANSITIONS: dict[str, list[Step]] = {
    "failures below the threshold keep it closed": four_failures(),
    "the fifth consecutive failure opens it": four_failures() + [(FAIL, OPEN)],
    "a success resets the consecutive count": four_failures() + [(OK, CLOSED)] + four_failures(),
    "ignored outcomes neither count nor reset": four_failures() + [(SKIP, CLOSED), (FAIL, OPEN)],
    "open stays open before the interval": four_failures() + [(FAIL, OPEN), ("wait 29.9", OPEN)],
    "open becomes half-open after the interval": four_failures()
    + [(FAIL, OPEN), ("wait 30", HALF_OPEN)],
    "two half-open successes close it": four_failures()
    + [(FAIL, OPEN), ("wait 30", HALF_OPEN), (OK, HALF_OPEN), (OK, CLOSED)],
    "a half-open failure reopens it": four_failures()
    + [(FAIL, OPEN), ("wait 30", HALF_OPEN), (OK, HALF_OPEN), (FAIL, OPEN)],
    "reopened waits a full interval again": four_failures()
    + [
        (FAIL, OPEN),
        ("wait 30", HALF_OPEN),
        (FAIL, OPEN),
        ("wait 29", OPEN),
        ("wait 1", HALF_OPEN),
    ],
    "closed again needs five new failures": four_failures()
    + [(FAIL, OPEN), ("wait 30", HALF_OPEN), (OK, HALF_OPEN), (OK, CLOSED)]
    + four_failures()
    + [(FAIL, OPEN)],
    "ignored in half-open counts nothing": four_failures()
    + [(FAIL, OPEN), ("wait 30", HALF_OPEN), (SKIP, HALF_OPEN), (OK, HALF_OPEN), (OK, CLOSED)],
}


class TestTransitions:
    """Every state transition of the default configuration, step by step."""

    @pytest.mark.parametrize("steps", TRANSITIONS.values(), ids=TRANSITIONS.keys())
    def test_table(self, steps: list[Step]) -> None:
        """Each step leaves the breaker in the state the table says."""
        harness = Harness()
        for number, (action, expected) in enumerate(steps):
            if isinstance(action, str):
                harness.clock.advance(float(action.removeprefix("wait ")))
            else:
                harness.call(action)
            assert harness.breaker.state is expected, f"step {number}: {action}"

    def test_transitions_reported_in_order(self) -> None:
        """The callback sees CLOSED->OPEN->HALF_OPEN->CLOSED, each once."""
        harness = Harness()
        for _ in range(5):
            harness.call(FAIL)
        harness.clock.advance(30)
        harness.call(OK)
        harness.call(OK)
        assert harness.transitions == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]

    def test_open_refuses_without_calling(self) -> None:
        """An open breaker raises CircuitOpenError with the time until the next trial."""
        harness = Harness()
        for _ in range(5):
            harness.call(FAIL)
        harness.clock.advance(10)
        with pytest.raises(CircuitOpenError) as refused:
            harness.breaker.acquire()
        assert refused.value.state is OPEN
        assert refused.value.retry_after == pytest.approx(20.0)

    def test_configured_thresholds(self) -> None:
        """Threshold, open interval and half-open successes follow the configuration."""
        config = BreakerConfig(failure_threshold=2, open_seconds=1.0, half_open_successes=3)
        harness = Harness(config)
        harness.call(FAIL)
        harness.call(FAIL)
        assert harness.breaker.state is OPEN
        harness.clock.advance(1.0)
        for _ in range(2):
            harness.call(OK)
            assert harness.breaker.state is HALF_OPEN
        harness.call(OK)
        assert harness.breaker.state is CLOSED


class TestHalfOpenTrials:
    """Half-open admits a bounded number of concurrent trial calls."""

    def _half_open(self, config: BreakerConfig | None = None) -> Harness:
        harness = Harness(config or BreakerConfig())
        for _ in range(5):
            harness.call(FAIL)
        harness.clock.advance(30)
        return harness

    def test_third_concurrent_trial_refused(self) -> None:
        """With two trials in flight, a third call is refused at once."""
        harness = self._half_open()
        first, second = harness.breaker.acquire(), harness.breaker.acquire()
        with pytest.raises(CircuitOpenError) as refused:
            harness.breaker.acquire()
        assert refused.value.state is HALF_OPEN
        harness.breaker.record(first, OK)
        harness.breaker.record(second, OK)
        assert harness.breaker.state is CLOSED

    def test_finished_trial_frees_its_slot(self) -> None:
        """A trial that ends (even ignored) lets the next one in."""
        harness = self._half_open()
        first, _second = harness.breaker.acquire(), harness.breaker.acquire()
        harness.breaker.record(first, SKIP)
        third = harness.breaker.acquire()  # raises CircuitOpenError if the slot stayed taken
        assert third is not None and harness.breaker.state is HALF_OPEN

    def test_configured_trial_limit(self) -> None:
        """half_open_max_calls=1 admits a single trial."""
        harness = self._half_open(BreakerConfig(half_open_max_calls=1))
        harness.breaker.acquire()
        with pytest.raises(CircuitOpenError):
            harness.breaker.acquire()

    def test_stale_trial_result_ignored(self) -> None:
        """A trial admitted before the breaker reopened does not count afterwards."""
        harness = self._half_open()
        first, second = harness.breaker.acquire(), harness.breaker.acquire()
        harness.breaker.record(first, FAIL)
        assert harness.breaker.state is OPEN
        harness.breaker.record(second, OK)
        assert harness.breaker.state is OPEN
        harness.clock.advance(30)
        assert harness.breaker.state is HALF_OPEN


class TestRateWindow:
    """The optional Resilience4j-style failure-rate and slow-call window."""

    def _rate_only(self, **window: float | int) -> Harness:
        config = BreakerConfig(failure_threshold=None, window=RateWindow(**window))  # type: ignore[arg-type]
        return Harness(config)

    def test_rate_not_judged_below_minimum_calls(self) -> None:
        """Failures before minimum_calls are recorded do not open the breaker."""
        harness = self._rate_only(size=10, minimum_calls=5, failure_rate_threshold=0.5)
        for _ in range(4):
            harness.call(FAIL)
        assert harness.breaker.state is CLOSED
        harness.call(FAIL)
        assert harness.breaker.state is OPEN

    def test_rate_below_threshold_stays_closed(self) -> None:
        """Alternating results (at most 60 %) stay closed under a 70 % threshold."""
        harness = self._rate_only(size=10, minimum_calls=4, failure_rate_threshold=0.7)
        for _ in range(10):
            harness.call(FAIL)
            harness.call(OK)
        assert harness.breaker.state is CLOSED

    def test_rate_at_threshold_opens(self) -> None:
        """Non-consecutive failures reaching the rate open the breaker."""
        harness = self._rate_only(size=4, minimum_calls=4, failure_rate_threshold=0.5)
        for outcome in (OK, FAIL, OK):
            harness.call(outcome)
        assert harness.breaker.state is CLOSED
        harness.call(FAIL)
        assert harness.breaker.state is OPEN

    def test_window_slides(self) -> None:
        """Old outcomes leave the window: early failures are forgotten."""
        harness = self._rate_only(size=4, minimum_calls=4, failure_rate_threshold=0.75)
        for outcome in (FAIL, FAIL, OK, OK, OK, FAIL, FAIL):
            harness.call(outcome)
        assert harness.breaker.state is CLOSED

    def test_slow_calls_open(self) -> None:
        """Successful but slow calls open the breaker at the slow-call rate."""
        harness = self._rate_only(
            size=4, minimum_calls=4, slow_call_seconds=1.0, slow_call_rate_threshold=0.5
        )
        harness.call(OK, duration=0.1)
        harness.call(OK, duration=2.0)
        harness.call(OK, duration=0.1)
        assert harness.breaker.state is CLOSED
        harness.call(OK, duration=1.0)
        assert harness.breaker.state is OPEN

    def test_both_modes_together(self) -> None:
        """With a window and a threshold, consecutive failures still open first."""
        config = BreakerConfig(failure_threshold=3, window=RateWindow(size=100, minimum_calls=50))
        harness = Harness(config)
        for _ in range(3):
            harness.call(FAIL)
        assert harness.breaker.state is OPEN


class TestIgnoredOutcomes:
    """Outcomes the caller owns leave the breaker alone."""

    def test_ignored_never_opens(self) -> None:
        """Any number of ignored calls keeps the breaker closed."""
        harness = Harness()
        for _ in range(50):
            harness.call(SKIP)
        assert harness.breaker.state is CLOSED
        assert harness.breaker.consecutive_failures == 0

    def test_stale_closed_result_dropped(self) -> None:
        """A call admitted while closed that fails after the breaker opened changes nothing."""
        harness = Harness()
        slow = harness.breaker.acquire()
        for _ in range(5):
            harness.call(FAIL)
        harness.clock.advance(30)
        harness.breaker.record(slow, FAIL)
        assert harness.breaker.state is HALF_OPEN


class TestConfigValidation:
    """Nonsense configuration is refused when built."""

    @pytest.mark.parametrize(
        "kwargs",
        [{"failure_threshold": 0}, {"open_seconds": -1}, {"half_open_max_calls": 0}],
    )
    def test_refused(self, kwargs: dict[str, float]) -> None:
        """Zero thresholds and negative intervals raise a validation error."""
        with pytest.raises(ValueError):
            BreakerConfig(**kwargs)  # type: ignore[arg-type]
