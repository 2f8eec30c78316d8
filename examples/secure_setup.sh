#!/usr/bin/env bash
# A trial of TLS and a token on this machine: a self-signed certificate for 127.0.0.1 and
# localhost (openssl), a token for the tenant "demo", a server that requires both, then a health
# check and a capture over TLS with the token. Everything lives in a temporary folder.
#   examples/secure_setup.sh [PORT]    (default 50443)
set -euo pipefail
port="${1:-50443}"
dir="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$dir"' EXIT

# 1. A self-signed certificate, for a trial only (in production: your CA's certificate).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null

# 2. A token: the first line is for the client, the second goes in the server's tokens file
#    (it holds the token's SHA-256, never the token). SIGHUP makes a running server reread it.
voicecore token --tenant demo --scopes execute,events > "$dir/new-token"
token="$(sed -n 1p "$dir/new-token")"
sed -n 2p "$dir/new-token" >> "$dir/tokens"

# 3. The server, requiring TLS and a token.
voicecore serve --port "$port" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" \
  --auth-tokens-file "$dir/tokens" 2>"$dir/server.log" &
server=$!

# 4. The client side: trust the certificate, send the token (or VOICE_CORE_AUTH_TOKEN).
client=(--endpoint "localhost:$port" --tls-ca "$dir/cert.pem" --token "$token")
for _ in $(seq 50); do voicecore health "${client[@]}" >/dev/null 2>&1 && break; sleep 0.2; done
voicecore health "${client[@]}"
voicecore call capture_email "${client[@]}" --conversation call-1 \
  --param transcription="my email is john dot smith at gmail dot com"
# Without the token the server answers UNAUTHENTICATED (exit 1):
voicecore call capture_email --endpoint "localhost:$port" --tls-ca "$dir/cert.pem" \
  --param transcription="john at gmail dot com" || echo "refused without a token"
