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
	heap    []*entry
	running bool
	wake    chan struct{}
}

var sched = &scheduler{wake: make(chan struct{}, 1)}

// add arms e to fire at e.when.
func (s *scheduler) add(e *entry) {
	s.mu.Lock()
	s.push(e)
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
	s.removeAt(e.index)
	stats.Timers.Add(-1)
	empty := len(s.heap) == 0
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
	return len(s.heap)
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
		for len(s.heap) > 0 && s.heap[0].when <= t {
			e := s.heap[0]
			s.removeAt(0)
			due = append(due, e)
		}
		stats.Timers.Add(-int64(len(due)))
		s.mu.Unlock()

		for i, e := range due {
			e.job.fire()
			due[i] = nil
		}
		due = due[:0]

		s.mu.Lock()
		if len(s.heap) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		d := time.Duration(s.heap[0].when - now())
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

// The heap: a binary min-heap on when, keeping each entry's index.

func (s *scheduler) push(e *entry) {
	e.index = len(s.heap)
	s.heap = append(s.heap, e)
	s.up(e.index)
}

func (s *scheduler) removeAt(i int) {
	h := s.heap
	last := len(h) - 1
	e := h[i]
	if i != last {
		h[i] = h[last]
		h[i].index = i
	}
	h[last] = nil
	s.heap = h[:last]
	if i != last {
		if !s.down(i) {
			s.up(i)
		}
	}
	e.index = -1
}

func (s *scheduler) less(i, j int) bool { return s.heap[i].when < s.heap[j].when }

func (s *scheduler) swap(i, j int) {
	h := s.heap
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (s *scheduler) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s.swap(i, p)
		i = p
	}
}

func (s *scheduler) down(i int) bool {
	start := i
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s.swap(i, m)
		i = m
	}
	return i > start
}
