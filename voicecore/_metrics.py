"""Prometheus metrics of a voicecore server (``voicecore._metrics_endpoint`` serves them).

grpclib has no interceptors, and its events miss calls refused before routing (an unknown
method, bad headers) and calls that end without trailers (cancelled, connection lost). So a
call is observed where every path passes: ``GuardedHandler.accept`` (``voicecore._h2guard``)
starts each call's task with ``CallObserver.spawn``, which puts the call's ``CallRecord`` in
the task's context and accounts for it when the task is done, however it ends. The layers below
fill it in as they learn things: the trailers' status (a ``SendTrailingMetadata`` listener),
each message received and sent, why admission refused the call (``note_refusal``), the turns
its capture took (``note_turns``), the turn's objective type and state (``observe_turn``), the
events it appended (``observe_event``). When the task ends the record becomes the
``grpc_server_*`` metrics (go-grpc-middleware's names and labels), the ``voicecore_*`` ones and
the access-log line (``voicecore._access_log``). A call that ended without trailers was reset
by the client: ``CANCELLED``, or ``DEADLINE_EXCEEDED`` past its deadline.

Label values are bounded: a method path the server does not serve is ``unknown``, an
objective type the registry does not hold is ``unknown``, and no label carries a captured
value, a conversation id or a trace id. Each server has its own ``CollectorRegistry``, so
servers in one process (tests, in-process use) never share or collide.

A capture held between turns (a value waiting for its confirmation, or a partial one) that its
store drops by itself is a ``voicecore_capture_results_total`` result of its own: ``expired``
(``capture_ttl`` passed) or ``evicted`` (the least recently used, for room), of its objective
type. The in-memory store tells as it forgets them (``voicecore.capture._expiry``), so they are
counted at once by the server that shares the store. Redis expires keys by itself and tells no
one, so the Redis store keeps the deployment's held capture keys in a set scored by when each
expires and each process sweeps it every few seconds (``voicecore.stores._redis_expiry``): an
expired capture is counted a few seconds late, by exactly one replica of the fleet (sum the
series over replicas). The ``noeviction`` policy Redis needs evicts none: ``evicted`` is the
in-memory store's only. A card capture whose card data does not open (sealed with a card key
no longer listed: ``voicecore._card_states``) is ``unreadable``, counted by the replica whose
turn found it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import (
    Collection,
    Coroutine,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from grpclib.const import Cardinality, Status
from grpclib.events import RecvMessage, SendMessage, SendTrailingMetadata, listen
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from voicecore._access_log import AccessLog
from voicecore._call import current_call
from voicecore._card_states import LosesCaptures
from voicecore.capture import CaptureKey, CapturePrimitive
from voicecore.capture._expiry import Lost
from voicecore.config import Settings
from voicecore.registry import PrimitiveRegistry
from voicecore.stores import MemoryStore, Store
from voicecore.stores._redis import RedisStore

if TYPE_CHECKING:
    from grpclib.server import Server

    from voicecore._headers import HeaderProblem
    from voicecore._proto.voicecore.v1 import ExecutePrimitiveRequest, ExecutePrimitiveResponse

__all__ = [
    "UNKNOWN",
    "CallObserver",
    "CallRecord",
    "ServerMetrics",
    "note_problem",
    "note_refusal",
    "note_turns",
    "observability",
    "observe_event",
    "observe_turn",
]

#: The one label value of every method path, objective type or event type not known here.
UNKNOWN: Final = "unknown"
_GRPC_TYPES: Final = {
    Cardinality.UNARY_UNARY: "unary",
    Cardinality.UNARY_STREAM: "server_stream",
    Cardinality.STREAM_UNARY: "client_stream",
    Cardinality.STREAM_STREAM: "bidi_stream",
}
_GRPC_LABELS: Final = ("grpc_type", "grpc_service", "grpc_method")
#: Confidence of a value offered for confirmation: 0..1.
_CONFIDENCE_BUCKETS: Final = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
_ATTEMPT_BUCKETS: Final = (1, 2, 3, 4, 5, 6, 8, 10)
#: Turns a completed capture took: attempts plus confirmations and unclear answers.
_TURN_BUCKETS: Final = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20)
_CORRECTED: Final = "capture.corrected"


@dataclass(slots=True)
class _MethodSeries:
    """One method's label children, resolved once (a ``labels()`` lookup costs a lock)."""

    started: Counter
    handled: dict[Status, Counter]
    received: Counter
    sent: Counter
    seconds: Histogram


@dataclass(slots=True)
class CallRecord:
    """What is known about one call so far; see the module docstring."""

    method: str
    series: _MethodSeries | None
    stream: Any
    metrics: ServerMetrics | None
    started: float = field(default_factory=time.perf_counter)
    status: Status | None = None
    refusal: str = ""
    objective_type: str = ""
    state: str = ""
    turns: int = 0


_current: ContextVar[CallRecord | None] = ContextVar("voicecore_call_record", default=None)


def note_refusal(reason: str) -> None:
    """Admission refused the current call for ``reason`` (a fixed word, a label value)."""
    record = _current.get()
    if record is not None:
        record.refusal = reason


def note_problem(problem: HeaderProblem) -> HeaderProblem:
    """The current call is refused for bad headers or a spent deadline; returns ``problem``."""
    record = _current.get()
    if record is not None:
        record.status = problem.status
        record.refusal = "deadline" if problem.status is Status.DEADLINE_EXCEEDED else "headers"
    return problem


def note_turns(turns: int) -> None:
    """The current call's primitive has taken ``turns`` turns on its task (the last try's
    count: a turn computed again counts again from the same state)."""
    record = _current.get()
    if record is not None:
        record.turns = turns


def observe_turn(request: ExecutePrimitiveRequest, response: ExecutePrimitiveResponse) -> None:
    """The current call ran a turn: its objective type and state for the log and metrics."""
    record = _current.get()
    if record is None:  # the in-process client: no server, no metrics
        return
    meta = response.metadata
    assert meta is not None  # the executor always fills it
    record.objective_type = request.objective_type
    record.state = meta.state.name
    if record.metrics is not None:
        record.metrics.turn(request.objective_type, response, record.turns)


def observe_event(type: str, objective_type: str) -> None:
    """The current call, a turn of ``objective_type``, appended an event of ``type``."""
    record = _current.get()
    if record is not None and record.metrics is not None:
        record.metrics.event(type, objective_type)


_Metric = TypeVar("_Metric", Counter, Histogram)


class _EventLogFacts(Protocol):
    @property
    def last_sequence(self) -> int: ...


class ServerMetrics:
    """One server's metrics in its own ``registry``.

    ``cardinalities`` maps each served method path to its cardinality, ``objective_types``
    and ``event_types`` are the label values kept as they are (others are ``unknown``),
    ``capture_types`` the objective types whose turns are captures, and ``event_log`` is read
    at each scrape for its size, oldest sequence and followers (whatever of them it offers).
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        cardinalities: Mapping[str, Cardinality],
        *,
        objective_types: Collection[str] = (),
        capture_types: Collection[str] = (),
        event_types: Collection[str] = (),
        event_log: _EventLogFacts,
    ) -> None:
        self.registry = registry
        self._objective_types = frozenset(objective_types)
        self._capture_types = frozenset(capture_types)
        self._event_types = frozenset(event_types)
        self._grpc_families(registry)
        self._voicecore_families(registry)
        # A labels() lookup takes a lock and builds a key; label values are bounded, so each
        # child is looked up once and kept.
        self._child = functools.cache(_labelled)
        self._series = {
            path: self._method_series(path, kind) for path, kind in cardinalities.items()
        }
        self.unknown_method = self._method_series(f"/{UNKNOWN}/{UNKNOWN}", Cardinality.UNARY_UNARY)
        registry.register(_EventLogCollector(event_log))

    def _grpc_families(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, *extra: str) -> Counter:
            return Counter(name, doc, [*_GRPC_LABELS, *extra], registry=registry)

        self._started = counter(
            "grpc_server_started_total", "RPCs started on the server (including refused ones)."
        )
        self._handled = counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, whatever their status.",
            "grpc_code",
        )
        self._received = counter(
            "grpc_server_msg_received_total", "Stream messages received on the server."
        )
        self._sent = counter("grpc_server_msg_sent_total", "Stream messages sent by the server.")
        self._seconds = Histogram(
            "grpc_server_handling_seconds",
            "Seconds from a call's headers to its end, on the server.",
            _GRPC_LABELS,
            registry=registry,
        )

    def _voicecore_families(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "voicecore_calls_total",
            "ExecutePrimitive calls by objective type, outcome (success or error code), state.",
            ["objective_type", "outcome", "state"],
            registry=registry,
        )
        self.primitive_seconds = Histogram(
            "voicecore_primitive_seconds",
            "Seconds a primitive's run took (the response's metadata.duration).",
            ["objective_type"],
            registry=registry,
        )
        self.retries = Counter(
            "voicecore_primitive_retries_total",
            "Retries of primitives after a transient failure.",
            ["objective_type"],
            registry=registry,
        )
        self.replays = Counter(
            "voicecore_idempotent_replays_total",
            "Calls answered with a recorded response (same idempotency key).",
            ["objective_type"],
            registry=registry,
        )
        self.capture_results = Counter(
            "voicecore_capture_results_total",
            "Captures that ended: completed, failed, or lost while held: expired or evicted "
            "(evicted by the in-memory store only; with Redis each expiry is counted once, "
            "by one replica of the fleet), or unreadable (card data sealed with a card key "
            "no longer listed).",
            ["objective_type", "result"],
            registry=registry,
        )
        self.capture_attempts = Histogram(
            "voicecore_capture_attempts",
            "Attempts (turns that heard a value, not confirmations) a completed capture took.",
            ["objective_type"],
            buckets=_ATTEMPT_BUCKETS,
            registry=registry,
        )
        self.capture_turns = Histogram(
            "voicecore_capture_turns",
            "Turns a completed capture took, from its first (confirmations included).",
            ["objective_type"],
            buckets=_TURN_BUCKETS,
            registry=registry,
        )
        self.corrections = Counter(
            "voicecore_capture_corrections_total",
            "Corrections applied to a held capture value.",
            ["objective_type"],
            registry=registry,
        )
        self.confirmation_confidence = Histogram(
            "voicecore_confirmation_confidence",
            "Confidence of the values offered for confirmation.",
            ["objective_type"],
            buckets=_CONFIDENCE_BUCKETS,
            registry=registry,
        )
        self.events = Counter(
            "voicecore_events_appended_total",
            "Events appended to the event log, by type.",
            ["type"],
            registry=registry,
        )
        self.refusals = Counter(
            "voicecore_admission_refusals_total",
            "Calls refused before their handler ran, by reason.",
            ["reason"],
            registry=registry,
        )

    def _method_series(self, path: str, cardinality: Cardinality) -> _MethodSeries:
        service, _, method = path.lstrip("/").partition("/")
        labels = (_GRPC_TYPES[cardinality], service, method)
        return _MethodSeries(
            started=self._started.labels(*labels),
            handled={status: self._handled.labels(*labels, status.name) for status in Status},
            received=self._received.labels(*labels),
            sent=self._sent.labels(*labels),
            seconds=self._seconds.labels(*labels),
        )

    def series(self, path: str) -> _MethodSeries:
        """The label children of method ``path``; those of ``unknown`` if it is not served."""
        return self._series.get(path, self.unknown_method)

    def objective_label(self, objective_type: str) -> str:
        """``objective_type`` if the registry serves it, else ``unknown``."""
        return objective_type if objective_type in self._objective_types else UNKNOWN

    def turn(self, objective_type: str, response: ExecutePrimitiveResponse, turns: int) -> None:
        """Count one ExecutePrimitive answer, the ``turns`` its primitive's task has taken;
        never looks at the captured value."""
        label = self.objective_label(objective_type)
        meta = response.metadata
        assert meta is not None  # the executor always fills it
        state = meta.state.name
        outcome = "success" if response.success else _error_code(response)
        self._child(self.calls, label, outcome, state).inc()
        if meta.replayed:
            self._child(self.replays, label).inc()
            return
        seconds = meta.duration.total_seconds() if meta.duration is not None else 0.0
        self._child(self.primitive_seconds, label).observe(seconds)
        if meta.retry_count:
            self._child(self.retries, label).inc(meta.retry_count)
        if label in self._capture_types:
            self._capture_turn(label, state, meta.attempt, meta.confidence, turns)

    def _capture_turn(
        self, label: str, state: str, attempt: int, confidence: float, turns: int
    ) -> None:
        if state == "COMPLETED":
            self._child(self.capture_results, label, "completed").inc()
            self._child(self.capture_attempts, label).observe(attempt)
            self._child(self.capture_turns, label).observe(turns)
        elif state == "FAILED":
            self._child(self.capture_results, label, "failed").inc()
        elif state == "NEEDS_CONFIRMATION":
            self._child(self.confirmation_confidence, label).observe(confidence)

    def capture_lost(self, key: Hashable, why: Lost) -> None:
        """The store dropped a held capture by itself: it ``expired`` or was ``evicted``."""
        objective_type = key.objective_type if isinstance(key, CaptureKey) else UNKNOWN
        self._child(self.capture_results, self.objective_label(objective_type), why).inc()

    def event(self, type: str, objective_type: str) -> None:
        """Count one appended event (its type as a label only if it is a known one)."""
        self._child(self.events, type if type in self._event_types else UNKNOWN).inc()
        if type == _CORRECTED:
            self._child(self.corrections, self.objective_label(objective_type)).inc()

    def finish(self, record: CallRecord, status: Status, seconds: float) -> None:
        """Count a call that ended with ``status`` after ``seconds``."""
        series = record.series or self.unknown_method
        series.handled[status].inc()
        series.seconds.observe(seconds)
        if record.refusal:
            self._child(self.refusals, record.refusal).inc()


def _labelled(metric: _Metric, *values: str) -> _Metric:
    return metric.labels(*values)


def _error_code(response: ExecutePrimitiveResponse) -> str:
    return response.error.code.name if response.error is not None else UNKNOWN


# The listeners are added only to a server whose every call has a record (``CallObserver``),
# with series when the message listeners are (metrics on).


async def _on_trailers(event: SendTrailingMetadata) -> None:
    record = _current.get()
    assert record is not None
    record.status = event.status


async def _on_received(event: RecvMessage) -> None:
    record = _current.get()
    assert record is not None and record.series is not None
    record.series.received.inc()


async def _on_sent(event: SendMessage) -> None:
    record = _current.get()
    assert record is not None and record.series is not None
    record.series.sent.inc()


class _EventLogCollector(Collector):
    """The event log's size, oldest sequence and live followers, read at each scrape."""

    def __init__(self, log: _EventLogFacts) -> None:
        self._log = log

    def collect(self) -> Iterator[GaugeMetricFamily]:
        log = self._log
        last = log.last_sequence
        yield GaugeMetricFamily(
            "voicecore_event_log_last_sequence", "Sequence of the newest event.", value=last
        )
        first = getattr(log, "first_sequence", None)
        if first is not None:
            yield GaugeMetricFamily(
                "voicecore_event_log_oldest_sequence",
                "Sequence of the oldest event kept for replay.",
                value=first,
            )
            yield GaugeMetricFamily(
                "voicecore_event_log_events",
                "Events kept for replay.",
                value=max(0, last - first + 1) if last else 0,
            )
        for name, attribute, doc in (
            ("voicecore_event_log_bytes", "retained_bytes", "Estimated bytes of events kept."),
            ("voicecore_event_followers", "followers", "Event streams following live events."),
        ):
            value = getattr(log, attribute, None)
            if value is not None:
                yield GaugeMetricFamily(name, doc, value=value)


class CallObserver:
    """Runs each call's task with its ``CallRecord``: metrics (if ``metrics``), access log.

    ``paths`` are the method paths the server serves (others are refused UNIMPLEMENTED).
    """

    def __init__(
        self,
        paths: Collection[str],
        metrics: ServerMetrics | None,
        access_log: AccessLog | None,
    ) -> None:
        self.paths = frozenset(paths)
        self.metrics = metrics
        self.access_log = access_log

    def listen(self, server: Server) -> None:
        """Read each call's status from its trailers; count messages if metrics are on."""
        listen(server, SendTrailingMetadata, _on_trailers)
        if self.metrics is not None:
            listen(server, RecvMessage, _on_received)
            listen(server, SendMessage, _on_sent)

    def spawn(
        self,
        loop: asyncio.AbstractEventLoop,
        handling: Coroutine[Any, Any, None],
        stream: Any,
        headers: Sequence[tuple[str, str]],
    ) -> asyncio.Task[None]:
        """The call's task running ``handling`` with its record; accounted for when it ends,
        even if it is cancelled before it starts (a reset right after the headers)."""
        path = _path(headers)
        metrics = self.metrics
        series = metrics.series(path) if metrics is not None else None
        record = CallRecord(path, series, stream, metrics)
        if path not in self.paths:
            record.status, record.refusal = Status.UNIMPLEMENTED, "unknown_method"
        if series is not None:
            series.started.inc()
        context = contextvars.copy_context()
        context.run(_current.set, record)
        task = loop.create_task(handling, context=context)
        # Run in the task's context: what the call set there (its CallInfo) is visible.
        task.add_done_callback(partial(self._done, record), context=context)
        return task

    def _done(self, record: CallRecord, _: asyncio.Task[None]) -> None:
        self._finish(record)

    def _finish(self, record: CallRecord) -> None:
        status = record.status
        if status is None or (status is Status.UNKNOWN and _reset_by_peer(record.stream)):
            status = _ended_without_trailers()
        seconds = time.perf_counter() - record.started
        if self.metrics is not None:
            self.metrics.finish(record, status, seconds)
        if self.access_log is not None:
            call = current_call.get()
            self.access_log.write(
                method=record.method,
                objective_type=record.objective_type,
                state=record.state,
                code=status.name,
                seconds=seconds,
                trace_id=(call.trace_id or call.metadata_trace_id) if call is not None else "",
                peer=call.peer if call is not None and call.peer else _peer(record.stream),
            )


def _reset_by_peer(stream: Any) -> bool:
    """Whether grpclib cancelled the call because the client reset its stream: it then
    dispatches trailers with UNKNOWN that it never sends."""
    wrapper = getattr(stream, "wrapper", None)
    return wrapper is not None and bool(wrapper.cancelled)


def _ended_without_trailers() -> Status:
    """The status of a call that sent none: the client reset it, or the connection closed.

    DEADLINE_EXCEEDED if the call's deadline has passed, else CANCELLED, as grpc-go's server
    reports it: a client whose own deadline timer fires first and resets the stream before
    the server's timer does is counted CANCELLED (the server's deadline starts when the
    headers arrive, a little later).
    """
    call = current_call.get()
    deadline = call.deadline if call is not None else None
    if deadline is not None and deadline.time_remaining() <= 0:
        return Status.DEADLINE_EXCEEDED
    return Status.CANCELLED


def _path(headers: Iterable[tuple[str, str]]) -> str:
    for key, value in headers:
        if key == ":path":
            return value
    return ""


def _peer(stream: Any) -> str:
    """``host:port`` of the stream's client, from grpclib's private connection object."""
    try:
        addr = stream.connection.get_peer().addr()
    except AttributeError:
        return ""
    return f"{addr[0]}:{addr[1]}" if addr else ""


def observability(
    settings: Settings,
    primitives: PrimitiveRegistry,
    call_event_types: Collection[str],
    event_log: _EventLogFacts,
    cardinalities: Mapping[str, Cardinality],
    registry: CollectorRegistry | None = None,
    store: Store | None = None,
) -> tuple[CallObserver | None, ServerMetrics | None]:
    """What a server observes of its calls: metrics when ``settings.metrics_port`` is set or
    a ``registry`` is given (a new one per server otherwise), the access log if
    ``settings.access_log``. ``call_event_types`` are the events every call appends besides
    its primitive's own; ``(None, None)`` when neither, which costs nothing per call. The
    captures a ``store`` (in memory or Redis) drops by themselves, and those a primitive
    cannot read (``LosesCaptures``), are counted as they go."""
    metrics = None
    if settings.metrics_port or registry is not None:
        metrics = ServerMetrics(
            registry if registry is not None else CollectorRegistry(),
            cardinalities,
            objective_types=[primitive.name for primitive in primitives],
            capture_types=[p.name for p in primitives if isinstance(p, CapturePrimitive)],
            event_types={*call_event_types, *(t for p in primitives for t in p.event_types)},
            event_log=event_log,
        )
        for primitive in primitives:
            if isinstance(primitive, LosesCaptures):  # capture_card: its key no longer listed
                primitive.on_lost.append(metrics.capture_lost)
        if isinstance(store, MemoryStore):
            store.captures.on_lost.append(metrics.capture_lost)
        elif isinstance(store, RedisStore):
            store.on_lost.append(metrics.capture_lost)
    access_log = AccessLog() if settings.access_log else None
    if metrics is None and access_log is None:
        return None, None
    return CallObserver(cardinalities, metrics, access_log), metrics
