"""What every Voice Core client does, whatever carries the calls: deadline, retry, breaker.

Layering of one ``execute``, outer to inner: the overall deadline, the retry loop, the circuit
breaker, the call. Each attempt is one call through the breaker, and the retry loop never
retries past an open breaker. Subclasses only move messages (``_send_*``, ``_open_events``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Self, TypeVar

from loguru import logger
from prometheus_client import REGISTRY, CollectorRegistry

from voicecore._json import JsonValue
from voicecore._proto.google.protobuf import Struct
from voicecore._proto.voicecore.v1 import (
    DeleteConversationRequest,
    DeleteConversationResponse,
    ErrorCode,
    Event,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    HealthCheckResponse,
    ListPrimitivesResponse,
    StreamEventsRequest,
)
from voicecore._trace import TRACE_ID_RULE, is_valid_trace_id, new_trace_id
from voicecore.client._breaker import (
    BreakerState,
    CallOutcome,
    CircuitBreaker,
    CircuitOpenError,
    TransitionCallback,
)
from voicecore.client._config import ClientConfig
from voicecore.client._errors import (
    Failure,
    VoiceCoreCallError,
    breaker_outcome,
    classify,
    failure_response,
)
from voicecore.client._events import resumable_events
from voicecore.client._metrics import ClientMetrics
from voicecore.client._retry import AttemptResult, RetryBudget, run_attempts
from voicecore.client._tracing import current_trace_id

__all__ = ["VoiceCoreClientBase"]

R = TypeVar("R")
Sleep = Callable[[float], Awaitable[None]]

# The transport's own deadline should fire first; this outer guard only catches what it misses.
_DEADLINE_GRACE = 0.05


class VoiceCoreClientBase(ABC):
    """The client interface orchestration codes against; see ``VoiceCoreClient``.

    ``execute`` and ``health`` never raise for a sick or absent server: failures come back as
    responses. ``clock`` drives the breaker and ``sleep`` the backoffs, so tests need not wait.
    Metrics (``voicecore.client._metrics``) go to ``metrics_registry``: prometheus-client's
    global registry by default; with None, to a registry of the client's own
    (``client.metrics.registry``).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        on_breaker_transition: TransitionCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        metrics_registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.config = config
        self.metrics = ClientMetrics(metrics_registry or CollectorRegistry(), config.endpoint)
        self.breaker = CircuitBreaker(
            config.breaker,
            name=config.endpoint,
            clock=clock,
            on_transition=_counted(self.metrics, on_breaker_transition),
        )
        self.retry_budget = RetryBudget(
            config.retry.budget_max_tokens, config.retry.budget_token_ratio
        )
        self._sleep = sleep

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @abstractmethod
    async def aclose(self) -> None:
        """Release the connection (or the in-process service)."""

    async def execute(
        self,
        objective_type: str,
        params: Mapping[str, JsonValue] | None = None,
        *,
        conversation_id: str,
        purpose: str = "",
        trace_id: str | None = None,
        timeout: float | None = None,
        idempotency_key: str | None = None,
    ) -> ExecutePrimitiveResponse:
        """Run one primitive for one caller turn; always returns a response.

        Failures without a server answer come back as ``success=false`` with ``error.code``
        ``UNAVAILABLE`` (unreachable after retries), ``TIMEOUT`` (the deadline, ``timeout`` or
        the configured default, passed), ``CIRCUIT_BREAKER_OPEN`` (failed fast, no network) or
        ``CANCELLED`` (the server cancelled). Every attempt carries the same idempotency key
        (generated when none is given), so the server applies the turn at most once. The
        caller's own cancellation propagates as ``asyncio.CancelledError``.
        """
        if trace_id and not is_valid_trace_id(trace_id):
            # The caller's mistake, answered here: sent, it would fail on every attempt (a
            # non-ASCII header cannot be encoded) and count against the breaker for everyone.
            refused = Failure(ErrorCode.INVALID_PARAMS, f"trace_id: should be {TRACE_ID_RULE}")
            return failure_response(
                refused,
                trace_id=new_trace_id(),
                objective_type=objective_type,
                attempts=1,
                duration=0.0,
            )
        trace = trace_id or current_trace_id() or new_trace_id()
        key = idempotency_key or uuid.uuid4().hex
        request = ExecutePrimitiveRequest(
            objective_type=objective_type,
            params=Struct.from_dict(dict(params or {})),
            conversation_id=conversation_id,
            trace_id=trace,
            purpose=purpose,
            timeout_seconds=timeout or 0.0,
            idempotency_key=key,
        )

        async def send(time_left: float) -> ExecutePrimitiveResponse:
            return await self._send_execute(request, time_left)

        started = time.monotonic()
        outcome = await self._resilient(
            "ExecutePrimitive", send, breaker_outcome, self._timeout(timeout)
        )
        value, attempts = outcome
        if isinstance(value, ExecutePrimitiveResponse):
            return value
        logger.bind(code=value.code.name, attempts=attempts, trace_id=trace).info(
            "voice core call failed on the client side"
        )
        return failure_response(
            value,
            trace_id=trace,
            objective_type=objective_type,
            attempts=attempts,
            duration=time.monotonic() - started,
        )

    def stream_events(
        self,
        conversation_id: str = "",
        *,
        after_sequence: int = 0,
        types: Iterable[str] = (),
        follow: bool = True,
        trace_id: str | None = None,
    ) -> AsyncGenerator[Event, None]:
        """Events with a sequence above ``after_sequence``, then (``follow``) new ones as they come.

        A dropped stream or a restarted server is reconnected with backoff and resumed after the
        last event yielded: no gap, no duplicate. Raises ``EventsEvictedError`` when the resume
        point was evicted, ``EventStreamUnavailableError`` when reconnecting fails too often.
        Close it with ``contextlib.aclosing`` when you stop early. Without ``follow`` the replay
        has the default deadline; a followed stream has none (it is meant to stay open).
        """
        if trace_id and not is_valid_trace_id(trace_id):
            raise ValueError(f"trace_id: should be {TRACE_ID_RULE}")
        request = StreamEventsRequest(
            conversation_id=conversation_id,
            after_sequence=after_sequence,
            types=list(types),
            trace_id=trace_id or new_trace_id(),
            replay_only=not follow,
        )
        deadline = None if follow else self.config.timeout
        return resumable_events(
            lambda req: self.metrics.stream("StreamEvents", self._open_events(req, deadline)),
            request,
            self.config.stream,
            sleep=self._sleep,
        )

    async def health(self, *, timeout: float | None = None) -> HealthCheckResponse:
        """The server's health; ``NOT_SERVING`` with the reason in ``components["client"]``
        when it cannot be reached. Bypasses the breaker: a probe must see the real state.
        """
        seconds = self._timeout(timeout)
        try:
            with self.metrics.attempt("HealthCheck"):
                async with asyncio.timeout(seconds + _DEADLINE_GRACE):
                    return await self._send_health(seconds)
        except Exception as exc:
            failure = classify(exc)
            return HealthCheckResponse(
                status="NOT_SERVING",
                components={"client": f"{failure.code.name}: {failure.message}"},
            )

    async def list_primitives(self, *, timeout: float | None = None) -> ListPrimitivesResponse:
        """The primitives the server serves; raises ``VoiceCoreCallError`` when it cannot say."""
        value, _ = await self._resilient(
            "ListPrimitives", self._send_list, lambda _: CallOutcome.SUCCESS, self._timeout(timeout)
        )
        if isinstance(value, Failure):
            raise VoiceCoreCallError(value.code, value.message)
        return value

    async def delete_conversation(
        self,
        conversation_id: str,
        *,
        allow_missing: bool = False,
        tenant: str = "",
        timeout: float | None = None,
        trace_id: str | None = None,
    ) -> DeleteConversationResponse:
        """Erase a conversation: its held captures, idempotency records and logged events (an
        event without values records the erasure). Raises ``VoiceCoreCallError`` when it cannot
        (NOT_FOUND, as INVALID_PARAMS, when the conversation holds nothing: pass
        ``allow_missing`` to get an empty answer instead, as a retried erasure should).
        ``tenant`` names another tenant's conversation, which needs an admin token."""
        if trace_id and not is_valid_trace_id(trace_id):
            raise ValueError(f"trace_id: should be {TRACE_ID_RULE}")
        request = DeleteConversationRequest(
            conversation_id=conversation_id,
            allow_missing=allow_missing,
            trace_id=trace_id or new_trace_id(),
            tenant=tenant,
        )

        async def send(time_left: float) -> DeleteConversationResponse:
            return await self._send_delete(request, time_left)

        value, _ = await self._resilient(
            "DeleteConversation", send, lambda _: CallOutcome.SUCCESS, self._timeout(timeout)
        )
        if isinstance(value, Failure):
            raise VoiceCoreCallError(value.code, value.message)
        return value

    @abstractmethod
    async def _send_execute(
        self, request: ExecutePrimitiveRequest, time_left: float
    ) -> ExecutePrimitiveResponse: ...

    @abstractmethod
    def _open_events(
        self, request: StreamEventsRequest, timeout: float | None
    ) -> AsyncIterator[Event | None]:
        """The events of one stream, preceded by ``None`` once the server accepted the call."""

    @abstractmethod
    async def _send_health(self, time_left: float) -> HealthCheckResponse: ...

    @abstractmethod
    async def _send_list(self, time_left: float) -> ListPrimitivesResponse: ...

    @abstractmethod
    async def _send_delete(
        self, request: DeleteConversationRequest, time_left: float
    ) -> DeleteConversationResponse: ...

    def _timeout(self, timeout: float | None) -> float:
        return self.config.timeout if timeout is None or timeout <= 0 else timeout

    def _may_retry(self) -> bool:
        if not self.retry_budget.allows_retry():
            self.metrics.budget_refusal()
            return False
        return self.breaker.state is not BreakerState.OPEN

    async def _resilient(
        self,
        method: str,
        send: Callable[[float], Awaitable[R]],
        judge: Callable[[R], CallOutcome],
        timeout: float,
    ) -> tuple[R | Failure, int]:
        """Deadline around retries around breaker around ``send``; returns value and attempts."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        attempts = 0

        async def attempt(number: int) -> AttemptResult[R | Failure]:
            nonlocal attempts
            attempts = number
            if number > 1:
                self.metrics.retry(method)
            return await self._attempt(method, send, judge, deadline - loop.time())

        try:
            async with asyncio.timeout_at(deadline + _DEADLINE_GRACE):
                result = await run_attempts(
                    attempt,
                    self.config.retry,
                    may_retry=self._may_retry,
                    time_left=lambda: deadline - loop.time(),
                    sleep=self._sleep,
                )
        except TimeoutError:
            return Failure(ErrorCode.TIMEOUT, f"deadline of {timeout:.3f} s exceeded"), attempts
        return result.value, attempts

    async def _attempt(
        self,
        method: str,
        send: Callable[[float], Awaitable[R]],
        judge: Callable[[R], CallOutcome],
        time_left: float,
    ) -> AttemptResult[R | Failure]:
        if time_left <= 0:
            return AttemptResult(Failure(ErrorCode.TIMEOUT, "deadline exceeded before the call"))
        try:
            permit = self.breaker.acquire()
        except CircuitOpenError as exc:
            self.metrics.fast_fail()
            return AttemptResult(classify(exc))
        try:
            with self.metrics.attempt(method):
                value = await send(time_left)
        except asyncio.CancelledError:
            self.breaker.record(permit, CallOutcome.IGNORED)
            raise
        except Exception as exc:
            failure = classify(exc)
            self.breaker.record(permit, failure.breaker)
            if failure.retryable:
                self.retry_budget.record_failure()
            logger.bind(code=failure.code.name).debug("voice core call attempt failed")
            return AttemptResult(failure, retryable=failure.retryable)
        self.breaker.record(permit, judge(value))
        self.retry_budget.record_success()
        return AttemptResult(value)


def _counted(metrics: ClientMetrics, callback: TransitionCallback | None) -> TransitionCallback:
    """The breaker's transition callback: the metrics first, then the caller's own."""

    def transitioned(old: BreakerState, new: BreakerState) -> None:
        metrics.transition(old, new)
        if callback is not None:
            callback(old, new)

    return transitioned
