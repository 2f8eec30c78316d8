"""The Redis store: capture states, idempotency records and the event log in one Redis.

A turn costs two round trips in the common case: ``GET`` of its capture state (``load``), and
``EVALSHA`` of ``COMMIT``, the one script that does the whole commit atomically (a turn without
a conversation costs the script alone). The script is loaded once, when the store opens (which
also proves the URL and password); redis-py's ``Script`` loads it again on ``NOSCRIPT`` (a Redis
restarted or flushed). Sequences come from one counter beside the stream, seeded once with the
time in microseconds (so a new deployment never reuses a sequence a client has seen), and are the
stream entries' ids (``<sequence>-0``): strictly increasing across every replica.

A capture state is kept as ``<version>:<json>`` with the capture TTL; its version is the sequence
of the last event of the turn that wrote it, so it is never reused. A record is kept as
``<fingerprint>:<last sequence>:<response>`` with the idempotency TTL. The stream is trimmed to
about ``event_retention`` entries (``MAXLEN ~``); ``event_retention_bytes`` does not apply here.

Redis that does not answer (down, or slower than ``store_timeout``) makes the call answer
``UNAVAILABLE``, retryable: ``StoreUnavailableError``. The commit is one script, so a turn is
written whole or not at all, whatever fails when.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any, Final

from loguru import logger
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError
from redis.retry import Retry

from voicecore.capture._store import Versioned
from voicecore.idempotency import Record
from voicecore.stores._redis_codec import Keys, decode_state, encode_event, encode_state
from voicecore.stores._redis_events import BLOCK_SECONDS, RedisEventLog, bounded
from voicecore.stores._seam import (
    Committed,
    Conflict,
    Outcome,
    Replay,
    StoreUnavailableError,
    TurnWrites,
)

__all__ = ["COMMIT", "RedisStore"]

#: How long the health check's key lives (milliseconds).
_HEALTH_MS: Final = 10_000

# KEYS: sequence counter, stream, first sequence, record (a placeholder without a claim), then
#       the captures.
# ARGV: captures, events, claim (0 none, 1 check only, 2 record), now (µs), retention,
#       capture TTL (ms), record TTL (ms), fingerprint, response, then per capture its expected
#       version ("" not read) and state ("" forget), then the events.
COMMIT: Final = """
local ncap, nev, claim = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
if claim ~= '0' then
  local record = redis.call('GET', KEYS[4])
  if record then return {'replay', record} end
end
for i = 1, ncap do
  local expected = ARGV[8 + 2 * i]
  if expected ~= '' then
    local kept = redis.call('GET', KEYS[4 + i])
    local version = '0'
    if kept then version = string.match(kept, '^(%d+):') end
    if version ~= expected then return {'conflict'} end
  end
end
if redis.call('SET', KEYS[1], ARGV[4], 'NX') then
  redis.call('SET', KEYS[3], string.format('%d', tonumber(ARGV[4]) + 1))
end
local last = redis.call('INCRBY', KEYS[1], nev)
local first = last - nev + 1
for j = 1, nev do
  local id = string.format('%d-0', first + j - 1)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], id, 'e', ARGV[9 + 2 * ncap + j])
end
local version = string.format('%d', last)
for i = 1, ncap do
  local state = ARGV[9 + 2 * i]
  if state == '' then
    redis.call('DEL', KEYS[4 + i])
  else
    redis.call('SET', KEYS[4 + i], version .. ':' .. state, 'PX', ARGV[6])
  end
end
if claim == '2' then
  redis.call('SET', KEYS[4], ARGV[8] .. ':' .. version .. ':' .. ARGV[9], 'PX', ARGV[7])
end
return {'ok', string.format('%d', first), version}
"""


class RedisStore:
    """The ``Store`` on Redis (see the module docstring). Build it with ``open``."""

    def __init__(
        self,
        client: Redis,
        follower: Redis,
        *,
        prefix: str = "vc",
        capture_ttl: float = 3600.0,
        idempotency_ttl: float = 600.0,
        retention: int = 100_000,
        timeout: float = 2.0,
        block_seconds: float = BLOCK_SECONDS,
    ) -> None:
        self.client = client
        self.keys = Keys(prefix)
        self._capture_ttl = str(max(1, round(capture_ttl * 1000)))
        self._record_ttl = str(max(1, round(idempotency_ttl * 1000)))
        self._retention = str(retention)
        self._timeout = timeout
        self._commit = client.register_script(COMMIT)
        self._events = RedisEventLog(
            client, follower, self.keys, self.commit, timeout=timeout, block_seconds=block_seconds
        )

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        password: str | None = None,
        timeout: float = 2.0,
        block_seconds: float = BLOCK_SECONDS,
        **options: Any,
    ) -> RedisStore:
        """Connect to ``url``, check it answers (and the password) and load the script."""
        client = _client(url, password, timeout)
        # The follower's XREAD blocks for a while: its socket waits longer than that.
        follower = _client(url, password, timeout + block_seconds)
        store = cls(client, follower, timeout=timeout, block_seconds=block_seconds, **options)
        try:
            await client.script_load(COMMIT)
            await _warn_unless_noeviction(client)
        except BaseException:
            await store.aclose()
            raise
        return store

    @property
    def events(self) -> RedisEventLog:
        return self._events

    async def load(self, key: Hashable) -> Versioned:
        kept: bytes | None = await self._call(self.client.get(self.keys.capture(key)))
        if kept is None:
            return Versioned()
        version, state = kept.split(b":", 1)
        return Versioned(decode_state(state), int(version))

    async def commit(self, turn: TurnWrites) -> Outcome:
        keys = [self.keys.sequence, self.keys.stream, self.keys.first]
        claim = turn.claim
        args: list[str | bytes] = [str(len(turn.captures)), str(len(turn.events))]
        if claim is None:
            keys.append(self.keys.stream)  # a placeholder in the same slot as the stream
            args += ["0"]
        else:
            keys.append(self.keys.record(claim.key))
            args += ["1" if claim.response is None else "2"]
        now = datetime.now(UTC)
        args += [str(time.time_ns() // 1000), self._retention, self._capture_ttl]
        args += [self._record_ttl]
        args += [claim.fingerprint, claim.response or b""] if claim else ["", b""]
        for write in turn.captures:
            keys.append(self.keys.capture(write.key))
            args.append("" if write.expected is None else str(write.expected))
            args.append(b"" if write.state is None else encode_state(write.state))
        args += [encode_event(event, now) for event in turn.events]
        reply = await self._call(self._commit(keys=keys, args=args))
        if reply[0] == b"replay":
            fingerprint, last, response = reply[1].split(b":", 2)
            return Replay(Record(fingerprint.decode(), response, int(last)))
        if reply[0] == b"conflict":
            return Conflict()
        first, last = int(reply[1]), int(reply[2])
        self._events.committed(last)
        return Committed(tuple(range(first, last + 1)))

    async def reachable(self) -> bool:
        """Whether Redis takes a tiny write (``PX``: it expires) within the store's timeout: a
        read-only replica, or one out of memory, answers PING but cannot serve a turn."""
        try:
            await self._call(self.client.set(self.keys.health, b"1", px=_HEALTH_MS))
        except StoreUnavailableError:
            return False
        return True

    async def aclose(self) -> None:
        """Stop the follower and close the connections."""
        await self._events.aclose()
        await self.client.aclose()

    async def _call(self, command: Any) -> Any:
        return await bounded(command, self._timeout)


async def _warn_unless_noeviction(client: Redis) -> None:
    """Log a WARNING if Redis may evict keys: TTL'd idempotency records and captures would go
    under memory pressure, and a retried turn apply twice. A managed Redis may disable CONFIG."""
    try:
        reply: dict[Any, Any] = await client.config_get("maxmemory-policy")
    except ResponseError:
        return
    kept = next(iter(reply.values()), b"")
    policy = kept.decode() if isinstance(kept, bytes) else str(kept)
    if policy and policy != "noeviction":
        logger.warning(
            "Redis maxmemory-policy is {}, not noeviction: under memory pressure it evicts "
            "idempotency records and held captures (a retried turn could apply twice)",
            policy,
        )


def _client(url: str, password: str | None, timeout: float) -> Redis:
    """A client that fails fast: no retries of its own (a retried commit could apply twice)."""
    extra: dict[str, Any] = {} if password is None else {"password": password}
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        **extra,
    )
