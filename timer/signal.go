package timer

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"

	"github.com/sourcegraph/conc/panics"
	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
)

// SignalHandler is a running OnSignal registration. Free it when it is no
// longer needed.
type SignalHandler struct {
	ch   chan os.Signal
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
	gid  atomic.Uint64 // the handler goroutine's id
}

// OnSignal calls fn with each of sigs the process receives (every
// notifiable signal if sigs is empty). fn runs on the event loop OnSignal
// was called from, or else on the handler's own goroutine (to run it
// elsewhere, hand off inside fn). While a handler is registered, the
// signals it names lose their default effect (a SIGINT no longer ends the
// program), as with signal.Notify. A panic in fn is logged as a warning.
// Each handler holds one goroutine until Free.
func OnSignal(fn func(os.Signal), sigs ...os.Signal) *SignalHandler {
	c := configure(nil)
	return onSignal(c, fn, sigs)
}

func onSignal(c config, fn func(os.Signal), sigs []os.Signal) *SignalHandler {
	h := &SignalHandler{ch: make(chan os.Signal, 8), stop: make(chan struct{})}
	signal.Notify(h.ch, sigs...)
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		h.gid.Store(loopmark.GoID())
		for {
			select {
			case s := <-h.ch:
				c.deliver(func() {
					select {
					case <-h.stop:
						return // freed while the delivery was queued
					default:
					}
					var pc panics.Catcher
					pc.Try(func() { fn(s) })
					if r := pc.Recovered(); r != nil {
						logx.L().Warn("timer: panic in signal handler", zap.Any("panic", r.Value), zap.ByteString("stack", r.Stack))
					}
				})
			case <-h.stop:
				return
			}
		}
	}()
	return h
}

// Free unregisters the handler: the signals go back to their previous
// handling (their default, if no other handler names them), and its
// goroutine has exited when Free returns. Free may be called more than
// once and from the handler itself.
func (h *SignalHandler) Free() {
	h.release()
	if loopmark.GoID() != h.gid.Load() {
		h.done.Wait()
	}
}

// release unregisters without waiting for the goroutine to exit.
func (h *SignalHandler) release() {
	h.once.Do(func() {
		signal.Stop(h.ch)
		close(h.stop)
	})
}

// Signal returns a future resolved with the first of sigs the process
// receives after the call (any notifiable signal if sigs is empty). It
// rejects with context.Cause(ctx) when ctx ends first; cancelling it, or
// either outcome, frees the underlying handler.
func Signal(ctx context.Context, sigs ...os.Signal) *future.Future[os.Signal] {
	return signalFuture(ctx, configure(nil), sigs)
}

func signalFuture(ctx context.Context, c config, sigs []os.Signal) *future.Future[os.Signal] {
	p := future.New[os.Signal]()
	h := onSignal(config{}, func(s os.Signal) { c.deliver(func() { p.Resolve(s) }) }, sigs)
	p.Future().OnComplete(func(os.Signal, error) { h.release() })
	if ctx != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { p.Reject(context.Cause(ctx)) })
		p.Future().OnComplete(func(os.Signal, error) { stop() })
	}
	return p.Future()
}
