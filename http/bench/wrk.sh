#!/usr/bin/env bash
# Load test of the http package's server against net/http's, serving the
# same "hello" handler on the same machine, with wrk -t1 -c64: without
# pipelining and with 16 requests pipelined. Each server gets one core
# (GOMAXPROCS=1, one event loop, taskset CPU 0); wrk runs on CPU 1.
# Usage: http/bench/wrk.sh [seconds]   (needs wrk; taskset if present)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-5}
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 1; }
pin_srv=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_srv=(taskset -c 0) pin_wrk=(taskset -c 1)
fi
bin=$(mktemp -d)/benchserver
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./http/internal/benchserver

run() { # impl port
  GOMAXPROCS=1 "${pin_srv[@]}" "$bin" -impl "$1" -addr "127.0.0.1:$2" >/dev/null &
  local pid=$!
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$2/hello" >/dev/null && break; sleep 0.1; done
  local plain piped
  plain=$("${pin_wrk[@]}" wrk -t1 -c64 -d"${secs}s" "http://127.0.0.1:$2/hello" | awk '/Requests\/sec/ {print $2}')
  piped=$("${pin_wrk[@]}" wrk -t1 -c64 -d"${secs}s" -s http/bench/pipeline.lua "http://127.0.0.1:$2/hello" | awk '/Requests\/sec/ {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$1 $plain $piped"
}

ours=$(run ours 18080)
std=$(run nethttp 18081)
printf '%-8s %14s %14s\n' server "req/s plain" "req/s pipe16"
printf '%-8s %14s %14s\n' $ours
printf '%-8s %14s %14s\n' $std
read -r _ op oq <<<"$ours"
read -r _ sp sq <<<"$std"
awk -v a="$op" -v b="$sp" -v c="$oq" -v d="$sq" 'BEGIN { printf "ratio ours/net/http: plain %.2fx, pipelined %.2fx\n", a/b, c/d }'
