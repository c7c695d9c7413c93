package tcp

import (
	"context"
	"strconv"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
)

// Tracing (docs/tracing.md): with the library logger at debug level,
// Connect is a step of the caller's pipeline (ctx) or a root of its own, and
// every socket has a lifetime step, "tcp.Socket" under its Connect or
// "tcp.Accept" as the root of an accepted connection's pipeline, that
// settles when the socket closes, with its error. The socket's read, write
// and close futures are children of that step, and its event lines carry
// the pipeline and step ids. With tracing off none of this exists: one
// nil check per operation.

// sockTrace is a traced socket's place in its pipeline.
type sockTrace struct {
	ctx  context.Context // carries the lifetime step: roots made with it are its children
	tid  string
	step uint64
	life *future.Promise[struct{}]
}

// traceConnect makes Connect a step: the dial runs under ctx carrying it,
// so the DNS lookups and connect attempts nest below. It returns the ctx
// to dial with and a function that turns the dial's future into the
// traced one.
func traceConnect(ctx context.Context, addr string) (context.Context, func(*future.Future[*Socket]) *future.Future[*Socket]) {
	root := future.New[*Socket]()
	rf := future.Trace(ctx, root.Future(), "tcp.Connect "+addr)
	return future.TraceContext(ctx, rf), func(f *future.Future[*Socket]) *future.Future[*Socket] {
		root.OnCancel(func(cause error) { f.Cancel(cause) })
		f.OnComplete(func(s *Socket, err error) {
			if err != nil {
				root.Reject(err)
			} else if !root.Resolve(s) {
				s.Abort() // given up meanwhile
			}
		})
		return rf
	}
}

// startTrace gives an open socket its lifetime step, under parent (its
// Connect) or as a root (accepted). Loop only, before OnConnect.
func (s *Socket) startTrace(parent context.Context) {
	name := "tcp.Accept "
	if parent == nil {
		parent = context.Background()
	} else {
		name = "tcp.Socket "
	}
	name += s.peer() + " (socket " + strconv.FormatUint(s.id, 10) + ")"
	life := future.New[struct{}]()
	lf := future.Trace(parent, life.Future(), name)
	lf.OnComplete(func(struct{}, error) {}) // a record, not an unhandled rejection
	tid, step := future.StepOf(lf)
	s.trace.Store(&sockTrace{ctx: future.TraceContext(parent, lf), tid: tid, step: step, life: life})
}

// endTrace settles the lifetime step with how the socket ended.
func (s *Socket) endTrace(err error) {
	if t := s.trace.Load(); t != nil {
		if err != nil {
			t.life.Reject(err)
		} else {
			t.life.Resolve(struct{}{})
		}
	}
}

// traceOp makes f a child of the socket's lifetime step, when traced.
func traceOp[T any](s *Socket, f *future.Future[T], name string) *future.Future[T] {
	if t := s.trace.Load(); t != nil {
		future.Trace(t.ctx, f, name)
	}
	return f
}

// traceFields are the pipeline and step of a traced socket's event lines.
func (s *Socket) traceFields(fs []zap.Field) []zap.Field {
	if t := s.trace.Load(); t != nil {
		fs = append(fs, zap.String("trace", t.tid), zap.Uint64("step", t.step))
	}
	return fs
}

var readNames = [...]string{readN: "tcp.ReadN", readLine: "tcp.ReadLine", readUntil: "tcp.ReadUntil", readSome: "tcp.Read"}
