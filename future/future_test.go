package future

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goasync/goasync/internal/loopmark"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errTest = errors.New("test error")

// long is the bound of every "should happen" wait.
const long = 10 * time.Second

func await[T any](t *testing.T, f *Future[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	v, err := f.Await(ctx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		t.Fatalf("future did not settle within %v", long)
	}
	return v, err
}

func TestContinuationRunsOnSettlingGoroutine(t *testing.T) {
	p := New[int]()
	ran := make(chan uint64, 1)
	f := p.Future().Then(func(v int) (int, error) {
		ran <- loopmark.GoID()
		return v * 2, nil
	})
	settler := make(chan uint64)
	go func() {
		id := loopmark.GoID()
		p.Resolve(21)
		settler <- id
	}()
	sid := <-settler
	// The continuation ran inside Resolve, so it is done by now.
	select {
	case cid := <-ran:
		if cid != sid {
			t.Fatalf("continuation ran on goroutine %d, settled on %d", cid, sid)
		}
	default:
		t.Fatal("continuation had not run when Resolve returned")
	}
	if v, err, ok := f.Result(); !ok || err != nil || v != 42 {
		t.Fatalf("Result = %v, %v, %v", v, err, ok)
	}
}

func TestAttachToSettledRunsInAttachingCall(t *testing.T) {
	f := Resolved(5)
	me := loopmark.GoID()
	var on uint64
	g := f.Then(func(v int) (int, error) { on = loopmark.GoID(); return v + 1, nil })
	if on != me {
		t.Fatalf("continuation ran on %d, attaching goroutine is %d", on, me)
	}
	if v, err, ok := g.Result(); !ok || err != nil || v != 6 {
		t.Fatalf("Result = %v, %v, %v", v, err, ok)
	}
	called := false
	Rejected[int](errTest).OnComplete(func(_ int, err error) { called = errors.Is(err, errTest) })
	if !called {
		t.Fatal("OnComplete on a rejected future did not run at once")
	}
}

func TestContinuationsRunFIFO(t *testing.T) {
	p := New[int]()
	var order []int
	for i := range 50 {
		p.Future().OnComplete(func(int, error) { order = append(order, i) })
	}
	p.Resolve(1)
	for i := range 50 {
		p.Future().OnComplete(func(int, error) { order = append(order, 50+i) })
	}
	if len(order) != 100 {
		t.Fatalf("%d continuations ran, want 100", len(order))
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("continuation %d ran at position %d: %v", v, i, order)
		}
	}
}

func TestSettleOnce(t *testing.T) {
	p := New[string]()
	if !p.Resolve("a") {
		t.Fatal("first Resolve reported false")
	}
	if p.Resolve("b") || p.Reject(errTest) || p.Future().Cancel(nil) {
		t.Fatal("a second settle reported true")
	}
	if v, err, _ := p.Future().Result(); v != "a" || err != nil {
		t.Fatalf("Result = %q, %v after later settles", v, err)
	}
	q := New[string]()
	q.Reject(errTest)
	if q.Resolve("x") {
		t.Fatal("Resolve after Reject reported true")
	}
	if _, err, _ := q.Future().Result(); err != errTest {
		t.Fatalf("err = %v", err)
	}
	r := New[int]()
	r.Reject(nil)
	if _, err, _ := r.Future().Result(); err == nil {
		t.Fatal("Reject(nil) left a nil error")
	}
}

func TestErrorSkipsThenReachesCatch(t *testing.T) {
	p := New[int]()
	thenRan := false
	f := p.Future().
		Then(func(v int) (int, error) { return v, errTest }).
		Then(func(v int) (int, error) { thenRan = true; return v, nil })
	var caught error
	g := f.Catch(func(err error) (int, error) { caught = err; return 99, nil })
	p.Resolve(1)
	if thenRan {
		t.Fatal("Then ran after a rejection")
	}
	if caught != errTest {
		t.Fatalf("Catch got %v", caught)
	}
	if v, err, _ := g.Result(); v != 99 || err != nil {
		t.Fatalf("after Catch: %v, %v", v, err)
	}
	// Catch passes resolutions through untouched.
	h := Resolved(3).Catch(func(error) (int, error) { t.Error("Catch ran on success"); return 0, nil })
	if v, _, _ := h.Result(); v != 3 {
		t.Fatalf("Catch changed a resolution to %v", v)
	}
}

func TestHandleSeesBothOutcomes(t *testing.T) {
	ok := Handle(Resolved(2), func(v int, err error) (string, error) { return fmt.Sprint(v, err), nil })
	bad := Handle(Rejected[int](errTest), func(v int, err error) (string, error) { return fmt.Sprint(v, err), nil })
	if v, _, _ := ok.Result(); v != "2 <nil>" {
		t.Fatalf("Handle ok = %q", v)
	}
	if v, _, _ := bad.Result(); v != "0 test error" {
		t.Fatalf("Handle err = %q", v)
	}
}

func TestPanicRejectsWithPanicError(t *testing.T) {
	f := Then(Resolved(1), func(int) (int, error) { panic(io.ErrUnexpectedEOF) })
	_, err, _ := f.Result()
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("err = %v, not ErrPanic", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal("PanicError does not unwrap to the panic value")
	}
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(string(pe.Stack), "future_test.go") {
		t.Fatalf("PanicError stack lacks the panicking frame: %v", pe)
	}
	g := Resolved(1).Finally(func() { panic("boom") })
	_, err, _ = g.Result()
	if !errors.As(err, &pe) || pe.Value != "boom" || errors.Unwrap(err) != nil {
		t.Fatalf("Finally panic: %v", err)
	}
	// Every callback kind recovers.
	checks := map[string]*Future[int]{
		"Catch":   Rejected[int](errTest).Catch(func(error) (int, error) { panic("c") }),
		"CatchAs": CatchAs(Rejected[int](errTest), func(error) (int, error) { panic("ca") }),
		"Handle":  Handle(Resolved(1), func(int, error) (int, error) { panic("h") }),
		"Compose": Compose(Resolved(1), func(int) *Future[int] { panic("co") }),
		"Go":      Go(func() (int, error) { panic("go") }),
	}
	for name, f := range checks {
		if _, err := await(t, f); !errors.Is(err, ErrPanic) {
			t.Errorf("%s: err = %v, want a PanicError", name, err)
		}
	}
}

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

func TestCatchAsMatchesWithErrorsAs(t *testing.T) {
	wrapped := fmt.Errorf("wrapped: %w", &codeError{code: 7})
	f := CatchAs(Rejected[int](wrapped), func(e *codeError) (int, error) { return e.code, nil })
	if v, err, _ := f.Result(); v != 7 || err != nil {
		t.Fatalf("CatchAs = %v, %v", v, err)
	}
	g := CatchAs(Rejected[int](errTest), func(e *codeError) (int, error) {
		t.Error("CatchAs ran on a non-matching error")
		return 0, nil
	})
	if _, err, _ := g.Result(); err != errTest {
		t.Fatalf("non-matching error became %v", err)
	}
	var pe *fs.PathError
	_ = pe
	h := CatchAs(Rejected[int](&fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}),
		func(e *fs.PathError) (int, error) { return len(e.Path), nil })
	if v, _, _ := h.Result(); v != 1 {
		t.Fatalf("CatchAs PathError = %v", v)
	}
}

func TestComposeFlattens(t *testing.T) {
	inner := New[string]()
	p := New[int]()
	f := Compose(p.Future(), func(v int) *Future[string] {
		return Then(inner.Future(), func(s string) (string, error) { return fmt.Sprint(s, v), nil })
	})
	p.Resolve(4)
	if _, _, ok := f.Result(); ok {
		t.Fatal("Compose settled before the inner future")
	}
	inner.Resolve("x")
	if v, err, _ := f.Result(); v != "x4" || err != nil {
		t.Fatalf("Compose = %q, %v", v, err)
	}
	g := Compose(Resolved(1), func(int) *Future[int] { return Rejected[int](errTest) })
	if _, err, _ := g.Result(); err != errTest {
		t.Fatalf("inner rejection = %v", err)
	}
	h := Compose(Resolved(1), func(int) *Future[int] { return nil })
	if _, err, _ := h.Result(); err == nil {
		t.Fatal("a nil inner future did not reject")
	}
}

func TestAll(t *testing.T) {
	ps := []*Promise[int]{New[int](), New[int](), New[int]()}
	all := All(ps[0].Future(), ps[1].Future(), ps[2].Future())
	ps[2].Resolve(30)
	ps[0].Resolve(10)
	if _, _, ok := all.Result(); ok {
		t.Fatal("All settled before every input")
	}
	ps[1].Resolve(20)
	v, err, _ := all.Result()
	if err != nil || fmt.Sprint(v) != "[10 20 30]" {
		t.Fatalf("All = %v, %v", v, err)
	}

	empty, err, ok := All[int]().Result()
	if !ok || err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("All() = %#v, %v, %v", empty, err, ok)
	}
}

func TestAllFailsFastAndCancelsTheRest(t *testing.T) {
	a, b, c := New[int](), New[int](), New[int]()
	var cancelled error
	c.OnCancel(func(cause error) { cancelled = cause })
	all := All(a.Future(), b.Future(), c.Future())
	b.Reject(errTest)
	if _, err, ok := all.Result(); !ok || err != errTest {
		t.Fatalf("All = %v, %v", err, ok)
	}
	if cancelled != errTest {
		t.Fatalf("pending input's OnCancel got %v", cancelled)
	}
	if _, err, _ := a.Future().Result(); !errors.Is(err, ErrCanceled) {
		t.Fatalf("pending input not cancelled: %v", err)
	}
	if a.Resolve(1) {
		t.Fatal("a cancelled input accepted a later Resolve")
	}
}

func TestAllSettledNeverRejects(t *testing.T) {
	a, b := New[int](), New[int]()
	f := AllSettled(a.Future(), b.Future(), Resolved(3))
	b.Reject(errTest)
	a.Resolve(1)
	rs, err, ok := f.Result()
	if !ok || err != nil || len(rs) != 3 {
		t.Fatalf("AllSettled = %v, %v, %v", rs, err, ok)
	}
	if rs[0] != (Result[int]{Value: 1}) || rs[1].Err != errTest || rs[2].Value != 3 {
		t.Fatalf("AllSettled results %+v", rs)
	}
	if v, _, ok := AllSettled[int]().Result(); !ok || len(v) != 0 {
		t.Fatal("AllSettled() did not resolve empty")
	}
}

func TestAny(t *testing.T) {
	a, b, c := New[int](), New[int](), New[int]()
	f := Any(a.Future(), b.Future(), c.Future())
	a.Reject(errTest)
	b.Resolve(2)
	if v, err, _ := f.Result(); v != 2 || err != nil {
		t.Fatalf("Any = %v, %v", v, err)
	}
	if _, err, _ := c.Future().Result(); !errors.Is(err, ErrCanceled) {
		t.Fatalf("losing input not cancelled: %v", err)
	}
	e1, e2 := errors.New("one"), errors.New("two")
	g := Any(Rejected[int](e1), Rejected[int](e2))
	_, err, _ := g.Result()
	if !errors.Is(err, e1) || !errors.Is(err, e2) || err.Error() != "one\ntwo" {
		t.Fatalf("Any of failures = %v", err)
	}
	if _, err, _ := Any[int]().Result(); err == nil {
		t.Fatal("Any() resolved")
	}
}

func TestRace(t *testing.T) {
	a, b := New[int](), New[int]()
	f := Race(a.Future(), b.Future())
	b.Reject(errTest)
	if _, err, _ := f.Result(); err != errTest {
		t.Fatalf("Race = %v", err)
	}
	if _, err, _ := a.Future().Result(); !errors.Is(err, ErrCanceled) {
		t.Fatal("Race loser not cancelled")
	}
	if v, _, _ := Race(Resolved(1), Resolved(2)).Result(); v != 1 {
		t.Fatalf("Race of settled = %v, want the first", v)
	}
}

func TestAwaitContextEndsOnlyTheWait(t *testing.T) {
	p := New[int]()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Future().Await(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Await with ended ctx = %v", err)
	}
	if _, _, ok := p.Future().Result(); ok {
		t.Fatal("ending the wait settled the future")
	}
	go p.Resolve(8)
	if v, err := await(t, p.Future()); v != 8 || err != nil {
		t.Fatalf("Await = %v, %v", v, err)
	}
	cause := errors.New("my cause")
	ctx2, cancel2 := context.WithCancelCause(context.Background())
	q := New[int]()
	go cancel2(cause)
	if _, err := q.Future().Await(ctx2); err != cause {
		t.Fatalf("Await returned %v, want the ctx cause", err)
	}
	q.Resolve(0)
}

type execFunc func(func())

func (e execFunc) Execute(fn func()) { e(fn) }

func TestAwaitOnLoopFailsFast(t *testing.T) {
	p := New[int]()
	res := make(chan error, 1)
	go func() {
		unmark := loopmark.Mark(execFunc(func(fn func()) { fn() }))
		defer unmark()
		_, err := p.Future().Await(context.Background())
		res <- err
	}()
	select {
	case err := <-res:
		if err != ErrAwaitOnLoop {
			t.Fatalf("Await on a loop = %v", err)
		}
	case <-time.After(long):
		t.Fatal("Await on a loop goroutine blocked")
	}
	p.Resolve(1)
}

func TestCancel(t *testing.T) {
	p := New[int]()
	var hooks []string
	p.OnCancel(func(cause error) { hooks = append(hooks, "1:"+cause.Error()) })
	p.OnCancel(func(cause error) { hooks = append(hooks, "2:"+cause.Error()) })
	p.OnCancel(func(cause error) { hooks = append(hooks, "3:"+cause.Error()) })
	if !p.Future().Cancel(errTest) {
		t.Fatal("Cancel reported false")
	}
	_, err, _ := p.Future().Result()
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, errTest) {
		t.Fatalf("cancel error %v does not match ErrCanceled and the cause", err)
	}
	if strings.Join(hooks, ",") != "1:test error,2:test error,3:test error" {
		t.Fatalf("hooks = %v", hooks)
	}
	late := ""
	p.OnCancel(func(cause error) { late = cause.Error() })
	if late != "test error" {
		t.Fatal("OnCancel after the cancel did not run at once")
	}
	if p.Future().Cancel(nil) || p.Resolve(1) {
		t.Fatal("settle after Cancel reported true")
	}
	q := New[int]()
	q.OnCancel(func(error) { t.Error("hook ran on a resolved future") })
	q.Resolve(1)
	if q.Future().Cancel(nil) {
		t.Fatal("Cancel of a resolved future reported true")
	}
	r := New[int]()
	r.Future().Cancel(nil)
	if _, err, _ := r.Future().Result(); !errors.Is(err, ErrCanceled) {
		t.Fatalf("Cancel(nil) = %v", err)
	}
}

func TestCancelPropagatesToSoleUpstream(t *testing.T) {
	p := New[int]()
	var up error
	p.OnCancel(func(cause error) { up = cause })
	g := p.Future().Then(func(v int) (int, error) { return v, nil }).Then(func(v int) (int, error) { return v, nil })
	g.Cancel(errTest)
	if up != errTest {
		t.Fatalf("source OnCancel got %v through two Then steps", up)
	}

	// With a second consumer the source is left alone.
	q := New[int]()
	q.OnCancel(func(error) { t.Error("shared source was cancelled") })
	h := q.Future().Then(func(v int) (int, error) { return v, nil })
	other := q.Future().Then(func(v int) (int, error) { return v + 1, nil })
	h.Cancel(errTest)
	q.Resolve(1)
	if v, _, _ := other.Result(); v != 2 {
		t.Fatalf("other consumer got %v", v)
	}
	if _, err, _ := h.Result(); !errors.Is(err, ErrCanceled) {
		t.Fatalf("cancelled derived = %v", err)
	}
}

func TestCancelSkipsPendingWork(t *testing.T) {
	p := New[int]()
	ran := false
	g := p.Future().Then(func(v int) (int, error) { ran = true; return v, nil })
	other := p.Future().Then(func(v int) (int, error) { return v, nil })
	g.Cancel(nil)
	p.Resolve(1)
	if ran {
		t.Fatal("the Then callback of a cancelled future ran")
	}
	_ = other
}

func TestWithContext(t *testing.T) {
	p := New[int]()
	var up error
	p.OnCancel(func(cause error) { up = cause })
	cause := errors.New("gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	f := WithContext(ctx, p.Future())
	cancel(cause)
	if _, err := await(t, f); err != cause {
		t.Fatalf("WithContext = %v, want the cause", err)
	}
	if !errors.Is(up, cause) {
		t.Fatalf("source OnCancel got %v", up)
	}
	// Settling first wins and releases the AfterFunc.
	q := New[int]()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	g := WithContext(ctx2, q.Future())
	q.Resolve(5)
	if v, err := await(t, g); v != 5 || err != nil {
		t.Fatalf("WithContext ok = %v, %v", v, err)
	}
	// An ended context rejects at once.
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err, ok := WithContext(done, New[int]().Future()).Result(); !ok || !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx = %v, %v", err, ok)
	}
	// A ctx that cannot end returns f itself.
	if WithContext(context.Background(), p.Future()) != p.Future() {
		t.Fatal("Background ctx wrapped the future")
	}
}

func TestErrTimeoutIsDeadlineExceeded(t *testing.T) {
	if !errors.Is(ErrTimeout, context.DeadlineExceeded) {
		t.Fatal("ErrTimeout does not match context.DeadlineExceeded")
	}
	if !errors.Is(fmt.Errorf("op: %w", ErrTimeout), ErrTimeout) {
		t.Fatal("wrapped ErrTimeout does not match itself")
	}
	var te interface{ Timeout() bool }
	if !errors.As(ErrTimeout, &te) || !te.Timeout() {
		t.Fatal("ErrTimeout has no Timeout() true")
	}
}

func TestVia(t *testing.T) {
	var queue []func()
	var mu sync.Mutex
	e := execFunc(func(fn func()) { mu.Lock(); queue = append(queue, fn); mu.Unlock() })
	p := New[int]()
	ran := false
	f := p.Future().Via(e).Then(func(v int) (int, error) { ran = true; return v, nil })
	p.Resolve(1)
	if ran {
		t.Fatal("continuation of a Via future ran before the executor ran it")
	}
	mu.Lock()
	q := queue
	mu.Unlock()
	if len(q) != 1 {
		t.Fatalf("executor got %d tasks", len(q))
	}
	q[0]()
	if v, _, ok := f.Result(); !ok || v != 1 || !ran {
		t.Fatal("continuation did not run on the executor")
	}
	if v, _, _ := Resolved(3).Via(nil).Result(); v != 3 {
		t.Fatal("Via(nil) is not inline")
	}
	if v, _, _ := Resolved(4).Via(Inline).Result(); v != 4 {
		t.Fatal("Via(Inline) is not inline")
	}
}

func TestDoneAndResult(t *testing.T) {
	p := New[int]()
	d := p.Future().Done()
	if d != p.Future().Done() {
		t.Fatal("Done returned two channels")
	}
	select {
	case <-d:
		t.Fatal("Done closed while pending")
	default:
	}
	if _, _, ok := p.Future().Result(); ok {
		t.Fatal("Result ok while pending")
	}
	p.Resolve(1)
	select {
	case <-d:
	default:
		t.Fatal("Done not closed after Resolve")
	}
	select {
	case <-Resolved(1).Done():
	default:
		t.Fatal("Done of a settled future is not closed")
	}
}

func TestGo(t *testing.T) {
	f := Go(func() (string, error) { return "done", nil })
	if v, err := await(t, f); v != "done" || err != nil {
		t.Fatalf("Go = %q, %v", v, err)
	}
	if _, err := await(t, Go(func() (int, error) { return 0, errTest })); err != errTest {
		t.Fatalf("Go error = %v", err)
	}
	if _, err := await(t, Go[int](nil)); err == nil {
		t.Fatal("Go(nil) resolved")
	}
}

func TestPoolBoundsAndQueues(t *testing.T) {
	p := newPool(2, 3)
	release := make(chan struct{})
	var running, peak atomic.Int32
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	mk := func(i int) task {
		wg.Add(1)
		return taskFunc(func() {
			defer wg.Done()
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			<-release
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			running.Add(-1)
		})
	}
	for i := range 5 {
		if err := p.submit(mk(i)); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if err := p.submit(taskFunc(func() {})); err != ErrPoolFull {
		t.Fatalf("6th submit = %v, want ErrPoolFull", err)
	}
	close(release)
	wg.Wait()
	if peak.Load() > 2 {
		t.Fatalf("%d tasks ran at once, limit 2", peak.Load())
	}
	if len(order) != 5 {
		t.Fatalf("%d of 5 tasks ran", len(order))
	}
	// One worker shows the queue's FIFO order.
	one := newPool(1, 10)
	var seq []int
	done := make(chan struct{})
	for i := range 6 {
		one.submit(taskFunc(func() {
			seq = append(seq, i) // one worker: no concurrent append
			if i == 5 {
				close(done)
			}
		}))
	}
	<-done
	if fmt.Sprint(seq) != "[0 1 2 3 4 5]" {
		t.Fatalf("queued tasks ran out of order: %v", seq)
	}
}

type taskFunc func()

func (f taskFunc) run() { f() }

func TestGoCancelledWhileQueuedSkipsWork(t *testing.T) {
	saved := blocking
	blocking = newPool(1, 10)
	defer func() { blocking = saved }()
	release := make(chan struct{})
	first := Go(func() (int, error) { <-release; return 1, nil })
	ran := false
	second := Go(func() (int, error) { ran = true; return 2, nil })
	second.Cancel(nil)
	close(release)
	if v, _ := await(t, first); v != 1 {
		t.Fatal(v)
	}
	// The worker has passed the cancelled task once the pool is idle.
	deadline := time.Now().Add(long)
	for {
		blocking.mu.Lock()
		idle := blocking.running == 0
		blocking.mu.Unlock()
		if idle || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if ran {
		t.Fatal("a task cancelled in the queue ran")
	}
}

func TestVetCatchesPromiseCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet")
	}
	if _, err := os.Stat("testdata/copyvet/copy.go"); err != nil {
		t.Fatal(err)
	}
	out, err := goVet("./testdata/copyvet")
	if err == nil {
		t.Fatalf("go vet accepted a copied Promise:\n%s", out)
	}
	if !strings.Contains(out, "copies lock") && !strings.Contains(out, "passes lock by value") {
		t.Fatalf("go vet failed without a copylocks report:\n%s", out)
	}
}
