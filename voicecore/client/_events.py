"""A resumable event stream: reconnects after a drop and resumes after the last sequence yielded.

The server replays every event with a sequence above ``after_sequence`` and then follows the live
log, and sequences only grow (a restarted server starts above any sequence it handed out before).
So resuming with ``after_sequence = last yielded`` loses nothing. An event at or below it never
comes from a correct server: it is skipped (not yielded twice) and logged as an ERROR, since an
event sent out of order is one the caller never sees.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing

from grpclib.const import Status
from grpclib.exceptions import GRPCError
from loguru import logger

from voicecore._proto.voicecore.v1 import Event, StreamEventsRequest
from voicecore.client._config import StreamPolicy
from voicecore.client._errors import (
    EventsEvictedError,
    EventStreamUnavailableError,
    VoiceCoreCallError,
    classify,
)
from voicecore.errors import EventRangeError

__all__ = ["CONNECTED", "OpenStream", "resumable_events"]

#: Yielded by an ``OpenStream`` once the server has accepted the call, before any event.
CONNECTED = None
OpenStream = Callable[[StreamEventsRequest], AsyncGenerator[Event | None, None]]


async def resumable_events(
    open_stream: OpenStream,
    request: StreamEventsRequest,
    policy: StreamPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncGenerator[Event, None]:
    """Events of ``request`` in sequence order, each once, across dropped connections.

    Raises ``EventsEvictedError`` when the resume point is no longer kept on the server,
    ``EventStreamUnavailableError`` after ``policy.max_reconnects`` failed tries in a row, and
    ``VoiceCoreCallError`` for failures a reconnect cannot fix.
    """
    last = request.after_sequence
    failures = 0
    while True:
        request.after_sequence = last
        try:
            # Closed at once when the caller stops reading, not when it is collected.
            async with aclosing(open_stream(request)) as items:
                async for item in items:
                    if item is CONNECTED:
                        failures = 0
                    elif item.sequence > last:
                        last = item.sequence
                        yield item
                    else:
                        _out_of_order(item, last)
            return  # the server ended the stream: replay done, or it chose to stop
        except (EventRangeError, GRPCError) as exc:
            if isinstance(exc, EventRangeError) or exc.status is Status.OUT_OF_RANGE:
                raise EventsEvictedError(last, _detail(exc)) from exc
            failure = classify(exc)
        except Exception as exc:  # classified: retried or raised just below
            failure = classify(exc)
        if not failure.retryable:
            raise VoiceCoreCallError(failure.code, failure.message)
        failures += 1
        if failures > policy.max_reconnects:
            raise EventStreamUnavailableError(last, failures - 1, failure.message)
        logger.bind(after_sequence=last, attempt=failures).debug("event stream dropped, resuming")
        await sleep(_backoff(policy, failures))


def _out_of_order(event: Event, last: int) -> None:
    """Log an event at or below the last one yielded: the server was asked for those above it
    only, so it sent this one twice or out of order (an event it sent late is lost here)."""
    logger.bind(sequence=event.sequence, after_sequence=last, type=event.type).error(
        "event stream delivered an event out of order; skipped"
    )


def _backoff(policy: StreamPolicy, failures: int) -> float:
    # Equal jitter: half the exponential step is guaranteed, so the total patience is bounded
    # below and a server restart of a few seconds fits within the reconnect attempts.
    step = min(policy.max_backoff, policy.initial_backoff * 2.0 ** (failures - 1))
    return step / 2 + random.uniform(0, step / 2)


def _detail(exc: EventRangeError | GRPCError) -> str:
    if isinstance(exc, GRPCError):
        return exc.message or "OUT_OF_RANGE"
    return str(exc)
