#!/usr/bin/env bash
# Same-time A/B of two builds of this package's HTTP server and client: the
# way to tell whether a change helps by 1-3% on a machine whose speed
# drifts by more than that between minutes. Builds A and B run AT THE SAME
# TIME on the same core, so both see the same conditions, and each is
# measured in requests per CPU-second of its own process (as sametime.sh
# measures ours against fasthttp).
#
#   servers: A's and B's http/internal/benchserver ("hello" through the
#            Router, GOMAXPROCS=1) both on CPU 0, one wrk -t1 -c64 each on
#            CPU 1; plain keep-alive, then 16 pipelined.
#   clients: the raw gnet responder (bench/cmd/peers) alone on CPU 0; A's
#            and B's client driver (bench/cmd/ours -kind httpclient, 64 in
#            flight) both on CPU 1. Two builds of the same client get
#            equal shares of the CPU, unlike ours and fasthttp's.
#
# Usage: http/bench/ab.sh REV_A REV_B [rounds] [seconds]
#        REV is a git revision, or "." for the working tree.
#        SKIP_SERVERS=1 or SKIP_CLIENTS=1 measure one side only.
# Prints B/A per round and the median; above 1 means B is faster.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { echo "usage: $0 REV_A REV_B [rounds] [seconds]"; exit 2; }
reva=$1
revb=$2
rounds=${3:-5}
secs=${4:-5}
# shellcheck source=http/bench/lib.sh
. http/bench/lib.sh
tmp=$(mktemp -d)
pids=()
trees=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  for t in "${trees[@]}"; do git worktree remove --force "$t" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# build NAME REV: the server and client driver of REV into $tmp/NAME-*.
build() {
  local src=.
  if [ "$2" != . ]; then
    src="$tmp/tree-$1"
    git worktree add -q --detach "$src" "$2"
    trees+=("$src")
  fi
  (cd "$src" && go build -o "$tmp/$1-server" ./http/internal/benchserver)
  (cd "$src/bench" && go build -o "$tmp/$1-client" ./cmd/ours)
}
build a "$reva"
build b "$revb"
(cd bench && go build -o "$tmp/peers" ./cmd/peers)

if [ -z "${SKIP_SERVERS:-}" ]; then
  echo "== servers: A ($reva) and B ($revb) both on CPU 0, one wrk each on CPU 1, ${secs}s per round"
  GOMAXPROCS=1 taskset -c 0 "$tmp/a-server" -impl ours -addr 127.0.0.1:18611 >/dev/null & pa=$!
  GOMAXPROCS=1 taskset -c 0 "$tmp/b-server" -impl ours -addr 127.0.0.1:18612 >/dev/null & pb=$!
  pids+=("$pa" "$pb")
  waitport 18611; waitport 18612
  for mode in plain pipelined; do
    server_rounds "$mode" "$rounds" "$secs" B "$pb" 18612 A "$pa" 18611 B/A
  done
  kill "$pa" "$pb"; wait "$pa" "$pb" 2>/dev/null || true
fi

[ -n "${SKIP_CLIENTS:-}" ] && exit 0
echo "== clients: raw gnet responder alone on CPU 0; A's and B's client on CPU 1 at once, ${secs}s per round"
taskset -c 0 "$tmp/peers" -kind gnethttp -addr 127.0.0.1:18613 >/dev/null & ps=$!
pids+=("$ps")
waitport 18613
: >"$tmp/r"
for r in $(seq "$rounds"); do
  cps=()
  for x in a b; do
    ( /usr/bin/env time -f "%U %S" -o "$tmp/t$x" taskset -c 1 "$tmp/$x-client" -kind httpclient -url http://127.0.0.1:18613/ \
        -inflight 64 -dur "${secs}s" -warmup 300ms >"$tmp/c$x" ) &
    cps+=($!)
  done
  wait "${cps[@]}"
  awk -v r="$r" -v na="$(grep -o '"requests":[0-9]*' "$tmp/ca" | cut -d: -f2)" -v nb="$(grep -o '"requests":[0-9]*' "$tmp/cb" | cut -d: -f2)" \
    -v ca="$(awk '{print $1 + $2}' "$tmp/ta")" -v cb="$(awk '{print $1 + $2}' "$tmp/tb")" 'BEGIN {
      ea = na / ca; eb = nb / cb
      printf "client round %d: A %.0f req/cpu-s, B %.0f req/cpu-s, B/A %.3f\n", r, ea, eb, eb / ea
      print eb / ea > "/dev/stderr" }' 2>>"$tmp/r"
done
printf "client: median B/A %.3f over %d rounds\n" "$(median <"$tmp/r")" "$rounds"
