"""The retry budget (gRFC A6 throttling) and the attempt loop built on tenacity."""

from __future__ import annotations

import pytest

from voicecore.client import RetryBudget, RetryPolicy
from voicecore.client._retry import AttemptResult, run_attempts


class TestRetryBudget:
    """Token bucket: one token per retryable failure, ratio back per success."""

    def test_starts_full_and_allows(self) -> None:
        """A fresh budget allows retries."""
        budget = RetryBudget(10, 0.1)
        assert budget.tokens == 10
        assert budget.allows_retry()

    def test_half_spent_forbids(self) -> None:
        """Five failures leave 5 of 10 tokens: at the threshold, no more retries."""
        budget = RetryBudget(10, 0.1)
        for _ in range(4):
            budget.record_failure()
        assert budget.allows_retry()
        budget.record_failure()
        assert not budget.allows_retry()

    def test_successes_refill_up_to_max(self) -> None:
        """Successes add the ratio back, never above the maximum."""
        budget = RetryBudget(10, 0.1)
        for _ in range(5):
            budget.record_failure()
        budget.record_success()
        assert budget.tokens == pytest.approx(5.1)
        assert budget.allows_retry()
        for _ in range(100):
            budget.record_success()
        assert budget.tokens == 10

    def test_never_negative(self) -> None:
        """Failures beyond the bucket leave it at zero."""
        budget = RetryBudget(2, 0.5)
        for _ in range(10):
            budget.record_failure()
        assert budget.tokens == 0


class Attempts:
    """Scripted attempts: each returns the next (value, retryable) pair."""

    def __init__(self, *script: tuple[str, bool]) -> None:
        self.script = list(script)
        self.numbers: list[int] = []

    async def __call__(self, number: int) -> AttemptResult[str]:
        self.numbers.append(number)
        value, retryable = self.script.pop(0)
        return AttemptResult(value, retryable)


class Sleeps:
    """A sleep that returns at once and remembers what it was asked."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


POLICY = RetryPolicy(max_attempts=3, initial_backoff=0.1, max_backoff=1.0)


class TestRunAttempts:
    """Retries stop at the first answer, the attempt limit, the budget or the deadline."""

    async def test_first_answer_returned(self) -> None:
        """A non-retryable result ends the loop without sleeping."""
        attempts, sleeps = Attempts(("ok", False)), Sleeps()
        result = await run_attempts(
            attempts, POLICY, may_retry=lambda: True, time_left=lambda: 10, sleep=sleeps
        )
        assert result.value == "ok"
        assert attempts.numbers == [1]
        assert sleeps.seconds == []

    async def test_retries_until_success(self) -> None:
        """Retryable failures are retried with full-jitter backoff within the policy caps."""
        attempts, sleeps = Attempts(("down", True), ("down", True), ("ok", False)), Sleeps()
        result = await run_attempts(
            attempts, POLICY, may_retry=lambda: True, time_left=lambda: 10, sleep=sleeps
        )
        assert result.value == "ok"
        assert attempts.numbers == [1, 2, 3]
        assert len(sleeps.seconds) == 2
        assert all(0 <= s <= POLICY.max_backoff for s in sleeps.seconds)

    async def test_attempt_limit_returns_last(self) -> None:
        """After max_attempts the last result comes back, not an exception."""
        attempts = Attempts(("a", True), ("b", True), ("c", True), ("never", False))
        result = await run_attempts(
            attempts, POLICY, may_retry=lambda: True, time_left=lambda: 10, sleep=Sleeps()
        )
        assert result.value == "c"
        assert attempts.numbers == [1, 2, 3]

    async def test_may_retry_false_stops(self) -> None:
        """A spent budget or an open breaker stops retrying after the first attempt."""
        attempts = Attempts(("down", True), ("never", False))
        result = await run_attempts(
            attempts, POLICY, may_retry=lambda: False, time_left=lambda: 10, sleep=Sleeps()
        )
        assert result.value == "down"
        assert attempts.numbers == [1]

    async def test_deadline_stops_before_sleeping_past_it(self) -> None:
        """No backoff is started that would end after the deadline."""
        attempts, sleeps = Attempts(("down", True), ("never", False)), Sleeps()
        result = await run_attempts(
            attempts, POLICY, may_retry=lambda: True, time_left=lambda: 0.0, sleep=sleeps
        )
        assert result.value == "down"
        assert sleeps.seconds == []
