// Package logx holds the library-wide zap logger.
//
// The logger is a no-op until a program installs one with goasync.SetLogger
// (which calls Set). Hot paths guard their debug logging with Debug() so a
// disabled logger costs one atomic load and no allocation.
package logx

import (
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type state struct {
	l     *zap.Logger
	debug bool
}

var (
	cur atomic.Pointer[state]
	// debugOn mirrors cur's debug flag in one word, so that Debug, which
	// hot paths call once per step, is a single load.
	debugOn atomic.Bool
)

func init() { Set(nil) }

// Set installs l as the library logger; nil restores the no-op logger.
func Set(l *zap.Logger) {
	if l == nil {
		l = zap.NewNop()
	}
	st := &state{l: l, debug: l.Core().Enabled(zapcore.DebugLevel)}
	cur.Store(st)
	debugOn.Store(st.debug)
}

// L returns the library logger. It is never nil.
func L() *zap.Logger { return cur.Load().l }

// Debug reports whether the library logger records debug entries, so callers
// can skip building fields that would be thrown away.
func Debug() bool { return debugOn.Load() }
