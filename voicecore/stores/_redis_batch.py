"""One Lua script run for many turns at once: the commits of one event-loop pass, one pipeline.

Under load a server computes several turns in one pass of its event loop; each one's commit to
Redis used to be its own round trip, with redis-py's per-command work (a pooled connection
taken and given back, the command packed, a socket write and read, two timeouts) and a reply
arriving in a pass of its own, so the responses no longer went out together. ``ScriptBatch``
queues the commits of a pass and sends them in one non-transactional pipeline when the pass
ends: one write, one read, replies in order, and the turns answered in one pass again. Each
``EVALSHA`` stays atomic on its own, and a turn alone in its pass is sent at once (the pass
ends), so nothing waits for company.

A caller that gives up (its deadline) before its pass ends is not sent; one that gives up
later may have been applied, exactly as when a reply is lost (its idempotency key makes the
retry safe). A script Redis no longer has (``NOSCRIPT``: restarted or flushed) is loaded again
and the commits that met it are sent again: Redis ran none of them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["ScriptBatch"]

#: The keys and arguments of one run of the script.
Arguments = Sequence[str | bytes]


class _Run:
    __slots__ = ("args", "keys", "reply")

    def __init__(self, keys: Arguments, args: Arguments, reply: asyncio.Future[Any]) -> None:
        self.keys = keys
        self.args = args
        self.reply = reply


class ScriptBatch:
    """Runs one Lua script for its callers, those of one loop pass in one pipeline."""

    def __init__(self, client: Redis, script: str, *, timeout: float) -> None:
        self._client = client
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest()
        self._timeout = timeout
        self._queued: list[_Run] = []
        self._sending: set[asyncio.Task[None]] = set()
        #: Pipelines sent, for the tests and the benchmark's figures.
        self.pipelines = 0

    async def __call__(self, keys: Arguments, args: Arguments) -> Any:
        """The script's reply for ``keys`` and ``args``; Redis's errors are raised as they are
        (``bounded`` tells the caller's code which mean "unavailable")."""
        loop = asyncio.get_running_loop()
        if not self._queued:
            loop.call_soon(self._send_queued)
        run = _Run(keys, args, loop.create_future())
        self._queued.append(run)
        return await run.reply

    def _send_queued(self) -> None:
        runs = [run for run in self._queued if not run.reply.done()]  # not those given up on
        self._queued = []
        if runs:
            task = asyncio.create_task(self._send(runs), name="voicecore-commit-batch")
            self._sending.add(task)
            task.add_done_callback(functools.partial(self._sent, runs))

    def _sent(self, runs: list[_Run], task: asyncio.Task[None]) -> None:
        """A batch ended: any run it left unsettled (it was cancelled before it began, when
        the store closed) is told Redis did not answer."""
        self._sending.discard(task)
        _fail(runs, RedisConnectionError("the store is closing"))

    async def _send(self, runs: list[_Run]) -> None:
        unsettled = runs
        try:
            async with asyncio.timeout(self._timeout):
                unsettled = _settle_all_but_unloaded(runs, await self._pipeline(runs))
                if unsettled:  # NOSCRIPT: Redis ran none of these; the others are settled
                    await self._client.script_load(self._script)
                    replies = await self._pipeline(unsettled)
                    unsettled = _settle_all_but_unloaded(unsettled, replies)
                    _fail(unsettled, RedisConnectionError("Redis lost the commit script again"))
        except asyncio.CancelledError:
            _fail(unsettled, RedisConnectionError("the store is closing"))
            raise
        except TimeoutError:
            _fail(unsettled, RedisTimeoutError("Redis did not answer a batch of commits in time"))
        except Exception as exc:  # unreachable, or refused: each caller's to judge
            _fail(unsettled, exc)

    async def _pipeline(self, runs: Sequence[_Run]) -> list[Any]:
        async with self._client.pipeline(transaction=False) as pipeline:
            for run in runs:
                pipeline.evalsha(self._sha, len(run.keys), *run.keys, *run.args)
            self.pipelines += 1
            replies: list[Any] = await pipeline.execute(raise_on_error=False)
            return replies

    async def aclose(self) -> None:
        """Stop the batches in flight; their callers are told Redis did not answer."""
        for task in self._sending:
            task.cancel()
        if self._sending:
            await asyncio.wait(self._sending)


def _settle_all_but_unloaded(runs: Sequence[_Run], replies: Sequence[Any]) -> list[_Run]:
    """Settle each run Redis ran (its reply, or its own error); the runs that met NOSCRIPT,
    which Redis did not run, are left to send again."""
    unloaded = []
    for run, reply in zip(runs, replies, strict=True):
        if isinstance(reply, NoScriptError):
            unloaded.append(run)
        else:
            _settle(run.reply, reply)
    return unloaded


def _settle(future: asyncio.Future[Any], reply: Any) -> None:
    if future.done():  # its caller gave up meanwhile
        return
    if isinstance(reply, Exception):
        future.set_exception(reply)
    else:
        future.set_result(reply)


def _fail(runs: Sequence[_Run], error: Exception) -> None:
    for run in runs:
        _settle(run.reply, error)
