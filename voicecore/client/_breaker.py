"""A small circuit breaker: CLOSED / OPEN / HALF_OPEN, one per target.

Why not a library: the maintained Python breakers each miss something this client needs.
pybreaker is synchronous (its async path needs Tornado) and reads wall-clock time; circuitbreaker,
aiocircuitbreaker and purgatory count consecutive failures only; none of them limits concurrent
trial calls in half-open, offers a Resilience4j-style failure-rate window or slow-call counting,
or accepts an injected clock for tests that do not sleep; aiobreaker is unmaintained since 2021.
What remains is about 150 lines of plain state, kept here.

Use: ``permit = breaker.acquire()`` (raises ``CircuitOpenError`` without touching the network),
make the call, then ``breaker.record(permit, outcome)``. Results of calls that began in an older
state (say, a slow call started while CLOSED that ends after the breaker opened) are dropped:
they say nothing about the state the breaker is in now.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from voicecore.errors import VoiceCoreClientError

__all__ = [
    "BreakerConfig",
    "BreakerState",
    "CallOutcome",
    "CircuitBreaker",
    "CircuitOpenError",
    "Permit",
    "RateWindow",
]

Clock = Callable[[], float]
TransitionCallback = Callable[["BreakerState", "BreakerState"], None]


class BreakerState(enum.Enum):
    """Where the breaker is: letting calls through, failing them fast, or trying a few."""

    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CallOutcome(enum.Enum):
    """How one call through the breaker ended, as far as the breaker cares."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    #: Neither (the caller's own cancellation): frees a half-open trial slot, counts nothing.
    IGNORED = "IGNORED"


class RateWindow(BaseModel):
    """A count-based sliding window over the last ``size`` calls (Resilience4j style).

    Once ``minimum_calls`` are recorded, the breaker opens when the failure rate reaches
    ``failure_rate_threshold`` or the share of calls slower than ``slow_call_seconds`` reaches
    ``slow_call_rate_threshold``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int = Field(default=20, ge=1)
    minimum_calls: int = Field(default=10, ge=1)
    failure_rate_threshold: float = Field(default=0.5, gt=0, le=1)
    slow_call_seconds: float | None = Field(default=None, gt=0)
    slow_call_rate_threshold: float = Field(default=1.0, gt=0, le=1)


class BreakerConfig(BaseModel):
    """When the breaker opens, how long it stays open, and what closes it again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Consecutive failures that open a CLOSED breaker; ``None`` leaves only the rate window.
    failure_threshold: int | None = Field(default=5, ge=1)
    open_seconds: float = Field(default=30.0, ge=0)
    half_open_successes: int = Field(default=2, ge=1)
    half_open_max_calls: int = Field(default=2, ge=1)
    window: RateWindow | None = None


class CircuitOpenError(VoiceCoreClientError):
    """The breaker refused the call: it is OPEN, or HALF_OPEN with every trial slot taken."""

    def __init__(self, name: str, state: BreakerState, retry_after: float) -> None:
        super().__init__(
            f"circuit breaker {name or 'voicecore'} is {state.value}; "
            f"next trial in {retry_after:.3f} s"
        )
        self.state = state
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Permit:
    """One admitted call: the state generation it began in, and when."""

    generation: int
    started_at: float
    trial: bool


class CircuitBreaker:
    """Fails calls fast while a target looks sick; see the module docstring for the protocol.

    ``clock`` (monotonic seconds) is injectable so tests move time by hand; ``on_transition``
    is called with ``(old, new)`` on every change of state, after it is logged.
    """

    def __init__(
        self,
        config: BreakerConfig | None = None,
        *,
        name: str = "",
        clock: Clock = time.monotonic,
        on_transition: TransitionCallback | None = None,
    ) -> None:
        self.config = config or BreakerConfig()
        self.name = name
        self._clock = clock
        self._on_transition = on_transition
        self._state = BreakerState.CLOSED
        self._generation = 0
        self._opened_at = 0.0
        self._consecutive_failures = 0
        self._half_open_successes = 0
        self._trials_in_flight = 0
        self._window: deque[tuple[bool, bool]] = deque()  # (failed, slow) per recorded call

    @property
    def state(self) -> BreakerState:
        """The current state; an OPEN breaker whose open interval has passed reads HALF_OPEN."""
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.config.open_seconds
        ):
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures in a row since the last success (while CLOSED)."""
        return self._consecutive_failures

    def acquire(self) -> Permit:
        """Admit one call, or raise ``CircuitOpenError`` at once."""
        state = self.state
        if state is BreakerState.OPEN:
            retry_after = self._opened_at + self.config.open_seconds - self._clock()
            raise CircuitOpenError(self.name, state, max(0.0, retry_after))
        trial = state is BreakerState.HALF_OPEN
        if trial:
            if self._trials_in_flight >= self.config.half_open_max_calls:
                raise CircuitOpenError(self.name, state, 0.0)
            self._trials_in_flight += 1
        return Permit(self._generation, self._clock(), trial)

    def record(self, permit: Permit, outcome: CallOutcome) -> None:
        """Account for the call ``permit`` admitted; stale permits only free their slot."""
        if permit.generation != self._generation:
            return
        if permit.trial:
            self._trials_in_flight -= 1
        if outcome is CallOutcome.IGNORED:
            return
        failed = outcome is CallOutcome.FAILURE
        if self._state is BreakerState.HALF_OPEN:
            self._record_trial(failed)
        else:
            self._record_closed(failed, self._clock() - permit.started_at)

    def _record_trial(self, failed: bool) -> None:
        if failed:
            self._open()
            return
        self._half_open_successes += 1
        if self._half_open_successes >= self.config.half_open_successes:
            self._transition(BreakerState.CLOSED)

    def _record_closed(self, failed: bool, duration: float) -> None:
        self._consecutive_failures = self._consecutive_failures + 1 if failed else 0
        threshold = self.config.failure_threshold
        if threshold is not None and self._consecutive_failures >= threshold:
            self._open()
            return
        if self._window_trips(failed, duration):
            self._open()

    def _window_trips(self, failed: bool, duration: float) -> bool:
        window = self.config.window
        if window is None:
            return False
        slow = window.slow_call_seconds is not None and duration >= window.slow_call_seconds
        self._window.append((failed, slow))
        while len(self._window) > window.size:
            self._window.popleft()
        calls = len(self._window)
        if calls < window.minimum_calls:
            return False
        failure_rate = sum(f for f, _ in self._window) / calls
        slow_rate = sum(s for _, s in self._window) / calls
        return (
            failure_rate >= window.failure_rate_threshold
            or slow_rate >= window.slow_call_rate_threshold
        )

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._transition(BreakerState.OPEN)

    def _transition(self, new: BreakerState) -> None:
        old = self._state
        self._state = new
        self._generation += 1
        self._consecutive_failures = 0
        self._half_open_successes = 0
        self._trials_in_flight = 0
        self._window.clear()
        logger.bind(breaker=self.name, old=old.value, new=new.value).info(
            "circuit breaker changed state"
        )
        if self._on_transition is not None:
            self._on_transition(old, new)
