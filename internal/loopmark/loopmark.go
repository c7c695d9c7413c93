// Package loopmark records which goroutines are event-loop goroutines.
//
// The runtime marks each gnet event-loop goroutine with the loop's executor.
// future.Await consults it to fail fast with ErrAwaitOnLoop instead of
// deadlocking a loop, and the timer package uses it to deliver a timer
// started on a loop back onto that same loop.
//
// Go has no goroutine-local storage. Mark locks the loop goroutine to its OS
// thread (runtime.LockOSThread) and records the thread id: a locked thread
// runs no other goroutine, so "the calling thread is a marked loop thread"
// is exactly "the calling goroutine is that loop". Asking costs one gettid
// system call (about 0.2 µs), where parsing the goroutine id out of
// runtime.Stack cost 4-6 µs and an allocation on this machine. When no loop
// is marked at all (a program that never opened a socket) the answer is a
// single atomic load.
//
// The thread stays locked after Unmark: the goroutine keeps it until it
// exits, when the Go runtime ends the thread, so a thread id is never
// matched for a goroutine it no longer belongs to.
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
	loops  sync.Map // selfID() -> Executor
)

// Mark records the calling goroutine as an event loop whose executor is e,
// locking it to its OS thread for the rest of its life. The returned
// function removes the mark; it may be called from any goroutine.
func Mark(e Executor) (unmark func()) {
	runtime.LockOSThread()
	id := selfID()
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
	v, ok := loops.Load(selfID())
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
// "goroutine N [" header that runtime.Stack writes first. It costs
// microseconds: use it only off hot paths.
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
