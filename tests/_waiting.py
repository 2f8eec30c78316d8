"""Waiting for a condition instead of sleeping and hoping: one home for the polling loop."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

__all__ = ["until"]


async def until(condition: Callable[[], bool | Awaitable[bool]], *, timeout: float = 10.0) -> None:
    """Return once ``condition()`` holds (awaited, if it is a coroutine), checking every few
    milliseconds; else TimeoutError.

    A check per loop turn would spin the CPU that a server in the same loop needs; a few
    milliseconds still lets every other task run between checks.
    """
    async with asyncio.timeout(timeout):
        while not await _holds(condition):
            await asyncio.sleep(0.002)


async def _holds(condition: Callable[[], bool | Awaitable[bool]]) -> bool:
    result = condition()
    return await result if inspect.isawaitable(result) else result
