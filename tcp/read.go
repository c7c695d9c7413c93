package tcp

import (
	"bytes"
	"errors"
	"io"
	"slices"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
)

type readKind uint8

const (
	readN readKind = iota
	readLine
	readUntil
	readSome // 1 to n bytes, whatever is there (the net.Conn view's Read)
)

type readOp struct {
	kind  readKind
	n     int
	delim []byte
	p     *future.Promise[[]byte]
}

// onData runs on the loop with bytes in the loop's read buffer: they are
// handed to OnData at once when nothing is held before them, else kept.
func (s *Socket) onData(buf []byte) {
	n := len(buf)
	s.bytesRead.Add(int64(n))
	if logx.Debug() {
		s.log("read", nil, zap.Int("bytes", n))
	}
	s.mu.Lock()
	if to := s.to; to != nil && (to.read > 0 || to.idle > 0) {
		to.lastRead = now()
	}
	if s.state == stClosed || s.closeErr != nil {
		s.mu.Unlock()
		return
	}
	if fn := s.h.OnData; fn != nil && !s.paused && len(s.reads) == 0 && s.inOff == len(s.in) {
		s.mu.Unlock()
		data := buf
		if !s.h.BorrowData {
			data = make([]byte, n)
			copy(data, buf)
		}
		s.callUser(func() { fn(s, data) })
		return
	}
	s.in = append(s.in, buf...)
	var done []func()
	if s.paused || (len(s.reads) == 0 && s.h.OnData == nil) {
		if len(s.in)-s.inOff > s.cfg.maxBuffered {
			done = s.failLocked(opError("read", s.peer(), ErrBufferFull), nil)
		} else if !s.rdOff && !s.paused {
			s.syncReadingLocked() // nobody reads: stop once enough waits
		}
		s.mu.Unlock()
		run(done)
		return
	}
	done = s.serveReadsLocked(nil)
	s.mu.Unlock()
	run(done)
	s.pushRest()
}

// onEOF runs on the loop when a read met the peer's FIN. The FIN is the
// end of the input stream, so it is queued behind the bytes received
// before it (eofDue) and delivered by deliver: at once unless the socket
// is paused with bytes held, else after Resume. The write side stays
// usable on the same descriptor (half-open mode, or to finish queued
// output). A socket already closing only finishes its output.
func (s *Socket) onEOF() {
	s.mu.Lock()
	if s.state == stClosed || s.closeErr != nil {
		s.mu.Unlock()
		return
	}
	s.rdEOF = true
	s.eofDue = s.state == stOpen
	s.mu.Unlock()
	s.deliver()
}

// pushRest hands buffered bytes no read wants to OnData. Loop only.
func (s *Socket) pushRest() {
	fn := s.h.OnData
	if fn == nil {
		return
	}
	for {
		s.mu.Lock()
		if s.paused || len(s.reads) > 0 || s.inOff == len(s.in) || s.state == stClosed {
			s.mu.Unlock()
			return
		}
		// The socket lets go of its buffer: the callee owns it (also
		// with BorrowData, which only promises less).
		data := s.in[s.inOff:]
		s.in, s.inOff = nil, 0
		s.mu.Unlock()
		s.callUser(func() { fn(s, data) })
	}
}

// serveReadsLocked completes pending reads from the buffer, in order.
func (s *Socket) serveReadsLocked(done []func()) []func() {
	for len(s.reads) > 0 && !s.paused {
		r := &s.reads[0]
		raw, n, ok, err := s.take(r)
		if !ok {
			break
		}
		p := r.p
		s.reads[0] = readOp{}
		s.reads = s.reads[1:]
		if err != nil {
			done = append(done, func() { p.Reject(err) })
		} else {
			done = append(done, func() { s.settleRead(p, raw, n) })
		}
	}
	if len(s.reads) == 0 {
		s.reads = nil
	}
	return done
}

// take cuts what r asks for from the buffer, if it is there: raw is a copy
// of the bytes cut, and the read's result is raw[:n] (a line without its
// ending).
func (s *Socket) take(r *readOp) (raw []byte, n int, ok bool, err error) {
	avail := s.in[s.inOff:]
	var cut int
	switch r.kind {
	case readN:
		if len(avail) < r.n {
			if len(avail) > s.cfg.maxBuffered {
				return nil, 0, true, opError("read", s.peer(), ErrBufferFull)
			}
			return nil, 0, false, nil
		}
		n, cut = r.n, r.n
	case readLine:
		i := bytes.IndexByte(avail, '\n')
		if i < 0 {
			if len(avail) > s.cfg.maxBuffered {
				return nil, 0, true, opError("read", s.peer(), ErrBufferFull)
			}
			return nil, 0, false, nil
		}
		cut, n = i+1, i
		if n > 0 && avail[n-1] == '\r' {
			n--
		}
	case readSome:
		if len(avail) == 0 {
			return nil, 0, false, nil
		}
		n = min(r.n, len(avail))
		cut = n
	case readUntil:
		i := bytes.Index(avail, r.delim)
		if i < 0 {
			if len(avail) > s.cfg.maxBuffered {
				return nil, 0, true, opError("read", s.peer(), ErrBufferFull)
			}
			return nil, 0, false, nil
		}
		n = i + len(r.delim)
		cut = n
	}
	raw = make([]byte, cut)
	copy(raw, avail)
	s.inOff += cut
	if s.inOff == len(s.in) {
		s.in, s.inOff = nil, 0 // hold no buffer while nothing is held
	} else if s.inOff > 64<<10 && s.inOff > len(s.in)/2 {
		m := copy(s.in, s.in[s.inOff:])
		s.in, s.inOff = s.in[:m], 0
	}
	return raw, n, true, nil
}

// eofReadsLocked serves what it can and rejects the rest with io.EOF (or
// io.ErrUnexpectedEOF when some bytes were left).
func (s *Socket) eofReadsLocked(done []func()) []func() {
	if s.paused && s.inOff < len(s.in) {
		return done // Resume serves them
	}
	done = s.serveReadsLocked(done)
	for _, r := range s.reads {
		p := r.p
		err := io.EOF
		if s.inOff < len(s.in) {
			err = io.ErrUnexpectedEOF
		}
		done = append(done, func() { p.Reject(err) })
	}
	s.reads = nil
	return done
}

func (s *Socket) read(r readOp) *future.Future[[]byte] {
	r.p = future.New[[]byte]()
	f := traceOp(s, r.p.Future(), readNames[r.kind])
	p := r.p
	// A read that is cancelled (timer.Timeout, Cancel, WithContext, a
	// join's loser) leaves the queue untouched by it: it never takes
	// bytes, and the reads behind it move up.
	p.OnCancel(func(error) { s.cancelRead(p) })
	s.mu.Lock()
	var done []func()
	switch {
	case s.closeErr != nil || s.finalErr != nil:
		err := s.closedErrLocked()
		s.mu.Unlock()
		r.p.Reject(err)
		return f
	case s.state == stClosed || s.rdEOF:
		// Past a clean end: only buffered bytes can still serve it.
		s.reads = append(s.reads, r)
		done = s.eofReadsLocked(nil)
	default:
		s.reads = append(s.reads, r)
		if len(s.reads) == 1 {
			done = s.serveReadsLocked(nil)
		}
		if s.rdOff && !s.paused && !s.unreadLocked() {
			// Reading stopped while nobody read: a reader is back.
			s.readAgainLocked()
		}
	}
	s.mu.Unlock()
	run(done)
	return f
}

// cancelRead takes a cancelled read out of the queue. If it was the head,
// the reads behind it may be served from what is buffered: that happens on
// the loop, where read futures settle.
func (s *Socket) cancelRead(p *future.Promise[[]byte]) {
	s.mu.Lock()
	i := slices.IndexFunc(s.reads, func(r readOp) bool { return r.p == p })
	if i < 0 {
		s.mu.Unlock()
		return
	}
	s.reads = slices.Delete(s.reads, i, i+1)
	lp := s.lp
	s.mu.Unlock()
	if i == 0 && lp != nil {
		lp.Execute(s.deliver)
	}
}

// settleRead resolves a served read with raw[:n] (raw is what was cut
// from the stream, line ending included). If the read was cancelled in the
// meantime, from another goroutine after the bytes were cut, raw goes back
// to the front of the buffer for the reads behind it. Loop only.
func (s *Socket) settleRead(p *future.Promise[[]byte], raw []byte, n int) {
	if p.Resolve(raw[:n:n]) {
		return
	}
	s.mu.Lock()
	if s.closeErr != nil || s.finalErr != nil {
		s.mu.Unlock()
		return
	}
	s.in = append(append(make([]byte, 0, len(raw)+len(s.in)-s.inOff), raw...), s.in[s.inOff:]...)
	s.inOff = 0
	s.mu.Unlock()
	s.deliver()
}

// ReadN returns a future of the next n bytes. Reads are served in the
// order they were asked for, before OnData sees the bytes. At EOF it
// rejects with io.EOF (io.ErrUnexpectedEOF if fewer than n bytes came).
func (s *Socket) ReadN(n int) *future.Future[[]byte] {
	if n < 0 {
		return future.Rejected[[]byte](errors.New("tcp: ReadN with a negative count"))
	}
	return s.read(readOp{kind: readN, n: n})
}

// ReadLine returns a future of the next line, without its "\n" or
// "\r\n". A line longer than the buffer bound fails with ErrBufferFull.
func (s *Socket) ReadLine() *future.Future[[]byte] {
	return s.read(readOp{kind: readLine})
}

// ReadUntil returns a future of the bytes up to and including the next
// delim.
func (s *Socket) ReadUntil(delim []byte) *future.Future[[]byte] {
	if len(delim) == 0 {
		return future.Rejected[[]byte](errors.New("tcp: ReadUntil with an empty delimiter"))
	}
	return s.read(readOp{kind: readUntil, delim: append([]byte(nil), delim...)})
}
