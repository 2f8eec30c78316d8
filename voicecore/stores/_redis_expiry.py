"""Held captures that Redis expired, each counted once across the fleet.

Redis expires a capture state by its ``PX`` and tells no one (keyspace notifications are off by
default, fire-and-forget, and heard by every replica). So the commit script keeps the
deployment's held capture keys in one sorted set, ``Keys.held``, scored by when each expires
on Redis's own clock (``TIME`` plus the capture TTL, the ``PX`` it sets): added when a state is
written, removed when the capture ends. ``SWEEP`` takes the members due (at most a batch), and
removes and returns those whose key is gone: they expired. One whose key is still there had its
TTL extended, and is scored again by it. Since each member leaves the set inside the script,
replicas sweeping at once return each expired key to one of them only.

Each process sweeps every few seconds (``ExpirySweep``, started and stopped with its store) and
tells the store's ``on_lost`` listeners of each expired capture, as the in-memory store does
(``voicecore.capture._expiry``): the server counts it (``voicecore._metrics``). A sweep's work is
bounded (a batch per tick): a burst larger than that is counted a few ticks late, not lost. A
Redis that does not answer is logged once per outage; the set waits for the next tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Final

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from voicecore.capture._expiry import LostListener
from voicecore.stores._redis_codec import Keys, capture_key
from voicecore.stores._redis_events import bounded, raise_if_cancelling
from voicecore.stores._seam import StoreUnavailableError

__all__ = ["REDIS_MS", "SWEEP", "ExpirySweep"]

#: Lua: Redis's own clock in milliseconds, the clock its ``PX`` expiries run on.
REDIS_MS: Final = """
local function redis_ms()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
"""

# KEYS: 1 the held set. ARGV: 1 the batch (members looked at, at most).
SWEEP: Final = (
    REDIS_MS
    + """
local now = redis_ms()
local expired = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, key in ipairs(due) do
  local left = redis.call('PTTL', key)
  if left >= 0 then
    redis.call('ZADD', KEYS[1], string.format('%d', now + left), key)
  else
    redis.call('ZREM', KEYS[1], key)
    if left == -2 then expired[#expired + 1] = key end
  end
end
return expired
"""
)

#: Seconds between two sweeps of one process.
SWEEP_SECONDS: Final = 2.0
#: Held keys a sweep looks at, at most.
SWEEP_BATCH: Final = 100
#: Sweeps one tick runs at most while each comes back full: a burst of expiries is counted
#: within a tick or two (up to 1,000 per tick), while a tick's work stays bounded.
SWEEPS_PER_TICK: Final = 10


class ExpirySweep:
    """Sweeps ``keys.held`` every ``seconds`` and tells ``on_lost`` of each expired capture."""

    def __init__(
        self,
        client: Redis,
        keys: Keys,
        on_lost: list[LostListener],
        *,
        seconds: float = SWEEP_SECONDS,
        timeout: float,
    ) -> None:
        self._keys = keys
        self._on_lost = on_lost
        self._seconds = seconds
        self._timeout = timeout
        self._script = client.register_script(SWEEP)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sweep in the background until ``aclose``."""
        self._task = asyncio.create_task(self._run(), name="voicecore-redis-expiry")

    async def sweep(self) -> int:
        """One sweep: tell ``on_lost`` of each held capture expired since; how many there were."""
        expired: list[bytes] = await bounded(
            self._script(keys=[self._keys.held], args=[SWEEP_BATCH]), self._timeout
        )
        for name in expired:
            key: Hashable = capture_key(name, self._keys.prefix) or name
            for listener in self._on_lost:
                _tell(listener, key)
        return len(expired)

    async def sweep_due(self) -> int:
        """Sweep until a sweep comes back short, at most ``SWEEPS_PER_TICK`` times; how many
        expired captures were told."""
        told = 0
        for _ in range(SWEEPS_PER_TICK):
            swept = await self.sweep()
            told += swept
            if swept < SWEEP_BATCH:
                break
        return told

    async def _run(self) -> None:
        failing = False
        while True:
            raise_if_cancelling()
            await asyncio.sleep(self._seconds)
            try:
                await self.sweep_due()
            except (StoreUnavailableError, RedisError) as exc:
                if not failing:
                    logger.warning("Redis did not sweep expired captures: {}", exc)
                failing = True
            else:
                if failing:
                    logger.info("Redis sweeps expired captures again")
                failing = False

    async def aclose(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # not awaited itself: a cancel of ours stays ours


def _tell(listener: LostListener, key: Hashable) -> None:
    """Tell ``listener`` of one expired capture; its failure is logged (its type) and costs
    no other listener or capture its count: Redis has already let go of these names."""
    try:
        listener(key, "expired")
    except Exception as exc:
        logger.error("a listener of expired captures failed: {}", type(exc).__name__)
