#!/usr/bin/env bash
#! Throws generated and malformed requests at the REST API (schemathesis, driven by
#! /v1/openapi.json) against a real server with a temporary database: no answer may be a 5xx.
#
# Usage: scripts/fuzz-api.sh <path to the knock binary>
set -euo pipefail

bin=${1:?usage: scripts/fuzz-api.sh <knock binary>}
venv=${KNOCK_VENV:-$HOME/.cache/knock-tools/venv}
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# KNOCK_API_KEY must have at least 32 characters.
key="fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(32))')"

KNOCK_API_KEY=$key DATABASE_URL="sqlite://$dir/knock.db" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  RUST_LOG=warn "$bin" >"$dir/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done

# Run from the temporary directory: schemathesis keeps its cache (`.schemathesis/`) and
# Hypothesis its examples (`.hypothesis/`) in the working directory, and neither belongs in the
# repository. A failure is printed in full, with the request that reproduces it.
schemathesis="$(cd "$venv/bin" && pwd)/schemathesis"
cd "$dir"
"$schemathesis" run "http://127.0.0.1:$port/v1/openapi.json" \
  --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $key" \
  --checks not_a_server_error \
  --max-examples 40
