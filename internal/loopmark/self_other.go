//go:build !linux

package loopmark

// selfID names the calling goroutine by its goroutine id. Outside Linux
// there is no portable, cheap thread id in golang.org/x/sys, so the id is
// parsed from runtime.Stack (microseconds); correct, slower (see
// docs/architecture.md: only Linux is tested and tuned).
func selfID() uint64 { return GoID() }
