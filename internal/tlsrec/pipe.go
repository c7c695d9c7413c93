package tlsrec

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// errWouldBlock is what the pipe's Read returns in nonblocking mode when no
// input is buffered. crypto/tls treats a net.Error whose Temporary method
// reports true as retryable and keeps its partial record.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tlsrec: no input buffered" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// pipe is the in-memory net.Conn under the tls.Conn. Input is fed by the
// owner; output is collected for the owner to send.
type pipe struct {
	mu     sync.Mutex
	cond   sync.Cond // waits of a blocking Read
	in     []byte    // owned unread input, in[off:]
	off    int
	borrow []byte // input lent for the duration of one Receive call
	// recLeft is how many bytes of the record crypto/tls is reading have
	// not been handed to it yet (0: it is at a record boundary). Read
	// never hands out bytes past the end of a record, so crypto/tls
	// never holds more than the record it is reading: when a Read of the
	// tls.Conn has returned, its raw input is empty unless recLeft > 0.
	recLeft int
	// more is readyLocked's answer after the last Read that returned
	// bytes. Only the goroutine reading the tls.Conn uses it (the
	// handshake's goroutine, then the owner's loop).
	more     bool
	blocking bool
	eof      bool // the peer closed its side of the transport
	// owned: the handshake has succeeded and the input side (in, off,
	// borrow, recLeft, more, eof) belongs to the owner's goroutine, which
	// alone feeds and reads it: no lock is taken for it any more. mu
	// still guards the output side and err.
	owned    atomic.Bool
	err      error       // set by fail: every later Read and Write returns it
	failed   atomic.Bool // err is set (read without the lock)
	out      []byte
	onOutput func() // called when out goes from empty to non-empty
	onWait   func() // called (under mu) before a blocking Read waits
	quiet    bool   // Encrypt runs: its caller takes the output itself
}

func newPipe(onOutput func()) *pipe {
	p := &pipe{blocking: true, onOutput: onOutput}
	p.cond.L = &p.mu
	return p
}

// Read implements net.Conn for crypto/tls. It hands out at most the rest
// of the current record (a new record once its 5-byte header is in), so
// that crypto/tls never holds bytes beyond the record it reads (see
// readyLocked).
func (p *pipe) Read(b []byte) (int, error) {
	if p.owned.Load() {
		if p.failed.Load() {
			return 0, p.failure()
		}
		if n := p.readNowLocked(b); n > 0 {
			return n, nil
		}
		if p.eof {
			return 0, io.EOF
		}
		return 0, errWouldBlock
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.err != nil {
			return 0, p.err
		}
		if n := p.readNowLocked(b); n > 0 {
			return n, nil
		}
		if p.eof {
			return 0, io.EOF
		}
		if !p.blocking {
			return 0, errWouldBlock
		}
		if p.onWait != nil {
			p.onWait()
		}
		p.cond.Wait()
	}
}

// readNowLocked hands out what may be handed out now (0 bytes: nothing,
// or less than a record header before the end of input). "Locked": under
// mu, or by the owner once the input is owned.
func (p *pipe) readNowLocked(b []byte) int {
	avail := p.availLocked()
	lim := avail
	if p.recLeft > 0 {
		lim = min(avail, p.recLeft)
	} else if avail >= recordHeaderLen {
		p.recLeft = recordHeaderLen + p.bodyLenLocked()
		lim = min(avail, p.recLeft)
	} else if !p.eof {
		return 0 // wait for a whole header
	}
	if lim == 0 {
		return 0
	}
	n := p.copyOutLocked(b[:min(len(b), lim)])
	p.recLeft = max(p.recLeft-n, 0)
	p.more = p.readyLocked()
	return n
}

// failure returns the error fail set.
func (p *pipe) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// lockIn takes mu for the input side unless the owner owns it; it
// reports whether it did (then the caller unlocks).
func (p *pipe) lockIn() bool {
	if p.owned.Load() {
		return false
	}
	p.mu.Lock()
	return true
}

func (p *pipe) availLocked() int { return len(p.in) - p.off + len(p.borrow) }

// copyOutLocked moves len(b) buffered bytes (owned ones first, then lent
// ones) into b.
func (p *pipe) copyOutLocked(b []byte) int {
	n := 0
	if p.off < len(p.in) {
		n = copy(b, p.in[p.off:])
		p.off += n
		if p.off == len(p.in) {
			p.resetInLocked()
		}
	}
	if n < len(b) && len(p.borrow) > 0 {
		m := copy(b[n:], p.borrow)
		p.borrow = p.borrow[m:]
		n += m
	}
	return n
}

// bodyLenLocked reads the length field of the record header at the head
// of the buffered input (at least recordHeaderLen bytes).
func (p *pipe) bodyLenLocked() int {
	return int(p.byteAtLocked(3))<<8 | int(p.byteAtLocked(4))
}

// byteAtLocked returns the i-th buffered byte (i < availLocked()).
func (p *pipe) byteAtLocked(i int) byte {
	if owned := len(p.in) - p.off; i >= owned {
		return p.borrow[i-owned]
	}
	return p.in[p.off+i]
}

// readyLocked reports whether a tls.Conn.Read can make progress: bytes
// wait, or the input has ended or failed. With nothing buffered, crypto/tls
// holds at most the start of one record (Read never hands out more), so
// its Read could only return the would-block error.
func (p *pipe) readyLocked() bool {
	return p.failed.Load() || p.eof || p.availLocked() > 0
}

// resetInLocked empties the input buffer, dropping a large one so an idle
// connection does not keep a burst's worth of memory.
func (p *pipe) resetInLocked() {
	if !p.blocking || cap(p.in) > 64<<10 {
		p.in = nil
	} else {
		p.in = p.in[:0]
	}
	p.off = 0
}

// feed appends input (copied) and wakes a blocked Read.
func (p *pipe) feed(b []byte) {
	locked := p.lockIn()
	p.in = append(p.in, b...)
	if locked {
		p.mu.Unlock()
		p.cond.Signal()
	}
}

// keepBorrowedLocked copies what crypto/tls left of lent input into the
// owned buffer.
func (p *pipe) keepBorrowedLocked() {
	if len(p.borrow) > 0 {
		p.in = append(p.in, p.borrow...)
	}
	p.borrow = nil
}

// closeInput records the peer's end of stream.
func (p *pipe) closeInput() {
	locked := p.lockIn()
	p.eof = true
	if locked {
		p.mu.Unlock()
		p.cond.Signal()
	}
}

// fail makes every later Read and Write return err (the first error wins)
// and wakes a blocked Read.
func (p *pipe) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
		p.failed.Store(true)
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

// Write implements net.Conn for crypto/tls: records are collected for the
// owner. Writes never block.
func (p *pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	if p.err != nil {
		err := p.err
		p.mu.Unlock()
		return 0, err
	}
	notify := len(p.out) == 0 && len(b) > 0 && !p.quiet
	p.out = append(p.out, b...)
	p.mu.Unlock()
	if notify && p.onOutput != nil {
		p.onOutput()
	}
	return len(b), nil
}

// take appends the collected output to dst and empties it. Once the
// handshake is over the buffer is released: records sealed by Encrypt do
// not pass through it, so an idle connection keeps none.
func (p *pipe) take(dst []byte) []byte {
	p.mu.Lock()
	dst = append(dst, p.out...)
	if !p.blocking || cap(p.out) > 64<<10 {
		p.out = nil
	} else {
		p.out = p.out[:0]
	}
	p.mu.Unlock()
	return dst
}

func (p *pipe) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.out)
}

// Close implements net.Conn: crypto/tls calls it from Conn.Close, after its
// close_notify went to Write.
func (p *pipe) Close() error {
	p.fail(net.ErrClosed)
	return nil
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "tlsrec" }
func (pipeAddr) String() string  { return "tlsrec" }

func (p *pipe) LocalAddr() net.Addr  { return pipeAddr{} }
func (p *pipe) RemoteAddr() net.Addr { return pipeAddr{} }

// Deadlines are the engine's business (handshake timeout) and the owner's
// (socket timeouts); crypto/tls only sets write deadlines around
// close_notify, and the pipe's writes never block.
func (p *pipe) SetDeadline(time.Time) error      { return nil }
func (p *pipe) SetReadDeadline(time.Time) error  { return nil }
func (p *pipe) SetWriteDeadline(time.Time) error { return nil }
