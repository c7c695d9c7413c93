// Package futures benchmarks goasync's future package side by side with
// other Go future/promise libraries: github.com/jizhuozhi/go-future,
// github.com/chebyrash/promise and github.com/reugn/async.
//
// It lives in the separate module github.com/goasync/goasync/bench so the
// peer libraries never become dependencies of goasync itself. Run every
// library in one invocation from the bench directory:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./futures/
//
// Each benchmark has one sub-benchmark per library, doing the same work
// with that library's closest API. docs/benchmarks/futures.md holds the
// figures and their ratios.
package futures
