package timer

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	evloop "github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
)

var errFlaky = errors.New("flaky")

// attempts records when op was called and fails the first fails calls.
type attempts struct {
	mu    sync.Mutex
	at    []time.Time
	fails int
}

func (a *attempts) op(_ context.Context, i int) *future.Future[int] {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at = append(a.at, time.Now())
	if len(a.at) <= a.fails {
		return future.Rejected[int](errFlaky)
	}
	return future.Resolved(i)
}

func (a *attempts) gaps() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var g []time.Duration
	for i := 1; i < len(a.at); i++ {
		g = append(g, a.at[i].Sub(a.at[i-1]))
	}
	return g
}

func TestRetrySucceedsAfterFailuresWithExponentialCappedWaits(t *testing.T) {
	a := &attempts{fails: 3}
	b := Backoff{Attempts: 5, Initial: 20 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: -1}
	v, err := await(t, Retry(context.Background(), b, a.op))
	if err != nil || v != 3 {
		t.Fatalf("Retry = %v, %v; want the 4th attempt's 3", v, err)
	}
	want := []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 50 * time.Millisecond}
	g := a.gaps()
	if len(g) != len(want) {
		t.Fatalf("gaps %v", g)
	}
	for i := range want {
		if g[i] < want[i] || g[i] > want[i]+time.Second {
			t.Errorf("wait %d = %v, want %v (exponential, capped, no jitter)", i+1, g[i], want[i])
		}
	}
}

func TestRetryGivesUpWithTheLastError(t *testing.T) {
	a := &attempts{fails: 100}
	_, err := await(t, Retry(context.Background(), Backoff{Attempts: 3, Initial: time.Millisecond}, a.op))
	var re *RetryError
	if !errors.As(err, &re) || re.Attempts != 3 || !errors.Is(err, errFlaky) {
		t.Fatalf("err = %v, want a RetryError of 3 attempts wrapping errFlaky", err)
	}
	if len(a.gaps()) != 2 {
		t.Fatalf("%d attempts, want 3", len(a.gaps())+1)
	}
}

func TestRetryJitterShortensWaitsWithinBounds(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Jitter: 0.5}.normalized()
	seen := map[time.Duration]bool{}
	for range 200 {
		w := b.jittered(b.wait(1))
		if w < 50*time.Millisecond || w > 100*time.Millisecond {
			t.Fatalf("jittered wait %v outside [50ms, 100ms]", w)
		}
		seen[w] = true
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct waits in 200: no jitter", len(seen))
	}
	if w := (Backoff{Initial: time.Second, Max: 3 * time.Second}).normalized().wait(40); w != 3*time.Second {
		t.Fatalf("wait after 40 tries = %v, want the cap", w)
	}
}

// A real peer: attempt 0 dials a closed port (refused), attempt 1 a
// listening one. RetryOn with errors.Is picks which errors to retry, and
// RetryOnType with errors.As.
func TestRetryOnAnotherHostOverLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello\n"))
			c.Close()
		}
	}()
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	hosts := []string{deadAddr, ln.Addr().String()}
	dial := func(_ context.Context, i int) *future.Future[string] {
		return future.Go(func() (string, error) {
			c, err := net.DialTimeout("tcp", hosts[i%len(hosts)], time.Second)
			if err != nil {
				return "", err
			}
			defer c.Close()
			buf := make([]byte, 6)
			_, err = c.Read(buf)
			return string(buf), err
		})
	}
	for _, pred := range []func(error) bool{RetryOn(errRefusedSyscall()), RetryOnType[*net.OpError]} {
		v, err := await(t, Retry(context.Background(), Backoff{Initial: time.Millisecond, RetryIf: pred}, dial))
		if err != nil || v != "hello\n" {
			t.Fatalf("Retry = %q, %v", v, err)
		}
	}
	// An error the predicate refuses ends the retry at once.
	calls := 0
	_, err = await(t, Retry(context.Background(), Backoff{Initial: time.Millisecond, RetryIf: RetryOn(errFlaky)},
		func(ctx context.Context, i int) *future.Future[string] { calls++; return dial(ctx, 0) }))
	var oe *net.OpError
	if calls != 1 || !errors.As(err, &oe) {
		t.Fatalf("calls %d, err %v: a refused dial is not errFlaky, so no second try", calls, err)
	}
}

func TestRetryStopsWhenContextEndsOrCancelled(t *testing.T) {
	// ctx ends during the wait: no further attempt, Cause is the error.
	a := &attempts{fails: 100}
	cause := errors.New("user left")
	ctx, cancel := context.WithCancelCause(context.Background())
	f := Retry(ctx, Backoff{Attempts: 10, Initial: time.Hour}, a.op)
	time.Sleep(5 * time.Millisecond)
	cancel(cause)
	if _, err := await(t, f); !errors.Is(err, cause) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
	if n := len(a.gaps()) + 1; n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
	if n := evloop.Background().Pending(); n != 0 {
		t.Fatalf("%d timers still armed after the retry ended", n)
	}

	// Cancelling the future cancels the pending attempt.
	pending := future.New[int]()
	told := make(chan error, 1)
	pending.OnCancel(func(c error) { told <- c })
	g := Retry(context.Background(), Backoff{}, func(context.Context, int) *future.Future[int] { return pending.Future() })
	g.Cancel(cause)
	select {
	case c := <-told:
		if c != cause {
			t.Fatalf("attempt cancelled with %v", c)
		}
	case <-time.After(long):
		t.Fatal("the pending attempt was not cancelled")
	}
	if _, err := await(t, g); !errors.Is(err, future.ErrCanceled) {
		t.Fatalf("g = %v", err)
	}

	// ctx already over: no attempt, the cause.
	done, stop := context.WithCancel(context.Background())
	stop()
	none := &attempts{fails: 100}
	if _, err := await(t, Retry(done, Backoff{}, none.op)); !errors.Is(err, context.Canceled) || len(none.at) != 0 {
		t.Fatalf("ended ctx: %v after %d attempts", err, len(none.at))
	}
}

func TestRetryPanicsAreNotRetried(t *testing.T) {
	calls := 0
	_, err := await(t, Retry(context.Background(), Backoff{Initial: time.Millisecond}, func(context.Context, int) *future.Future[int] {
		calls++
		return future.Then(future.Resolved(0), func(int) (int, error) { panic("bug") })
	}))
	if calls != 1 || !errors.Is(err, future.ErrPanic) {
		t.Fatalf("calls %d err %v", calls, err)
	}
}

func TestRetryStartedOnLoopRunsOnLoop(t *testing.T) {
	l := newLoop()
	defer l.stop()
	ids := make(chan uint64, 8)
	var f *future.Future[int]
	l.run(func() {
		f = Retry(context.Background(), Backoff{Attempts: 3, Initial: time.Millisecond}, func(_ context.Context, i int) *future.Future[int] {
			ids <- loopmark.GoID()
			// The attempt settles on another goroutine.
			return future.Go(func() (int, error) {
				if i < 2 {
					return 0, errFlaky
				}
				return i, nil
			})
		})
		f.OnComplete(func(int, error) { ids <- loopmark.GoID() })
	})
	if v, err := await(t, f); v != 2 || err != nil {
		t.Fatalf("Retry = %v %v", v, err)
	}
	for range 4 { // three attempts and the completion
		if id := <-ids; id != l.id.Load() {
			t.Fatalf("ran on goroutine %d, loop is %d", id, l.id.Load())
		}
	}
}

func TestRetryAttemptsAreStepsOfTheTrace(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)
	a := &attempts{fails: 2}
	ctx := future.WithTraceID(context.Background(), "req-7")
	op := func(ctx context.Context, i int) *future.Future[int] {
		// What op starts with its ctx is a step of the attempt.
		return future.Trace(ctx, a.op(ctx, i), "call "+strconv.Itoa(i))
	}
	if _, err := await(t, Retry(ctx, Backoff{Initial: time.Millisecond}, op)); err != nil {
		t.Fatal(err)
	}
	var retryID uint64
	names := map[string]uint64{}
	ids := map[string]uint64{}
	for _, e := range logs.FilterMessage("future settled").All() {
		m := e.ContextMap()
		if m["trace"] != "req-7" {
			t.Errorf("entry out of the trace: %v", m)
		}
		n := m["name"].(string)
		if n == "retry" {
			retryID = m["id"].(uint64)
		}
		names[n] = m["parent"].(uint64)
		ids[n] = m["id"].(uint64)
	}
	for i := range 3 {
		if p := names["call "+strconv.Itoa(i)]; p != ids["attempt "+strconv.Itoa(i+1)+"/3"] || p == 0 {
			t.Errorf("call %d: parent %d, want its attempt's step (%v)", i, p, ids)
		}
	}
	for _, n := range []string{"attempt 1/3", "attempt 2/3", "attempt 3/3"} {
		if p, ok := names[n]; !ok || p != retryID {
			t.Errorf("%s: parent %d, want the retry step %d (steps %v)", n, p, retryID, names)
		}
	}
	backoffs := 0
	for n, p := range names {
		if strings.HasPrefix(n, "backoff ") && p == retryID {
			backoffs++
		}
	}
	if backoffs != 2 {
		t.Errorf("%d backoff steps, want 2: %v", backoffs, names)
	}
}

func TestRetryOnDeliversOnTheGivenExecutor(t *testing.T) {
	l := newLoop()
	defer l.stop()
	ids := make(chan uint64, 8)
	calls := 0
	f := Retry(context.Background(), Backoff{Attempts: 3, Initial: time.Millisecond}, func(_ context.Context, i int) *future.Future[int] {
		calls++
		if i > 0 {
			ids <- loopmark.GoID()
		}
		if i < 2 {
			return future.Rejected[int](errFlaky)
		}
		return future.Resolved(i)
	}, On(l))
	f.OnComplete(func(int, error) { ids <- loopmark.GoID() })
	if v, err := await(t, f); v != 2 || err != nil || calls != 3 {
		t.Fatalf("Retry = %v %v after %d calls", v, err, calls)
	}
	for range 3 { // the second and third attempts, and the completion
		select {
		case id := <-ids:
			if id != l.id.Load() {
				t.Fatalf("ran on goroutine %d, the executor's loop is %d", id, l.id.Load())
			}
		case <-time.After(long):
			t.Fatal("missing a run")
		}
	}
}
