#!/usr/bin/env bash
# Load test of the local runtime: signed Zendesk events against `supportctl serve` (release),
# then the server's resident memory with every case open. Bounded: EVENTS requests, loopback only.
#   EVENTS=20000 CONCURRENCY=32 ./scripts/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-20000}
CONCURRENCY=${CONCURRENCY:-32}
PORT=${PORT:-18080}
LOG_LEVEL=${LOG_LEVEL:-warn}

cargo build --release --locked -p supportctl -p tests --bin supportctl --bin loadgen
data=$(mktemp -d)
RUST_LOG=$LOG_LEVEL ./target/release/supportctl serve --listen "127.0.0.1:$PORT" --data "$data" \
  > "$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.1; done

./target/release/loadgen --url "http://127.0.0.1:$PORT" --data "$data" \
  --events "$EVENTS" --concurrency "$CONCURRENCY"

sleep 2  # let background deliveries finish
rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
open=$(curl -sf "http://127.0.0.1:$PORT/api/cases?limit=100000" | python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin)["cases"] if c["state"]=="open"))')
echo "open cases:  $open (of the 10,000 newest, the most the API lists)"
echo "server RSS:  $((rss / 1024)) MiB with those cases stored (peak during the load: $((hwm / 1024)) MiB)"
