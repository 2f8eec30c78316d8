#!/usr/bin/env bash
# The voicecore client commands against a running server. They find it at VOICE_CORE_ENDPOINT
# (default localhost:50051) or --endpoint HOST:PORT; each exits non-zero on failure.
#   examples/cli_tour.sh
set -euo pipefail
if ! command -v voicecore >/dev/null; then
  echo "voicecore is not on the PATH: activate the Quickstart's venv (. .venv/bin/activate)" >&2
  exit 127
fi

voicecore health
voicecore primitives                  # one line per primitive: name, version, description
voicecore primitives capture_email    # its params as a JSON Schema (--json: every primitive)
# Two turns of one capture: the caller says an email, then confirms the readback.
# --param KEY=VALUE sends a string, KEY:=JSON a number, boolean or list.
voicecore call capture_email --conversation call-7 --purpose "send your receipt" \
  --param "transcription=my email is john at gmail dot com" --param max_attempts:=5
voicecore call capture_email --conversation call-7 --param "transcription=yes that's right"
# The conversation's events as JSON lines, only the types asked for (--follow: keep listening).
voicecore events --conversation call-7 --type capture.value_captured --type capture.confirmed
