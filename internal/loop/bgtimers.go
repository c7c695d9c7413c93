package loop

import "time"

// background is the timer set of timers that belong to no loop.
var background = timers{poke: make(chan struct{}, 1)}

// Background is the set of timers that belong to no loop (a timer started
// off every goasync loop, a blocking adapter's deadline): the same heap
// and Timer as a loop's, but its due timers run on one goroutine of its
// own, which exists only while a timer is armed, so their functions must
// only hand work on or do very little.
func Background() *BackgroundTimers { return (*BackgroundTimers)(&background) }

// BackgroundTimers is the set Background returns.
type BackgroundTimers timers

// NewTimer makes a Background timer that is not armed yet (Reset arms
// it).
func (b *BackgroundTimers) NewTimer(fn func()) *Timer {
	return (*timers)(b).newTimer(fn, nil)
}

// AfterFunc arms a Background timer that runs fn after d.
func (b *BackgroundTimers) AfterFunc(d time.Duration, fn func()) *Timer {
	return (*timers)(b).afterFunc(d, fn)
}

// Pending returns the number of armed Background timers.
func (b *BackgroundTimers) Pending() int { return (*timers)(b).pending() }

// pokeLocked wakes the Background goroutine so it looks at the heap
// again, and starts it if it is not running.
func (ts *timers) pokeLocked() {
	if !ts.running {
		if ts.heap.Len() == 0 {
			return
		}
		ts.running = true
		go ts.serve()
		return
	}
	select {
	case ts.poke <- struct{}{}:
	default:
	}
}

// bgLinger is how long the Background goroutine waits for a new timer
// once none is armed before it exits: a program arming timers one after
// another keeps one goroutine (and its grown stack) instead of starting
// one per timer.
const bgLinger = 5 * time.Millisecond

// serve is the Background goroutine: it fires what is due and sleeps until
// the next deadline or a poke, and exits when no timer has been armed for
// bgLinger.
func (ts *timers) serve() {
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	lingered := false
	for {
		ts.run()
		ts.mu.Lock()
		if ts.heap.Len() == 0 {
			if lingered {
				ts.running = false
				ts.wakeAt = 0
				ts.mu.Unlock()
				return
			}
			ts.wakeAt = 0
			ts.mu.Unlock()
			lingered = true
			wait.Reset(bgLinger)
		} else {
			when := ts.heap.Min().when
			ts.wakeAt = when
			ts.mu.Unlock()
			lingered = false
			d := time.Duration(when - Now())
			if d <= 0 {
				continue
			}
			wait.Reset(d)
		}
		select {
		case <-wait.C:
		case <-ts.poke:
			lingered = false
		}
	}
}
