#!/usr/bin/env bash
# Same-time comparison of this package's HTTP server and client with
# fasthttp v1.70.0's and net/http's, robust to a machine whose speed drifts
# (shared or throttled virtual CPUs): two contenders run AT THE SAME TIME on
# the same core, so both see the same conditions, and each is measured in
# requests per CPU-second of its own process (utime+stime from /proc).
# Alternating runs (wrk.sh) compare different minutes; on this project's
# machines the ratio between two alternating rounds moved by up to 2x, while
# same-time ratios stay within a few percent.
#
#   servers: ours (the "hello" handler through the Router, GOMAXPROCS=1)
#            and one peer (fasthttp, then net/http; default settings, the
#            same 5-byte text/plain reply) both pinned to CPU 0; one
#            wrk -t1 -c64 per server, both on CPU 1; plain keep-alive, then
#            16 requests pipelined (pipeline.lua).
#   clients: the raw gnet HTTP responder (bench/cmd/peers) alone on CPU 0;
#            our client driver (bench/cmd/ours -kind httpclient) and a peer's
#            (bench/cmd/load httpclient: fasthttp, then net/http), 64
#            requests in flight each, both on CPU 1.
#
# Usage: http/bench/sametime.sh [rounds] [seconds] [peers...]
#        (peers default: fasthttp nethttp; needs wrk, taskset, GNU time)
#        OURS_FLAGS="-reuse" measures our server with WithRequestReuse;
#        SKIP_CLIENTS=1 measures the servers only, SKIP_SERVERS=1 the clients
#        only. Each client round also prints the responder's CPU use (busy
#        share of CPU 0), to show whether the server limited the clients.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
secs=${2:-5}
shift $(($# < 2 ? $# : 2))
peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=(fasthttp nethttp)
# shellcheck source=http/bench/lib.sh
. http/bench/lib.sh
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/benchserver" ./http/internal/benchserver
(cd bench && go build -o "$tmp/peers" ./cmd/peers && go build -o "$tmp/ours" ./cmd/ours && go build -o "$tmp/load" ./cmd/load)

for peer in "${peers[@]}"; do
  [ -n "${SKIP_SERVERS:-}" ] && break
  echo "== servers: ours and $peer both on CPU 0 at once, one wrk each on CPU 1, ${secs}s per round"
  # shellcheck disable=SC2086 # OURS_FLAGS is a list of flags
  GOMAXPROCS=1 taskset -c 0 "$tmp/benchserver" -impl ours ${OURS_FLAGS:-} -addr 127.0.0.1:18601 >/dev/null & po=$!
  GOMAXPROCS=1 taskset -c 0 "$tmp/peers" -kind "$peer" -addr 127.0.0.1:18602 >/dev/null & pn=$!
  pids+=("$po" "$pn")
  waitport 18601; waitport 18602
  for mode in plain pipelined; do
    server_rounds "$mode" "$rounds" "$secs" ours "$po" 18601 "$peer" "$pn" 18602 ratio
  done
  kill "$po" "$pn"; wait "$po" "$pn" 2>/dev/null || true
done

[ -n "${SKIP_CLIENTS:-}" ] && exit 0
echo "== clients: raw gnet responder alone on CPU 0; ours and a peer's client on CPU 1 at once, ${secs}s per round"
taskset -c 0 "$tmp/peers" -kind gnethttp -addr 127.0.0.1:18603 >/dev/null & ps=$!
pids+=("$ps")
waitport 18603
for peer in "${peers[@]}"; do
  : >"$tmp/r"
  for r in $(seq "$rounds"); do
    ( /usr/bin/env time -f "%U %S" -o "$tmp/to" taskset -c 1 "$tmp/ours" -kind httpclient -url http://127.0.0.1:18603/ \
        -inflight 64 -dur "${secs}s" -warmup 300ms >"$tmp/co" ) & c1=$!
    ( /usr/bin/env time -f "%U %S" -o "$tmp/tn" taskset -c 1 "$tmp/load" httpclient -client "$peer" -url http://127.0.0.1:18603/ \
        -inflight 64 -dur "${secs}s" -warmup 300ms >"$tmp/cn" ) & c2=$!
    s0=$(cputicks "$ps"); t0=$(date +%s%N)
    wait "$c1" "$c2"
    s1=$(cputicks "$ps"); t1=$(date +%s%N)
    awk -v r="$r" -v p="$peer" -v sb="$(awk -v d=$((s1 - s0)) -v hz="$hz" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", 100 * d / hz / (ns / 1e9) }')" -v no="$(grep -o '"requests":[0-9]*' "$tmp/co" | cut -d: -f2)" -v nn="$(grep -o '"requests":[0-9]*' "$tmp/cn" | cut -d: -f2)" \
      -v co="$(awk '{print $1 + $2}' "$tmp/to")" -v cn="$(awk '{print $1 + $2}' "$tmp/tn")" 'BEGIN {
        eo = no / co; en = nn / cn
        printf "client round %d: ours %.0f req/cpu-s, %s %.0f req/cpu-s, ratio %.2fx (requests %d vs %d, responder busy %s%%)\n", r, eo, p, en, eo / en, no, nn, sb
        print eo / en > "/dev/stderr" }' 2>>"$tmp/r"
  done
  printf "client vs %s: median ratio %.2fx over %d rounds\n" "$peer" "$(median <"$tmp/r")" "$rounds"
done
