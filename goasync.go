// Package goasync is a futures/promise concurrency layer over asynchronous
// sockets: goasync's own event loops on gnet v2's public poller do the
// nonblocking I/O, and typed futures (package future) replace nested
// callbacks.
//
// This root package is the switchboard: SetLogger installs one zap logger
// for the whole library, NewRuntime makes a set of event loops of your own
// (the packages tcp, dns and http take it with their WithRuntime options;
// otherwise they share a process-wide default runtime started on first
// use), Shutdown stops the default runtime, and ReadStats reports the live
// counters.
package goasync

import (
	"context"

	"go.uber.org/zap"

	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/stats"
)

func init() {
	loop.Unwrap = func(v any) *loop.Runtime {
		if r, ok := v.(*Runtime); ok && r != nil {
			return r.r
		}
		return nil
	}
}

// SetLogger installs l as the logger of the whole library; nil restores the
// default no-op logger. At debug level every named future step and every
// socket event is logged with structured fields.
//
// gnet's own log lines (its poller's rare errors) go through l too, named
// "gnet", at gnet's levels; gnet's logger is process-wide, so this applies
// to every gnet user of the process.
func SetLogger(l *zap.Logger) {
	logx.Set(l)
	loop.RouteGnetLogs()
}

// Shutdown stops the shared runtime: listeners close, connections close,
// and every pending future it owns settles with an error. It returns ctx's
// error if ctx ends first (the remaining steps still finish in the
// background). Using the library afterwards starts a fresh runtime.
func Shutdown(ctx context.Context) error { return loop.ShutdownDefault(ctx) }

// Runtime is a set of event loops: every socket, listener, DNS query and
// loop timer of the packages that run on it lives on one of its loops.
// Runtimes are independent: programs and tests can run several side by
// side and shut each down on its own.
type Runtime struct{ r *loop.Runtime }

// RuntimeOption configures NewRuntime.
type RuntimeOption func(*runtimeConfig)

type runtimeConfig struct{ opts []loop.Option }

// WithLoops sets the number of event loops (default GOMAXPROCS). Each loop
// is one goroutine locked to an OS thread, waiting in epoll or kqueue.
func WithLoops(n int) RuntimeOption {
	return func(c *runtimeConfig) { c.opts = append(c.opts, loop.WithLoops(n)) }
}

// WithLogger gives the runtime's loops a logger of their own (accept
// failures, recovered panics); by default they use the library logger.
func WithLogger(l *zap.Logger) RuntimeOption {
	return func(c *runtimeConfig) { c.opts = append(c.opts, loop.WithLogger(l)) }
}

// NewRuntime starts a runtime. Pass it to tcp.WithRuntime, dns.WithRuntime
// or http.WithRuntime, and stop it with Shutdown.
func NewRuntime(opts ...RuntimeOption) (*Runtime, error) {
	var c runtimeConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	r, err := loop.New(c.opts...)
	if err != nil {
		return nil, err
	}
	return &Runtime{r: r}, nil
}

// Loops returns the number of event loops.
func (r *Runtime) Loops() int { return r.r.Loops() }

// Shutdown closes the runtime's listeners and connections, stops its
// loops, and settles every pending future it owns with an error. It
// returns ctx's error if ctx ends first (the steps go on in the
// background). On one of the loops it fails at once with
// future.ErrAwaitOnLoop.
func (r *Runtime) Shutdown(ctx context.Context) error { return r.r.Shutdown(ctx) }

// Stats is a snapshot of the library's live counters.
type Stats = stats.Snapshot

// ReadStats returns the library's counters: running event loops, open
// connections in and out, armed timers, pending futures, and totals of
// accepted, dialed and closed connections and of bytes read and written.
// ConnsIn and ConnsOut count TCP and unix stream sockets from connect or
// accept until their descriptor is closed, half-open sockets included;
// DNS query sockets are not connections and are not counted.
func ReadStats() Stats { return stats.Read() }
