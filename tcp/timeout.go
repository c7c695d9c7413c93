package tcp

import (
	"errors"
	"time"
)

// SetReadTimeout closes the socket with ErrTimeout when nothing is
// received for d (0 disables). The clock restarts now.
func (s *Socket) SetReadTimeout(d time.Duration) { s.setTimeout(&s.readTO, d) }

// SetWriteTimeout closes the socket with ErrTimeout when queued output
// makes no progress for d (0 disables).
func (s *Socket) SetWriteTimeout(d time.Duration) { s.setTimeout(&s.writeTO, d) }

// SetIdleTimeout closes the socket with ErrTimeout when neither reads nor
// writes happen for d (0 disables).
func (s *Socket) SetIdleTimeout(d time.Duration) { s.setTimeout(&s.idleTO, d) }

func (s *Socket) setTimeout(field *time.Duration, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stClosed {
		return
	}
	*field = d
	t := now()
	s.lastRead, s.lastWrite, s.lastProgress = t, t, t
	s.armTimeoutsLocked()
}

// armTimeoutsLocked (re)arms the socket's one loop timer for the nearest
// deadline. Activity does not move the timer: when it fires, the deadlines
// are checked against the latest activity and the timer re-armed for the
// next one (the loop timers' wake-up is re-armed lazily the same way).
func (s *Socket) armTimeoutsLocked() {
	next := s.nextDeadlineLocked()
	if next < 0 {
		if s.toTimer != nil {
			s.toTimer.Stop()
		}
		return
	}
	if s.toTimer == nil {
		if s.lp == nil {
			return // armed when the socket opens
		}
		s.toTimer = s.lp.AfterFunc(time.Duration(next-now()), s.checkTimeouts)
		return
	}
	s.toTimer.ResetAt(next)
}

func (s *Socket) nextDeadlineLocked() int64 {
	next := int64(-1)
	pick := func(t int64) {
		if next < 0 || t < next {
			next = t
		}
	}
	if s.readTO > 0 {
		pick(s.lastRead + int64(s.readTO))
	}
	if s.idleTO > 0 {
		pick(max(s.lastRead, s.lastWrite) + int64(s.idleTO))
	}
	if s.writeTO > 0 && s.queued > 0 {
		pick(s.lastProgress + int64(s.writeTO))
	} else if s.writeTO > 0 {
		pick(now() + int64(s.writeTO)) // look again later
	}
	return next
}

// checkTimeouts runs on the loop when the timer fires.
func (s *Socket) checkTimeouts() {
	s.mu.Lock()
	if s.state == stClosed || s.closeErr != nil {
		s.mu.Unlock()
		return
	}
	t := now()
	var which string
	switch {
	case s.readTO > 0 && t-s.lastRead >= int64(s.readTO):
		which = "read"
	case s.idleTO > 0 && t-max(s.lastRead, s.lastWrite) >= int64(s.idleTO):
		which = "idle"
	case s.writeTO > 0 && s.queued > 0 && t-s.lastProgress >= int64(s.writeTO):
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
