package future

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/stats"
)

// gcUntil runs the collector until fn reports true or the bound passes.
func gcUntil(fn func() bool) bool {
	deadline := time.Now().Add(long)
	for time.Now().Before(deadline) {
		runtime.GC()
		if fn() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func TestUnhandledRejectionReportedOnce(t *testing.T) {
	errLost := errors.New("lost rejection")
	errChainEnd := errors.New("end of an unobserved chain")
	errRejected := errors.New("Rejected never observed")
	errSeen := errors.New("observed rejection")
	errGaveUp := errors.New("rejected after its waiter gave up")
	var mu sync.Mutex
	counts := map[error]int{}
	SetUnhandledHandler(func(err error) {
		mu.Lock()
		counts[err]++
		mu.Unlock()
	})
	defer SetUnhandledHandler(nil)

	func() {
		New[int]().Reject(errLost)
		p := New[int]()
		p.Future().Then(func(v int) (int, error) { return v, nil }) // the Then future is the unobserved end
		p.Reject(errChainEnd)
		Rejected[int](errRejected)
		w := New[int]()
		ended, end := context.WithCancel(context.Background())
		end()
		w.Future().Await(ended) // the wait ends; nobody sees the later rejection
		w.Reject(errGaveUp)

		// Observed in every way the handler must not hear about.
		a := New[int]()
		a.Future().Catch(func(error) (int, error) { return 0, nil })
		a.Reject(errSeen)
		b := Rejected[int](errSeen)
		b.Catch(func(error) (int, error) { return 0, nil }) // attached after the rejection
		c := New[int]()
		c.Reject(errSeen)
		c.Future().Result()
		d := New[int]()
		d.Reject(errSeen)
		d.Future().Await(context.Background())
		e := New[int]()
		e.Future().OnComplete(func(int, error) {})
		e.Reject(errSeen)
		New[int]().Future().Cancel(errSeen) // cancellations are never reported
	}()

	want := []error{errLost, errChainEnd, errRejected, errGaveUp}
	if !gcUntil(func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range want {
			if counts[e] == 0 {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("unobserved rejections not all reported: %v", counts)
	}
	for range 3 {
		runtime.GC()
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range want {
		if counts[e] != 1 {
			t.Errorf("%v reported %d times", e, counts[e])
		}
	}
	if counts[errSeen] != 0 {
		t.Errorf("an observed rejection was reported %d times", counts[errSeen])
	}
}

func TestUnhandledDefaultIsZapWarning(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)
	SetUnhandledHandler(nil)
	reportUnhandled(errTest)
	// A panic in OnComplete has no future to reject: it is reported.
	Resolved(1).OnComplete(func(int, error) { panic("in OnComplete") })
	entries := logs.All()
	if len(entries) != 2 {
		t.Fatalf("%d log entries, want 2", len(entries))
	}
	if entries[0].Level != zapcore.WarnLevel || entries[0].ContextMap()["error"] != errTest.Error() {
		t.Fatalf("entry %+v", entries[0])
	}
	if entries[1].ContextMap()["error"] != "future: panic: in OnComplete" {
		t.Fatalf("OnComplete panic entry %+v", entries[1].ContextMap())
	}
}

func TestNamedLogsAtDebug(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)

	p := New[int]()
	p.Future().Named("fetch")
	q := New[int]()
	q.Future().Named("parse")
	r := New[int]()
	r.Future().Named("dial")
	p.Resolve(1)
	q.Reject(errTest)
	r.Future().Cancel(nil)
	q.Future().Result()

	entries := logs.FilterMessage("future settled").All()
	if len(entries) != 3 {
		t.Fatalf("%d entries, want 3", len(entries))
	}
	ids := map[any]bool{}
	for i, want := range []struct{ name, stage string }{{"fetch", "resolve"}, {"parse", "reject"}, {"dial", "cancel"}} {
		m := entries[i].ContextMap()
		if m["name"] != want.name || m["stage"] != want.stage {
			t.Errorf("entry %d: %v, want %v", i, m, want)
		}
		if _, ok := m["duration"].(time.Duration); !ok {
			t.Errorf("entry %d has no duration: %v", i, m)
		}
		ids[m["id"]] = true
	}
	if len(ids) != 3 {
		t.Errorf("ids not unique: %v", ids)
	}
	if entries[1].ContextMap()["error"] != errTest.Error() {
		t.Errorf("reject entry error = %v", entries[1].ContextMap()["error"])
	}
}

func TestNamedFreeWhenDebugOff(t *testing.T) {
	logx.Set(nil)
	f := New[int]().Future()
	if n := testing.AllocsPerRun(100, func() { f.Named("x") }); n != 0 {
		t.Fatalf("Named allocates %v times with debug off", n)
	}
}

func TestPendingFuturesGauge(t *testing.T) {
	before := stats.PendingFutures.Load()
	p := New[int]()
	d := p.Future().Then(func(v int) (int, error) { return v, nil })
	q := New[int]()
	g := Go(func() (int, error) { return 0, nil })
	// The roots p, q and the Go future count; the derived d does not.
	if got := stats.PendingFutures.Load() - before; got < 2 || got > 3 {
		t.Fatalf("gauge rose by %d, want 2 or 3 (the Go task may have finished)", got)
	}
	await(t, g)
	p.Resolve(1)
	q.Future().Cancel(nil)
	if got := stats.PendingFutures.Load() - before; got != 0 {
		t.Fatalf("gauge is %d above the start after settling", got)
	}
	if _, _, ok := d.Result(); !ok {
		t.Fatal("derived future pending")
	}
	Resolved(1)
	Rejected[int](errTest).Result()
	if got := stats.PendingFutures.Load() - before; got != 0 {
		t.Fatal("settled-at-birth futures moved the gauge")
	}
}

func TestCombinatorsStartNoGoroutines(t *testing.T) {
	ps := []*Promise[int]{New[int](), New[int](), New[int](), New[int]()}
	f := ps[0].Future()
	chain := f.Then(func(v int) (int, error) { return v, nil }).
		Catch(func(error) (int, error) { return 0, nil }).
		Finally(func() {})
	h := Handle(chain, func(v int, err error) (int, error) { return v, err })
	c := CatchAs(h, func(e *codeError) (int, error) { return 0, nil })
	co := Compose(c, func(v int) *Future[int] { return ps[3].Future() })
	fs := []*Future[int]{ps[1].Future(), ps[2].Future(), co}
	all, settled, anyF, race := All(fs...), AllSettled(fs...), Any(fs...), Race(fs...)
	all.OnComplete(func([]int, error) {})
	via := race.Via(Inline)
	goleak.VerifyNone(t) // everything above is pending: no goroutine may exist
	for i, p := range ps {
		p.Resolve(i)
	}
	goleak.VerifyNone(t)
	for _, f := range []*Future[int]{anyF, race, via} {
		if _, _, ok := f.Result(); !ok {
			t.Fatal("a combinator did not settle")
		}
	}
	// Race cancelled its losers, which are All's inputs too: All settled
	// with that cancellation.
	if _, err, ok := all.Result(); !ok || !errors.Is(err, ErrCanceled) {
		t.Fatalf("All = %v, %v", err, ok)
	}
	if v, _, _ := settled.Result(); len(v) != 3 {
		t.Fatalf("AllSettled = %v", v)
	}
}

func TestAllocationBudgets(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes allocation counts")
	}
	inc := func(v int) (int, error) { return v + 1, nil }
	if n := testing.AllocsPerRun(1000, func() {
		p := New[int]()
		p.Future().Then(inc)
		p.Resolve(1)
	}); n > 2 {
		t.Errorf("create+Then+resolve: %v allocs, budget 2", n)
	}
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		p := New[int]()
		p.Resolve(1)
		p.Future().Await(ctx)
	}); n > 1 {
		t.Errorf("New+Resolve+Await: %v allocs, budget 1", n)
	}
	hook := func(error) {}
	if n := testing.AllocsPerRun(1000, func() {
		p := New[int]()
		p.OnCancel(hook)
		p.Resolve(1)
	}); n > 1 {
		t.Errorf("New+OnCancel+Resolve: %v allocs, budget 1 (the first hook needs no extras)", n)
	}
	const N = 16
	fs := make([]*Future[int], N)
	ps := make([]*Promise[int], N)
	if n := testing.AllocsPerRun(200, func() {
		for i := range ps {
			ps[i] = New[int]()
			fs[i] = ps[i].Future()
		}
		All(fs...)
		for _, p := range ps {
			p.Resolve(1)
		}
	}); n > N+3 {
		t.Errorf("All of %d: %v allocs, budget %d", N, n, N+3)
	}
}

// TestStress races Resolve, Reject, Cancel, Then and Await on the same
// futures from 8 goroutines, 10,000 futures each, and checks that every
// continuation runs exactly once and every goroutine sees one outcome.
func TestStress(t *testing.T) {
	const G, N = 8, 10000
	ps := make([][]*Promise[int], G)
	for g := range ps {
		ps[g] = make([]*Promise[int], N)
		for i := range ps[g] {
			ps[g][i] = New[int]()
		}
	}
	// slot 0: the owner goroutine, slot 1: its neighbour.
	completes := make([][2][]atomic.Int32, G)
	thenRuns := make([][2][]atomic.Int32, G)
	seen := make([][2][]Result[int], G)
	for g := range G {
		for s := range 2 {
			completes[g][s] = make([]atomic.Int32, N)
			thenRuns[g][s] = make([]atomic.Int32, N)
			seen[g][s] = make([]Result[int], N)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*long)
	defer cancel()
	var wg sync.WaitGroup
	for g := range G {
		wg.Go(func() {
			for i := range N {
				for s, owner := range [2]int{g, (g + 1) % G} {
					p := ps[owner][i]
					f := p.Future()
					d := f.Then(func(v int) (int, error) {
						thenRuns[owner][s][i].Add(1)
						return v, nil
					})
					d.OnComplete(func(int, error) { completes[owner][s][i].Add(1) })
					switch (owner + i + s) % 4 {
					case 0:
						p.Resolve(i)
					case 1:
						p.Reject(errTest)
					case 2:
						f.Cancel(errTest)
					case 3:
						d.Cancel(nil) // f has two consumers: the other slot settles it
					}
					v, err := f.Await(ctx)
					if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
						t.Errorf("future %d/%d never settled", owner, i)
						return
					}
					seen[owner][s][i] = Result[int]{Value: v, Err: err}
				}
			}
		})
	}
	wg.Wait()
	for g := range G {
		for i := range N {
			final, ferr, ok := ps[g][i].Future().Result()
			if !ok {
				t.Fatalf("future %d/%d pending", g, i)
			}
			for s := range 2 {
				if n := completes[g][s][i].Load(); n != 1 {
					t.Fatalf("continuation %d/%d/%d ran %d times", g, i, s, n)
				}
				if n := thenRuns[g][s][i].Load(); n > 1 {
					t.Fatalf("Then callback %d/%d/%d ran %d times", g, i, s, n)
				}
				if r := seen[g][s][i]; r.Value != final || !errors.Is(r.Err, ferr) && r.Err != ferr {
					t.Fatalf("goroutines saw different outcomes of %d/%d: %+v vs %v, %v", g, i, r, final, ferr)
				}
			}
		}
	}
}

func TestManyAwaiters(t *testing.T) {
	for round := range 20 {
		p := New[int]()
		const n = 50
		res := make(chan int, n)
		ctx, cancel := context.WithTimeout(context.Background(), long)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				wctx := ctx
				if i%5 == 0 {
					// Some waits give up at once; the rest must not care.
					c, stop := context.WithCancel(ctx)
					stop()
					wctx = c
				}
				v, err := p.Future().Await(wctx)
				if err == nil {
					res <- v
				} else if !errors.Is(err, context.Canceled) {
					t.Errorf("Await = %v", err)
				}
			})
		}
		p.Resolve(round)
		wg.Wait()
		cancel()
		close(res)
		got := 0
		for v := range res {
			if v != round {
				t.Fatalf("awaiter got %d, want %d", v, round)
			}
			got++
		}
		if got < n-n/5 {
			t.Fatalf("only %d of %d awaiters got the value", got, n)
		}
	}
}
