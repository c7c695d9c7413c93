package tcp

import (
	"errors"
	"io"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loop"
)

// CloseWrite half-closes the socket: queued output is sent, then the write
// side shuts down (shutdown(2) on the socket's one descriptor: the peer
// reads EOF) while reads go on. The future resolves when the shutdown
// happened. Later writes fail with ErrClosed. A paused socket stays paused:
// half-closing does not turn reading back on.
func (s *Socket) CloseWrite() *future.Future[struct{}] {
	s.mu.Lock()
	if s.state != stOpen || s.wrShut {
		err := s.closedErrLocked()
		s.mu.Unlock()
		if err == nil {
			return writeDone
		}
		return future.Rejected[struct{}](opError("close", s.peer(), err))
	}
	s.wrShut = true
	s.shutAfter = true
	s.shutP = future.New[struct{}]()
	f := s.shutP.Future()
	var done []func()
	if s.queued == 0 {
		done = s.drainedLocked(nil)
	}
	s.mu.Unlock()
	run(done)
	return f
}

// Close closes the socket gracefully: no more writes are accepted, queued
// output is handed to the kernel, then the socket closes. The future
// resolves after that, or rejects with the error that ended the socket
// first. On a socket already closed it settles at once.
func (s *Socket) Close() *future.Future[struct{}] {
	s.mu.Lock()
	if s.closeP == nil {
		s.closeP = future.New[struct{}]()
		traceOp(s, s.closeP.Future(), "tcp.Close")
	}
	f := s.closeP.Future()
	if s.state == stClosed {
		// Already closed (by the peer, Abort, a timeout, an earlier
		// Close): settle at once with how it ended.
		err := s.finalErr
		p := s.closeP
		s.mu.Unlock()
		if err == nil {
			p.Resolve(struct{}{})
		} else {
			p.Reject(err)
		}
		return f
	}
	if s.state != stOpen {
		s.mu.Unlock()
		return f
	}
	s.state = stClosing
	s.wrShut = true
	var done []func()
	if s.queued == 0 {
		done = s.closeNowLocked(nil, nil)
	}
	s.mu.Unlock()
	run(done)
	return f
}

// Abort closes the socket at once, dropping queued output, and resets the
// connection (SO_LINGER 0, then close): the peer reads ECONNRESET, not a
// clean EOF, so a truncated stream never looks complete. Pending futures
// reject with ErrClosed; when Abort returns, Closed is true and Err
// matches ErrClosed. Use Close for a graceful close.
func (s *Socket) Abort() {
	s.mu.Lock()
	s.reset = true
	s.mu.Unlock()
	s.fail(opError("close", s.peer(), ErrClosed))
}

// closedErrLocked is the error for an operation on a closing or closed
// socket.
func (s *Socket) closedErrLocked() error {
	if s.finalErr != nil {
		return s.finalErr
	}
	if s.closeErr != nil {
		return s.closeErr
	}
	return ErrClosed
}

// fail closes the socket with err from any goroutine.
func (s *Socket) fail(err error) {
	s.mu.Lock()
	done := s.failLocked(err, nil)
	s.mu.Unlock()
	if len(done) == 0 {
		return
	}
	// The socket is closed for new work already; its pending futures
	// settle on its loop, where their continuations belong.
	if s.lp == nil || s.onOwnLoop() {
		run(done)
		return
	}
	s.lp.Execute(func() { run(done) })
}

// onConnError runs on the loop when a read failed (a reset) or the
// runtime stops.
func (s *Socket) onConnError(err error) {
	if errors.Is(err, loop.ErrClosed) {
		s.fail(opError("close", s.peer(), ErrClosed))
		return
	}
	s.fail(opError("read", s.peer(), err))
}

// failLocked records err, rejects everything pending and closes.
func (s *Socket) failLocked(err error, done []func()) []func() {
	if s.state == stClosed || s.closeErr != nil {
		return done
	}
	s.closeErr = err
	if logx.Debug() {
		s.log("fail", err)
	}
	s.closed.Store(true)
	s.state = stClosing
	s.wrShut = true
	if s.queued > 0 {
		// The stream is cut short (output dropped): reset, so the peer
		// does not take the end for a clean one.
		s.reset = true
	}
	s.out, s.queued = nil, 0
	done = s.rejectPendingLocked(err, done)
	return s.closeNowLocked(err, done)
}

// rejectPendingLocked rejects writes, reads, Writable and CloseWrite.
func (s *Socket) rejectPendingLocked(err error, done []func()) []func() {
	for _, w := range s.wwait {
		p := w.p
		done = append(done, func() { p.Reject(err) })
	}
	s.wwait = nil
	for _, p := range s.writable {
		done = append(done, func() { p.Reject(err) })
	}
	s.writable = nil
	s.blocked = false
	if p := s.shutP; p != nil && s.shutAfter {
		s.shutAfter = false
		done = append(done, func() { p.Reject(err) })
	}
	for _, r := range s.reads {
		p := r.p
		done = append(done, func() { p.Reject(err) })
	}
	s.reads = nil
	return done
}

// closeNowLocked closes the descriptor and finalizes the socket with
// reason: at once on the socket's loop, else through its task queue
// (descriptors are closed on their loop).
func (s *Socket) closeNowLocked(reason error, done []func()) []func() {
	if s.onOwnLoop() {
		s.closeConnLocked()
		return s.finalizeLocked(reason, done)
	}
	finish := func() {
		s.mu.Lock()
		s.closeConnLocked()
		d := s.finalizeLocked(reason, nil)
		s.mu.Unlock()
		run(d)
	}
	return append(done, func() {
		if s.onOwnLoop() {
			finish()
		} else {
			s.lp.Execute(finish)
		}
	})
}

// closeConnLocked closes the connection: a reset after Abort or dropped
// output, else gracefully. Loop only.
func (s *Socket) closeConnLocked() {
	c := s.conn
	if c == nil {
		return
	}
	s.conn = nil
	s.rdOff = false
	if s.reset {
		_ = c.Abort()
	} else {
		_ = c.Close()
	}
}

// finalizeLocked makes the socket closed: everything pending settles and
// OnClose runs (appended to done, which the caller runs on the loop).
func (s *Socket) finalizeLocked(reason error, done []func()) []func() {
	if s.state == stClosed {
		return done
	}
	s.state = stClosed
	if s.to != nil && s.to.timer != nil {
		s.to.timer.Stop()
	}
	if s.pauseT != nil {
		s.pauseT.Stop()
	}
	if s.closeErr != nil {
		reason = s.closeErr
	}
	userErr := reason
	if reason == io.EOF {
		userErr = nil
	}
	s.finalErr = userErr
	// A closed socket delivers nothing more to OnData; pausing no longer
	// holds back reads, which are served from what is buffered.
	s.paused, s.eofDue = false, false
	pendErr := reason
	if pendErr == nil {
		pendErr = opError("close", s.peer(), ErrClosed)
	}
	if reason == io.EOF || reason == nil {
		done = s.eofReadsLocked(done)
	}
	done = s.rejectPendingLocked(pendErr, done)
	if p := s.closeP; p != nil {
		if userErr == nil {
			done = append(done, func() { p.Resolve(struct{}{}) })
		} else {
			done = append(done, func() { p.Reject(userErr) })
		}
	}
	s.closed.Store(true)
	return append(done, func() {
		s.endTrace(userErr)
		if logx.Debug() {
			s.log("close", userErr)
		}
		if s.srv != nil {
			s.srv.remove(s)
		}
		if fn := s.h.OnClose; fn != nil {
			s.callUser(func() { fn(s, userErr) })
		}
	})
}
