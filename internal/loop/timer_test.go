package loop

import (
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/stats"
)

func TestTimersFireInOrderOnTheLoop(t *testing.T) {
	r := newRT(t, 1)
	l := r.Loop(0)
	var mu sync.Mutex
	var order []int
	done := make(chan struct{})
	start := time.Now()
	delays := []int{30, 10, 50, 20, 40}
	for _, ms := range delays {
		l.AfterFunc(time.Duration(ms)*time.Millisecond, func() {
			if !l.OnLoop() {
				t.Error("timer ran off its loop")
			}
			mu.Lock()
			order = append(order, ms)
			if len(order) == len(delays) {
				close(done)
			}
			mu.Unlock()
		})
	}
	wait(t, done, 5*time.Second, "timers")
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("the 50ms timer fired after %v", el)
	}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			t.Fatalf("fired in order %v", order)
		}
	}
}

func TestTimerStopAndReset(t *testing.T) {
	r := newRT(t, 1)
	l := r.Loop(0)
	fired := make(chan string, 4)
	a := l.AfterFunc(20*time.Millisecond, func() { fired <- "a" })
	b := l.AfterFunc(30*time.Millisecond, func() { fired <- "b" })
	if !a.Stop() {
		t.Fatal("Stop of an armed timer returned false")
	}
	if a.Stop() {
		t.Fatal("second Stop returned true")
	}
	// Move b later than c: the wake timer fires early for b's old
	// deadline and re-arms.
	b.Reset(120 * time.Millisecond)
	l.AfterFunc(60*time.Millisecond, func() { fired <- "c" })
	if got := wait(t, fired, 5*time.Second, "c"); got != "c" {
		t.Fatalf("first fired %q, want c", got)
	}
	if got := wait(t, fired, 5*time.Second, "b"); got != "b" {
		t.Fatalf("second fired %q, want b", got)
	}
	select {
	case got := <-fired:
		t.Fatalf("%q fired after being stopped", got)
	case <-time.After(50 * time.Millisecond):
	}
	if l.Pending() != 0 {
		t.Fatalf("%d timers still armed", l.Pending())
	}
	// A fired timer can be armed again.
	b.Reset(time.Millisecond)
	if got := wait(t, fired, 5*time.Second, "b again"); got != "b" {
		t.Fatalf("re-armed timer fired %q", got)
	}
}

func TestManyTimersAndTheGauge(t *testing.T) {
	r := newRT(t, 2)
	before := stats.Timers.Load()
	const n = 2000
	var wg sync.WaitGroup
	wg.Add(n / 2)
	var stop []*Timer
	for i := 0; i < n; i++ {
		l := r.Loop(i % 2)
		d := time.Duration(i%50) * time.Millisecond
		if i%2 == 1 {
			d += time.Second // stopped long before
		}
		tm := l.AfterFunc(d, func() {
			if i%2 == 0 {
				wg.Done()
			} else {
				t.Error("a stopped timer fired")
			}
		})
		if i%2 == 1 {
			stop = append(stop, tm)
		}
	}
	for _, tm := range stop {
		tm.Stop()
	}
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	wait(t, ch, 10*time.Second, "timers")
	deadline := time.Now().Add(2 * time.Second)
	for stats.Timers.Load() != before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if g := stats.Timers.Load(); g != before {
		t.Fatalf("Timers gauge %d, want %d", g, before)
	}
}

func TestShutdownDropsTimers(t *testing.T) {
	before := stats.Timers.Load()
	r, err := New(WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	r.Loop(0).AfterFunc(time.Hour, func() { t.Error("fired") })
	if err := r.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if g := stats.Timers.Load(); g != before {
		t.Fatalf("Timers gauge %d after shutdown, want %d", g, before)
	}
	if r.Loop(0).AfterFunc(time.Millisecond, func() {}).Stop() {
		t.Fatal("a timer armed on a stopped loop")
	}
}
