package http

import (
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
)

// connTimer is a connection's timer: Reset moves it, Stop disarms it.
type connTimer = *loop.Timer

// newTimerOn makes a timer, not armed yet (arm it with ResetAt), that runs
// fn on the loop behind exec (a socket's executor): one of that loop's own
// timers, so the deadline costs no goroutine and no hop, as for the tcp
// layer's timeouts. An executor that is not a goasync loop gets a
// background loop timer (the same mechanism, off the loops) that hands fn
// to it.
func newTimerOn(exec future.Executor, fn func()) connTimer {
	if l, ok := exec.(*loop.Loop); ok {
		return l.NewTimer(fn, nil)
	}
	return loop.Background().NewTimer(func() { exec.Execute(fn) })
}

// afterOn is newTimerOn armed to fire after d.
func afterOn(exec future.Executor, d time.Duration, fn func()) connTimer {
	t := newTimerOn(exec, fn)
	t.Reset(d)
	return t
}

// clockOn returns the loop timers' clock for code running on exec: the
// loop's clock of the current batch (loop.Loop.Clock, no clock read) when
// exec is a goasync loop, else a clock read.
func clockOn(exec future.Executor) int64 {
	if l, ok := exec.(*loop.Loop); ok {
		return l.Clock()
	}
	return loop.Now()
}
