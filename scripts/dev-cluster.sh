#!/usr/bin/env bash
# Two SFU nodes and one Redis on this machine, for development (`npm run dev:cluster`):
#   node A  http://127.0.0.1:3000  (media on 127.0.0.1, RTC ports 40000+)
#   node B  http://127.0.0.2:3001  (media on 127.0.0.2, RTC ports 40100+)
#   Redis   127.0.0.1:6390, nothing persisted
# Open a class on either page; a second tab on the other node joins the same class (its join is
# redirected). Ctrl-C stops all three. Kill one node (kill -9 <pid>, printed below) to watch its
# classes move to the other; stop Redis to watch the classes go on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Ports can be moved: REDIS_PORT, PORT_A, PORT_B, RTC_BASE_A, RTC_BASE_B.
REDIS_PORT=${REDIS_PORT:-6390}
PORT_A=${PORT_A:-3000} PORT_B=${PORT_B:-3001} RTC_BASE_A=${RTC_BASE_A:-40000} RTC_BASE_B=${RTC_BASE_B:-40100}
SFU_REDIS_URL=redis://127.0.0.1:$REDIS_PORT bash scripts/setup.sh runtime # installs redis-server if missing
tmp=$(mktemp -d)
pids=()
cleanup() {
  # The nodes first (they leave the cluster gracefully, which needs Redis), then Redis.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" --loglevel warning &
pids+=($!)
export SFU_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export SFU_JWT_SECRET=${SFU_JWT_SECRET:-dev-cluster-secret-not-for-production-0123}
export SFU_DEV_TOKENS=true
start_node() { # id ip http-port rtc-base
  SFU_NODE_ID=$1 SFU_HTTP_HOST=$2 SFU_RTC_LISTEN_IP=$2 SFU_HTTP_PORT=$3 SFU_RTC_BASE_PORT=$4 \
    node dist/server/main.js &
  pids+=($!)
  echo "[dev-cluster] node $1: http://$2:$3 (pid $!)" >&2
}
start_node a 127.0.0.1 "$PORT_A" "$RTC_BASE_A"
start_node b 127.0.0.2 "$PORT_B" "$RTC_BASE_B"
echo "[dev-cluster] redis: $SFU_REDIS_URL (pid ${pids[0]}); Ctrl-C stops everything" >&2
wait -n
