package future

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/goasync/goasync/internal/logx"
)

func debugLogs(t *testing.T) *observer.ObservedLogs {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	logx.Set(zap.New(core))
	t.Cleanup(func() { logx.Set(nil) })
	return logs
}

func parseNum(s string) (int, error) { return strconv.Atoi(s) }

// step is one traced step as the log tells it.
type step struct {
	trace, name, kind, at, stage, err string
	parent                            uint64
	started, settled                  bool
	dur                               time.Duration
}

func steps(t *testing.T, logs *observer.ObservedLogs) map[uint64]*step {
	t.Helper()
	out := map[uint64]*step{}
	get := func(m map[string]any) *step {
		id := m["id"].(uint64)
		if out[id] == nil {
			out[id] = &step{}
		}
		return out[id]
	}
	for _, e := range logs.All() {
		m := e.ContextMap()
		switch e.Message {
		case "future started":
			s := get(m)
			if s.settled {
				t.Errorf("step %v settled before it started", m["id"])
			}
			s.started = true
			s.trace, s.kind, s.name = m["trace"].(string), m["kind"].(string), m["name"].(string)
			s.at, _ = m["at"].(string)
			s.parent = m["parent"].(uint64)
		case "future settled":
			s := get(m)
			s.settled = true
			s.stage = m["stage"].(string)
			s.dur = m["duration"].(time.Duration)
			if e, ok := m["error"].(string); ok {
				s.err = e
			}
			if m["trace"].(string) != s.trace || m["parent"].(uint64) != s.parent {
				t.Errorf("step %v: settled entry disagrees with started entry", m["id"])
			}
		}
	}
	return out
}

func byName(ss map[uint64]*step, prefix string) (uint64, *step) {
	for id, s := range ss {
		if strings.HasPrefix(s.name, prefix) {
			return id, s
		}
	}
	return 0, nil
}

func TestTracePipelineCarriesIDsAndParents(t *testing.T) {
	logs := debugLogs(t)
	ctx := WithTraceID(context.Background(), "req-42")
	if TraceID(ctx) != "req-42" {
		t.Fatalf("TraceID = %q", TraceID(ctx))
	}
	conn := New[string]()
	root := Trace(ctx, conn.Future(), "connect")
	num := Then(root, parseNum)
	reply := New[string]()
	composed := Compose(num, func(int) *Future[string] {
		// An operation started inside the pipeline with its context.
		return Trace(TraceContext(ctx, num), reply.Future(), "read reply")
	})
	other := Trace(ctx, Resolved(true), "flag")
	joined := All2(composed, other)
	end := Then(joined, func(t Tuple2[string, bool]) (string, error) { return "", errTest }).
		Catch(func(error) (string, error) { return "recovered", nil })
	conn.Resolve("12")
	time.Sleep(2 * time.Millisecond)
	reply.Resolve("ok")
	if v, err := await(t, end); v != "recovered" || err != nil {
		t.Fatalf("end = %q %v", v, err)
	}

	ss := steps(t, logs)
	for id, s := range ss {
		if !s.started || !s.settled {
			t.Errorf("step %d %q: started %v settled %v", id, s.name, s.started, s.settled)
		}
		if s.trace != "req-42" {
			t.Errorf("step %d %q in trace %q", id, s.name, s.trace)
		}
		if !strings.HasPrefix(s.at, "trace_test.go:") {
			t.Errorf("step %d %q made at %q, want this file", id, s.name, s.at)
		}
	}
	rootID, r := byName(ss, "connect")
	numID, n := byName(ss, "then future.parseNum")
	compID, c := byName(ss, "compose future.TestTracePipelineCarriesIDsAndParents.func1")
	readID, rd := byName(ss, "read reply")
	_, j := byName(ss, "all2")
	_, ca := byName(ss, "catch")
	if r == nil || n == nil || c == nil || rd == nil || j == nil || ca == nil {
		t.Fatalf("steps missing: %+v", ss)
	}
	// The join is a child of its inputs' nearest common ancestor: the
	// compose descends from the root, flag is a root of its own.
	if r.parent != 0 || n.parent != rootID || c.parent != numID || rd.parent != numID || j.parent != 0 {
		t.Fatalf("parents: root %d, then %d->%d, compose %d->%d, read %d->%d, all2 ->%d",
			r.parent, numID, n.parent, compID, c.parent, readID, rd.parent, j.parent)
	}
	if c.dur < 2*time.Millisecond {
		t.Errorf("compose step lasted %v; it waited for the reply (>= 2ms)", c.dur)
	}
	if _, th := byName(ss, "then future.TestTracePipelineCarriesIDsAndParents.func2"); th == nil || th.stage != "reject" || th.err != errTest.Error() {
		t.Errorf("failed step: %+v", th)
	}
	if ca.stage != "resolve" {
		t.Errorf("catch step: %+v", ca)
	}
}

func TestTraceRootsWithoutContextGetFreshIDs(t *testing.T) {
	logs := debugLogs(t)
	a := Trace(context.Background(), New[int]().Future(), "a")
	b := New[int]().Future().Named("b")
	ta, _ := StepOf(a)
	tb, sb := StepOf(b)
	if ta == "" || tb == "" || ta == tb || sb == 0 {
		t.Fatalf("trace ids %q %q step %d", ta, tb, sb)
	}
	// Untraced futures stay untraced, and their chains log nothing.
	p := New[int]()
	p.Future().Then(func(v int) (int, error) { return v, nil })
	p.Resolve(1)
	if id, _ := StepOf(p.Future()); id != "" {
		t.Fatal("an untraced future has a trace")
	}
	// Follow continues a pipeline through a wrapper made with New.
	w := New[int]()
	Follow(w.Future(), a, "wrapper")
	if tw, _ := StepOf(w.Future()); tw != ta {
		t.Fatalf("Follow: trace %q, want %q", tw, ta)
	}
	if n := len(logs.FilterMessage("future started").All()); n != 3 {
		t.Fatalf("%d started entries, want 3 (a, b, wrapper)", n)
	}
}

func TestTraceFreeWhenDebugOff(t *testing.T) {
	logx.Set(nil)
	ctx := WithTraceID(context.Background(), "x")
	f := New[int]().Future()
	g := New[int]().Future()
	if n := testing.AllocsPerRun(100, func() {
		Trace(ctx, f, "x")
		TraceContext(ctx, f)
		Follow(g, f, "y")
		StepOf(f)
	}); n != 0 {
		t.Fatalf("tracing calls allocate %v times with debug off", n)
	}
	if id, _ := StepOf(f); id != "" {
		t.Fatal("traced with debug off")
	}
	if !errors.Is(Trace[int](ctx, nil, "x").errOrNil(), nil) {
		t.Fatal("Trace(nil)")
	}
}

func (f *Future[T]) errOrNil() error {
	if f == nil {
		return nil
	}
	_, err, _ := f.Result()
	return err
}

func TestUnhandledWarningSaysWhereTheFutureWasMade(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)
	SetUnhandledHandler(nil)
	errLost := errors.New("lost in a traced pipeline")
	func() {
		p := New[int]()
		Trace(context.Background(), p.Future(), "lost").Then(func(v int) (int, error) { return v, nil }) // line of interest
		p.Reject(errLost)
	}()
	if !gcUntil(func() bool { return logs.FilterMessage("future: unhandled rejection").Len() > 0 }) {
		t.Fatal("no unhandled-rejection warning")
	}
	m := logs.FilterMessage("future: unhandled rejection").All()[0].ContextMap()
	if m["error"] != errLost.Error() || !strings.HasPrefix(m["created"].(string), "trace_test.go:") || m["trace"] == "" {
		t.Fatalf("warning fields: %v", m)
	}
}

func TestJoinIsAChildOfItsInputsCommonAncestor(t *testing.T) {
	logs := debugLogs(t)
	p := New[int]()
	root := Trace(context.Background(), p.Future(), "root")
	inc := func(v int) (int, error) { return v + 1, nil }
	a := root.Then(inc)
	b := root.Then(inc).Then(inc)
	j := All(a, b)
	p.Resolve(1)
	if v, err := await(t, j); err != nil || v[1] != 3 {
		t.Fatal(v, err)
	}
	ss := steps(t, logs)
	rootID, _ := byName(ss, "root")
	_, js := byName(ss, "all")
	if js == nil || js.parent != rootID {
		t.Fatalf("join %+v, want a child of the root %d", js, rootID)
	}
}

// Every way of deriving a future carries the pipeline: each derived step
// is in the root's trace, with a parent in it.
func TestEveryCombinatorCarriesTheTrace(t *testing.T) {
	logs := debugLogs(t)
	ctx := WithTraceID(context.Background(), "all-kinds")
	p := New[int]()
	root := Trace(ctx, p.Future(), "root")
	id := func(v int) (int, error) { return v, nil }
	other := Trace(ctx, Resolved("x"), "other")
	fs := []*Future[int]{
		root.Then(id),
		root.Catch(func(error) (int, error) { return 0, nil }),
		CatchAs(root, func(*codeError) (int, error) { return 0, nil }),
		Handle(root, func(v int, err error) (int, error) { return v, err }),
		root.Finally(func() {}),
		Compose(root, func(v int) *Future[int] { return Resolved(v) }),
		root.OrElse(func(error) *Future[int] { return Resolved(0) }),
		root.Via(Inline),
		WithContext(context.Background(), root), // a context that never ends: f itself
		WithContext(ctx2(t), root),
	}
	// Any and Race cancel their losers: give them inputs of their own.
	joins := []*Future[int]{Any(root.Then(id), root.Then(id)), Race(root.Then(id), root.Then(id))}
	all := All(fs...)
	settled := AllSettled(fs...)
	pair := All2(fs[0], other)
	triple := All3(fs[1], other, all)
	p.Resolve(1)
	for _, f := range append(fs, joins...) {
		if _, err := await(t, f); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []*Future[[]int]{all} {
		if _, err := await(t, f); err != nil {
			t.Fatal(err)
		}
	}
	await(t, settled)
	await(t, pair)
	await(t, triple)
	kinds := map[string]bool{}
	for _, e := range logs.FilterMessage("future started").All() {
		m := e.ContextMap()
		if m["trace"] != "all-kinds" {
			t.Errorf("step %v in trace %v", m["name"], m["trace"])
		}
		kinds[m["kind"].(string)] = true
	}
	for _, k := range []string{"root", "then", "catch", "handle", "finally", "compose", "orelse", "via", "context", "any", "race", "all", "all-settled", "all2", "all3"} {
		if !kinds[k] {
			t.Errorf("no %q step was logged (%v)", k, kinds)
		}
	}
	if n, m := logs.FilterMessage("future started").Len(), logs.FilterMessage("future settled").Len(); n != m {
		t.Errorf("%d started, %d settled", n, m)
	}
}

func ctx2(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

// With debug on, the warning says where an untraced future was made too.
func TestUnhandledWarningSaysWhereWithDebugOnAlone(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)
	SetUnhandledHandler(nil)
	errRoot := errors.New("a promise nobody watched")
	errEnd := errors.New("the end of an untraced chain")
	func() {
		New[int]().Reject(errRoot)
		p := New[int]()
		p.Future().Then(func(v int) (int, error) { return v, nil })
		p.Reject(errEnd)
	}()
	found := func() map[string]string {
		m := map[string]string{}
		for _, e := range logs.FilterMessage("future: unhandled rejection").All() {
			c := e.ContextMap()
			m[c["error"].(string)], _ = c["created"].(string)
		}
		return m
	}
	if !gcUntil(func() bool { return len(found()) >= 2 }) {
		t.Fatalf("warnings: %v", found())
	}
	for _, e := range []error{errRoot, errEnd} {
		if at := found()[e.Error()]; !strings.HasPrefix(at, "trace_test.go:") {
			t.Errorf("%v: created %q, want this file", e, at)
		}
	}
	if n := len(logs.FilterMessage("future started").All()); n != 0 {
		t.Errorf("untraced futures logged %d steps", n)
	}
}
