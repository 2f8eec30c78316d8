"""One ExecutePrimitive call: validate, run under the timeout with retries, record events.

Kept apart from the gRPC handlers so the in-process client and the server share it exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Final

from loguru import logger
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from voicecore._call import current_call
from voicecore._codec import decode_message, encode_message
from voicecore._json import json_copy, struct_from_dict, struct_to_dict
from voicecore._limits import limited_errors
from voicecore._metrics import note_turns, observe_event
from voicecore._proto.google.protobuf import Struct, Value
from voicecore._proto.voicecore.v1 import (
    Error,
    ErrorCode,
    ExecutePrimitiveRequest,
    ExecutePrimitiveResponse,
    ExecutionMetadata,
)
from voicecore._sealed_records import (
    fingerprint_as_recorded,
    recorded_fingerprint,
    recorded_form,
    replayed_form,
)
from voicecore._tracing import note_retry, traced_primitive
from voicecore.capture._store import CaptureWrite
from voicecore.config import Settings
from voicecore.errors import (
    InvalidParamsError,
    PrimitiveError,
    PrimitiveTimeoutError,
    TransientPrimitiveError,
)
from voicecore.events import NewEvent
from voicecore.idempotency import Claim, IdempotencyConflictError, Record, fingerprint
from voicecore.primitive import (
    JsonValue,
    Primitive,
    PrimitiveContext,
    PrimitiveParams,
    PrimitiveResult,
)
from voicecore.registry import PrimitiveRegistry
from voicecore.stores import (
    Committed,
    Replay,
    StagedCaptures,
    Store,
    StoreUnavailableError,
    TurnContendedError,
    TurnWrites,
)

__all__ = ["CALL_EVENT_TYPES", "COMMIT_TRIES", "Executor"]

STARTED, COMPLETED, FAILED = "primitive.started", "primitive.completed", "primitive.failed"
#: What every execution emits, whatever the primitive: started, then completed or failed.
CALL_EVENT_TYPES = (STARTED, COMPLETED, FAILED)


#: Commits a turn tries before it answers UNAVAILABLE: each failed one lost to another turn of
#: the same capture that committed first, so the turn was computed again on the new state.
COMMIT_TRIES: Final = 8


@dataclass(slots=True)
class _CallEvents:
    """Stages the call's events, stamped with its identity, for the turn's commit."""

    conversation_id: str
    trace_id: str
    objective_type: str
    tenant: str
    staged: list[NewEvent] = field(default_factory=list)

    async def emit(self, type: str, payload: Mapping[str, JsonValue]) -> None:
        # Copied (and checked: Struct's rules) now, so a bad payload fails the call that
        # emitted it, not its commit.
        kept = json_copy(dict(payload))
        self.staged.append(
            NewEvent(
                type, self.conversation_id, self.trace_id, self.objective_type, kept, self.tenant
            )
        )


def _observe_appended(events: list[NewEvent]) -> None:
    """Count events once they are in the log (a turn computed again stages them again)."""
    for event in events:
        observe_event(event.type, event.objective_type)


class Executor:
    """Runs ExecutePrimitive requests against a registry and the state it is given: one
    ``Store`` (capture states, idempotency records and the event log, committed together)."""

    def __init__(
        self,
        registry: PrimitiveRegistry,
        *,
        settings: Settings,
        store: Store,
    ) -> None:
        self._registry = registry
        self._settings = settings
        self._store = store
        self._retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.retry_attempts),
            wait=wait_exponential_jitter(
                multiplier=settings.retry_backoff_initial,
                max=settings.retry_backoff_max,
                jitter=settings.retry_backoff_jitter,
            ),
        )

    @property
    def registry(self) -> PrimitiveRegistry:
        """The primitives this executor runs."""
        return self._registry

    @traced_primitive
    async def execute(
        self,
        request: ExecutePrimitiveRequest,
        *,
        trace_id: str,
        time_left: float | None = None,
        refusal: PrimitiveError | None = None,
    ) -> ExecutePrimitiveResponse:
        """Run one turn; every outcome is a response, never an exception (but cancellation).

        ``time_left`` is what remains of the caller's gRPC deadline, if it set one. A request
        the service refused at the edge (``refusal``: a field out of bounds) is answered with
        it, and nothing is applied. The turn's writes (capture states, events, the record of
        its ``idempotency_key``) are committed together; a turn that lost the race to another
        turn of its capture is computed again on the new state, and one whose key was applied
        meanwhile answers with the recorded response, ``metadata.replayed`` set.
        """
        params: dict[str, JsonValue] = {}
        if refusal is None:
            try:
                params = _params_dict(request.params)
            except InvalidParamsError as err:
                refusal = err
        key: tuple[str, str, str] | None = None
        request_fingerprint = ""
        if refusal is None and request.idempotency_key:
            # A tuple, not a joined string: ("a\nb", "c") and ("a", "b\nc") are different keys.
            key = (_caller_tenant(), request.conversation_id, request.idempotency_key)
            request_fingerprint = recorded_fingerprint(
                self._registry, request.objective_type, _fingerprint(request, params)
            )
        loop = asyncio.get_running_loop()
        # A turn computed again has what is left of the deadline, and a store that does not
        # answer is given up on at the deadline, whatever its own timeout.
        answer_by = None if time_left is None else loop.time() + time_left
        conflicts = 0
        while True:
            calls = _CallEvents(
                request.conversation_id, trace_id, request.objective_type, _caller_tenant()
            )
            left = None if answer_by is None else answer_by - loop.time()
            try:
                response, captures = await self._execute(request, params, calls, left, refusal)
            except asyncio.CancelledError:
                with contextlib.suppress(StoreUnavailableError):  # the cancel goes on regardless
                    await self._store.commit(TurnWrites(tuple(calls.staged)))
                    _observe_appended(calls.staged)
                raise
            claim = None
            if key is not None:
                recorded = (
                    encode_message(recorded_form(self._registry, request.objective_type, response))
                    if _is_final(response)
                    else None
                )
                claim = Claim(key, request_fingerprint, recorded)
            try:
                async with asyncio.timeout_at(answer_by):
                    outcome = await self._store.commit(
                        TurnWrites(tuple(calls.staged), captures, claim)
                    )
            except StoreUnavailableError as err:
                return _unwritten(err, response)
            except TimeoutError:
                return _unwritten(StoreUnavailableError("no time left to write the turn"), response)
            if isinstance(outcome, Committed):
                _observe_appended(calls.staged)
                assert response.metadata is not None  # _finish always sets it
                response.metadata.last_event_sequence = outcome.sequences[-1]
                return response
            if isinstance(outcome, Replay):
                try:
                    outcome.record.check(
                        fingerprint_as_recorded(
                            self._registry,
                            request.objective_type,
                            _fingerprint(request, params),
                            outcome.record.fingerprint,
                        )
                    )
                except IdempotencyConflictError as conflict:
                    refusal, key = conflict, None
                    continue
                return replayed_form(
                    self._registry, request.objective_type, _replayed(outcome.record)
                )
            conflicts += 1
            if conflicts >= COMMIT_TRIES:
                refusal, key = TurnContendedError(conflicts), None

    async def _execute(
        self,
        request: ExecutePrimitiveRequest,
        params: dict[str, JsonValue],
        calls: _CallEvents,
        time_left: float | None,
        refusal: PrimitiveError | None,
    ) -> tuple[ExecutePrimitiveResponse, tuple[CaptureWrite, ...]]:
        """One computation of the turn: its response and the capture writes it staged (none
        unless the primitive returned); its events are staged in ``calls``."""
        started = time.perf_counter()
        meta = ExecutionMetadata(trace_id=calls.trace_id, objective_type=request.objective_type)
        await calls.emit(STARTED, {"purpose": request.purpose})
        try:
            if refusal is not None:
                raise refusal
            result, staged = await self._run(request, params, calls, meta, time_left)
        except PrimitiveError as err:
            return await self._failed(err, calls, meta, started), ()
        except asyncio.CancelledError:
            await calls.emit(FAILED, {"code": ErrorCode.CANCELLED.name})
            raise
        except Exception as exc:
            _log_unexpected(exc)
            internal = PrimitiveError("internal error; see the server log for this trace id")
            return await self._failed(internal, calls, meta, started), ()
        await calls.emit(
            COMPLETED,
            {"state": result.state.name, "confidence": result.confidence},
        )
        meta.state = result.state
        meta.confidence = result.confidence
        meta.attempt = result.attempt
        note_turns(result.turns)
        response = ExecutePrimitiveResponse(success=True, data=struct_from_dict(result.data))
        return _finish(response, meta, started), staged.writes()

    async def _run(
        self,
        request: ExecutePrimitiveRequest,
        raw_params: dict[str, JsonValue],
        calls: _CallEvents,
        meta: ExecutionMetadata,
        time_left: float | None,
    ) -> tuple[PrimitiveResult, StagedCaptures]:
        primitive = self._registry.get(request.objective_type)
        meta.primitive_version = primitive.version
        params = _validate_params(primitive, raw_params)
        timeout = self._effective_timeout(request.timeout_seconds, time_left)
        staged = StagedCaptures(self._store)
        ctx = PrimitiveContext(
            objective_type=request.objective_type,
            trace_id=calls.trace_id,
            emit=calls.emit,
            captures=staged,
            conversation_id=request.conversation_id,
            purpose=request.purpose,
            tenant=calls.tenant,
        )
        try:
            async with asyncio.timeout(timeout) as scope:
                return await self._with_retries(primitive, params, ctx, staged, meta)
        except TimeoutError:
            if scope.expired():
                raise PrimitiveTimeoutError(timeout) from None
            raise

    async def _with_retries(
        self,
        primitive: Primitive[Any],
        params: PrimitiveParams,
        ctx: PrimitiveContext,
        staged: StagedCaptures,
        meta: ExecutionMetadata,
    ) -> tuple[PrimitiveResult, StagedCaptures]:
        """Try, and retry transient errors as tenacity's stop and wait strategies say.

        The loop is written out (rather than ``async for attempt in AsyncRetrying``) because
        tenacity's iterator costs about a fifth of a whole echo call; the strategies, and so
        the number of tries and the waits between them, are tenacity's. Each try stages its
        capture writes apart, so a retry does not see what a failed try staged.
        """
        state: RetryCallState | None = None
        while True:
            retries = 0 if state is None else state.attempt_number - 1
            meta.retry_count = retries
            if retries:
                staged = StagedCaptures(self._store)
                ctx = replace(ctx, captures=staged, retry_count=retries)
            try:
                return await primitive.execute(params, ctx), staged
            except TransientPrimitiveError as err:
                if state is None:
                    state = RetryCallState(self._retrying, None, (), {})
                state.set_exception((type(err), err, err.__traceback__))
                if self._retrying.stop(state):
                    raise
                note_retry(state.attempt_number, err)
                await asyncio.sleep(self._retrying.wait(state))
                state.prepare_for_next_attempt()

    def _effective_timeout(self, requested: float, time_left: float | None) -> float:
        if math.isnan(requested) or requested < 0 or requested > self._settings.max_timeout:
            raise InvalidParamsError(
                f"timeout_seconds must be between 0 and {self._settings.max_timeout:g}",
                [{"loc": ["timeout_seconds"], "msg": "out of range", "type": "value_error"}],
            )
        timeout = requested or self._settings.default_timeout
        return timeout if time_left is None else max(0.0, min(timeout, time_left))

    async def _failed(
        self,
        err: PrimitiveError,
        calls: _CallEvents,
        meta: ExecutionMetadata,
        started: float,
    ) -> ExecutePrimitiveResponse:
        await calls.emit(FAILED, {"code": err.code, "message": err.message})
        error = Error(
            code=ErrorCode[err.code],
            message=err.message,
            details=struct_from_dict(dict(err.details)) if err.details else None,
            retryable=err.retryable,
        )
        return _finish(ExecutePrimitiveResponse(success=False, error=error), meta, started)


def _caller_tenant() -> str:
    """The tenant of the call being served; "" without auth or outside an RPC (in-process)."""
    call = current_call.get()
    return call.tenant if call is not None else ""


def _log_unexpected(exc: Exception) -> None:
    """ERROR names the exception and where it was raised; its message and traceback, which
    may quote what the caller said (personal data), go to DEBUG only."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    logger.error(
        "primitive raised an unexpected error",
        error=type(exc).__name__,
        at=f"{frame.filename}:{frame.lineno}",
    )
    logger.opt(exception=exc).debug("unexpected error in full")


def _finish(
    response: ExecutePrimitiveResponse, meta: ExecutionMetadata, started: float
) -> ExecutePrimitiveResponse:
    """The response with its metadata; ``last_event_sequence`` comes with the commit."""
    meta.duration = timedelta(seconds=time.perf_counter() - started)
    response.metadata = meta
    return response


def _params_dict(params: Struct | None) -> dict[str, JsonValue]:
    """The params as JSON, converted once per call; a Value of no kind is INVALID_PARAMS.

    Other languages' default ``Value`` (Java's getDefaultInstance, Go's structpb.Value{})
    sets no kind: that is the caller's error, named by its key, not an INTERNAL one.
    """
    if params is None:
        return {}
    try:
        return struct_to_dict(params)
    except ValueError:
        bad = [key for key, value in params.fields.items() if not _is_json(value)]
        shown, more = limited_errors(bad)
        names = ", ".join(f"params.{key}" for key in shown)
        errors = [
            {"loc": ["params", key], "msg": "not a JSON value (no kind set)", "type": "value_error"}
            for key in shown
        ]
        raise InvalidParamsError(f"{names}{more}: not a JSON value (no kind set)", errors) from None


def _is_json(value: Value) -> bool:
    try:
        struct_to_dict(Struct(fields={"": value}))
    except ValueError:
        return False
    return True


def _fingerprint(request: ExecutePrimitiveRequest, params: dict[str, JsonValue]) -> str:
    """What makes a repeat the same request; the timeout and trace id may differ on a retry."""
    return fingerprint(request.objective_type, request.purpose, json.dumps(params, sort_keys=True))


def _is_final(response: ExecutePrimitiveResponse) -> bool:
    """A retryable failure (timeout, transient error) is not recorded: a retry runs again."""
    return response.success or response.error is None or not response.error.retryable


def _unwritten(
    err: StoreUnavailableError, response: ExecutePrimitiveResponse
) -> ExecutePrimitiveResponse:
    """The answer to a turn the store could not write: UNAVAILABLE, retryable; nothing of it
    (state, record, events) is known to be written, so a retry with its key is safe."""
    meta = response.metadata
    assert meta is not None  # _finish always sets it
    error = Error(code=ErrorCode.UNAVAILABLE, message=err.message, retryable=True)
    return ExecutePrimitiveResponse(
        success=False,
        error=error,
        metadata=ExecutionMetadata(
            trace_id=meta.trace_id,
            objective_type=meta.objective_type,
            primitive_version=meta.primitive_version,
            duration=meta.duration,
        ),
    )


def _replayed(record: Record) -> ExecutePrimitiveResponse:
    """The recorded response, marked replayed, with the sequence of its turn's last event."""
    response = decode_message(record.response, ExecutePrimitiveResponse)
    assert response.metadata is not None  # _finish always sets it
    response.metadata.replayed = True
    response.metadata.last_event_sequence = record.last_sequence
    return response


def _validate_params(primitive: Primitive[Any], raw: dict[str, JsonValue]) -> PrimitiveParams:
    try:
        return primitive.params_model.model_validate(raw)
    except ValidationError as exc:
        found, more = limited_errors(
            exc.errors(include_url=False, include_context=False, include_input=False)
        )
        errors = [
            {"loc": ["params", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in found
        ]
        summary = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        raise InvalidParamsError(
            f"invalid params for {primitive.name}: {summary}{more}", errors
        ) from None
