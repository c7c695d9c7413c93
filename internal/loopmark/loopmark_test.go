package loopmark

import (
	"sync"
	"testing"
)

type execFunc func(func())

func (f execFunc) Execute(fn func()) { f(fn) }

func TestMarkIsPerGoroutine(t *testing.T) {
	if OnLoop() {
		t.Fatal("test goroutine reported as a loop before any mark")
	}
	var e Executor = execFunc(func(fn func()) { fn() })
	marked := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var onLoopInside bool
	go func() {
		defer wg.Done()
		unmark := Mark(e)
		defer unmark()
		_, onLoopInside = Current()
		close(marked)
		<-release
	}()
	<-marked
	if !Active() {
		t.Fatal("Active is false while a loop is marked")
	}
	if OnLoop() {
		t.Fatal("an unmarked goroutine is reported as a loop")
	}
	close(release)
	wg.Wait()
	if !onLoopInside {
		t.Fatal("the marked goroutine is not reported as a loop")
	}
	if Active() {
		t.Fatal("Active stays true after unmark")
	}
}

func TestGoIDDiffers(t *testing.T) {
	a := GoID()
	ch := make(chan uint64)
	go func() { ch <- GoID() }()
	b := <-ch
	if a == 0 || b == 0 || a == b {
		t.Fatalf("goroutine ids: %d and %d", a, b)
	}
}

func BenchmarkCurrentMarked(b *testing.B) {
	unmarkOther := make(chan func())
	done := make(chan struct{})
	go func() {
		unmarkOther <- Mark(execFunc(func(fn func()) { fn() }))
		<-done
	}()
	unmark := <-unmarkOther
	defer func() { close(done); unmark() }()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Current(); ok {
			b.Fatal("not a loop")
		}
	}
}

func BenchmarkGoID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = GoID()
	}
}

// A marker counts as its loop only in a session, and never for another
// goroutine, also while the session is on.
func TestSessions(t *testing.T) {
	var e Executor = execFunc(func(fn func()) { fn() })
	type answer struct{ before, in, mine, after bool }
	step := make(chan struct{})
	cont := make(chan struct{})
	res := make(chan answer, 1)
	var m *Marker
	go func() {
		m = NewMarker(e)
		defer m.Unmark()
		var a answer
		_, a.before = Current()
		m.Enter()
		m.Enter() // nested: no-op
		_, a.in = Current()
		a.mine = m.Mine()
		step <- struct{}{}
		<-cont
		m.Leave()
		_, a.after = Current()
		res <- a
	}()
	<-step // the marked goroutine is in its session now
	if OnLoop() || m.Mine() {
		t.Error("another goroutine is reported as the loop during its session")
	}
	close(cont)
	a := <-res
	if a.before || a.after {
		t.Errorf("outside a session the marked goroutine counts as a loop: %+v", a)
	}
	if !a.in || !a.mine {
		t.Errorf("in its session the marked goroutine does not count as its loop: %+v", a)
	}
}

func BenchmarkCurrentNoSession(b *testing.B) {
	m := NewMarker(execFunc(func(fn func()) { fn() }))
	defer m.Unmark()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Current(); ok {
			b.Fatal("not a loop")
		}
	}
}

func BenchmarkEnterLeave(b *testing.B) {
	m := NewMarker(execFunc(func(fn func()) { fn() }))
	defer m.Unmark()
	b.ReportAllocs()
	for b.Loop() {
		m.Enter()
		m.Leave()
	}
}
