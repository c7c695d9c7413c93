package tcp

import (
	"errors"
	"time"

	"github.com/goasync/goasync/internal/loop"
)

// timeouts holds a socket's read, write and idle timeouts and the clocks
// they are measured against. A socket allocates it when a timeout is set.
type timeouts struct {
	read, write, idle   time.Duration
	lastRead, lastWrite int64
	lastProgress        int64 // last time queued output moved
	timer               *loop.Timer
}

// restart starts every clock now.
func (to *timeouts) restart() {
	t := now()
	to.lastRead, to.lastWrite, to.lastProgress = t, t, t
}

// SetReadTimeout closes the socket with ErrTimeout when nothing is
// received for d (0 disables). The clock restarts now.
func (s *Socket) SetReadTimeout(d time.Duration) {
	s.setTimeout(func(to *timeouts) { to.read = d })
}

// SetWriteTimeout closes the socket with ErrTimeout when queued output
// makes no progress for d (0 disables).
func (s *Socket) SetWriteTimeout(d time.Duration) {
	s.setTimeout(func(to *timeouts) { to.write = d })
}

// SetIdleTimeout closes the socket with ErrTimeout when neither reads nor
// writes happen for d (0 disables).
func (s *Socket) SetIdleTimeout(d time.Duration) {
	s.setTimeout(func(to *timeouts) { to.idle = d })
}

func (s *Socket) setTimeout(set func(*timeouts)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stClosed {
		return
	}
	if s.to == nil {
		s.to = &timeouts{}
	}
	set(s.to)
	s.to.restart()
	s.armTimeoutsLocked()
}

// armTimeoutsLocked (re)arms the socket's one loop timer for the nearest
// deadline. Activity does not move the timer: when it fires, the deadlines
// are checked against the latest activity and the timer re-armed for the
// next one (the loop timers' wake-up is re-armed lazily the same way).
func (s *Socket) armTimeoutsLocked() {
	to := s.to
	if to == nil {
		return
	}
	next := s.nextDeadlineLocked()
	if next < 0 {
		if to.timer != nil {
			to.timer.Stop()
		}
		return
	}
	if to.timer == nil {
		if s.lp == nil {
			return // armed when the socket opens
		}
		to.timer = s.lp.AfterFunc(time.Duration(next-now()), s.checkTimeouts)
		return
	}
	to.timer.ResetAt(next)
}

func (s *Socket) nextDeadlineLocked() int64 {
	to := s.to
	next := int64(-1)
	pick := func(t int64) {
		if next < 0 || t < next {
			next = t
		}
	}
	if to.read > 0 {
		pick(to.lastRead + int64(to.read))
	}
	if to.idle > 0 {
		pick(max(to.lastRead, to.lastWrite) + int64(to.idle))
	}
	if to.write > 0 && s.queued > 0 {
		pick(to.lastProgress + int64(to.write))
	} else if to.write > 0 {
		pick(now() + int64(to.write)) // look again later
	}
	return next
}

// checkTimeouts runs on the loop when the timer fires.
func (s *Socket) checkTimeouts() {
	s.mu.Lock()
	to := s.to
	if s.state == stClosed || s.closeErr != nil || to == nil {
		s.mu.Unlock()
		return
	}
	t := now()
	var which string
	switch {
	case to.read > 0 && t-to.lastRead >= int64(to.read):
		which = "read"
	case to.idle > 0 && t-max(to.lastRead, to.lastWrite) >= int64(to.idle):
		which = "idle"
	case to.write > 0 && s.queued > 0 && t-to.lastProgress >= int64(to.write):
		which = "write"
	}
	if which == "" {
		s.armTimeoutsLocked()
		s.mu.Unlock()
		return
	}
	op := "read"
	if which == "write" {
		op = "write"
	}
	done := s.failLocked(&OpError{Op: op, Addr: s.peer(), Err: &timeoutKind{which: which}}, nil)
	s.mu.Unlock()
	run(done)
}

// timeoutKind says which timeout expired; it matches ErrTimeout.
type timeoutKind struct{ which string }

func (e *timeoutKind) Error() string { return "tcp: " + e.which + " timeout" }
func (e *timeoutKind) Is(target error) bool {
	return target == ErrTimeout || errors.Is(ErrTimeout, target)
}
func (e *timeoutKind) Timeout() bool { return true }
