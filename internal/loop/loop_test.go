package loop

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loopmark"
)

func TestExecuteRunsInOrderOnTheLoop(t *testing.T) {
	r := newRT(t, 2)
	l := r.Loop(1)
	const n = 10000
	got := make([]int, 0, n)
	done := make(chan struct{})
	var onLoop, otherLoop, awaitErr = true, false, error(nil)
	var wg sync.WaitGroup
	// Several producers; each one's tasks must keep their order.
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				v := p*(n/4) + i
				l.Execute(func() {
					if !l.OnLoop() {
						onLoop = false
					}
					if r.Loop(0).OnLoop() {
						otherLoop = true
					}
					got = append(got, v)
				})
			}
		}()
	}
	wg.Wait()
	l.Execute(func() {
		_, awaitErr = future.New[int]().Future().Await(context.Background())
		close(done)
	})
	wait(t, done, 10*time.Second, "tasks")
	if !onLoop || otherLoop {
		t.Fatalf("tasks ran off their loop (onLoop=%v otherLoop=%v)", onLoop, otherLoop)
	}
	if len(got) != n {
		t.Fatalf("ran %d tasks, want %d", len(got), n)
	}
	last := map[int]int{0: -1, 1: -1, 2: -1, 3: -1}
	for _, v := range got {
		p := v / (n / 4)
		if v <= last[p] {
			t.Fatalf("producer %d: task %d ran after %d", p, v, last[p])
		}
		last[p] = v
	}
	if !errors.Is(awaitErr, future.ErrAwaitOnLoop) {
		t.Fatalf("Await on a loop returned %v, want ErrAwaitOnLoop", awaitErr)
	}
	if loopmark.OnLoop() {
		t.Fatal("the test goroutine is marked as a loop")
	}
}

// TestClockFollowsBatches checks the loop's batch clock: never ahead of
// the true clock, read again for a later batch, and behind it by no more
// than the batch has run.
func TestClockFollowsBatches(t *testing.T) {
	r := newRT(t, 1)
	l := r.Loop(0)
	type reading struct{ clock, before, after int64 }
	read := func() reading {
		ch := make(chan reading, 1)
		before := Now()
		l.Execute(func() { ch <- reading{l.Clock(), before, Now()} })
		var got reading
		select {
		case got = <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("the task did not run")
		}
		return got
	}
	read() // the new loop's first batches are behind it
	time.Sleep(5 * time.Millisecond)
	first := read() // an idle loop: the task starts a batch of its own
	if first.clock < first.before || first.clock > first.after {
		t.Fatalf("Clock %d outside the task's batch [%d, %d]", first.clock, first.before, first.after)
	}
	time.Sleep(20 * time.Millisecond)
	second := read()
	if second.clock < first.clock+int64(20*time.Millisecond) || second.clock > second.after {
		t.Fatalf("Clock in a later batch = %d, want from %d to %d", second.clock, first.clock+int64(20*time.Millisecond), second.after)
	}
}

func TestPanicInTaskKeepsTheLoop(t *testing.T) {
	r := newRT(t, 1)
	l := r.Loop(0)
	l.Execute(func() { panic("boom") })
	done := make(chan struct{})
	l.Execute(func() { close(done) })
	wait(t, done, 5*time.Second, "the task after a panic")
}

func TestExecuteAfterShutdownRunsInline(t *testing.T) {
	r, err := New(WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	l := r.Loop(0)
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ran := false
	l.Execute(func() { ran = true })
	if !ran {
		t.Fatal("Execute on a stopped loop did not run the function")
	}
	if !r.Stopped() {
		t.Fatal("Stopped() is false after Shutdown")
	}
	if _, err := r.Listen("tcp", "127.0.0.1:0", func(*Conn) ConnHandler { return nil }, ListenConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Listen after Shutdown: %v", err)
	}
	if _, err := r.Dial(context.Background(), "tcp", "127.0.0.1:1", &recorder{}).Await(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial after Shutdown: %v", err)
	}
}

func TestShutdownOnLoopFailsFast(t *testing.T) {
	r := newRT(t, 1)
	got := make(chan error, 1)
	r.Loop(0).Execute(func() { got <- r.Shutdown(context.Background()) })
	if err := wait(t, got, 5*time.Second, "Shutdown on a loop"); !errors.Is(err, future.ErrAwaitOnLoop) {
		t.Fatalf("Shutdown on a loop: %v", err)
	}
}

func TestDefaultIsLazyAndRestartable(t *testing.T) {
	a := Default()
	if Default() != a {
		t.Fatal("Default changed between calls")
	}
	if err := ShutdownDefault(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := Default()
	if b == a || b.Stopped() {
		t.Fatal("Default after shutdown is not a fresh runtime")
	}
}

// TestShutdownRacesWithHandedWork: while a runtime shuts down, other
// goroutines keep handing work to its loops (closing connections, as tcp
// does from user goroutines). Every function runs once, on the loop while
// it still drains, or on the caller once it has exited; the race detector
// checks that the loop's tables are never touched from two goroutines.
func TestShutdownRacesWithHandedWork(t *testing.T) {
	r, err := New(WithLoops(2))
	if err != nil {
		t.Fatal(err)
	}
	h := func(*Conn) ConnHandler { return newRecorder(false) }
	ln, err := r.Listen("tcp", "127.0.0.1:0", h, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var conns []*Conn
	for i := 0; i < 40; i++ {
		c, err := r.Dial(context.Background(), "tcp", ln.Addr().String(), newRecorder(false)).Await(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	var ran sync.WaitGroup
	start := make(chan struct{})
	for _, c := range conns {
		ran.Add(1)
		go func() {
			<-start
			c.Loop().Execute(func() {
				defer ran.Done()
				_ = c.Close()
			})
		}()
	}
	close(start)
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { ran.Wait(); close(done) }()
	wait(t, done, 10*time.Second, "every handed function to run")
}

// A loop kept busy (it never finds an empty poll) still passes through the
// Go scheduler about once a millisecond, so a goroutine woken on its P runs
// soon instead of waiting for the runtime to preempt the loop (10 ms), and
// the runtime's monitor is not left preempting it.
func TestBusyLoopLetsOtherGoroutinesRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	r := newRT(t, 1)
	l := r.Loop(0)
	var stop atomic.Bool
	var busy func()
	busy = func() { // 50 µs of work per task, then the next task
		for t0 := time.Now(); time.Since(t0) < 50*time.Microsecond; {
		}
		if !stop.Load() {
			l.Execute(busy)
		}
	}
	l.Execute(busy)
	defer stop.Store(true)

	woken := make(chan time.Time)
	var delays []time.Duration
	for i := 0; i < 15; i++ {
		done := make(chan struct{})
		go func() { // woken by the loop; the loop stays busy
			delays = append(delays, time.Since(<-woken))
			close(done)
		}()
		time.Sleep(2 * time.Millisecond)
		l.Execute(func() { woken <- time.Now() })
		wait(t, done, 10*time.Second, "the woken goroutine")
	}
	slices.Sort(delays)
	if med := delays[len(delays)/2]; med > 5*time.Millisecond {
		t.Fatalf("a goroutine woken by a busy loop waited %v (median of %d; all: %v); want about 1 ms", med, len(delays), delays)
	}
}
