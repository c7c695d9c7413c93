package future

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/stats"
)

// Executor runs functions on some goroutine, later or at once. An event
// loop's executor runs them on the loop, in submission order.
type Executor interface{ Execute(func()) }

type inlineExecutor struct{}

func (inlineExecutor) Execute(fn func()) { fn() }

// Inline is the Executor that runs fn at once, on the calling goroutine.
// With Via it keeps continuations on the goroutine that settles the future.
var Inline Executor = inlineExecutor{}

// Result is the outcome of a settled future: Err is nil when it resolved
// with Value.
type Result[T any] struct {
	Value T
	Err   error
}

// Future states. A future moves from pending to resolved or rejected once.
// The state shares one atomic word with a lock bit: taking the lock is one
// compare-and-swap, and settling publishes the new state and releases the
// lock with one store. Readers that only need a settled outcome load the
// word and never take the lock: val and err are written before the store
// that publishes the state.
const (
	pending   uint32 = 0
	resolved  uint32 = 1
	rejected  uint32 = 2
	stateMask uint32 = 3
	lockedBit uint32 = 4
	tracedBit uint32 = 8 // a step of a traced pipeline (trace.go)
)

// state returns the state without taking the lock.
func (f *Future[T]) state() uint32 { return f.word.Load() & stateMask }

// lock takes the future's lock. Critical sections are a few field
// updates, so a short spin then yielding beats parking.
func (f *Future[T]) lock() {
	for i := 0; ; i++ {
		w := f.word.Load()
		if w&lockedBit == 0 && f.word.CompareAndSwap(w, w|lockedBit) {
			return
		}
		if i >= 64 {
			runtime.Gosched()
		}
	}
}

// unlock releases the lock, keeping the state.
func (f *Future[T]) unlock() { f.word.Store(f.word.Load() &^ lockedBit) }

// unlockAs releases the lock and publishes state st in the same store,
// keeping the traced bit.
func (f *Future[T]) unlockAs(st uint32) { f.word.Store(st | f.word.Load()&tracedBit) }

// Future flags, guarded by the mutex.
const (
	flagObserved uint8 = 1 << iota // someone has seen or will see the outcome
	flagCanceled                   // settled by Cancel
	flagCounted                    // a root counted in stats.PendingFutures
)

// continuation is what a future calls when it settles. Nodes built by Then
// and the combinators implement it, so attaching one costs no closure.
type continuation[T any] interface{ complete(v T, err error) }

// canceler is the upstream of a derived future: cancelling the derived
// future cancels the upstream when the derived future is its only consumer.
type canceler interface{ cancelUp(cause error) }

// Future is the consumer side of an asynchronous result of type T. Its
// methods are safe for concurrent use. A Future must not be copied.
type Future[T any] struct {
	word  atomic.Uint32 // state, plus the locked bit
	flags uint8
	val   T
	err   error
	cb    continuation[T] // first continuation, kept inline
	src   canceler        // where cancellation propagates: a derived future's upstream, a promise's first hook (hookFunc)
	ext   *extra          // rarely needed state, allocated on demand
}

// extra holds what few futures need, so Future stays small.
type extra struct {
	more    []any // continuations after the first, FIFO (continuation[T])
	done    chan struct{}
	hooks   []func(error) // OnCancel hooks after the first (in src), in order
	cause   error
	cleanup runtime.Cleanup
	armed   bool // cleanup registered and not stopped
	trace   *trace
	made    *[10]uintptr // where an untraced future was made (debug on)
}

// noCopy makes go vet's copylocks check report copies of a Promise.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Promise is the producer side of a Future: it settles the future once,
// with Resolve or Reject. A Promise must not be copied (go vet reports
// copies).
type Promise[T any] struct {
	noCopy noCopy
	fut    Future[T]
}

// New returns a pending promise.
func New[T any]() *Promise[T] {
	p := &Promise[T]{}
	p.fut.flags = flagCounted
	stats.PendingFutures.Add(1)
	if logx.Debug() {
		p.fut.noteSite()
	}
	return p
}

// Future returns the future the promise settles. Every call returns the
// same future.
func (p *Promise[T]) Future() *Future[T] { return &p.fut }

// Resolve settles the future with v. It reports false, and changes
// nothing, if the future was already settled. Continuations run inside
// the call.
func (p *Promise[T]) Resolve(v T) bool { return p.fut.settle(v, nil, false, nil) }

// Reject settles the future with err (a nil err is replaced by an error
// saying so). It reports false, and changes nothing, if the future was
// already settled. Continuations run inside the call.
func (p *Promise[T]) Reject(err error) bool {
	if err == nil {
		err = errNilReject
	}
	var zero T
	return p.fut.settle(zero, err, false, nil)
}

// OnCancel registers fn to run when the future is cancelled (with Cancel,
// by a combinator, a timeout or a context), so the producer can stop its
// work. fn receives the cause passed to Cancel. Hooks run in registration
// order on the cancelling goroutine; registered after the cancellation, fn
// runs at once. fn never runs if the future settles otherwise.
func (p *Promise[T]) OnCancel(fn func(cause error)) {
	if fn == nil {
		return
	}
	f := &p.fut
	f.lock()
	if f.state() == pending && f.src == nil {
		// The first hook of a promise takes the place a derived future
		// keeps its upstream in: no extras to allocate.
		f.src = hookFunc(fn)
		f.unlock()
		return
	}
	f.unlock()
	x := f.lockExt()
	if f.state() == pending {
		x.hooks = append(x.hooks, fn)
		f.unlock()
		return
	}
	canceled := f.flags&flagCanceled != 0
	var cause error
	if canceled {
		cause = x.cause
	}
	f.unlock()
	if canceled {
		runHook(fn, cause)
	}
}

// hookFunc is a promise's first OnCancel hook, kept in the future's src
// field (a promise has no upstream): a func value fits in an interface
// without an allocation.
type hookFunc func(cause error)

func (h hookFunc) cancelUp(cause error) { runHook(h, cause) }

// Resolved returns a future already resolved with v.
func Resolved[T any](v T) *Future[T] {
	f := &Future[T]{val: v}
	f.word.Store(resolved)
	return f
}

// Rejected returns a future already rejected with err. If nothing ever
// observes it, it is reported as an unhandled rejection.
func Rejected[T any](err error) *Future[T] {
	if err == nil {
		err = errNilReject
	}
	f := &Future[T]{err: err}
	f.word.Store(rejected)
	if logx.Debug() {
		f.noteSite()
	}
	if reportable(err) {
		f.lock()
		f.armUnhandledLocked(err)
		f.unlock()
	}
	return f
}

// extLocked returns the extras, allocating them under the lock; used on
// rare paths only. Hot paths use lockExt.
func (f *Future[T]) extLocked() *extra {
	if f.ext == nil {
		f.ext = &extra{}
	}
	return f.ext
}

// lockExt takes the lock and returns the extras, allocated outside the
// lock if missing.
func (f *Future[T]) lockExt() *extra {
	var x *extra
	for {
		f.lock()
		if f.ext != nil {
			return f.ext
		}
		if x != nil {
			f.ext = x
			return x
		}
		f.unlock()
		x = &extra{}
	}
}

// settle moves a pending future to its final state and runs what waits
// for it. It reports false when the future had already settled.
func (f *Future[T]) settle(v T, err error, canceled bool, cause error) bool {
	f.lock()
	if f.state() != pending {
		f.unlock()
		return false
	}
	// Pointer fields are written only when they change: each write costs
	// a write barrier while the collector marks.
	f.val = v
	st := resolved
	if err != nil {
		st = rejected
		f.err = err
	}
	cb := f.cb
	if cb != nil {
		f.cb = nil
	}
	src := f.src
	if src != nil {
		f.src = nil
	}
	counted := f.flags&flagCounted != 0
	var (
		more  []any
		done  chan struct{}
		hooks []func(error)
		tr    *trace
	)
	if canceled {
		f.flags |= flagCanceled
	}
	if x := f.ext; x != nil {
		more, done, tr = x.more, x.done, x.trace
		x.more = nil
		if canceled {
			x.cause = cause
			hooks = x.hooks
		}
		x.hooks = nil
	}
	if err != nil && !canceled && f.flags&flagObserved == 0 && !observedBy(cb, more) && reportable(err) {
		f.armUnhandledLocked(err)
	}
	f.unlockAs(st)
	if counted {
		stats.PendingFutures.Add(-1)
	}

	if tr != nil {
		tr.settled(canceled, err)
	}
	if canceled {
		// The producer hears first, so a consumer that sees the
		// cancellation can rely on the hooks having run. A promise's
		// first hook is its src.
		if h, ok := src.(hookFunc); ok {
			h.cancelUp(cause)
			src = nil
		}
		for _, h := range hooks {
			runHook(h, cause)
		}
		if src != nil {
			src.cancelUp(cause)
		}
	}
	if done != nil {
		close(done)
	}
	if cb != nil {
		cb.complete(v, err)
		for _, c := range more {
			c.(continuation[T]).complete(v, err)
		}
	}
	return true
}

// addCont attaches c: it runs when f settles, or at once if f has.
func (f *Future[T]) addCont(c continuation[T]) {
	if f.state() == resolved {
		c.complete(f.val, nil)
		return
	}
	f.lock()
	if f.state() == pending {
		if f.cb == nil {
			f.cb = c
			f.unlock()
			return
		}
		f.unlock()
		x := f.lockExt()
		if f.state() == pending {
			x.more = append(x.more, c)
			f.unlock()
			return
		}
	}
	f.observeLocked()
	v, err := f.val, f.err
	f.unlock()
	c.complete(v, err)
}

// observeLocked records that the outcome has been seen, so a rejection is
// not reported as unhandled.
func (f *Future[T]) observeLocked() {
	f.flags |= flagObserved
	if x := f.ext; x != nil && x.armed {
		x.cleanup.Stop()
		x.armed = false
	}
}

// observe is observeLocked for settled futures, taking the lock.
func (f *Future[T]) observe() {
	f.lock()
	f.observeLocked()
	f.unlock()
}

// cancelUp cancels f when it is pending and has at most one consumer: the
// derived future being cancelled.
func (f *Future[T]) cancelUp(cause error) {
	f.lock()
	n := 0
	if f.cb != nil {
		n = 1
	}
	if x := f.ext; x != nil {
		n += len(x.more)
		if x.done != nil {
			n++ // someone waits on Done or Await
		}
	}
	sole := f.state() == pending && n <= 1
	f.unlock()
	if sole {
		f.Cancel(cause)
	}
}

// complete makes a future a continuation of another future of the same
// type: it settles f with the outcome (Compose and WithContext forward
// with it).
func (f *Future[T]) complete(v T, err error) { f.settle(v, err, false, nil) }

// Cancel rejects a pending future with an error that matches ErrCanceled
// and wraps cause, runs the promise's OnCancel hooks, and cancels the
// future this one was derived from (by Then, Catch, Via, ...) when this
// one is its only consumer. It reports false if the future had already
// settled.
func (f *Future[T]) Cancel(cause error) bool {
	if f.state() != pending {
		return false
	}
	if cause == nil {
		cause = ErrCanceled
	}
	var zero T
	return f.settle(zero, &canceledError{cause: cause}, true, cause)
}

// closedChan is returned by Done for settled futures.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// doneChan returns the channel closed at settlement, creating it if
// needed. Allocation happens outside the lock so that the settling
// goroutine never waits for a malloc.
func (f *Future[T]) doneChan() <-chan struct{} {
	var c chan struct{}
	for {
		x := f.lockExt()
		if f.state() != pending {
			f.unlock()
			return closedChan
		}
		if x.done == nil {
			if c == nil {
				f.unlock()
				c = make(chan struct{})
				continue
			}
			x.done = c
		}
		d := x.done
		f.unlock()
		return d
	}
}

// Done returns a channel that is closed when the future settles. The
// channel is allocated on the first call. Waiting on Done alone does not
// count as handling a rejection; Result or Await does.
func (f *Future[T]) Done() <-chan struct{} {
	if f.state() != pending {
		return closedChan
	}
	return f.doneChan()
}

// Result returns the outcome without waiting: ok is false while the
// future is pending.
func (f *Future[T]) Result() (v T, err error, ok bool) {
	switch f.state() {
	case resolved:
		return f.val, nil, true
	case rejected:
		f.observe()
		return f.val, f.err, true
	}
	return v, nil, false
}

// Await blocks until the future settles or ctx ends, and returns the
// outcome. When ctx ends first it returns context.Cause(ctx) and leaves
// the future as it is: ctx ends only the wait. A nil ctx waits without
// limit.
//
// Await must not be called on an event-loop goroutine: there it returns
// ErrAwaitOnLoop at once, settled or not, instead of stalling the loop.
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	if loopmark.OnLoop() {
		var zero T
		return zero, ErrAwaitOnLoop
	}
	if f.state() == pending {
		w, _ := waiters.Get().(*waiter)
		if w == nil {
			w = &waiter{ch: make(chan struct{}, 1)}
		}
		f.addCont(waitCont[T]{w})
		if ctx == nil || ctx.Done() == nil {
			<-w.ch
		} else {
			select {
			case <-w.ch:
			case <-ctx.Done():
				// Give up the wait; the waiter then no longer counts as
				// handling a rejection (see settle). Marking first and
				// checking again closes the race with a settle in between.
				w.abandoned.Store(true)
				select {
				case <-w.ch:
				default:
					var zero T
					return zero, context.Cause(ctx)
				}
			}
		}
		if !w.abandoned.Load() {
			waiters.Put(w) // its one signal has been received: reusable
		}
	}
	v, err, _ := f.Result()
	return v, err
}

// waiter is how Await blocks on a pending future: a continuation that
// signals a channel. Waiters are pooled, so a blocking Await allocates
// nothing in the steady state.
type waiter struct {
	ch        chan struct{} // capacity 1: exactly one signal per use
	abandoned atomic.Bool   // the Await gave up (its context ended)
}

var waiters sync.Pool

// waitCont adapts a waiter to continuation[T]; being one pointer wide, it
// converts to the interface without allocating.
type waitCont[T any] struct{ w *waiter }

func (c waitCont[T]) complete(T, error) { c.w.ch <- struct{}{} }

// observedBy reports whether the continuations attached to a future
// observe its outcome: every continuation does, except the waiters of
// Awaits that gave up.
func observedBy[T any](cb continuation[T], more []any) bool {
	if cb == nil {
		return false
	}
	if !abandonedWaiter(cb) {
		return true
	}
	for _, c := range more {
		if !abandonedWaiter(c.(continuation[T])) {
			return true
		}
	}
	return false
}

func abandonedWaiter[T any](c continuation[T]) bool {
	w, ok := c.(waitCont[T])
	return ok && w.w.abandoned.Load()
}
