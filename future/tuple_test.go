package future

import (
	"errors"
	"net/netip"
	"strconv"
	"testing"
)

func TestAll2JoinsDifferentTypes(t *testing.T) {
	addrs, reply := New[[]netip.Addr](), New[string]()
	j := All2(addrs.Future(), reply.Future())
	reply.Resolve("pong")
	if _, _, ok := j.Result(); ok {
		t.Fatal("All2 settled with one input pending")
	}
	addrs.Resolve([]netip.Addr{netip.MustParseAddr("127.0.0.1")})
	v, err := await(t, j)
	if err != nil || v.V2 != "pong" || len(v.V1) != 1 || v.V1[0].String() != "127.0.0.1" {
		t.Fatalf("All2 = %+v, %v", v, err)
	}
}

func TestAll3RejectsFirstAndCancelsTheRest(t *testing.T) {
	a, b, c := New[int](), New[string](), New[float64]()
	var told []string
	a.OnCancel(func(error) { told = append(told, "a") })
	c.OnCancel(func(error) { told = append(told, "c") })
	j := All3(a.Future(), b.Future(), c.Future())
	b.Reject(errTest)
	_, err := await(t, j)
	if !errors.Is(err, errTest) {
		t.Fatalf("All3 = %v, want errTest", err)
	}
	if len(told) != 2 || told[0] != "a" || told[1] != "c" {
		t.Fatalf("inputs told of cancellation: %v", told)
	}
	if _, err, _ := a.Future().Result(); !errors.Is(err, ErrCanceled) || !errors.Is(err, errTest) {
		t.Fatalf("a = %v, want a cancellation caused by errTest", err)
	}
}

func TestAll3AlreadySettledAndCancelUp(t *testing.T) {
	j := All3(Resolved(1), Resolved("two"), Then(Resolved("3"), strconv.Atoi))
	v, err := await(t, j)
	if err != nil || v != (Tuple3[int, string, int]{1, "two", 3}) {
		t.Fatalf("All3 = %+v, %v", v, err)
	}
	// Cancelling the join reaches inputs it is the only consumer of.
	p, q := New[int](), New[bool]()
	shared := q.Future()
	shared.OnComplete(func(bool, error) {}) // a second consumer
	j2 := All2(p.Future(), shared)
	j2.Cancel(nil)
	if _, err, ok := p.Future().Result(); !ok || !errors.Is(err, ErrCanceled) {
		t.Fatalf("sole input not cancelled: %v %v", err, ok)
	}
	if _, _, ok := shared.Result(); ok {
		t.Fatal("a shared input was cancelled")
	}
	if _, err := await(t, All2[int, int](nil, Resolved(1))); !errors.Is(err, errNilFuture) {
		t.Fatalf("All2(nil) = %v", err)
	}
}

func TestOrElse(t *testing.T) {
	calls := 0
	primary := New[string]()
	got := primary.Future().OrElse(func(err error) *Future[string] {
		calls++
		if !errors.Is(err, errTest) {
			t.Errorf("OrElse saw %v", err)
		}
		return Then(Resolved(7), func(v int) (string, error) { return "cache:" + strconv.Itoa(v), nil })
	})
	primary.Reject(errTest)
	if v, err := await(t, got); v != "cache:7" || err != nil {
		t.Fatalf("OrElse = %q, %v", v, err)
	}
	// A resolution passes through without calling fn.
	if v, err := await(t, Resolved("fresh").OrElse(func(error) *Future[string] { calls++; return nil })); v != "fresh" || err != nil {
		t.Fatalf("pass-through = %q %v", v, err)
	}
	if calls != 1 {
		t.Fatalf("fn ran %d times", calls)
	}
	// A nil future and a panic reject.
	if _, err := await(t, Rejected[int](errTest).OrElse(func(error) *Future[int] { return nil })); !errors.Is(err, errNilFuture) {
		t.Fatalf("nil fallback = %v", err)
	}
	if _, err := await(t, Rejected[int](errTest).OrElse(func(error) *Future[int] { panic("boom") })); !errors.Is(err, ErrPanic) {
		t.Fatalf("panicking fallback = %v", err)
	}
	// Cancelling after the fallback started cancels the fallback.
	fb := New[int]()
	cancelled := false
	fb.OnCancel(func(error) { cancelled = true })
	out := Rejected[int](errTest).OrElse(func(error) *Future[int] { return fb.Future() })
	out.Cancel(nil)
	if !cancelled {
		t.Fatal("the fallback's producer was not told of the cancellation")
	}
}

// Inputs settled from three goroutines at once: every join sees all three
// values, exactly once.
func TestAll3ConcurrentInputs(t *testing.T) {
	const N = 2000
	for i := range N {
		a, b, c := New[int](), New[string](), New[bool]()
		j := All3(a.Future(), b.Future(), c.Future())
		done := make(chan struct{})
		go func() { a.Resolve(i); done <- struct{}{} }()
		go func() { b.Resolve(strconv.Itoa(i)); done <- struct{}{} }()
		go func() { c.Resolve(i%2 == 0); done <- struct{}{} }()
		for range 3 {
			<-done
		}
		v, err, ok := j.Result()
		if !ok || err != nil || v.V1 != i || v.V2 != strconv.Itoa(i) || v.V3 != (i%2 == 0) {
			t.Fatalf("join %d = %+v, %v, %v", i, v, err, ok)
		}
	}
}
