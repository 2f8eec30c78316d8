"""Retries of safe failures: bounded attempts, full-jitter backoff, a deadline, a retry budget.

Only failures that certainly did not apply the turn, or that the server's idempotency record
makes safe to repeat (the transport said UNAVAILABLE, the stream was refused or reset, the
connection failed), are retried; every attempt carries the same idempotency key. The retry
budget is gRFC A6's throttle: ``max_tokens`` tokens, one lost per retryable failure,
``token_ratio`` gained per success, and no retries while half or fewer remain, so a client
facing a dead server stops multiplying its load by the attempt count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_random_exponential
from tenacity.stop import stop_base

__all__ = ["AttemptResult", "RetryBudget", "RetryPolicy", "run_attempts"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


class RetryPolicy(BaseModel):
    """How often and how patiently a failed call is tried again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=3, ge=1, le=10)
    initial_backoff: float = Field(default=0.1, gt=0)
    max_backoff: float = Field(default=2.0, gt=0)
    budget_max_tokens: float = Field(default=10.0, gt=0)
    budget_token_ratio: float = Field(default=0.1, gt=0)


class RetryBudget:
    """gRFC A6 retry throttling for one target: stops retry storms against a server that is down."""

    def __init__(self, max_tokens: float = 10.0, token_ratio: float = 0.1) -> None:
        self.max_tokens = max_tokens
        self.token_ratio = token_ratio
        self._tokens = max_tokens

    @property
    def tokens(self) -> float:
        """Tokens left; retries are allowed while more than half remain."""
        return self._tokens

    def record_failure(self) -> None:
        """A retryable failure: one token fewer."""
        self._tokens = max(0.0, self._tokens - 1.0)

    def record_success(self) -> None:
        """The server answered: ``token_ratio`` back, up to ``max_tokens``."""
        self._tokens = min(self.max_tokens, self._tokens + self.token_ratio)

    def allows_retry(self) -> bool:
        """True while the bucket is above its threshold (half of ``max_tokens``)."""
        return self._tokens > self.max_tokens / 2


@dataclass(frozen=True, slots=True)
class AttemptResult(Generic[T]):
    """What one attempt produced and whether trying again would be safe and useful."""

    value: T
    retryable: bool = False


async def run_attempts(
    attempt: Callable[[int], Awaitable[AttemptResult[T]]],
    policy: RetryPolicy,
    *,
    may_retry: Callable[[], bool],
    time_left: Callable[[], float],
    sleep: Sleep = asyncio.sleep,
) -> AttemptResult[T]:
    """Call ``attempt(n)`` (n from 1) until it is not retryable, or retrying must stop.

    Retrying stops after ``policy.max_attempts``, when ``may_retry()`` says no (budget spent,
    breaker open), or when the next backoff would not end before the deadline (``time_left``).
    The last attempt's result is returned either way; nothing is raised for a failed call.
    """

    def should_retry(state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or outcome.failed:
            return False
        result: AttemptResult[T] = outcome.result()
        return result.retryable and may_retry()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | _DeadlineNear(time_left),
        wait=wait_random_exponential(multiplier=policy.initial_backoff, max=policy.max_backoff),
        retry=should_retry,
        retry_error_callback=_last_result,
        reraise=True,
        sleep=sleep,
    )
    result: AttemptResult[T] = await retrying(_numbered(attempt))
    return result


class _DeadlineNear(stop_base):
    """Stop when the next backoff would not end before the call's deadline."""

    def __init__(self, time_left: Callable[[], float]) -> None:
        self._time_left = time_left

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self._time_left()


def _numbered(
    attempt: Callable[[int], Awaitable[AttemptResult[T]]],
) -> Callable[[], Awaitable[AttemptResult[T]]]:
    number = 0

    async def next_attempt() -> AttemptResult[T]:
        nonlocal number
        number += 1
        return await attempt(number)

    return next_attempt


def _last_result(state: RetryCallState) -> object:
    assert state.outcome is not None  # tenacity calls this only after an attempt
    return state.outcome.result()
