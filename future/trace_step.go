package future

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/goasync/goasync/internal/logx"
)

// trace is the record of one traced step.
type trace struct {
	tid    string // pipeline (trace) id
	id     uint64 // step id, unique in the process
	parent uint64 // step this one came from, 0 for a root
	up     *trace // the parent's record, when known
	kind   string // root, then, catch, compose, all, retry, ...
	name   atomic.Pointer[string]
	fn     uintptr     // the callback, for the default name
	pcs    [10]uintptr // where the future was made, for "at"
	joins  []uint64    // the traced inputs of a join
	start  atomic.Int64
	at     atomic.Pointer[string] // file:line, resolved once
}

var (
	stepIDs  atomic.Uint64
	traceIDs atomic.Uint64
	// tracePrefix makes generated trace ids differ between processes.
	tracePrefix = uint64(time.Now().UnixNano()) << 20
)

// traced reports whether f is a step of a traced pipeline.
func (f *Future[T]) traced() bool { return f.word.Load()&tracedBit != 0 }

// rec returns f's trace record, or nil.
func (f *Future[T]) rec() *trace {
	if f.traced() {
		return f.ext.trace
	}
	return nil
}

// setTrace attaches tr to f. For a future not yet shared (a node being
// built) no lock is needed, but taking it keeps the rule simple and this
// path runs only when tracing.
func (f *Future[T]) setTrace(tr *trace) {
	x := f.lockExt()
	x.trace = tr
	f.word.Store(f.word.Load() | tracedBit)
	f.unlock()
}

func (tr *trace) rename(name string) { tr.name.Store(&name) }

func newTraceID() string {
	return hex16(tracePrefix + traceIDs.Add(1))
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

// newTrace makes a record; skip is the number of frames above newTrace's
// caller to leave out of the creation site.
func newTrace(kind, name string, fn uintptr, skip int) *trace {
	tr := &trace{id: stepIDs.Add(1), kind: kind, fn: fn}
	if name != "" {
		tr.name.Store(&name)
	}
	callers(skip+1, tr.pcs[:])
	return tr
}

// startTrace attaches a record that starts now (roots and joins) and
// logs its start; if f has already settled it logs the end too.
func (f *Future[T]) startTrace(tr *trace) {
	tr.start.Store(nanotime())
	x := f.lockExt()
	x.trace = tr
	f.word.Store(f.word.Load() | tracedBit)
	st := f.state()
	canceled, err := f.flags&flagCanceled != 0, f.err
	f.unlock()
	tr.begun()
	if st != pending {
		tr.settled(canceled, err)
	}
}

// derive makes out a step of up's pipeline; it starts when its callback
// runs (begin). Called only when up is traced.
func derive[U any](out *Future[U], up *trace, kind string, fn any) {
	tr := newTrace(kind, "", funcPC(fn), 0)
	tr.tid, tr.parent, tr.up = up.tid, up.id, up
	out.setTrace(tr)
}

// begin marks the start of a derived step: its upstream settled and its
// callback is about to run.
func (tr *trace) begin() {
	if tr.start.CompareAndSwap(0, nanotime()) {
		tr.begun()
	}
}

// joinTrace makes out a join of the traced inputs among ins (nil entries
// are untraced inputs); it starts now. A join of one input (WithContext)
// is that input's child. A join of several is the child of their nearest
// common ancestor (a root of the pipeline when they have none), and its
// "joins" field lists them.
func joinTrace[U any](out *Future[U], kind string, ins ...*trace) {
	var traced []*trace
	for _, t := range ins {
		if t != nil {
			traced = append(traced, t)
		}
	}
	if len(traced) == 0 {
		return
	}
	first := traced[0]
	tr := newTrace(kind, "", 0, 0)
	tr.tid, tr.parent, tr.up = first.tid, first.id, first
	if len(traced) > 1 {
		tr.joins = make([]uint64, len(traced))
		for i, t := range traced {
			tr.joins[i] = t.id
		}
		tr.up = commonAncestor(traced)
		tr.parent = 0
		if tr.up != nil {
			tr.parent = tr.up.id
		}
	}
	out.startTrace(tr)
}

// commonAncestor returns the nearest step that is an ancestor of every
// trace in ts (a trace is not its own ancestor), or nil.
func commonAncestor(ts []*trace) *trace {
	for a := ts[0].up; a != nil; a = a.up {
		all := true
		for _, t := range ts[1:] {
			if !descends(t, a) {
				all = false
				break
			}
		}
		if all {
			return a
		}
	}
	return nil
}

func descends(t, a *trace) bool {
	for u := t.up; u != nil; u = u.up {
		if u == a {
			return true
		}
	}
	return false
}

// traceJoin is joinTrace for inputs of one type; with none traced and
// debug on, it notes where the join was made.
func traceJoin[T, U any](out *Future[U], kind string, fs []*Future[T]) {
	var ins []*trace
	for i, f := range fs {
		if t := f.rec(); t != nil {
			if ins == nil {
				ins = make([]*trace, len(fs))
			}
			ins[i] = t
		}
	}
	if ins != nil {
		joinTrace(out, kind, ins...)
	} else if logx.Debug() {
		out.noteSite()
	}
}

// noteSite records where f is being made, for the unhandled-rejection
// warning, when debug is on and f is not traced (a traced future keeps its
// site in its trace record). Callers check logx.Debug first.
func (f *Future[T]) noteSite() {
	pcs := new([10]uintptr)
	callers(0, pcs[:])
	x := f.lockExt()
	x.made = pcs
	f.unlock()
}

// displayName is the step's name, or a default built from its kind and
// callback.
func (tr *trace) displayName() string {
	if p := tr.name.Load(); p != nil {
		return *p
	}
	n := tr.kind
	if tr.fn != 0 {
		n += " " + funcName(tr.fn)
	}
	tr.name.Store(&n)
	return n
}

func (tr *trace) site() string {
	if p := tr.at.Load(); p != nil {
		return *p
	}
	s := siteOf(&tr.pcs)
	tr.at.Store(&s)
	return s
}

func (tr *trace) begun() {
	if !logx.Debug() {
		return
	}
	fs := make([]zap.Field, 0, 7)
	fs = append(fs,
		zap.String("trace", tr.tid),
		zap.Uint64("id", tr.id),
		zap.Uint64("parent", tr.parent),
		zap.String("kind", tr.kind),
		zap.String("name", tr.displayName()))
	if at := tr.site(); at != "" {
		fs = append(fs, zap.String("at", at))
	}
	if tr.joins != nil {
		fs = append(fs, zap.Uint64s("joins", tr.joins))
	}
	logx.L().Debug("future started", fs...)
}

func (tr *trace) settled(canceled bool, err error) {
	if !logx.Debug() {
		return
	}
	stage := "resolve"
	switch {
	case canceled:
		stage = "cancel"
	case err != nil:
		stage = "reject"
	}
	now := nanotime()
	if tr.start.CompareAndSwap(0, now) {
		// Settled before its callback ran (cancelled downstream): it
		// starts and ends now.
		tr.begun()
	}
	start := tr.start.Load()
	logx.L().Debug("future settled",
		zap.String("trace", tr.tid),
		zap.Uint64("id", tr.id),
		zap.Uint64("parent", tr.parent),
		zap.String("name", tr.displayName()),
		zap.String("stage", stage),
		zap.Duration("duration", time.Duration(now-start)),
		zap.Error(err))
}

// linked logs that the step tr now waits for the step to (a Compose whose
// callback returned a future of another pipeline).
func (tr *trace) linked(to *trace) {
	if !logx.Debug() || to.tid == tr.tid {
		return
	}
	logx.L().Debug("future linked",
		zap.String("trace", tr.tid),
		zap.Uint64("id", tr.id),
		zap.String("to_trace", to.tid),
		zap.Uint64("to_id", to.id))
}

// clockBase anchors nanotime on the monotonic clock.
var clockBase = time.Now()

// nanotime is monotonic nanoseconds since clockBase, never 0.
func nanotime() int64 { return int64(time.Since(clockBase)) + 1 }

// begin starts the step of a derived future when it is traced; nodes call
// it first in complete.
func (f *Future[T]) begin() {
	if f.traced() {
		f.ext.trace.begin()
	}
}
