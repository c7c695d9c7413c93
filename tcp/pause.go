package tcp

import (
	"io"
	"time"

	"github.com/goasync/goasync/internal/logx"
)

// Pause stops delivering received bytes (to OnData and to read futures)
// until Resume, and stops reading the descriptor (read interest off), so
// the peer is held back by TCP flow control once the kernel's buffers
// fill, whatever this side's write half does (CloseWrite, Close with
// output queued). Bytes already read (at most what one read brought in
// before the pause took effect) are held and delivered on Resume; so is
// the peer's FIN, after them: a FIN or reset that arrives while paused
// waits in the kernel, behind the bytes before it.
func (s *Socket) Pause() { s.PauseFor(0) }

// PauseFor pauses like Pause and, when d > 0, resumes by itself after d.
func (s *Socket) PauseFor(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stClosed {
		return
	}
	s.paused = true
	if s.pauseT != nil {
		s.pauseT.Stop()
		s.pauseT = nil
	}
	if d > 0 && s.lp != nil {
		s.pauseT = s.lp.AfterFunc(d, s.Resume)
	}
	if !s.rdOff && !s.cfg.bufferPaused {
		s.syncReadingSoonLocked()
	}
}

// pullHigh is how much a socket without OnData buffers for reads not yet
// asked for before it stops reading (at most its WithMaxBuffered bound).
const pullHigh = 64 << 10

// unreadLocked reports whether a pull-style socket (no OnData) holds
// enough bytes that no read asked for that reading should stop until one
// does.
func (s *Socket) unreadLocked() bool {
	return s.h.OnData == nil && len(s.reads) == 0 && len(s.in)-s.inOff >= min(pullHigh, s.cfg.maxBuffered)
}

// readAgainLocked turns reads back on when a reader came back.
func (s *Socket) readAgainLocked() {
	if s.rdOff {
		s.syncReadingSoonLocked()
	}
}

// syncReadingSoonLocked runs syncReadingLocked now when the caller is on
// the socket's loop (where interest changes happen), else queues it there.
func (s *Socket) syncReadingSoonLocked() {
	switch {
	case s.lp == nil:
	case s.onOwnLoop():
		s.syncReadingLocked()
	default:
		s.lp.Execute(s.syncReading)
	}
}

// syncReading turns reading of the descriptor off while the socket is
// paused, or while a socket without OnData holds enough bytes that no read
// has asked for (unreadLocked), and on again otherwise. Loop only.
func (s *Socket) syncReading() {
	s.mu.Lock()
	s.syncReadingLocked()
	s.mu.Unlock()
}

func (s *Socket) syncReadingLocked() {
	if s.conn == nil {
		s.rdOff = false
		return
	}
	off := (s.paused || s.unreadLocked()) && s.state != stClosed && s.closeErr == nil && !s.cfg.bufferPaused
	if off == s.rdOff {
		return
	}
	if err := s.conn.SetReading(!off); err != nil {
		if logx.Debug() {
			s.log("read pause", err)
		}
		return
	}
	s.rdOff = off
}

// Paused reports whether delivery is paused.
func (s *Socket) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// Resume delivers what was buffered while paused, in order, on the
// socket's loop, reads again, and goes on delivering. A peer FIN that came
// while paused is delivered after those bytes (OnEOF, or the clean close).
func (s *Socket) Resume() {
	s.mu.Lock()
	if !s.paused {
		s.mu.Unlock()
		return
	}
	s.paused = false
	if s.pauseT != nil {
		s.pauseT.Stop()
		s.pauseT = nil
	}
	lp := s.lp
	s.mu.Unlock()
	lp.Execute(s.deliver)
}

// deliver hands buffered bytes to pending reads, then to OnData, in order,
// unless the socket is paused. Once the peer's FIN has been read and
// nothing received before it is left to deliver, it delivers the FIN too:
// OnEOF in half-open mode, else the clean close (after queued output, if
// any, is written). Every path that delivers held bytes ends here, so the
// FIN can never overtake them. Loop only.
func (s *Socket) deliver() {
	if s.rdOff {
		s.syncReading()
	}
	for {
		s.mu.Lock()
		var done []func()
		if s.rdEOF || s.state == stClosed {
			done = s.eofReadsLocked(nil)
		} else {
			done = s.serveReadsLocked(nil)
		}
		s.mu.Unlock()
		run(done)
		s.pushRest()
		s.mu.Lock()
		if !s.eofDue || s.state == stClosed || s.closeErr != nil {
			s.mu.Unlock()
			return
		}
		if s.inOff < len(s.in) {
			if s.paused {
				s.mu.Unlock()
				return // Resume comes back here
			}
			if s.h.OnData != nil {
				s.mu.Unlock()
				continue // a Resume came in between
			}
		}
		// Everything before the FIN has been delivered (a pull-style
		// socket keeps unread bytes for later reads).
		s.eofDue = false
		done = s.eofReadsLocked(nil)
		callEOF := false
		switch {
		case s.halfOpen && !s.wrShut:
			callEOF = s.h.OnEOF != nil
		default:
			s.wrShut = true // finish what is queued, then close
			if s.queued == 0 {
				done = s.closeNowLocked(io.EOF, done)
			}
		}
		s.mu.Unlock()
		run(done)
		if callEOF {
			fn := s.h.OnEOF
			s.callUser(func() { fn(s) })
		}
		return
	}
}
