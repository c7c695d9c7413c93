// Package loopmark records which goroutines are event-loop goroutines.
//
// The runtime marks each event-loop goroutine with the loop's executor.
// future.Await consults it to fail fast with ErrAwaitOnLoop instead of
// deadlocking a loop, and the timer package uses it to deliver a timer
// started on a loop back onto that same loop.
//
// Go has no goroutine-local storage. On Linux a marked goroutine is
// locked to its OS thread (runtime.LockOSThread) while it is in a
// session, and the session's word (a sequence number and the thread id)
// is published: a locked thread runs no other goroutine, so "the calling
// thread is the thread of a session that lasted over the whole question"
// is exactly "the calling goroutine is that loop". Asking costs one gettid
// system call (about 0.1 µs) while some loop is in a session, and a few
// atomic loads when none is (a program that never opened a socket, or
// loops idle in their pollers). Parsing the goroutine id out of
// runtime.Stack costs 2 µs (shallow) to 35 µs (30 frames deep) on this
// machine, so it is used only outside Linux.
//
// Sessions exist because a locked goroutine that yields (runtime.Gosched,
// as gnet's poller does each time it finds no event) hands its P to
// another thread and back: two futex wake-ups and two context switches,
// about 10 µs on this machine, paid every time a loop goes idle. A loop
// therefore runs its callbacks in sessions (Enter ... Leave) and is
// unlocked while it waits in its poller (see internal/loop). Mark starts a
// session that lasts until Unmark, for goroutines that do not manage
// sessions themselves.
package loopmark

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Executor runs a function, later, on the goroutine it stands for. It has the
// same method set as future.Executor, so any loop executor satisfies both.
type Executor interface{ Execute(func()) }

// Marker is one marked loop goroutine.
type Marker struct {
	e Executor
	// word is the current session's sequence number (high 32 bits) and
	// the session thread's id (low 32 bits; Linux), or 0 outside a
	// session. Only the marked goroutine writes it.
	word atomic.Uint64
	seq  uint64 // marked goroutine only
	goid uint64 // outside Linux: the goroutine id
	in   bool   // in a session; marked goroutine only
}

var (
	mu      sync.Mutex
	markers atomic.Pointer[[]*Marker] // copy on write
)

// Mark records the calling goroutine as an event loop whose executor is e
// and starts a session on it that lasts until the returned function runs
// (it may be called from any goroutine).
func Mark(e Executor) (unmark func()) {
	m := NewMarker(e)
	m.Enter()
	return m.Unmark
}

// NewMarker records the calling goroutine as an event loop whose executor
// is e, with no session yet: it counts as that loop only between Enter
// and Leave.
func NewMarker(e Executor) *Marker {
	m := &Marker{e: e, goid: selfGoID()}
	mu.Lock()
	old := markers.Load()
	var list []*Marker
	if old != nil {
		list = append(list, *old...)
	}
	list = append(list, m)
	markers.Store(&list)
	mu.Unlock()
	return m
}

// Unmark removes the mark; it may be called from any goroutine, more than
// once. A thread locked by the session stays locked (it ends with its
// goroutine).
func (m *Marker) Unmark() {
	mu.Lock()
	defer mu.Unlock()
	old := markers.Load()
	if old == nil {
		return
	}
	list := make([]*Marker, 0, len(*old))
	for _, x := range *old {
		if x != m {
			list = append(list, x)
		}
	}
	if len(list) == len(*old) {
		return
	}
	m.word.Store(0)
	if len(list) == 0 {
		markers.Store(nil)
		return
	}
	markers.Store(&list)
}

// Enter starts a session on the marked goroutine (it must be the caller):
// from now until Leave the caller counts as the loop. Nested calls are
// no-ops.
func (m *Marker) Enter() {
	if m.in {
		return
	}
	m.in = true
	m.seq++
	m.word.Store(m.seq<<32 | lockThread())
}

// Leave ends the session started by Enter (the caller must be the marked
// goroutine).
func (m *Marker) Leave() {
	if !m.in {
		return
	}
	m.in = false
	m.word.Store(0)
	unlockThread()
}

// In reports whether the marked goroutine is in a session; only the
// marked goroutine may ask.
func (m *Marker) In() bool { return m.in }

// Mine reports whether the caller is the marked goroutine, in a session.
func (m *Marker) Mine() bool {
	w := m.word.Load()
	if w == 0 {
		return false
	}
	return confirm(m, w)
}

// Active reports whether any goroutine is marked as an event loop.
func Active() bool { return markers.Load() != nil }

// Current returns the executor of the loop the calling goroutine runs, and
// false when the caller is not on a marked loop goroutine (in a session).
func Current() (Executor, bool) {
	lp := markers.Load()
	if lp == nil {
		return nil, false
	}
	list := *lp
	var small [16]uint64
	var ws []uint64
	if len(list) <= len(small) {
		ws = small[:len(list)]
	} else {
		ws = make([]uint64, len(list))
	}
	some := false
	for i, m := range list {
		ws[i] = m.word.Load()
		some = some || ws[i] != 0
	}
	if !some {
		return nil, false // a loop asking would be in a session
	}
	if m := find(list, ws); m != nil {
		return m.e, true
	}
	return nil, false
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
