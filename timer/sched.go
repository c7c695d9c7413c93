package timer

import (
	"sync"
	"time"

	evloop "github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/stats"
)

// job is what a timer does when its deadline passes. It runs on the
// scheduler goroutine and must only hand work on or do very little.
type job interface{ fire() }

// entry is one armed deadline in the heap.
type entry struct {
	when  int64 // nanoseconds since base, monotonic
	index int   // position in the heap, -1 when not armed
	job   job
}

// now is the timers' clock, the same monotonic clock as the loop timers'.
func now() int64 { return evloop.Now() }

// scheduler is the process-wide timer heap and its goroutine.
type scheduler struct {
	mu      sync.Mutex
	heap    evloop.Deadlines[*entry]
	running bool
	wake    chan struct{}
}

var sched = &scheduler{wake: make(chan struct{}, 1)}

// add arms e to fire at e.when.
func (s *scheduler) add(e *entry) {
	s.mu.Lock()
	s.heap.Push(e)
	stats.Timers.Add(1)
	start := !s.running
	s.running = true
	first := e.index == 0
	s.mu.Unlock()
	if start {
		go s.loop()
	} else if first {
		s.poke()
	}
}

// remove disarms e and reports whether it was still armed.
func (s *scheduler) remove(e *entry) bool {
	s.mu.Lock()
	if e.index < 0 {
		s.mu.Unlock()
		return false
	}
	wasFirst := e.index == 0
	s.heap.Remove(e.index)
	stats.Timers.Add(-1)
	empty := s.heap.Len() == 0
	s.mu.Unlock()
	if wasFirst || empty {
		s.poke() // re-aim the wait, or let the goroutine exit
	}
	return true
}

func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// armed returns the number of armed timers.
func (s *scheduler) armed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heap.Len()
}

// loop fires due timers and sleeps until the next deadline; it exits when
// the heap is empty.
func (s *scheduler) loop() {
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	var due []*entry
	for {
		s.mu.Lock()
		t := now()
		for s.heap.Len() > 0 && s.heap.Min().when <= t {
			due = append(due, s.heap.Remove(0))
		}
		stats.Timers.Add(-int64(len(due)))
		s.mu.Unlock()

		for i, e := range due {
			e.job.fire()
			due[i] = nil
		}
		due = due[:0]

		s.mu.Lock()
		if s.heap.Len() == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		d := time.Duration(s.heap.Min().when - now())
		s.mu.Unlock()
		if d <= 0 {
			continue
		}
		wait.Reset(d)
		select {
		case <-wait.C:
		case <-s.wake:
		}
	}
}

// Deadline and SetIndex make an entry a loop.DeadlineItem.
func (e *entry) Deadline() int64 { return e.when }

// SetIndex records e's place in the heap.
func (e *entry) SetIndex(i int) { e.index = i }
