#!/usr/bin/env bash
# README's test command: the race-enabled test suite of the library.
# Runs go test -v so that skip reasons (a peer tool that is not installed)
# reach the output, filters the per-test chatter, and ends with a summary line.
# Exit status is go test's.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
go test -race -count=1 -timeout 30m -v ./... >"$log" 2>&1
rc=$?
# Allocation budgets cannot be checked under the race detector (it adds
# allocations), so those tests skip there and run once more without it.
go test -count=1 -v -run 'AllocationBudgets' ./future/ ./http/ >>"$log" 2>&1 || rc=1
grep -Ev '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS)' "$log"
tests_pass=$(grep -Ec '^\s*--- PASS' "$log" || true)
tests_fail=$(grep -Ec '^\s*--- FAIL' "$log" || true)
tests_skip=$(grep -Ec '^\s*--- SKIP' "$log" || true)
rm -f "$log"
echo
echo "tests: ${tests_pass} passed, ${tests_fail} failed, ${tests_skip} skipped"
exit "$rc"
