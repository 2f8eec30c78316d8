#!/usr/bin/env bash
# Two replicas sharing one Redis: a capture's first turn goes to one replica, the caller's "yes"
# to the other, and the second replica completes it. Redis runs in a temporary folder without
# persistence (in production: your Redis, with AOF if captures must survive a Redis restart).
#   examples/two_replicas.sh [PORT]    (Redis on PORT, the replicas on PORT+1 and PORT+2;
#                                       default 56379)
set -euo pipefail
port="${1:-56379}"
dir="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT

# 1. Redis (Debian's redis-server), on loopback only.
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
  >"$dir/redis.log" &
pids+=($!)

# 2. Two replicas with one store. Behind a proxy (examples/nginx.conf) any replica takes any call.
store="redis://127.0.0.1:$port/0"
for replica in 1 2; do
  voicecore serve --port $((port + replica)) --store "$store" 2>"$dir/replica-$replica.log" &
  pids+=($!)
done
for replica in 1 2; do
  for _ in $(seq 50); do
    voicecore health --endpoint "127.0.0.1:$((port + replica))" >/dev/null 2>&1 && break
    sleep 0.2
  done
done

# 3. The first turn on replica 1, the caller's answer on replica 2.
voicecore call capture_email --endpoint "127.0.0.1:$((port + 1))" --conversation call-1 \
  --param transcription="my email is john dot smith at gmail dot com"
voicecore call capture_email --endpoint "127.0.0.1:$((port + 2))" --conversation call-1 \
  --param transcription="yes that's right"
