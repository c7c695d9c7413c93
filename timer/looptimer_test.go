package timer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	evloop "github.com/goasync/goasync/internal/loop"
)

// On one of goasync's event loops, Delay, Timeout and Interval are that
// loop's own timers: they fire on the loop (no scheduler goroutine, no
// hop), and a runtime that shuts down settles them with an error.
func TestTimersOnGoasyncLoops(t *testing.T) {
	rt, err := evloop.New(evloop.WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	l := rt.Loop(0)
	type result struct {
		onLoop bool
		err    error
	}
	got := make(chan result, 4)
	var ticks atomic.Int32
	var tk *Ticker
	l.Execute(func() {
		Delay(20 * time.Millisecond).OnComplete(func(_ struct{}, err error) { got <- result{l.OnLoop(), err} })
		never := future.New[int]()
		Timeout(never.Future(), 30*time.Millisecond).OnComplete(func(_ int, err error) { got <- result{l.OnLoop(), err} })
		tk = Interval(5*time.Millisecond, func() {
			if l.OnLoop() {
				ticks.Add(1)
			}
		})
	})
	for i := 0; i < 2; i++ {
		r := <-got
		if !r.onLoop {
			t.Fatal("a timer's completion ran off its loop")
		}
		if r.err != nil && !errors.Is(r.err, future.ErrTimeout) {
			t.Fatal(r.err)
		}
	}
	if !schedulerIdle() {
		t.Fatal("timers on a loop used the scheduler goroutine")
	}
	eventually(t, "ticks on the loop", func() bool { return ticks.Load() >= 3 })
	tk.Stop()

	// Pending loop timers settle with an error when the runtime stops.
	pending := make(chan error, 2)
	l.Execute(func() {
		Delay(time.Hour).OnComplete(func(_ struct{}, err error) { pending <- err })
		Timeout(future.New[int]().Future(), time.Hour).OnComplete(func(_ int, err error) { pending <- err })
	})
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case err := <-pending:
			if !errors.Is(err, evloop.ErrClosed) {
				t.Fatalf("pending timer after shutdown: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a pending loop timer never settled after shutdown")
		}
	}
	// On a stopped loop a new Delay settles at once.
	if _, err := Delay(time.Hour, On(l)).Await(ctx); !errors.Is(err, evloop.ErrClosed) {
		t.Fatalf("Delay on a stopped loop: %v", err)
	}
}
