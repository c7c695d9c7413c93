package future

import (
	"context"

	"github.com/goasync/goasync/internal/logx"
)

// Tracing follows a pipeline of futures through the library's zap logger
// at debug level. A pipeline has a trace id; each future of it is a step
// with a step id and the id of the step it came from (its parent). A root
// (Trace, Named, or an operation of tcp, dns, http or timer.Retry) starts
// a pipeline or joins the one its context names; every future derived from
// a traced future (Then, Catch, CatchAs, Handle, Finally, Compose, OrElse,
// Via, WithContext, the joins) is a step of the same pipeline. Each step
// logs "future started" and "future settled" entries (docs/tracing.md).
//
// A future is traced when tracedBit is set in its state word. The bit and
// the extras that hold the record are written before the future is
// shared, so the check on the chaining path is one load of a word that is
// already in cache: with debug off no future is traced and a step costs
// that load (and one of the debug flag, see noteSite) and nothing else.
// The records and their log entries are in trace_step.go.

// Tracing reports whether the library logger records debug entries, that
// is whether roots started now are traced. Code that builds a step name
// (with string concatenation, for example) checks it first, so that the
// name costs nothing when tracing is off.
func Tracing() bool { return logx.Debug() }

type ctxKey struct{}

// ctxTrace is what a context carries: a pipeline and, optionally, the step
// that new roots become children of.
type ctxTrace struct {
	tid  string
	step uint64
	rec  *trace
}

// WithTraceID returns a copy of ctx that names the pipeline id: roots
// started with that context (Trace, tcp.Connect, dns.Lookup, timer.Retry,
// ...) join it instead of starting a new one, so goasync's log lines carry
// an application's own request id.
func WithTraceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ctxTrace{tid: id})
}

// TraceID returns the pipeline id ctx carries (set by WithTraceID or
// TraceContext), or "".
func TraceID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	c, _ := ctx.Value(ctxKey{}).(ctxTrace)
	return c.tid
}

// TraceContext returns a copy of ctx that carries the pipeline and step of
// f, so that roots started with it (a tcp.Connect inside a Compose
// callback, for example) become children of f. It returns ctx itself when
// f is not traced, so it costs nothing with tracing off.
func TraceContext[T any](ctx context.Context, f *Future[T]) context.Context {
	tr := f.rec()
	if tr == nil {
		return ctx
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, ctxKey{}, ctxTrace{tid: tr.tid, step: tr.id, rec: tr})
}

// StepOf returns the pipeline id and step id of f, or "" and 0 when f is
// not traced. Code that logs events of a traced operation (socket events,
// for example) adds them as the fields "trace" and "step".
func StepOf[T any](f *Future[T]) (traceID string, step uint64) {
	if tr := f.rec(); tr != nil {
		return tr.tid, tr.id
	}
	return "", 0
}

// Trace makes f a traced step named name and returns f. The step joins
// the pipeline ctx carries (WithTraceID, TraceContext), as a child of the
// step ctx names if any; otherwise it is the root of a new pipeline with a
// generated id. Its "future started" entry is logged at once. Operations
// that return a future (tcp.Connect, dns.Lookup, ...) call it on the
// future they return; users call it to name their own pipelines.
//
// When tracing is off (see Tracing) Trace returns f at once and allocates
// nothing. A future already traced keeps its step and only takes the
// name.
func Trace[T any](ctx context.Context, f *Future[T], name string) *Future[T] {
	if !logx.Debug() || f == nil {
		return f
	}
	traceRoot(ctx, f, name)
	return f
}

func traceRoot[T any](ctx context.Context, f *Future[T], name string) {
	if tr := f.rec(); tr != nil {
		tr.rename(name)
		return
	}
	var c ctxTrace
	if ctx != nil {
		c, _ = ctx.Value(ctxKey{}).(ctxTrace)
	}
	tr := newTrace("root", name, 0, 0)
	if c.tid != "" {
		tr.tid, tr.parent, tr.up = c.tid, c.step, c.rec
	} else {
		tr.tid = newTraceID()
	}
	f.startTrace(tr)
}

// Follow makes out a step named name of the pipeline of from, when from is
// traced, and returns out. Wrappers that build their future with New
// instead of a combinator (timer.Timeout, a retry loop, a socket's read)
// call it so the pipeline goes on through them. It does nothing when from
// is not traced.
func Follow[T, U any](out *Future[U], from *Future[T], name string) *Future[U] {
	up := from.rec()
	if up == nil || out == nil || out.traced() {
		return out
	}
	tr := newTrace("step", name, 0, 0)
	tr.tid, tr.parent, tr.up = up.tid, up.id, up
	out.startTrace(tr)
	return out
}

// Named gives the future a name for tracing and returns f. When tracing
// is on (see Tracing), a future that is not yet traced becomes the root of
// a new pipeline (like Trace with a context that names none), and a traced
// one takes the name. When tracing is off, Named does nothing and
// allocates nothing.
func (f *Future[T]) Named(name string) *Future[T] {
	if !logx.Debug() {
		return f
	}
	f.named(name)
	return f
}

// named is Named's work, out of line so that name escapes only when
// tracing.
func (f *Future[T]) named(name string) {
	if tr := f.rec(); tr != nil {
		tr.rename(name)
		return
	}
	tr := newTrace("root", name, 0, 0)
	tr.tid = newTraceID()
	f.startTrace(tr)
}
