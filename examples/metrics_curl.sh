#!/usr/bin/env bash
# Voice Core's Prometheus metrics with curl. Start the server with a metrics port
# (voicecore serve --metrics-port 9464), make a few calls, then read what it counted:
#   examples/metrics_curl.sh [HOST:PORT]    (default localhost:9464)
set -euo pipefail
endpoint="${1:-localhost:9464}"

curl --silent --show-error --fail "http://$endpoint/metrics" |
  grep -E '^(grpc_server_handled_total|grpc_server_handling_seconds_count|voicecore_calls_total)' |
  grep -v ' 0.0$'
