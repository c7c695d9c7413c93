//go:build linux

package loopmark

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Sessions is true where a loop should run its callbacks in sessions
// (Enter, Leave) and stay unlocked while it polls: on Linux, where a
// session locks the goroutine to its thread.
const Sessions = true

// lockThread locks the caller to its thread and returns the thread id.
func lockThread() uint64 {
	runtime.LockOSThread()
	return uint64(uint32(unix.Gettid()))
}

func unlockThread() { runtime.UnlockOSThread() }

// selfGoID is not needed on Linux: thread ids name sessions.
func selfGoID() uint64 { return 0 }

// confirm reports whether the caller is m's goroutine, given w, m's word
// loaded before: w's session lasted from that load until the load after
// the caller's gettid, so its thread ran nothing but m's goroutine
// meanwhile, and the caller ran on it.
func confirm(m *Marker, w uint64) bool {
	t := uint64(uint32(unix.Gettid()))
	return w&0xffffffff == t && m.word.Load() == w
}

// find returns the marker among list whose session the caller runs in,
// given their words ws loaded before.
func find(list []*Marker, ws []uint64) *Marker {
	t := uint64(uint32(unix.Gettid()))
	for i, m := range list {
		if w := ws[i]; w != 0 && w&0xffffffff == t && m.word.Load() == w {
			return m
		}
	}
	return nil
}
