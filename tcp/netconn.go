package tcp

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
)

// NetConn returns a net.Conn view of the socket for goroutine code: bufio,
// encoding/json, io.Copy, crypto/tls, net/http's Transport and any library
// that takes a net.Conn work on it. Its methods block the calling goroutine
// (never call them on an event loop: they fail there with
// future.ErrAwaitOnLoop) and honour deadlines as net.Conn specifies.
//
// Use it on a socket without OnData (a pull-style socket, such as the one
// Connect gives by default): OnData would take the bytes before Read sees
// them. Read returns what has arrived (at least one byte) and a timed-out
// Read leaves the stream untouched: the next Read gets the bytes. Write
// waits until the output queue is below the high watermark, then until its
// bytes were handed to the kernel; a Write that times out leaves its bytes
// queued (bytes accepted by Write are part of the stream). Close is
// graceful (queued output goes out, then FIN); CloseWrite half-closes.
func (s *Socket) NetConn() net.Conn { return &netConn{s: s, rdl: newDeadline(), wdl: newDeadline()} }

type netConn struct {
	s        *Socket
	rdl, wdl *deadline
	closed   atomic.Bool
}

var _ interface {
	net.Conn
	CloseWrite() error
} = (*netConn)(nil)

func (c *netConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	data, err := awaitBy(c.rdl, c.s.read(readOp{kind: readSome, n: len(p)}))
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, io.EOF
		}
		return 0, c.opError("read", err)
	}
	return copy(p, data), nil
}

func (c *netConn) Write(p []byte) (int, error) {
	if _, err := awaitBy(c.wdl, c.s.Writable()); err != nil {
		return 0, c.opError("write", err)
	}
	if _, err := awaitBy(c.wdl, c.s.Write(p)); err != nil {
		return 0, c.opError("write", err)
	}
	return len(p), nil
}

// Close closes the socket gracefully and does not wait for the queued
// output to go out (the socket finishes it on its loop).
func (c *netConn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	c.rdl.stop()
	c.wdl.stop()
	c.s.Close()
	return nil
}

// CloseWrite half-closes: queued output goes out, then FIN.
func (c *netConn) CloseWrite() error {
	_, err := awaitBy(c.wdl, c.s.CloseWrite())
	return c.opError("close", err)
}

func (c *netConn) LocalAddr() net.Addr  { return c.s.LocalAddr() }
func (c *netConn) RemoteAddr() net.Addr { return c.s.RemoteAddr() }

func (c *netConn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}
func (c *netConn) SetReadDeadline(t time.Time) error  { c.rdl.set(t); return nil }
func (c *netConn) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

// opError wraps err as net's own conns do, so code that looks for
// net.Error's Timeout or errors.Is(err, os.ErrDeadlineExceeded) works.
func (c *netConn) opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &net.OpError{Op: op, Net: c.s.LocalAddr().Network(), Source: c.s.LocalAddr(), Addr: c.s.RemoteAddr(), Err: err}
}

// awaitBy blocks until f settles or the deadline passes; at the deadline it
// cancels f (a cancelled read leaves the stream untouched) and returns
// os.ErrDeadlineExceeded, unless f settled meanwhile.
func awaitBy[T any](d *deadline, f *future.Future[T]) (T, error) {
	var zero T
	if loopmark.OnLoop() {
		f.Cancel(future.ErrAwaitOnLoop)
		return zero, future.ErrAwaitOnLoop
	}
	for {
		expired, changed := d.wait()
		select {
		case <-f.Done():
			v, err, _ := f.Result()
			return v, err
		case <-expired:
			if f.Cancel(os.ErrDeadlineExceeded) {
				return zero, os.ErrDeadlineExceeded
			}
		case <-changed:
		}
	}
}

// deadline is a net.Conn deadline: a channel closed when it passes, and a
// channel closed when it is moved, so a blocked call sees a new deadline.
type deadline struct {
	mu      sync.Mutex
	timer   *loop.Timer
	expired chan struct{}
	changed chan struct{}
}

func newDeadline() *deadline {
	return &deadline{expired: make(chan struct{}), changed: make(chan struct{})}
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	select {
	case <-d.expired:
		d.expired = make(chan struct{})
	default:
	}
	close(d.changed)
	d.changed = make(chan struct{})
	if t.IsZero() {
		return
	}
	exp := d.expired
	if dur := time.Until(t); dur <= 0 {
		close(exp)
	} else {
		d.timer = loop.Background().AfterFunc(dur, func() { close(exp) })
	}
}

// stop disarms the deadline's timer (the conn is closed).
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func (d *deadline) wait() (expired, changed <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired, d.changed
}
