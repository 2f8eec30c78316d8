"""The Redis store: capture states, idempotency records and the event log in one Redis.

A turn costs two round trips in the common case: ``GET`` of its capture state (``load``), and
``EVALSHA`` of ``COMMIT``, the one script that does the whole commit atomically (a turn without
a conversation costs the script alone); the commits of one event-loop pass share one pipeline
(``voicecore.stores._redis_batch``). The script is loaded once, when the store opens (which
also proves the URL and password), and again on ``NOSCRIPT`` (a Redis restarted or flushed).
Sequences come from one counter beside the stream, seeded once with the time in microseconds (so
a new deployment never reuses a sequence a client has seen), and are the stream entries' ids
(``<sequence>-0``): strictly increasing across every replica.

A capture state is kept as ``<version>:<json>`` with the capture TTL; its version is the sequence
of the last event of the turn that wrote it, so it is never reused. A record is kept as
``<fingerprint>:<last sequence>:<response>`` with the idempotency TTL. The stream is trimmed to
``event_retention`` entries (exactly, a hundredth of it at a time, by the scripts, which keep the
conversations' event indexes in step and note the last sequence trimmed: ``MAXLEN ~`` would
do neither); ``event_retention_bytes`` does not apply here.

``ERASE`` (``DeleteConversation``) is the other script: it deletes the keys and stream entries
a conversation's indexes name (``voicecore.stores._redis_codec``), and appends the erasure
event, in one step.

Both scripts keep the deployment's held capture keys (``Keys.held``) in step with the states,
which each process's ``ExpirySweep`` reads every few seconds to count the captures Redis
expired, once across the fleet (``voicecore.stores._redis_expiry``): the store's ``on_lost``.

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
from redis.asyncio.connection import AbstractConnection
from redis.backoff import NoBackoff
from redis.connection import HiredisRespSerializer
from redis.exceptions import ResponseError
from redis.retry import Retry

from voicecore.capture._expiry import LostListener
from voicecore.capture._store import Versioned
from voicecore.events import NewEvent
from voicecore.idempotency import Record
from voicecore.stores._redis_batch import ScriptBatch
from voicecore.stores._redis_codec import (
    Keys,
    decode_state,
    encode_erasure_event,
    encode_event,
    encode_state,
    owner,
)
from voicecore.stores._redis_events import BLOCK_SECONDS, RedisEventLog, bounded
from voicecore.stores._redis_expiry import REDIS_MS, SWEEP, SWEEP_SECONDS, ExpirySweep
from voicecore.stores._seam import (
    Committed,
    Conflict,
    Erasure,
    Outcome,
    Replay,
    StoreUnavailableError,
    TurnWrites,
)

__all__ = ["COMMIT", "ERASE", "RedisStore"]

#: How long the health check's key lives (milliseconds).
_HEALTH_MS: Final = 10_000

#: Entries trimmed at most per script: a lowered retention is caught up with over several turns.
_TRIM_MAX: Final = 1000


def _trim(retention: int, batch: int) -> str:
    """The end of both scripts: retention, exactly, by at least a batch of entries at a time
    (amortised: no script pays for a large trim). Each trimmed entry of a conversation leaves
    its event index (field x); the last trimmed sequence is kept, to tell eviction from erasure.
    KEYS[2] is the stream, KEYS[3] the trimmed sequence; the retention and the batch are the
    ARGV at those positions."""
    return f"""
local excess = redis.call('XLEN', KEYS[2]) - tonumber(ARGV[{retention}])
if excess >= tonumber(ARGV[{batch}]) then
  local old = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', math.min(excess, {_TRIM_MAX}))
  for _, entry in ipairs(old) do
    local entry_fields = entry[2]
    for k = 1, #entry_fields, 2 do
      if entry_fields[k] == 'x' then
        redis.call('SREM', entry_fields[k + 1], string.match(entry[1], '^(%d+)'))
      end
    end
  end
  local through = string.match(old[#old][1], '^(%d+)')
  redis.call('XTRIM', KEYS[2], 'MINID', through .. '-1')
  redis.call('SET', KEYS[3], through)
end
"""


# KEYS: 1 sequence counter, 2 stream, 3 trimmed, 4 record, 5 the record's key index, then per
#       capture its key and its key index, then per event its event index (KEYS[2], the
#       stream, stands for a record or an index there is none of), last the held set.
# ARGV: 1 captures, 2 events, 3 claim (0 none, 1 check only, 2 record), 4 now (µs),
#       5 retention, 6 capture TTL (ms), 7 record TTL (ms), 8 fingerprint, 9 response,
#       10 trim batch, then per capture its expected version ("" not read) and state ("" forget),
#       then the events.
COMMIT: Final = (
    REDIS_MS
    + """
local ncap, nev, claim = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
if claim ~= '0' then
  local record = redis.call('GET', KEYS[4])
  if record then return {'replay', record} end
end
for i = 1, ncap do
  local expected = ARGV[9 + 2 * i]
  if expected ~= '' then
    local kept = redis.call('GET', KEYS[4 + 2 * i])
    local version = '0'
    if kept then version = string.match(kept, '^(%d+):') end
    if version ~= expected then return {'conflict'} end
  end
end
redis.call('SET', KEYS[1], ARGV[4], 'NX')
local last = redis.call('INCRBY', KEYS[1], nev)
local first = last - nev + 1
-- Each index is written once per commit (one SADD of all its sequences, one prune and expiry).
local sequences = {}
for j = 1, nev do
  local sequence = string.format('%d', first + j - 1)
  local index = KEYS[5 + 2 * ncap + j]
  if index == KEYS[2] then
    redis.call('XADD', KEYS[2], sequence .. '-0', 'e', ARGV[10 + 2 * ncap + j])
  else
    redis.call('XADD', KEYS[2], sequence .. '-0', 'e', ARGV[10 + 2 * ncap + j], 'x', index)
    if not sequences[index] then sequences[index] = {} end
    table.insert(sequences[index], sequence)
  end
end
for index, added in pairs(sequences) do redis.call('SADD', index, unpack(added)) end
local now_ms = redis_ms()  -- Redis's clock, as PX counts: a replica's own may run ahead
local touched = {}
local function remember(index, key, ttl, kind)
  if index ~= KEYS[2] then
    redis.call('ZADD', index, now_ms + tonumber(ttl), kind .. key)
    touched[index] = true
  end
end
local version = string.format('%d', last)
local held, expires = KEYS[#KEYS], string.format('%d', redis_ms() + tonumber(ARGV[6]))
for i = 1, ncap do
  local state = ARGV[10 + 2 * i]
  if state == '' then
    redis.call('DEL', KEYS[4 + 2 * i])
    redis.call('ZREM', held, KEYS[4 + 2 * i])
  else
    redis.call('SET', KEYS[4 + 2 * i], version .. ':' .. state, 'PX', ARGV[6])
    redis.call('ZADD', held, expires, KEYS[4 + 2 * i])
    remember(KEYS[5 + 2 * i], KEYS[4 + 2 * i], ARGV[6], 'c')
  end
end
if claim == '2' then
  redis.call('SET', KEYS[4], ARGV[8] .. ':' .. version .. ':' .. ARGV[9], 'PX', ARGV[7])
  remember(KEYS[5], KEYS[4], ARGV[7], 'r')
end
local longest = math.max(tonumber(ARGV[6]), tonumber(ARGV[7]))
for index in pairs(touched) do
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now_ms)  -- keys expired since
  redis.call('PEXPIRE', index, longest)
end
"""
    + _trim(5, 10)
    + """
return {'ok', string.format('%d', first), version}
"""
)

# KEYS: 1 sequence counter, 2 stream, 3 trimmed, 4 the conversation's key index, 5 its event
#       index, 6 the held set.
# ARGV: 1 the erasure event up to its payload, 2 the rest of it, 3 now (µs), 4 retention,
#       5 trim batch.
ERASE: Final = (
    """
local captures, records, events = 0, 0, 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  local deleted = redis.call('DEL', string.sub(member, 2))
  if string.sub(member, 1, 1) == 'c' then
    redis.call('ZREM', KEYS[6], string.sub(member, 2))
    captures = captures + deleted
  else
    records = records + deleted
  end
end
local sequences = redis.call('SMEMBERS', KEYS[5])
for i = 1, #sequences, 512 do
  local ids = {}
  for j = i, math.min(i + 511, #sequences) do ids[#ids + 1] = sequences[j] .. '-0' end
  events = events + redis.call('XDEL', KEYS[2], unpack(ids))
end
redis.call('DEL', KEYS[4], KEYS[5])
if captures + records + events == 0 then return {'missing'} end
redis.call('SET', KEYS[1], ARGV[3], 'NX')
local sequence = string.format('%d', redis.call('INCR', KEYS[1]))
local payload = string.format(
  '{"events_deleted":%d,"captures_forgotten":%d,"records_forgotten":%d}',
  events, captures, records)
redis.call('XADD', KEYS[2], sequence .. '-0', 'e', ARGV[1] .. payload .. ARGV[2])
"""
    + _trim(4, 5)
    + """
return {'ok', sequence, events, captures, records}
"""
)


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
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.client = client
        self.keys = Keys(prefix)
        self._capture_ttl = str(max(1, round(capture_ttl * 1000)))
        self._record_ttl = str(max(1, round(idempotency_ttl * 1000)))
        self._retention = str(retention)
        self._timeout = timeout
        # Trim by a hundredth of retention at a time (at most 100 entries): cheap per turn.
        self._trim_batch = str(max(1, min(100, retention // 100)))
        self._commit = ScriptBatch(client, COMMIT, timeout=timeout)
        self._erase = client.register_script(ERASE)
        self._events = RedisEventLog(
            client, follower, self.keys, self.commit, timeout=timeout, block_seconds=block_seconds
        )
        #: Told of each held capture Redis expired, once across the fleet (``_redis_expiry``).
        self.on_lost: list[LostListener] = []
        self.expiry = ExpirySweep(
            client, self.keys, self.on_lost, seconds=sweep_seconds, timeout=timeout
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
        client = _client(url, password, connect_timeout=timeout)
        # The follower's XREAD blocks for a while: its socket waits longer than that.
        follower = _client(url, password, connect_timeout=timeout, timeout=timeout + block_seconds)
        store = cls(client, follower, timeout=timeout, block_seconds=block_seconds, **options)
        try:
            for script in (COMMIT, ERASE, SWEEP):
                await bounded(client.script_load(script), timeout)
            await bounded(_warn_unless_noeviction(client), timeout)
        except BaseException:
            await store.aclose()
            raise
        store.expiry.start()
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
        keys = [self.keys.sequence, self.keys.stream, self.keys.trimmed]
        claim = turn.claim
        args: list[str | bytes] = [str(len(turn.captures)), str(len(turn.events))]
        # The stream stands for a record, or an index, there is none of (the same slot).
        if claim is None:
            keys += [self.keys.stream, self.keys.stream]
            args += ["0"]
        else:
            keys += [self.keys.record(claim.key), self._key_index(claim.key)]
            args += ["1" if claim.response is None else "2"]
        now = datetime.now(UTC)
        args += [str(time.time_ns() // 1000), self._retention, self._capture_ttl]
        args += [self._record_ttl]
        args += [claim.fingerprint, claim.response or b""] if claim else ["", b""]
        args.append(self._trim_batch)
        for write in turn.captures:
            keys += [self.keys.capture(write.key), self._key_index(write.key)]
            args.append("" if write.expected is None else str(write.expected))
            args.append(b"" if write.state is None else encode_state(write.state))
        for event in turn.events:
            keys.append(self._event_index(event))
            args.append(encode_event(event, now))
        keys.append(self.keys.held)
        reply = await self._call(self._commit(keys, args))
        if reply[0] == b"replay":
            fingerprint, last, response = reply[1].split(b":", 2)
            return Replay(Record(fingerprint.decode(), response, int(last)))
        if reply[0] == b"conflict":
            return Conflict()
        first, last = int(reply[1]), int(reply[2])
        self._events.committed(last)
        return Committed(tuple(range(first, last + 1)))

    async def erase(self, event: NewEvent) -> Erasure | None:
        tenant, conversation_id = event.tenant, event.conversation_id
        keys = [self.keys.sequence, self.keys.stream, self.keys.trimmed]
        keys += [self.keys.key_index(tenant, conversation_id), self._event_index(event)]
        keys.append(self.keys.held)
        head, tail = encode_erasure_event(event, datetime.now(UTC))
        args: list[str | bytes] = [head, tail, str(time.time_ns() // 1000), self._retention]
        args.append(self._trim_batch)
        reply = await self._call(self._erase(keys=keys, args=args))
        if reply[0] == b"missing":
            return None
        sequence, events, captures, records = map(int, reply[1:])
        self._events.committed(sequence)
        return Erasure(sequence, events, captures, records)

    def _key_index(self, key: Hashable) -> str:
        """The key index of ``key``'s conversation; the stream (none) without a conversation,
        which cannot be erased."""
        tenant, conversation_id = owner(key)
        if not conversation_id:
            return self.keys.stream
        return self.keys.key_index(tenant, conversation_id)

    def _event_index(self, event: NewEvent) -> str:
        if not event.conversation_id:
            return self.keys.stream
        return self.keys.event_index(event.tenant, event.conversation_id)

    async def reachable(self) -> bool:
        """Whether Redis takes a tiny write (``PX``: it expires) within the store's timeout: a
        read-only replica, or one out of memory, answers PING but cannot serve a turn."""
        try:
            await self._call(self.client.set(self.keys.health, b"1", px=_HEALTH_MS))
        except StoreUnavailableError:
            return False
        return True

    async def aclose(self) -> None:
        """Stop the follower and the sweep, and close the connections."""
        await self.expiry.aclose()
        await self._events.aclose()
        await self._commit.aclose()
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


def _client(
    url: str, password: str | None, *, connect_timeout: float, timeout: float | None = None
) -> Redis:
    """A client that fails fast: no retries of its own (a retried commit could apply twice).

    The store's commands are bounded by its own ``asyncio.timeout`` (``bounded``, and each
    commit batch's), so its client has no socket timeout (``timeout`` None): redis-py runs a
    socket timeout's write under ``asyncio.wait_for``, which on Python 3.11 can swallow a
    cancel that lands as the write completes, and the command then waited for its reply
    however long the store was closing."""
    extra: dict[str, Any] = {} if password is None else {"password": password}
    client = Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 0),
        **extra,
    )
    pool = client.connection_pool
    pool.connection_class = _packing_with_hiredis(pool.connection_class)
    return client


_SERIALIZER: Final = HiredisRespSerializer()


def _pack_with_hiredis(_: AbstractConnection, *args: Any) -> list[bytes]:
    packed: list[bytes] = _SERIALIZER.pack(*args)
    return packed


def _packing_with_hiredis(connection: type[AbstractConnection]) -> type[AbstractConnection]:
    """``connection`` (plain, TLS or Unix socket, as the URL says) packing its commands with
    hiredis, in C, as redis-py's own sync connections do; its asyncio ones pack them in Python,
    about 30 us for a commit's two dozen arguments on this project's bench machine."""
    return type(
        f"Hiredis{connection.__name__}", (connection,), {"pack_command": _pack_with_hiredis}
    )
