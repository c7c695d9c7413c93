package timer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/goasync/goasync/future"
)

// Backoff says how often Retry tries and how long it waits in between.
// The zero value is usable: 3 attempts, waits of 100 ms then 200 ms, each
// shortened by up to half at random.
type Backoff struct {
	// Attempts is the number of tries, the first included (0 means 3).
	Attempts int
	// Initial is the wait before the second try (0 means 100 ms).
	Initial time.Duration
	// Max caps every wait (0 means 10 s).
	Max time.Duration
	// Multiplier grows the wait after each try (0 means 2).
	Multiplier float64
	// Jitter spreads the waits so that clients which failed together do
	// not retry together: each wait w is drawn uniformly from
	// [w*(1-Jitter), w]. 0 means 0.5; a negative value means no jitter.
	Jitter float64
	// RetryIf reports whether an error is worth another try; nil means
	// every error is. See RetryOn and RetryOnType. Whatever it says,
	// Retry never tries again after a *future.PanicError, after a
	// cancellation of its own future or once its context has ended.
	RetryIf func(error) bool
}

func (b Backoff) normalized() Backoff {
	if b.Attempts <= 0 {
		b.Attempts = 3
	}
	if b.Initial <= 0 {
		b.Initial = 100 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 10 * time.Second
	}
	if b.Multiplier <= 0 {
		b.Multiplier = 2
	}
	if b.Jitter == 0 {
		b.Jitter = 0.5
	}
	if b.Jitter > 1 {
		b.Jitter = 1
	}
	return b
}

// wait returns the wait before try n+1 (n >= 1 tries done), before
// jitter: Initial * Multiplier^(n-1), capped at Max.
func (b Backoff) wait(n int) time.Duration {
	w := float64(b.Initial)
	for i := 1; i < n && w < float64(b.Max); i++ {
		w *= b.Multiplier
	}
	if w > float64(b.Max) {
		return b.Max
	}
	return time.Duration(w)
}

// jittered applies the jitter to w.
func (b Backoff) jittered(w time.Duration) time.Duration {
	if b.Jitter <= 0 {
		return w
	}
	return w - time.Duration(rand.Float64()*b.Jitter*float64(w))
}

// RetryOn returns a RetryIf that retries errors matching one of targets
// under errors.Is: RetryOn(tcp.ErrRefused, tcp.ErrTimeout).
func RetryOn(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// RetryOnType is a RetryIf that retries errors that errors.As finds an E
// in: RetryIf: timer.RetryOnType[*net.OpError].
func RetryOnType[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

// RetryError is the rejection of a Retry that gave up: after its last
// attempt, or after an error RetryIf refused. errors.Is and errors.As see
// the error of the last attempt through it.
type RetryError struct {
	// Attempts is how many tries were made.
	Attempts int
	// Err is the error of the last try.
	Err error
}

// Error says how many tries failed and how the last one did.
func (e *RetryError) Error() string {
	return fmt.Sprintf("timer: retry gave up after %d attempt(s): %v", e.Attempts, e.Err)
}

// Unwrap returns the error of the last try.
func (e *RetryError) Unwrap() error { return e.Err }

// Retry calls op(ctx, 0) and, while the future it returns rejects with an
// error worth another try (Backoff.RetryIf), waits as b says and calls op
// again with the next attempt number, up to b.Attempts tries. The
// returned future resolves with the first success, or rejects with a
// *RetryError wrapping the last error.
//
// The waits are Delay timers, so Retry holds no goroutine. Started on an
// event loop (or given On), every call of op after the first, and the
// settlement of the returned future, run on that loop; op's first call
// runs inside Retry. Started elsewhere without On, later calls of op run
// on the timer goroutine, so op must only start work there, as it should
// anyway. When ctx ends, or the returned future is cancelled,
// the pending attempt (or wait) is cancelled, op is not called again and
// the future rejects with context.Cause(ctx) (or the cancellation). A ctx
// that has already ended when Retry is called makes no attempt.
//
// The ctx given to op carries the retry's trace step (see
// future.TraceContext), so the operations op starts with it are steps of
// the attempt. With tracing on, the retry is a step named "retry", each
// attempt a step "attempt N/M" under it and each wait a step "backoff D".
func Retry[T any](ctx context.Context, b Backoff, op func(ctx context.Context, attempt int) *future.Future[T], opts ...Option) *future.Future[T] {
	if ctx == nil {
		ctx = context.Background()
	}
	r := &retry[T]{ctx: ctx, b: b.normalized(), op: op, exec: configure(opts).exec, p: future.New[T]()}
	out := future.Trace(ctx, r.p.Future(), "retry")
	r.actx = future.TraceContext(ctx, out)
	r.p.OnCancel(func(cause error) { r.end(cause) })
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			r.deliver(func() {
				var zero T
				r.finish(zero, context.Cause(ctx), true)
			})
		})
		r.mu.Lock()
		if r.done {
			defer stop()
		} else {
			r.stopCtx = stop
		}
		r.mu.Unlock()
	}
	if ctx.Err() != nil {
		r.finish(*new(T), context.Cause(ctx), false)
		return out
	}
	r.run(0)
	return out
}

type retry[T any] struct {
	ctx  context.Context
	actx context.Context // ctx with the retry's trace step
	b    Backoff
	op   func(context.Context, int) *future.Future[T]
	exec future.Executor
	p    *future.Promise[T]

	mu      sync.Mutex
	cur     canceler // the pending attempt or wait
	stopCtx func() bool
	done    bool
}

type canceler interface{ Cancel(error) bool }

// deliver runs fn on the retry's executor, or at once.
func (r *retry[T]) deliver(fn func()) {
	if r.exec != nil {
		r.exec.Execute(fn)
		return
	}
	fn()
}

// run makes attempt i.
func (r *retry[T]) run(i int) {
	if r.isDone() {
		return
	}
	actx := r.actx
	var step *future.Promise[T]
	if future.Tracing() && future.TraceID(actx) != "" {
		// The attempt is a step of the retry, and what op starts with
		// its ctx is a step of the attempt.
		step = future.New[T]()
		sf := future.Trace(actx, step.Future(), "attempt "+strconv.Itoa(i+1)+"/"+strconv.Itoa(r.b.Attempts))
		sf.OnComplete(func(T, error) {}) // observed: the retry reports the outcome
		actx = future.TraceContext(actx, sf)
	}
	var f *future.Future[T]
	if perr := future.Protect(func() { f = r.op(actx, i) }); perr != nil {
		f = future.Rejected[T](perr)
		f.OnComplete(func(T, error) {})
	}
	if f == nil {
		f = future.Rejected[T](errNilAttempt)
		f.OnComplete(func(T, error) {})
	}
	if step != nil {
		f.OnComplete(func(v T, err error) {
			if err != nil {
				step.Reject(err)
				return
			}
			step.Resolve(v)
		})
	}
	if !r.setCur(f) {
		f.Cancel(future.ErrCanceled)
		return
	}
	f.OnComplete(func(v T, err error) {
		r.deliver(func() { r.after(i, v, err) })
	})
}

var errNilAttempt = errors.New("timer: Retry's op returned a nil future")

// after decides what follows attempt i.
func (r *retry[T]) after(i int, v T, err error) {
	if err == nil {
		r.finish(v, nil, false)
		return
	}
	if r.isDone() {
		return
	}
	n := i + 1
	if r.ctx.Err() != nil {
		var zero T
		r.finish(zero, context.Cause(r.ctx), false)
		return
	}
	if n >= r.b.Attempts || errors.Is(err, future.ErrPanic) || err == errNilAttempt ||
		(r.b.RetryIf != nil && !r.b.RetryIf(err)) {
		var zero T
		r.finish(zero, &RetryError{Attempts: n, Err: err}, false)
		return
	}
	w := r.b.jittered(r.b.wait(n))
	d := Delay(w, On(r.exec))
	if future.Tracing() {
		future.Trace(r.actx, d, "backoff "+w.Round(time.Microsecond).String())
	}
	if !r.setCur(d) {
		d.Cancel(future.ErrCanceled)
		return
	}
	d.OnComplete(func(_ struct{}, err error) {
		if err == nil {
			r.run(n)
		}
	})
}

func (r *retry[T]) isDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// setCur records the pending attempt or wait; false if the retry ended.
func (r *retry[T]) setCur(c canceler) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return false
	}
	r.cur = c
	return true
}

// stop marks the retry done, releases the context and returns what was
// pending.
func (r *retry[T]) stop() (canceler, bool) {
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return nil, false
	}
	r.done = true
	c, stopCtx := r.cur, r.stopCtx
	r.cur, r.stopCtx = nil, nil
	r.mu.Unlock()
	if stopCtx != nil {
		stopCtx()
	}
	return c, true
}

// finish settles the retry. cancelCur cancels what is pending (the
// context ended).
func (r *retry[T]) finish(v T, err error, cancelCur bool) {
	c, ok := r.stop()
	if !ok {
		return
	}
	if cancelCur && c != nil {
		c.Cancel(err)
	}
	if err != nil {
		r.p.Reject(err)
		return
	}
	r.p.Resolve(v)
}

// end is the OnCancel hook: the retry's future was cancelled.
func (r *retry[T]) end(cause error) {
	c, ok := r.stop()
	if !ok {
		return
	}
	if c != nil {
		c.Cancel(cause)
	}
}
