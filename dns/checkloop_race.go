//go:build race

package dns

// checkLoops makes the race-detector builds (the test suite) check that a
// query made on a known loop is made on that loop's goroutine: the loop it
// was told about must be the one running it (a gettid each time, which the
// normal build saves).
const checkLoops = true
