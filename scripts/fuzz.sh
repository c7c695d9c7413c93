#!/usr/bin/env bash
# Bounded fuzzing of every parser, for CI and by hand: each target runs for
# the given time (default 30s) with its seed corpus plus what it finds.
#
#   http  FuzzRequestHeadDifferential   our request-head parser vs http.ReadRequest
#                                       plus net/http's server checks
#         FuzzResponseHeadDifferential  our response-head parser vs http.ReadResponse
#         FuzzRequestFraming, FuzzChunkedDecoder, FuzzResponseFraming, FuzzStreamedBodies
#                                       framing: split-independence, net/http's
#                                       chunked reader, limits
#         FuzzEventReader, FuzzEventRoundTrip, FuzzEventStreamSplits
#                                       server-sent events
#   dns   FuzzReply, FuzzParseConfig, FuzzParseHosts, FuzzLookupName
#   tcp   FuzzReadFraming, FuzzParseAddr
#   internal/tlsrec (when present): the record-feeding path
#   cmd/goasync-trace FuzzRead; examples/http09 FuzzParseRequest
#
# Usage: scripts/fuzz.sh [duration]   (a go test -fuzztime value: 30s, 10m, 5000x)
# A failure leaves its input under <package>/testdata/fuzz/<target>/ and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
d=${1:-30s}
rc=0
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./bench/' | while read -r f; do
  pkg=./$(dirname "${f#./}")
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |$pkg |"
done | sort)
while read -r pkg t; do
  [ -n "$t" ] || continue
  echo "fuzz: $pkg $t for $d"
  go test -count=1 -run '^$' -fuzz "^$t\$" -fuzztime "$d" -parallel 1 "$pkg" >/tmp/fuzz.$$ 2>&1 || {
    rc=1
    cat /tmp/fuzz.$$
  }
  tail -1 /tmp/fuzz.$$
done <<<"$targets"
rm -f /tmp/fuzz.$$
exit "$rc"
