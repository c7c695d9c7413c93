// Package loopmark records which goroutines are event-loop goroutines.
//
// The runtime marks each gnet event-loop goroutine with the loop's executor.
// future.Await consults it to fail fast with ErrAwaitOnLoop instead of
// deadlocking a loop, and the timer package uses it to deliver a timer
// started on a loop back onto that same loop.
//
// Go has no goroutine-local storage, so the goroutine id is read from the
// header line of runtime.Stack. That costs about a microsecond, which is why
// callers check Active first: when no loop is marked (a program that never
// started a runtime) the lookup is a single atomic load.
package loopmark

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Executor runs a function, later, on the goroutine it stands for. It has the
// same method set as future.Executor, so any loop executor satisfies both.
type Executor interface{ Execute(func()) }

var (
	active atomic.Int64
	loops  sync.Map // goroutine id (uint64) -> Executor
)

// Mark records the calling goroutine as an event loop whose executor is e.
// The returned function removes the mark; it must be called on the same
// goroutine or after that goroutine has exited.
func Mark(e Executor) (unmark func()) {
	id := GoID()
	loops.Store(id, e)
	active.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			loops.Delete(id)
			active.Add(-1)
		})
	}
}

// Active reports whether any goroutine is marked as an event loop.
func Active() bool { return active.Load() > 0 }

// Current returns the executor of the loop the calling goroutine runs, and
// false when the caller is not on a marked loop goroutine.
func Current() (Executor, bool) {
	if !Active() {
		return nil, false
	}
	v, ok := loops.Load(GoID())
	if !ok {
		return nil, false
	}
	return v.(Executor), true
}

// OnLoop reports whether the calling goroutine is a marked event loop.
func OnLoop() bool {
	_, ok := Current()
	return ok
}

// GoID returns the id of the calling goroutine, parsed from the
// "goroutine N [" header that runtime.Stack writes first.
func GoID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = len("goroutine ")
	if len(b) <= prefix {
		return 0
	}
	var id uint64
	for _, c := range b[prefix:] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
