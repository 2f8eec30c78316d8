"""Prometheus metrics of a Voice Core client: per attempt, breaker and retries.

Each attempt (one call through the breaker), each health check and each event stream opened
(a resumed stream opens another) counts as one RPC by go-grpc-middleware's client convention:
``grpc_client_started_total``, ``grpc_client_handled_total{grpc_code}``,
``grpc_client_msg_sent_total``, ``grpc_client_msg_received_total`` and
``grpc_client_handling_seconds``, labelled ``grpc_type``, ``grpc_service``, ``grpc_method``. A
stream counts each event received as it comes and is handled when it ends: ``OK`` when the
server ended it, ``CANCELLED`` when the caller stopped reading.
The client's own, labelled by ``target`` (the endpoint, a value the program chose):
``voicecore_client_breaker_state{state}`` (1 for the current state, Resilience4j style),
``voicecore_client_breaker_transitions_total{from_state,to_state}``,
``voicecore_client_fast_fails_total`` (refused by an open breaker, no network),
``voicecore_client_retries_total{grpc_method}`` and
``voicecore_client_retry_budget_refusals_total`` (a retry the budget did not allow).

A client library's metrics go to prometheus-client's global ``REGISTRY`` by default, where an
application's ``start_http_server`` or ``make_asgi_app`` finds them; another registry can be
given, or None for a registry of the client's own that nothing exports. Clients sharing a
registry share its metric families (one set per registry), told apart by ``target``.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Final, TypeVar

from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from voicecore.client._breaker import BreakerState, CircuitOpenError
from voicecore.errors import EventRangeError

__all__ = ["ClientMetrics"]

T = TypeVar("T")

SERVICE: Final = "voicecore.v1.VoiceCoreService"
_GRPC_LABELS: Final = ("grpc_type", "grpc_service", "grpc_method")


class _Families:
    """The metric families of one registry: created once, whatever the number of clients."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        self.started = counter("grpc_client_started_total", "RPCs started.", *_GRPC_LABELS)
        self.handled = counter(
            "grpc_client_handled_total",
            "RPCs completed, whatever their status.",
            *_GRPC_LABELS,
            "grpc_code",
        )
        self.sent = counter("grpc_client_msg_sent_total", "Messages sent.", *_GRPC_LABELS)
        self.received = counter(
            "grpc_client_msg_received_total", "Messages received.", *_GRPC_LABELS
        )
        self.seconds = Histogram(
            "grpc_client_handling_seconds",
            "Seconds from an RPC's start to its end, on the client.",
            _GRPC_LABELS,
            registry=registry,
        )
        self.breaker_state = Gauge(
            "voicecore_client_breaker_state",
            "1 for the breaker's current state, 0 for the others.",
            ["target", "state"],
            registry=registry,
        )
        self.transitions = counter(
            "voicecore_client_breaker_transitions_total",
            "Changes of the breaker's state.",
            "target",
            "from_state",
            "to_state",
        )
        self.fast_fails = counter(
            "voicecore_client_fast_fails_total",
            "Attempts the open breaker refused without a call.",
            "target",
        )
        self.retries = counter(
            "voicecore_client_retries_total", "Attempts after the first.", "target", "grpc_method"
        )
        self.budget_refusals = counter(
            "voicecore_client_retry_budget_refusals_total",
            "Retries the retry budget did not allow.",
            "target",
        )


_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, _Families] = weakref.WeakKeyDictionary()


class ClientMetrics:
    """One client's view of its registry's metric families (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry, target: str) -> None:
        families = _by_registry.get(registry)
        if families is None:
            families = _by_registry[registry] = _Families(registry)
        self._families = families
        self.registry = registry
        self.target = target
        self.breaker_state(BreakerState.CLOSED)

    @contextmanager
    def attempt(self, method: str) -> Iterator[None]:
        """Count one unary attempt of ``method``; its code is read from how it ends."""
        families = self._families
        labels = ("unary", SERVICE, method)
        families.started.labels(*labels).inc()
        families.sent.labels(*labels).inc()
        started = time.perf_counter()
        code = Status.OK
        try:
            yield
        except BaseException as exc:
            code = grpc_code(exc)
            raise
        finally:
            families.handled.labels(*labels, code.name).inc()
            families.seconds.labels(*labels).observe(time.perf_counter() - started)
            if code is Status.OK:
                families.received.labels(*labels).inc()

    async def stream(
        self, method: str, messages: AsyncIterator[T | None]
    ) -> AsyncGenerator[T | None, None]:
        """``messages`` of one server-streaming call of ``method``, counted: started (and its
        request sent) now, each message received as it passes (a None, which says the server
        accepted the call, is not one), handled with the code it ends with. Closing it early
        is the caller's cancel: ``CANCELLED``, and ``messages`` is closed with it."""
        families = self._families
        labels = ("server_stream", SERVICE, method)
        families.started.labels(*labels).inc()
        families.sent.labels(*labels).inc()
        received = families.received.labels(*labels)
        started = time.perf_counter()
        code = Status.OK
        try:
            async for message in messages:
                if message is not None:
                    received.inc()
                yield message
        except GeneratorExit:
            code = Status.CANCELLED
            raise
        except BaseException as exc:
            code = grpc_code(exc)
            raise
        finally:
            if isinstance(messages, AsyncGenerator):
                await messages.aclose()  # the call ends now, not when it is collected
            families.handled.labels(*labels, code.name).inc()
            families.seconds.labels(*labels).observe(time.perf_counter() - started)

    def breaker_state(self, state: BreakerState) -> None:
        """The breaker is now in ``state``."""
        for each in BreakerState:
            self._families.breaker_state.labels(self.target, each.value).set(each is state)

    def transition(self, old: BreakerState, new: BreakerState) -> None:
        """The breaker went from ``old`` to ``new``."""
        self._families.transitions.labels(self.target, old.value, new.value).inc()
        self.breaker_state(new)

    def fast_fail(self) -> None:
        """The breaker refused an attempt."""
        self._families.fast_fails.labels(self.target).inc()

    def retry(self, method: str) -> None:
        """An attempt after the first."""
        self._families.retries.labels(self.target, method).inc()

    def budget_refusal(self) -> None:
        """A retry the budget did not allow."""
        self._families.budget_refusals.labels(self.target).inc()


def grpc_code(exc: BaseException) -> Status:
    """The gRPC status an attempt that raised ``exc`` ended with, as the client saw it."""
    if isinstance(exc, GRPCError):
        return exc.status
    if isinstance(exc, EventRangeError):  # what the server sends as OUT_OF_RANGE, in process
        return Status.OUT_OF_RANGE
    if isinstance(exc, TimeoutError):
        return Status.DEADLINE_EXCEEDED
    if isinstance(exc, asyncio.CancelledError | StreamTerminatedError):
        return Status.CANCELLED
    if isinstance(exc, OSError | CircuitOpenError):
        return Status.UNAVAILABLE
    return Status.UNKNOWN
