// Package goasync is a futures/promise concurrency layer over asynchronous
// sockets: gnet v2 does the nonblocking I/O, and typed futures
// (package future) replace nested callbacks.
//
// This root package is the process-wide switchboard: SetLogger installs one
// zap logger for the whole library (gnet included), Shutdown stops the
// shared runtime, and ReadStats reports the live counters.
package goasync

import (
	"context"

	"go.uber.org/zap"

	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/runtime"
	"github.com/goasync/goasync/internal/stats"
)

// SetLogger installs l as the logger of the whole library; nil restores the
// default no-op logger. At debug level every named future step and every
// socket event is logged with structured fields. gnet's logger is
// process-global and taken when an engine starts, so call SetLogger before
// the first socket is opened (engines started earlier keep the old one).
func SetLogger(l *zap.Logger) { logx.Set(l) }

// Shutdown stops the shared runtime: listeners close, connections close,
// and every pending future it owns settles with an error. It returns ctx's
// error if ctx ends first (the remaining steps still finish in the
// background). Using the library afterwards starts a fresh runtime.
func Shutdown(ctx context.Context) error { return runtime.ShutdownDefault(ctx) }

// Stats is a snapshot of the library's live counters.
type Stats = stats.Snapshot

// ReadStats returns the library's counters: running event loops, open
// connections in and out, armed timers, pending futures, and totals of
// accepted, dialed and closed connections and of bytes read and written.
func ReadStats() Stats { return stats.Read() }
