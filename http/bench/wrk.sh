#!/usr/bin/env bash
# Load test of the http package's server against net/http's, serving the
# same "hello" handler on the same machine, with wrk -t1 -c64: without
# pipelining and with 16 requests pipelined (pipeline.lua). Each server gets
# one core (GOMAXPROCS=1, one event loop, taskset CPU 0); wrk runs on CPU 1.
# The two servers are measured alternately, ROUNDS times each, and the best
# round of each is reported, which filters out other load on the machine.
# Usage: http/bench/wrk.sh [seconds-per-run] [rounds]   (needs wrk and curl)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-5}
rounds=${2:-3}
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 1; }
pin_srv=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_srv=(taskset -c 0) pin_wrk=(taskset -c 1)
fi
tmp=$(mktemp -d)
bin=$tmp/benchserver
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$bin" ./http/internal/benchserver

run() { # impl port -> "plain piped"
  GOMAXPROCS=1 "${pin_srv[@]}" "$bin" -impl "$1" -addr "127.0.0.1:$2" >/dev/null &
  local pid=$!
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$2/hello" >/dev/null && break; sleep 0.1; done
  local plain piped
  plain=$("${pin_wrk[@]}" wrk -t1 -c64 -d"${secs}s" "http://127.0.0.1:$2/hello" | awk '/Requests\/sec/ {print $2}')
  piped=$("${pin_wrk[@]}" wrk -t1 -c64 -d"${secs}s" -s http/bench/pipeline.lua "http://127.0.0.1:$2/hello" | awk '/Requests\/sec/ {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$plain $piped"
}

best() { awk '{ if ($1 > p) p = $1; if ($2 > q) q = $2 } END { print p, q }'; }

: >"$tmp/ours"; : >"$tmp/nethttp"
for r in $(seq "$rounds"); do
  run ours 18080 | tee -a "$tmp/ours" | sed "s/^/round $r ours    /"
  run nethttp 18081 | tee -a "$tmp/nethttp" | sed "s/^/round $r net\/http /"
done
read -r op oq < <(best <"$tmp/ours")
read -r sp sq < <(best <"$tmp/nethttp")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %14s %14s\n' server "req/s plain" "req/s pipe16"
printf '%-9s %14s %14s\n' ours "$op" "$oq" net/http "$sp" "$sq"
awk -v a="$op" -v b="$sp" -v c="$oq" -v d="$sq" 'BEGIN { printf "ratio ours/net/http (best of %d rounds): plain %.2fx, pipelined %.2fx\n", '"$rounds"', a/b, c/d }'
