package future

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/goasync/goasync/internal/logx"
)

// member is the continuation a combinator attaches to its i-th input. The
// members of one call live in one slice, so joining N futures costs a
// fixed number of allocations, not N.
type member[T any, S joiner[T]] struct {
	st S
	in *Future[T]
	i  int
}

func (m *member[T, S]) complete(v T, err error) { m.st.arrive(m.i, v, err) }

type joiner[T any] interface{ arrive(i int, v T, err error) }

// join makes one member per input, stores them in *ms and only then
// attaches them, so an input that is already settled (its continuation
// runs inside addCont) finds every member in place.
func join[T any, S joiner[T]](st S, ms *[]member[T, S], fs []*Future[T]) {
	m := make([]member[T, S], len(fs))
	for i, f := range fs {
		m[i] = member[T, S]{st: st, in: f, i: i}
	}
	*ms = m
	for i, f := range fs {
		f.addCont(&m[i])
	}
}

func checkInputs[T any](fs []*Future[T]) bool {
	for _, f := range fs {
		if f == nil {
			return false
		}
	}
	return true
}

// cancelMembers cancels every input but the one at skip (-1: none).
func cancelMembers[T any, S joiner[T]](ms []member[T, S], skip int, cause error) {
	for i := range ms {
		if i != skip {
			ms[i].in.Cancel(cause)
		}
	}
}

// cancelUpMembers propagates a cancellation of the combined future to the
// inputs it is the only consumer of.
func cancelUpMembers[T any, S joiner[T]](ms []member[T, S], cause error) {
	for i := range ms {
		ms[i].in.cancelUp(cause)
	}
}

// All returns a future of the values of fs, in input order. It rejects
// with the first rejection and then cancels the other inputs. All of no
// futures resolves to an empty slice.
func All[T any](fs ...*Future[T]) *Future[[]T] {
	if len(fs) == 0 {
		return Resolved([]T{})
	}
	if !checkInputs(fs) {
		return Rejected[[]T](errNilFuture)
	}
	st := &allState[T]{vals: make([]T, len(fs))}
	st.left.Store(int64(len(fs)))
	pendingOn(&st.p.fut, st)
	traceJoin(&st.p.fut, "all", fs)
	join(st, &st.ms, fs)
	return &st.p.fut
}

type allState[T any] struct {
	p    Promise[[]T]
	left atomic.Int64
	vals []T
	ms   []member[T, *allState[T]]
}

func (st *allState[T]) arrive(i int, v T, err error) {
	if err != nil {
		if st.p.fut.settle(nil, err, false, nil) {
			cancelMembers(st.ms, i, err)
		}
		return
	}
	st.vals[i] = v
	if st.left.Add(-1) == 0 {
		st.p.fut.settle(st.vals, nil, false, nil)
	}
}

func (st *allState[T]) cancelUp(cause error) { cancelUpMembers(st.ms, cause) }

// AllSettled returns a future of the outcomes of fs, in input order, once
// every input has settled. It never rejects.
func AllSettled[T any](fs ...*Future[T]) *Future[[]Result[T]] {
	if len(fs) == 0 {
		return Resolved([]Result[T]{})
	}
	if !checkInputs(fs) {
		return Rejected[[]Result[T]](errNilFuture)
	}
	st := &settledState[T]{res: make([]Result[T], len(fs))}
	st.left.Store(int64(len(fs)))
	pendingOn(&st.p.fut, st)
	traceJoin(&st.p.fut, "all-settled", fs)
	join(st, &st.ms, fs)
	return &st.p.fut
}

type settledState[T any] struct {
	p    Promise[[]Result[T]]
	left atomic.Int64
	res  []Result[T]
	ms   []member[T, *settledState[T]]
}

func (st *settledState[T]) arrive(i int, v T, err error) {
	st.res[i] = Result[T]{Value: v, Err: err}
	if st.left.Add(-1) == 0 {
		st.p.fut.settle(st.res, nil, false, nil)
	}
}

func (st *settledState[T]) cancelUp(cause error) { cancelUpMembers(st.ms, cause) }

// errNoFutures rejects Any and Race of no futures.
var errNoFutures = errors.New("future: no futures given")

// Any returns a future resolved with the first input to resolve; the
// other inputs are then cancelled. If every input rejects, it rejects with
// errors.Join of all the rejections, in input order. Any of no futures
// rejects.
func Any[T any](fs ...*Future[T]) *Future[T] {
	if len(fs) == 0 {
		return Rejected[T](errNoFutures)
	}
	if !checkInputs(fs) {
		return Rejected[T](errNilFuture)
	}
	st := &anyState[T]{errs: make([]error, len(fs))}
	st.left.Store(int64(len(fs)))
	pendingOn(&st.p.fut, st)
	traceJoin(&st.p.fut, "any", fs)
	join(st, &st.ms, fs)
	return &st.p.fut
}

type anyState[T any] struct {
	p    Promise[T]
	left atomic.Int64
	errs []error
	ms   []member[T, *anyState[T]]
}

var errLostRace = errors.New("future: another input settled first")

func (st *anyState[T]) arrive(i int, v T, err error) {
	if err == nil {
		if st.p.fut.settle(v, nil, false, nil) {
			cancelMembers(st.ms, i, errLostRace)
		}
		return
	}
	st.errs[i] = err
	if st.left.Add(-1) == 0 {
		var zero T
		st.p.fut.settle(zero, errors.Join(st.errs...), false, nil)
	}
}

func (st *anyState[T]) cancelUp(cause error) { cancelUpMembers(st.ms, cause) }

// Race returns a future settled like the first input to settle, resolved
// or rejected; the other inputs are then cancelled. Race of no futures
// rejects.
func Race[T any](fs ...*Future[T]) *Future[T] {
	if len(fs) == 0 {
		return Rejected[T](errNoFutures)
	}
	if !checkInputs(fs) {
		return Rejected[T](errNilFuture)
	}
	st := &raceState[T]{}
	pendingOn(&st.p.fut, st)
	traceJoin(&st.p.fut, "race", fs)
	join(st, &st.ms, fs)
	return &st.p.fut
}

type raceState[T any] struct {
	p  Promise[T]
	ms []member[T, *raceState[T]]
}

func (st *raceState[T]) arrive(i int, v T, err error) {
	if st.p.fut.settle(v, err, false, nil) {
		cancelMembers(st.ms, i, errLostRace)
	}
}

func (st *raceState[T]) cancelUp(cause error) { cancelUpMembers(st.ms, cause) }

// WithContext returns a future that settles like f, or rejects with
// context.Cause(ctx) when ctx ends first; f is then cancelled if the
// returned future was its only consumer. It starts no goroutine of its own
// (it uses context.AfterFunc, which is released when f settles). A ctx
// that can never end returns f itself.
func WithContext[T any](ctx context.Context, f *Future[T]) *Future[T] {
	if ctx == nil || ctx.Done() == nil {
		return f
	}
	st := &ctxState[T]{}
	pendingOn(&st.p.fut, f)
	if up := f.rec(); up != nil {
		joinTrace(&st.p.fut, "context", up)
	} else if logx.Debug() {
		st.p.fut.noteSite()
	}
	if ctx.Err() != nil {
		st.expire(ctx)
		f.addCont(&st.p.fut) // settles nothing; marks f as handled
		return &st.p.fut
	}
	st.stop = context.AfterFunc(ctx, func() { st.expire(ctx) })
	f.addCont(st)
	return &st.p.fut
}

type ctxState[T any] struct {
	p       Promise[T]
	stop    func() bool
	cause   error       // written before expired is set
	expired atomic.Bool // ctx ended: the outcome is cause
}

// expire cancels the upstream first (when this is its only consumer), so
// its producer has been told by the time the rejection is visible; the
// cancellation then arrives through complete, which rejects with the
// context's cause.
func (st *ctxState[T]) expire(ctx context.Context) {
	st.cause = context.Cause(ctx)
	st.expired.Store(true)
	out := &st.p.fut
	out.lock()
	src := out.src
	out.unlock()
	if src != nil {
		src.cancelUp(st.cause)
	}
	var zero T
	out.settle(zero, st.cause, false, nil)
}

func (st *ctxState[T]) complete(v T, err error) {
	if st.stop != nil {
		st.stop()
	}
	if st.expired.Load() {
		var zero T
		v, err = zero, st.cause
	}
	st.p.fut.settle(v, err, false, nil)
}
