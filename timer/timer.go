package timer

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	evloop "github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
)

// Option changes how a timer delivers its completion.
type Option func(*config)

type config struct{ exec future.Executor }

// On delivers the timer's completion through e (for example the executor
// of an event loop) instead of the loop the timer was started on or the
// timer goroutine. A nil e means the timer goroutine.
func On(e future.Executor) Option {
	return func(c *config) { c.exec = e }
}

// configure resolves the delivery executor: an explicit On wins, then the
// loop the caller runs on, else none (the timer goroutine).
func configure(opts []Option) config {
	var c config
	explicit := false
	for _, o := range opts {
		if o != nil {
			o(&c)
			explicit = true
		}
	}
	if !explicit {
		if e, ok := loopmark.Current(); ok {
			c.exec = e
		}
	}
	return c
}

// loop returns the goasync event loop the completion is delivered on, when
// the executor is one: such a timer is one of that loop's own timers and
// its work runs there without a hop.
func (c config) loop() *evloop.Loop {
	l, _ := c.exec.(*evloop.Loop)
	return l
}

// deliver runs fn through the configured executor, or at once.
func (c config) deliver(fn func()) {
	if c.exec != nil {
		c.exec.Execute(fn)
		return
	}
	fn()
}

// newTimer makes the timer behind a Delay, Timeout or Interval: one of
// the loop's own timers when the completion goes to a goasync loop (fn
// runs there, no hop), else a Background timer (internal/loop) that hands
// fn to the executor or runs it on the timer goroutine. onStop settles a
// loop timer whose runtime shut down.
func (c config) newTimer(fn func(), onStop func()) *evloop.Timer {
	if l := c.loop(); l != nil {
		return l.NewTimer(fn, onStop)
	}
	if c.exec == nil {
		return evloop.Background().NewTimer(fn)
	}
	return evloop.Background().NewTimer(func() { c.exec.Execute(fn) })
}

// Delay returns a future that resolves after d. With d <= 0 it resolves
// on the next turn: on an event loop (or with On), through the executor,
// so after the current callback returns; otherwise on the timer
// goroutine, never inside the Delay call. Cancelling the future disarms
// the timer.
func Delay(d time.Duration, opts ...Option) *future.Future[struct{}] {
	c := configure(opts)
	p := future.New[struct{}]()
	resolve := func() { p.Resolve(struct{}{}) }
	if d <= 0 && c.exec != nil {
		c.exec.Execute(resolve)
		return p.Future()
	}
	var closed func() // a loop timer's runtime shut down
	if c.loop() != nil {
		closed = func() { p.Reject(evloop.ErrClosed) }
	}
	lt := c.newTimer(resolve, closed)
	p.OnCancel(func(error) { lt.Stop() })
	lt.Reset(d)
	return p.Future()
}

// After returns a future of fn's result, with fn called d from now where
// the timer delivers (see Delay). A panic in fn rejects the future with a
// *future.PanicError. Cancelling the future before d disarms the timer
// and fn never runs.
func After[T any](d time.Duration, fn func() (T, error), opts ...Option) *future.Future[T] {
	return future.Then(Delay(d, opts...), func(struct{}) (T, error) { return fn() })
}

// Timeout returns a future that settles like f if f settles within d, and
// otherwise rejects with future.ErrTimeout and cancels f (so f's producer
// learns through OnCancel). Cancelling the returned future cancels f too.
// The timeout rejection is delivered like a Delay's completion.
func Timeout[T any](f *future.Future[T], d time.Duration, opts ...Option) *future.Future[T] {
	t := &timeout[T]{p: future.New[T](), f: f}
	c := configure(opts)
	var closed func() // a loop timer's runtime shut down
	if c.loop() != nil {
		closed = t.closed
	}
	t.lt = c.newTimer(t.expire, closed)
	t.p.OnCancel(func(cause error) {
		t.lt.Stop()
		f.Cancel(cause)
	})
	t.lt.Reset(d)
	f.OnComplete(t.settle)
	out := t.p.Future()
	if future.Tracing() {
		// The pipeline goes on through the timeout (a step below f's).
		future.Follow(out, f, "timeout "+d.String())
	}
	return out
}

type timeout[T any] struct {
	p       *future.Promise[T]
	f       *future.Future[T]
	lt      *evloop.Timer
	expired atomic.Bool
}

// closed settles a loop timer's Timeout whose runtime shut down: f is
// cancelled and the timeout rejects with evloop.ErrClosed.
func (t *timeout[T]) closed() {
	t.f.Cancel(evloop.ErrClosed)
	t.p.Reject(evloop.ErrClosed)
}

func (t *timeout[T]) settle(v T, err error) {
	t.lt.Stop()
	if t.expired.Load() {
		t.p.Reject(future.ErrTimeout)
		return
	}
	if err != nil {
		t.p.Reject(err)
		return
	}
	t.p.Resolve(v)
}

// expire cancels f first, so its producer has been told by the time the
// timeout rejection reaches anyone, then rejects (settle does it when the
// cancellation lands; the Reject below covers an f already settled).
func (t *timeout[T]) expire() {
	t.expired.Store(true)
	t.f.Cancel(future.ErrTimeout)
	t.p.Reject(future.ErrTimeout)
}

// Ticker is a running Interval. Stop it when it is no longer needed.
type Ticker struct {
	fn      func()
	start   int64
	period  int64
	lt      *evloop.Timer
	stopped atomic.Bool
	ticks   atomic.Int64
}

// Interval calls fn every d, delivered like a Delay's completion, until
// Stop. Ticks are scheduled from the start time (start + n*d), so they do
// not drift however long each call takes; a tick whose time has passed
// while fn still ran, or while the process was busy, is skipped rather
// than run late in a burst. A panic in fn is logged as a warning and the
// interval goes on. d must be positive; Interval panics otherwise, like
// time.NewTicker.
func Interval(d time.Duration, fn func(), opts ...Option) *Ticker {
	if d <= 0 {
		panic("timer: non-positive interval")
	}
	t := &Ticker{fn: fn, start: evloop.Now(), period: int64(d)}
	t.lt = configure(opts).newTimer(t.tick, nil)
	t.lt.ResetAt(t.start + t.period)
	return t
}

func (t *Ticker) tick() {
	if t.stopped.Load() {
		return
	}
	t.ticks.Add(1)
	if r := future.Protect(t.fn); r != nil {
		logx.L().Warn("timer: panic in Interval callback", zap.Any("panic", r.Value), zap.ByteString("stack", r.Stack))
	}
	if t.stopped.Load() {
		return
	}
	// Next deadline on the start + n*period grid, strictly in the future.
	n := (evloop.Now()-t.start)/t.period + 1
	t.lt.ResetAt(t.start + n*t.period)
	if t.stopped.Load() {
		t.lt.Stop() // Stop ran between the check and the re-arm
	}
}

// Stop ends the interval: no call of fn starts after Stop returns, except
// one already handed to its executor, which then does nothing. It reports
// whether the interval was running.
func (t *Ticker) Stop() bool {
	if t.stopped.Swap(true) {
		return false
	}
	t.lt.Stop()
	return true
}

// Ticks returns how many times fn has been called.
func (t *Ticker) Ticks() int64 { return t.ticks.Load() }
