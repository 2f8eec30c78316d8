"""Diagnostic primitives for tests and benchmarks, served only with ``--debug-primitives``."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from loguru import logger
from pydantic import ConfigDict, Field

from voicecore.errors import TransientPrimitiveError
from voicecore.primitive import (
    Primitive,
    PrimitiveContext,
    PrimitiveParams,
    PrimitiveResult,
)

__all__ = ["DebugEcho", "DebugFlaky", "DebugSleep"]


class EchoParams(PrimitiveParams):
    """Any keys at all: they come back as ``data``."""

    model_config = ConfigDict(frozen=True, extra="allow")


class DebugEcho(Primitive[EchoParams]):
    """Returns its params as ``data``: the cheapest round trip through the whole stack."""

    name = "debug_echo"
    version = "1.0.0"
    description = "Returns its params unchanged (diagnostics)."
    params_model = EchoParams

    async def execute(self, params: EchoParams, ctx: PrimitiveContext) -> PrimitiveResult:
        return PrimitiveResult(data=dict(params.model_extra or {}), confidence=1.0)


class SleepParams(PrimitiveParams):
    """How long to sleep."""

    seconds: float = Field(default=0.0, ge=0.0, le=3600.0)


class DebugSleep(Primitive[SleepParams]):
    """Sleeps ``seconds``: exercises timeouts and cancellation."""

    name = "debug_sleep"
    version = "1.0.0"
    description = "Sleeps for `seconds`, then succeeds (diagnostics)."
    params_model = SleepParams

    async def execute(self, params: SleepParams, ctx: PrimitiveContext) -> PrimitiveResult:
        # A turn's events reach the log when it commits, so this line is what says a sleep is
        # in flight (the drain tests wait for it).
        logger.debug("debug_sleep sleeping", seconds=params.seconds)
        await asyncio.sleep(params.seconds)
        return PrimitiveResult(data={"slept": params.seconds}, confidence=1.0)


class FlakyParams(PrimitiveParams):
    """How many times to fail before succeeding."""

    failures: int = Field(default=1, ge=0, le=100)


class DebugFlaky(Primitive[FlakyParams]):
    """Fails transiently on the first ``failures`` tries of a call, then succeeds.

    Exercises the server's retry: the call succeeds when ``failures`` is below the retry
    attempts, and fails with ``INTERNAL`` (retryable) otherwise.
    """

    name = "debug_flaky"
    version = "1.0.0"
    description = "Fails transiently `failures` times per call, then succeeds (diagnostics)."
    params_model = FlakyParams
    event_types: ClassVar[tuple[str, ...]] = ("debug.flaky_failure",)

    async def execute(self, params: FlakyParams, ctx: PrimitiveContext) -> PrimitiveResult:
        if ctx.retry_count < params.failures:
            failure = ctx.retry_count + 1
            await ctx.emit("debug.flaky_failure", {"failure": failure})
            raise TransientPrimitiveError(f"transient failure {failure} of {params.failures}")
        return PrimitiveResult(data={"failures": params.failures}, confidence=1.0)
