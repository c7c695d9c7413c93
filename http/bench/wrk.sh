#!/usr/bin/env bash
# Load test of the http package's server against net/http's, serving the
# same "hello" handler on the same machine, with wrk -t1 -c64: without
# pipelining and with 16 requests pipelined (pipeline.lua). Each server gets
# one core (GOMAXPROCS=1, one event loop, taskset CPU 0); wrk runs on CPU 1.
#
# Two figures per run: requests per second of wall time (what wrk reports,
# which other load on a shared machine drags down), and requests per
# second of the server's own CPU time (utime+stime from /proc), which is
# the capacity of one core and is much less sensitive to that load. The
# servers are measured alternately, ROUNDS times each; the best round of
# each is reported.
# Then the client comparison: BenchmarkClient64 (ours vs net/http's client).
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
hz=$(getconf CLK_TCK)

cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# load pid url [script] -> "req/s requests-per-cpu-second"
load() {
  local pid=$1 url=$2 out t0 t1 n
  shift 2
  t0=$(cputicks "$pid")
  out=$("${pin_wrk[@]}" wrk -t1 -c64 -d"${secs}s" "$@" "$url")
  t1=$(cputicks "$pid")
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  awk -v rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" -v n="$n" -v t="$((t1 - t0))" -v hz="$hz" \
    'BEGIN { printf "%.0f %.0f\n", rps, (t > 0 ? n / (t / hz) : 0) }'
}

run() { # impl port -> "plain plain/cpu piped piped/cpu"
  GOMAXPROCS=1 "${pin_srv[@]}" "$bin" -impl "$1" -addr "127.0.0.1:$2" >/dev/null &
  local pid=$!
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$2/hello" >/dev/null && break; sleep 0.1; done
  local a b
  a=$(load "$pid" "http://127.0.0.1:$2/hello")
  b=$(load "$pid" "http://127.0.0.1:$2/hello" -s http/bench/pipeline.lua)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$a $b"
}

best() { awk '{ for (i = 1; i <= NF; i++) if ($i > m[i]) m[i] = $i } END { print m[1], m[2], m[3], m[4] }'; }

: >"$tmp/ours"; : >"$tmp/nethttp"
echo "columns: plain req/s, plain req/cpu-s, pipelined req/s, pipelined req/cpu-s"
for r in $(seq "$rounds"); do
  run ours 18080 | tee -a "$tmp/ours" | sed "s/^/round $r ours     /"
  run nethttp 18081 | tee -a "$tmp/nethttp" | sed "s/^/round $r net\/http /"
done
read -r o1 o2 o3 o4 < <(best <"$tmp/ours")
read -r s1 s2 s3 s4 < <(best <"$tmp/nethttp")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %12s %14s %12s %14s\n' server "plain req/s" "plain req/cpu-s" "pipe16 req/s" "pipe16 req/cpu-s"
printf '%-9s %12s %14s %12s %14s\n' ours "$o1" "$o2" "$o3" "$o4" net/http "$s1" "$s2" "$s3" "$s4"
awk -v a="$o1" -v b="$s1" -v c="$o2" -v d="$s2" -v e="$o3" -v f="$s3" -v g="$o4" -v h="$s4" \
  'BEGIN { printf "ratio ours/net/http (best of rounds): plain %.2fx wall, %.2fx per CPU; pipelined %.2fx wall, %.2fx per CPU\n", a/b, c/d, e/f, g/h }'
# Each round measures ours and net/http back to back, so the ratio within a
# round compares like with like when the machine's speed drifts between
# rounds; the median of those is the figure least moved by other load.
paste -d' ' "$tmp/ours" "$tmp/nethttp" | awk '
  { p[NR] = $1 / $5; q[NR] = $3 / $7; printf "round %d ratio: plain %.2fx, pipelined %.2fx\n", NR, p[NR], q[NR] }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END { printf "median of per-round ratios (%d rounds): plain %.2fx, pipelined %.2fx\n", NR, median(p, NR), median(q, NR) }'

# Our client against net/http's client: 64 requests in flight with
# keep-alive against the same net/http server (ns per request; lower is
# better).
echo
echo "client, 64 in flight (go test -bench Client64):"
go test -run XXX -bench 'Client64' -benchmem -count=3 ./http/ | grep '^Benchmark'
