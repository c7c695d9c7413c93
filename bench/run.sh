#!/usr/bin/env bash
# Benchmarks of goasync against its peers, in one command:
#
#   ./bench/run.sh            full suite (about 5 minutes): writes docs/benchmarks.md and docs/benchmarks/*.png
#   ./bench/run.sh --quick    smoke run (one short measurement each): writes bench/results/quick.md
#   ./bench/run.sh --long     long mode: 100,000 connections (SO_REUSEPORT servers, sources 127.0.0.2+)
#   ./bench/run.sh --only echo-rr-50,idle   a subset (ids: echo-rr-50 echo-rr-1000 echo-pipe-50 idle
#                                           http-plain http-pipe http-client proxy delay futures)
#   ./bench/run.sh --tls [flags]   TLS: echo, handshakes, idle memory, HTTPS vs Go net + crypto/tls and
#                                  net/http over TLS (cmd/tlsbench; figures in docs/tls.md), about 3 minutes
#
# Servers run pinned to CPU 0, load generators to CPU 1. Loopback only; every
# load run is bounded in time. Not part of CI and not part of the library's
# `go test ./...`: the tools live in the separate module bench/.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "bench: missing ${need[*]} (not root, cannot install): the benchmarks that need them will fail" >&2
  fi
fi

mkdir -p bin results
if [ "${1:-}" = "--tls" ]; then
  shift
  echo "bench: building cmd/tlsbench"
  go build -o bin/tlsbench ./cmd/tlsbench
  exec bin/tlsbench "$@"
fi
echo "bench: building"
gcc -O2 -Wall -o bin/epoll_echo c/epoll_echo.c
go build -o bin/peers ./cmd/peers
go build -o bin/load ./cmd/load
go build -o bin/benchrun ./cmd/benchrun
rm -f bin/ours bin/ours.err
if [ -d cmd/ours ]; then
  if ! go build -o bin/ours ./cmd/ours 2>bin/ours.err; then
    echo "bench: cmd/ours did not build; its rows will say so:" >&2
    head -5 bin/ours.err >&2
    rm -f bin/ours
  fi
else
  echo "cmd/ours does not exist yet" >bin/ours.err
fi

# The old core, for same-run ratios: the same cmd/ours built from the last
# commit before goasync ran its own loops (gnet's Engine and Client), in a
# temporary git worktree. GOASYNC_BASELINE picks another commit.
baseline=${GOASYNC_BASELINE:-e2c79d8}
rm -f bin/ours-old
if git -C .. rev-parse -q --verify "$baseline^{commit}" >/dev/null 2>&1; then
  wt=$(mktemp -d)/goasync-baseline
  if git -C .. worktree add -q --detach "$wt" "$baseline" 2>/dev/null; then
    if ! (bindir=$(pwd)/bin; cd "$wt/bench" && go build -o "$bindir/ours-old" ./cmd/ours) 2>bin/ours-old.err; then
      echo "bench: the baseline $baseline did not build; its rows will say so" >&2
    fi
    git -C .. worktree remove --force "$wt"
  fi
else
  echo "bench: baseline commit $baseline not found; no old-core rows" >&2
fi

exec bin/benchrun -bin bin "$@"
