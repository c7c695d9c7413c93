package loop

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/stats"
)

// clockBase anchors loop timers to the monotonic clock.
var clockBase = time.Now()

// Now returns the loop timers' clock: monotonic nanoseconds.
func Now() int64 { return int64(time.Since(clockBase)) }

// Timer is a one-shot timer whose function runs on its loop (or, for a
// timer of the Background set, on the time package's goroutine).
type Timer struct {
	ts     *timers
	when   int64
	idx    int // in the heap; -1 when not armed
	fn     func()
	onStop func() // runs instead of fn when the loop stops with t armed
}

// NewTimer makes a timer that is not armed yet: Reset or ResetAt arms it.
// onStop, if not nil, runs (on the stopping loop's goroutine) instead of
// fn when the loop stops while the timer is armed, so its owner can settle
// what waits on it.
func (l *Loop) NewTimer(fn, onStop func()) *Timer {
	return l.timers.newTimer(fn, onStop)
}

// AfterFunc arms a timer that runs fn on the loop after d.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer {
	return l.timers.afterFunc(d, fn)
}

// timers is a heap of one-shot timers: a loop's, or the Background set
// (bgtimers.go). Arming and stopping may happen on any goroutine (under
// mu). A loop's set is woken for its earliest deadline by one time.Timer,
// re-armed only when a deadline earlier than the one it waits for is
// added; when it fires early (the timer it was set for was stopped or
// moved later) the loop re-arms it for what is now first. Due timers run
// on the loop.
type timers struct {
	l       *Loop // nil: the Background set
	mu      sync.Mutex
	heap    Deadlines[*Timer]
	wake    *time.Timer   // a loop's wake-up
	poke    chan struct{} // the Background set's wake-up
	running bool          // the Background set's goroutine exists
	wakeAt  int64         // deadline the wake-up is set for; 0: not set
	stopped bool
	due     []*Timer // the goroutine running a batch only
}

func (ts *timers) newTimer(fn, onStop func()) *Timer {
	return &Timer{ts: ts, fn: fn, onStop: onStop, idx: -1}
}

func (ts *timers) afterFunc(d time.Duration, fn func()) *Timer {
	t := ts.newTimer(fn, nil)
	t.Reset(d)
	return t
}

func (ts *timers) logger() *zap.Logger {
	if ts.l != nil {
		return ts.l.rt.logger()
	}
	return logx.L()
}

// Reset (re)arms t to fire after d and reports whether it was armed.
func (t *Timer) Reset(d time.Duration) bool {
	return t.ResetAt(Now() + int64(max(d, 0)))
}

// ResetAt (re)arms t for the deadline when (see Now) and reports whether
// it was armed. On a stopped loop nothing is armed and the timer's onStop
// function (NewTimer) runs at once.
func (t *Timer) ResetAt(when int64) bool {
	ts := t.ts
	ts.mu.Lock()
	if ts.stopped {
		ts.mu.Unlock()
		if t.onStop != nil {
			t.onStop() // the loop is gone: settle now
		}
		return false
	}
	defer ts.mu.Unlock()
	was := t.idx >= 0
	t.when = when
	if was {
		ts.heap.Fix(t.idx)
	} else {
		ts.heap.Push(t)
		stats.Timers.Add(1)
	}
	if ts.heap.Min() == t && (ts.wakeAt == 0 || when < ts.wakeAt) {
		ts.armLocked(when)
	}
	return was
}

// Stop disarms t and reports whether it was armed.
func (t *Timer) Stop() bool {
	ts := t.ts
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t.idx < 0 {
		return false
	}
	ts.heap.Remove(t.idx)
	stats.Timers.Add(-1)
	if ts.l == nil && ts.heap.Len() == 0 {
		ts.pokeLocked() // let the Background goroutine leave now
	}
	return true
}

// armLocked sets the wake-up for when.
func (ts *timers) armLocked(when int64) {
	ts.wakeAt = when
	if ts.l == nil {
		ts.pokeLocked()
		return
	}
	d := time.Duration(when - Now())
	if ts.wake == nil {
		ts.wake = time.AfterFunc(d, ts.onWake)
	} else {
		ts.wake.Reset(d)
	}
}

// onWake runs on the time package's goroutine: hop to the loop.
func (ts *timers) onWake() { ts.l.Execute(ts.run) }

// run fires the due timers (on the loop, or on the Background goroutine)
// and re-arms a loop's wake-up.
func (ts *timers) run() {
	ts.mu.Lock()
	now := Now()
	for ts.heap.Len() > 0 && ts.heap.Min().when <= now {
		t := ts.heap.Remove(0)
		ts.due = append(ts.due, t)
	}
	stats.Timers.Add(-int64(len(ts.due)))
	ts.wakeAt = 0
	if ts.l != nil && ts.heap.Len() > 0 && !ts.stopped {
		ts.armLocked(ts.heap.Min().when)
	}
	ts.mu.Unlock()
	for i, t := range ts.due {
		ts.due[i] = nil
		if perr := future.Protect(t.fn); perr != nil {
			ts.logger().Error("goasync: panic in a timer",
				zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
		}
	}
	ts.due = ts.due[:0]
}

// stop drops every timer: the loop is gone. Timers made with an onStop
// function run it; the others' owners settle through their own stop paths
// (OnLoopStop).
func (ts *timers) stop() {
	ts.mu.Lock()
	ts.stopped = true
	if ts.wake != nil {
		ts.wake.Stop()
	}
	var stops []func()
	for _, t := range ts.heap.Items() {
		t.idx = -1
		if t.onStop != nil {
			stops = append(stops, t.onStop)
		}
	}
	stats.Timers.Add(-int64(ts.heap.Len()))
	ts.heap.Reset()
	ts.mu.Unlock()
	for _, fn := range stops {
		if perr := future.Protect(fn); perr != nil {
			ts.logger().Error("goasync loop: panic in a timer's stop function",
				zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
		}
	}
}

// Pending returns the number of armed timers of the loop.
func (l *Loop) Pending() int { return l.timers.pending() }

func (ts *timers) pending() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.heap.Len()
}

// Deadline and SetIndex make a Timer a DeadlineItem.
func (t *Timer) Deadline() int64 { return t.when }

// SetIndex records t's place in its set's heap.
func (t *Timer) SetIndex(i int) { t.idx = i }
