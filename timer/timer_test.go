package timer

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goasync/goasync/future"
	evloop "github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const long = 10 * time.Second

func await[T any](t *testing.T, f *future.Future[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	v, err := f.Await(ctx)
	if ctx.Err() != nil {
		t.Fatalf("future did not settle within %v", long)
	}
	return v, err
}

// eventually polls cond until it holds or the bound passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(long)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, long)
		}
		time.Sleep(time.Millisecond)
	}
}

// schedulerIdle reports whether no timer is armed off the loops (the
// Background set, which then holds no goroutine either).
func schedulerIdle() bool { return evloop.Background().Pending() == 0 }

// loop is a minimal event loop for tests: a goroutine marked with
// loopmark that runs queued functions in order.
type loop struct {
	tasks chan func()
	id    atomic.Uint64
	done  chan struct{}
}

func newLoop() *loop {
	l := &loop{tasks: make(chan func(), 1024), done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(l.done)
		unmark := loopmark.Mark(l)
		defer unmark()
		l.id.Store(loopmark.GoID())
		close(ready)
		for fn := range l.tasks {
			fn()
		}
	}()
	<-ready
	return l
}

func (l *loop) Execute(fn func()) { l.tasks <- fn }
func (l *loop) stop()             { close(l.tasks); <-l.done }

// run runs fn on the loop and waits for it.
func (l *loop) run(fn func()) {
	done := make(chan struct{})
	l.Execute(func() { fn(); close(done) })
	<-done
}

func TestDelayWaits(t *testing.T) {
	const d = 30 * time.Millisecond
	start := time.Now()
	if _, err := await(t, Delay(d)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < d {
		t.Fatalf("Delay(%v) resolved after %v", d, el)
	}
	eventually(t, "scheduler exits when idle", schedulerIdle)
}

func TestDelayOrder(t *testing.T) {
	var mu sync.Mutex
	var order []int
	var fs []*future.Future[struct{}]
	for i, ms := range []int{40, 10, 30, 20, 0} {
		f := Delay(time.Duration(ms) * time.Millisecond)
		f.OnComplete(func(struct{}, error) { mu.Lock(); order = append(order, i); mu.Unlock() })
		fs = append(fs, f)
	}
	await(t, future.All(fs...))
	mu.Lock()
	defer mu.Unlock()
	want := []int{4, 1, 3, 2, 0}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("fired in order %v, want %v", order, want)
		}
	}
}

func TestDelayZeroIsNextTurnOfTheLoop(t *testing.T) {
	l := newLoop()
	defer l.stop()
	var f *future.Future[struct{}]
	var inline bool
	var ran atomic.Bool
	l.run(func() {
		f = Delay(0)
		f.OnComplete(func(struct{}, error) { ran.Store(loopmark.GoID() == l.id.Load()) })
		_, _, inline = f.Result()
	})
	if inline {
		t.Fatal("Delay(0) on a loop resolved inside the call")
	}
	await(t, f)
	eventually(t, "continuation ran", ran.Load)
	// Off a loop, Delay(0) resolves on the scheduler goroutine.
	if _, err := await(t, Delay(0)); err != nil {
		t.Fatal(err)
	}
}

func TestTimerStartedOnLoopCompletesOnLoop(t *testing.T) {
	l := newLoop()
	defer l.stop()
	got := make(chan uint64, 3)
	l.run(func() {
		Delay(5 * time.Millisecond).OnComplete(func(struct{}, error) { got <- loopmark.GoID() })
		After(5*time.Millisecond, func() (int, error) { got <- loopmark.GoID(); return 0, nil })
		Timeout(future.New[int]().Future(), 5*time.Millisecond).OnComplete(func(int, error) { got <- loopmark.GoID() })
	})
	for range 3 {
		select {
		case id := <-got:
			if id != l.id.Load() {
				t.Fatalf("completion ran on goroutine %d, loop is %d", id, l.id.Load())
			}
		case <-time.After(long):
			t.Fatal("timer never completed")
		}
	}
}

func TestOnOverridesTheLoop(t *testing.T) {
	a, b := newLoop(), newLoop()
	defer a.stop()
	defer b.stop()
	got := make(chan uint64, 1)
	a.run(func() {
		Delay(time.Millisecond, On(b)).OnComplete(func(struct{}, error) { got <- loopmark.GoID() })
	})
	select {
	case id := <-got:
		if id != b.id.Load() {
			t.Fatalf("ran on %d, want loop b %d", id, b.id.Load())
		}
	case <-time.After(long):
		t.Fatal("timer never completed")
	}
}

func TestTimersShareOneGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	armedBefore := stats.Timers.Load()
	fs := make([]*future.Future[struct{}], 1000)
	for i := range fs {
		fs[i] = Delay(time.Hour)
	}
	if n := runtime.NumGoroutine() - before; n > 1 {
		t.Fatalf("1000 timers cost %d goroutines", n)
	}
	if n := stats.Timers.Load() - armedBefore; n != 1000 {
		t.Fatalf("Timers gauge rose by %d, want 1000", n)
	}
	for _, f := range fs {
		f.Cancel(nil)
	}
	if n := stats.Timers.Load() - armedBefore; n != 0 {
		t.Fatalf("Timers gauge is %d after cancelling all", n)
	}
	eventually(t, "scheduler exits when every timer is cancelled", schedulerIdle)
}

func TestDelayCancelDisarms(t *testing.T) {
	f := Delay(time.Hour)
	if evloop.Background().Pending() == 0 {
		t.Fatal("no timer armed")
	}
	f.Cancel(nil)
	if evloop.Background().Pending() != 0 {
		t.Fatal("cancelled timer still armed")
	}
	if _, err := await(t, f); !errors.Is(err, future.ErrCanceled) {
		t.Fatalf("cancelled Delay = %v", err)
	}
}

func TestAfter(t *testing.T) {
	v, err := await(t, After(5*time.Millisecond, func() (string, error) { return "late", nil }))
	if v != "late" || err != nil {
		t.Fatalf("After = %q, %v", v, err)
	}
	_, err = await(t, After(time.Millisecond, func() (int, error) { panic("tick") }))
	if !errors.Is(err, future.ErrPanic) {
		t.Fatalf("panicking After = %v", err)
	}
	var ran atomic.Bool
	f := After(time.Hour, func() (int, error) { ran.Store(true); return 0, nil })
	f.Cancel(nil)
	if evloop.Background().Pending() != 0 {
		t.Fatal("cancelling After left its timer armed")
	}
	if ran.Load() {
		t.Fatal("cancelled After ran")
	}
}

func TestTimeoutRejectsAndCancels(t *testing.T) {
	p := future.New[int]()
	cancelled := make(chan error, 1)
	p.OnCancel(func(cause error) { cancelled <- cause })
	_, err := await(t, Timeout(p.Future(), 10*time.Millisecond))
	if !errors.Is(err, future.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Timeout = %v", err)
	}
	select {
	case cause := <-cancelled:
		if !errors.Is(cause, future.ErrTimeout) {
			t.Fatalf("source cancelled with %v", cause)
		}
	default:
		t.Fatal("the timed-out future was not cancelled")
	}
}

func TestTimeoutPassesAnEarlyResult(t *testing.T) {
	p := future.New[int]()
	f := Timeout(p.Future(), time.Hour)
	p.Resolve(7)
	if v, err := await(t, f); v != 7 || err != nil {
		t.Fatalf("Timeout = %v, %v", v, err)
	}
	if evloop.Background().Pending() != 0 {
		t.Fatal("timer still armed after the result")
	}
	errBoom := errors.New("boom")
	if _, err := await(t, Timeout(future.Rejected[int](errBoom), time.Hour)); err != errBoom {
		t.Fatalf("Timeout of a rejection = %v", err)
	}
	// Cancelling the timeout future cancels the source and the timer.
	q := future.New[int]()
	g := Timeout(q.Future(), time.Hour)
	g.Cancel(errBoom)
	if _, err, _ := q.Future().Result(); !errors.Is(err, future.ErrCanceled) {
		t.Fatalf("source after cancel = %v", err)
	}
	if evloop.Background().Pending() != 0 {
		t.Fatal("timer armed after cancel")
	}
	eventually(t, "scheduler idle", schedulerIdle)
}

// TestIntervalDoesNotDrift checks the deadlines the scheduler used: every
// one lies on the start + n*period grid, however slow the callback, and a
// slow callback skips ticks instead of bunching them.
func TestIntervalDoesNotDrift(t *testing.T) {
	const period = 10 * time.Millisecond
	var tk atomic.Pointer[Ticker]
	var mu sync.Mutex
	var slots []int64
	var fired []int64
	ready := make(chan struct{})
	done := make(chan struct{})
	n := 0
	tick := Interval(period, func() {
		<-ready
		k := tk.Load()
		mu.Lock()
		slots = append(slots, (k.lt.Deadline()-k.start)/k.period)
		if (k.lt.Deadline()-k.start)%k.period != 0 {
			t.Errorf("deadline %d is off the grid", k.lt.Deadline()-k.start)
		}
		fired = append(fired, evloop.Now())
		mu.Unlock()
		n++
		if n == 3 {
			time.Sleep(period*2 + period/2) // a slow call: the next ticks are missed
		}
		if n == 8 {
			close(done)
		}
	})
	tk.Store(tick)
	close(ready)
	select {
	case <-done:
	case <-time.After(long):
		t.Fatal("interval stalled")
	}
	if !tick.Stop() {
		t.Fatal("Stop of a running interval reported false")
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(slots); i++ {
		if slots[i] <= slots[i-1] {
			t.Fatalf("two ticks in one slot, or out of order: %v", slots)
		}
		if fired[i] < tick.start+slots[i]*tick.period {
			t.Fatalf("tick %d fired before its deadline", i)
		}
	}
	// After the slow third call, at least two slots were skipped.
	if slots[3]-slots[2] < 3 {
		t.Fatalf("slow call did not skip missed ticks: %v", slots)
	}
	eventually(t, "scheduler idle after Stop", schedulerIdle)
}

func TestIntervalStop(t *testing.T) {
	var count atomic.Int64
	var tk atomic.Pointer[Ticker]
	stoppedInside := make(chan bool, 1)
	tick := Interval(time.Millisecond, func() {
		if count.Add(1) == 3 {
			for tk.Load() == nil {
				runtime.Gosched()
			}
			stoppedInside <- tk.Load().Stop()
		}
	})
	tk.Store(tick)
	select {
	case ok := <-stoppedInside:
		if !ok {
			t.Fatal("Stop inside the callback reported false")
		}
	case <-time.After(long):
		t.Fatal("interval never reached 3 ticks")
	}
	eventually(t, "scheduler idle after Stop", schedulerIdle)
	if n := count.Load(); n != 3 || tick.Ticks() != 3 {
		t.Fatalf("%d calls (Ticks %d) after Stop at the third", n, tick.Ticks())
	}
	if tick.Stop() {
		t.Fatal("second Stop reported true")
	}
}

func TestIntervalOnLoopAndPanics(t *testing.T) {
	l := newLoop()
	defer l.stop()
	ids := make(chan uint64, 10)
	var tick *Ticker
	l.run(func() {
		tick = Interval(time.Millisecond, func() {
			ids <- loopmark.GoID()
			panic("every tick panics") // logged; the interval goes on
		})
	})
	for range 3 {
		select {
		case id := <-ids:
			if id != l.id.Load() {
				t.Fatalf("tick ran on %d, loop is %d", id, l.id.Load())
			}
		case <-time.After(long):
			t.Fatal("interval stopped after a panic")
		}
	}
	tick.Stop()
	eventually(t, "scheduler idle", schedulerIdle)
}

func TestIntervalRejectsNonPositive(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Interval(0) did not panic")
		}
	}()
	Interval(0, func() {})
}
