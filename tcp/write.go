package tcp

import (
	"slices"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
)

type pendingWrite struct {
	end uint64
	p   *future.Promise[struct{}]
}

// Write sends p. The future resolves when every byte of p has been handed
// to the kernel (the bytes left user space), in order with earlier writes;
// it rejects if the socket fails or closes first. p may be reused as soon
// as Write returns: bytes that cannot be written at once are copied.
func (s *Socket) Write(p []byte) *future.Future[struct{}] {
	s.mu.Lock()
	if s.state != stOpen || s.wrShut {
		err := s.closedErrLocked()
		s.mu.Unlock()
		return future.Rejected[struct{}](opError("write", s.peer(), err))
	}
	if s.queued+len(p) > s.cfg.maxQueued && s.queued > 0 {
		s.mu.Unlock()
		return future.Rejected[struct{}](opError("write", s.peer(), ErrBufferFull))
	}
	if to := s.to; to != nil && to.idle > 0 {
		to.lastWrite = now()
	}
	if s.queued == 0 {
		n, err := s.conn.Write(p)
		if err != nil {
			err = opError("write", s.peer(), err)
			done := s.failLocked(err, nil)
			s.mu.Unlock()
			run(done)
			return future.Rejected[struct{}](err)
		}
		s.addWritten(n)
		if n == len(p) {
			s.mu.Unlock()
			return writeDone
		}
		p = p[n:]
		if s.to != nil {
			s.to.lastProgress = now()
		}
	}
	s.enqueue(p)
	if logx.Debug() {
		s.log("write-queued", nil, zap.Int("bytes", len(p)), zap.Int("queued", s.queued))
	}
	pr := future.New[struct{}]()
	traceOp(s, pr.Future(), "tcp.Write")
	s.wwait = append(s.wwait, pendingWrite{end: s.accepted, p: pr})
	if !s.blocked && s.queued > s.cfg.high {
		s.blocked = true
	}
	s.armLocked()
	s.mu.Unlock()
	return pr.Future()
}

// WriteString is Write for a string.
func (s *Socket) WriteString(str string) *future.Future[struct{}] {
	return s.Write([]byte(str))
}

func (s *Socket) addWritten(n int) {
	s.bytesWritten.Add(int64(n))
	s.accepted += uint64(n)
	s.flushed += uint64(n)
}

const chunkSize = 64 << 10

func (s *Socket) enqueue(p []byte) {
	s.accepted += uint64(len(p))
	s.queued += len(p)
	if k := len(s.out); k > 0 {
		last := s.out[k-1]
		if room := cap(last) - len(last); room > 0 {
			m := min(room, len(p))
			s.out[k-1] = append(last, p[:m]...)
			p = p[m:]
		}
	}
	if len(p) > 0 {
		b := make([]byte, len(p), max(len(p), chunkSize))
		copy(b, p)
		s.out = append(s.out, b)
	}
}

// armLocked asks the loop to report write readiness: at once on the
// socket's loop, else through its task queue (interest changes belong to
// the loop).
func (s *Socket) armLocked() {
	if s.armed || s.conn == nil {
		return
	}
	s.armed = true
	if s.onOwnLoop() {
		s.setWritingLocked(true)
		return
	}
	s.lp.Execute(s.armOnLoop)
}

func (s *Socket) armOnLoop() {
	s.mu.Lock()
	if s.armed && s.queued > 0 && s.conn != nil {
		s.setWritingLocked(true)
	}
	s.mu.Unlock()
}

// setWritingLocked turns write readiness on or off. Loop only.
func (s *Socket) setWritingLocked(on bool) {
	if s.conn == nil {
		return
	}
	if err := s.conn.SetWriting(on); err != nil && logx.Debug() {
		s.log("write interest", err)
	}
}

// flush writes queued output; it runs on the loop when the socket is
// writable.
func (s *Socket) flush() {
	s.mu.Lock()
	if s.state == stClosed || s.conn == nil {
		s.mu.Unlock()
		return
	}
	if s.queued == 0 {
		s.armed = false
		s.setWritingLocked(false)
		s.mu.Unlock()
		return
	}
	done := s.flushLocked(nil)
	s.mu.Unlock()
	run(done)
}

const iovMax = 1024

func (s *Socket) flushLocked(done []func()) []func() {
	progressed := false
	for s.queued > 0 {
		iov := s.out
		if len(iov) > iovMax {
			iov = iov[:iovMax]
		}
		n, err := s.conn.Writev(iov)
		if err != nil {
			return s.failLocked(opError("write", s.peer(), err), done)
		}
		if n == 0 {
			break // the kernel's buffer is full
		}
		progressed = true
		s.bytesWritten.Add(int64(n))
		s.flushed += uint64(n)
		s.queued -= n
		for n > 0 {
			if n >= len(s.out[0]) {
				n -= len(s.out[0])
				s.out[0] = nil
				s.out = s.out[1:]
			} else {
				s.out[0] = s.out[0][n:]
				n = 0
			}
		}
	}
	if progressed {
		if s.to != nil {
			s.to.lastProgress = now()
		}
		k := 0
		for k < len(s.wwait) && s.wwait[k].end <= s.flushed {
			p := s.wwait[k].p
			done = append(done, func() { p.Resolve(struct{}{}) })
			k++
		}
		s.wwait = s.wwait[k:]
		if len(s.wwait) == 0 {
			s.wwait = nil
		}
	}
	if s.blocked && s.queued <= s.cfg.low {
		s.blocked = false
		for _, p := range s.writable {
			done = append(done, func() { p.Resolve(struct{}{}) })
		}
		s.writable = nil
	}
	if s.queued > 0 {
		return done // write readiness stays on
	}
	s.out = nil
	s.armed = false
	s.setWritingLocked(false)
	if logx.Debug() {
		s.log("drained", nil)
	}
	return s.drainedLocked(done)
}

// drainedLocked runs the steps that wait for an empty queue. Loop only.
func (s *Socket) drainedLocked(done []func()) []func() {
	if s.shutAfter {
		s.shutAfter = false
		err := s.conn.CloseWrite()
		if p := s.shutP; p != nil {
			if err != nil {
				e := opError("close", s.peer(), err)
				done = append(done, func() { p.Reject(e) })
			} else {
				done = append(done, func() { p.Resolve(struct{}{}) })
			}
		}
	}
	switch {
	case s.state == stClosing:
		done = s.closeNowLocked(nil, done)
	case s.rdEOF && s.wrShut && !s.eofDue:
		// Both directions are done: the peer's FIN was delivered and
		// nothing more will be written.
		done = s.closeNowLocked(nil, done)
	}
	return done
}

// Writable returns a future that resolves once queued output is at or
// below the low watermark: at once unless a write pushed it above the high
// watermark. It rejects if the socket closes first.
func (s *Socket) Writable() *future.Future[struct{}] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stClosed || s.closeErr != nil {
		return future.Rejected[struct{}](opError("write", s.peer(), s.closedErrLocked()))
	}
	if !s.blocked {
		return writeDone
	}
	p := future.New[struct{}]()
	s.writable = append(s.writable, p)
	p.OnCancel(func(error) { // a cancelled wait leaves the list
		s.mu.Lock()
		if i := slices.Index(s.writable, p); i >= 0 {
			s.writable = slices.Delete(s.writable, i, i+1)
		}
		s.mu.Unlock()
	})
	return p.Future()
}

// Buffered returns the number of bytes queued for output.
func (s *Socket) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued
}
