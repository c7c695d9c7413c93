#!/usr/bin/env bash
# Bounded fuzzing of the HTTP parsers, for CI: each target runs for the given
# time (default 30s) with its seed corpus (the hostile-request table, real
# clients' and servers' heads, smuggling cases) plus what it finds.
#
#   FuzzRequestHeadDifferential   our request-head parser vs http.ReadRequest
#                                 plus net/http's server checks
#   FuzzResponseHeadDifferential  our response-head parser vs http.ReadResponse
#   FuzzRequestFraming, FuzzChunkedDecoder, FuzzResponseFraming, FuzzStreamedBodies
#                                 framing: split-independence, net/http's
#                                 chunked reader, limits
#
# Usage: scripts/fuzz.sh [duration]   (a go test -fuzztime value: 30s, 10m, 5000x)
# A failure leaves its input under http/testdata/fuzz/<target>/ and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
d=${1:-30s}
rc=0
for t in FuzzRequestHeadDifferential FuzzResponseHeadDifferential FuzzRequestFraming \
  FuzzChunkedDecoder FuzzResponseFraming FuzzStreamedBodies; do
  echo "fuzz: $t for $d"
  go test -count=1 -run '^$' -fuzz "^$t\$" -fuzztime "$d" -parallel 1 ./http/ || rc=1
done
exit "$rc"
