//go:build linux

package loopmark

import "golang.org/x/sys/unix"

// selfID names the calling loop goroutine: its OS thread id (gettid, about
// 0.2 µs). A marked goroutine is locked to its thread, so the two are one.
func selfID() uint64 { return uint64(unix.Gettid()) }
