//go:build !linux

package loopmark

// Sessions is false outside Linux: goroutines are named by their id
// there, no thread is locked, and a loop stays in its session.
const Sessions = false

// lockThread returns a nonzero word for the session (no thread is locked).
func lockThread() uint64 { return 1 }

func unlockThread() {}

// selfGoID names the marking goroutine. Outside Linux there is no
// portable, cheap thread id in golang.org/x/sys, so the id is parsed from
// runtime.Stack (microseconds); correct, slower (see docs/architecture.md:
// only Linux is tested and tuned).
func selfGoID() uint64 { return GoID() }

// confirm reports whether the caller is m's goroutine.
func confirm(m *Marker, _ uint64) bool { return GoID() == m.goid }

// find returns the marker among list whose goroutine the caller is.
func find(list []*Marker, ws []uint64) *Marker {
	g := GoID()
	for i, m := range list {
		if ws[i] != 0 && m.goid == g {
			return m
		}
	}
	return nil
}
