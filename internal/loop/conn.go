package loop

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/internal/rawio"
	"github.com/goasync/goasync/internal/stats"
)

// ConnHandler receives the events of a stream connection, on its loop, in
// order. None may block.
type ConnHandler interface {
	// OnOpen runs once, when the connection is established and
	// registered, before reads start.
	OnOpen(c *Conn)
	// OnData receives bytes read into the loop's buffer: b is valid only
	// until OnData returns.
	OnData(c *Conn, b []byte)
	// OnEOF runs once when a read met the peer's FIN. Reads stop; the
	// write side stays usable until CloseWrite, Close or Abort.
	OnEOF(c *Conn)
	// OnWritable runs while write interest is on and the socket can take
	// more bytes (or has an error that the next write reports).
	OnWritable(c *Conn)
	// OnError runs when a read failed (a reset) or the runtime stops
	// (ErrClosed). Interest is off; the owner closes the connection (if
	// it does not, the loop does after OnError returns at shutdown).
	OnError(c *Conn, err error)
}

// Conn is a connected stream socket (TCP or unix) registered on a loop.
// SetReading, SetWriting, Close and Abort run on the loop. Write, Writev
// and CloseWrite may run on any goroutine while the owner keeps the Conn
// from being closed meanwhile (the tcp package holds its socket's mutex
// around both).
type Conn struct {
	FD
	// Read on every event: next to FD.
	ch      ConnHandler
	dial    *dialOp // non-nil while connecting
	reading bool    // the owner wants reads
	eof     bool    // a read met the FIN
	writing bool    // the owner wants write readiness
	counted bool    // counted in ConnsIn/ConnsOut
	isUnix  bool
	held    atomic.Bool // a FIN or reset arrived while reads were off; the kernel holds it

	ln    *Listener      // nil for a dialed connection
	laddr netip.AddrPort // TCP addresses, kept small: net.Addr values are made on demand
	raddr netip.AddrPort
	path  string // unix: the socket's path (local when accepted, remote when dialed)
}

// Inbound reports whether the connection was accepted (else dialed).
func (c *Conn) Inbound() bool { return c.ln != nil }

// LocalAddr returns the local address (a new value on each call).
func (c *Conn) LocalAddr() net.Addr {
	if c.isUnix {
		if c.ln != nil {
			return &net.UnixAddr{Name: c.path, Net: "unix"}
		}
		return &net.UnixAddr{Net: "unix"}
	}
	return net.TCPAddrFromAddrPort(c.laddr)
}

// RemoteAddr returns the peer's address (a new value on each call).
func (c *Conn) RemoteAddr() net.Addr {
	if c.isUnix {
		if c.ln != nil {
			return &net.UnixAddr{Name: "@", Net: "unix"}
		}
		return &net.UnixAddr{Name: c.path, Net: "unix"}
	}
	return net.TCPAddrFromAddrPort(c.raddr)
}

// RemoteString returns the peer's address as text, for errors and logs.
func (c *Conn) RemoteString() string {
	if c.isUnix {
		if c.ln != nil {
			return "@"
		}
		return c.path
	}
	return c.raddr.String()
}

// EOF reports whether a read met the peer's FIN.
func (c *Conn) EOF() bool { return c.eof }

// Held reports (from any goroutine) whether the peer's FIN arrived while
// reads were off behind bytes not read yet: the kernel holds both until
// reads resume. (A FIN with nothing before it is read at once, OnEOF; a
// reset is reported at once, OnError.)
func (c *Conn) Held() bool { return c.held.Load() }

// SetReading turns reads on or off. Off means nothing is read: the
// kernel's receive buffer fills and the peer meets TCP flow control. Until
// the peer hangs up the socket stays watched edge-triggered, so the FIN or
// a reset is noticed once (Held) and then the read interest is dropped
// entirely (no busy loop on a hang-up); it is read, after the bytes before
// it, when reads resume.
func (c *Conn) SetReading(on bool) error {
	if c.reading == on {
		return nil
	}
	c.reading = on
	err := c.sync()
	if on && edgeRead && err == nil {
		// kqueue: a readable edge ignored while paused does not repeat.
		c.loop.Execute(c.readAgain)
	}
	return err
}

// SetWriting turns write readiness reports (OnWritable) on or off.
func (c *Conn) SetWriting(on bool) error {
	if c.writing == on {
		return nil
	}
	c.writing = on
	return c.sync()
}

// Reading reports whether reads are on.
func (c *Conn) Reading() bool { return c.reading }

func (c *Conn) sync() error {
	if c.dial != nil || c.closed.Load() {
		return nil
	}
	read := c.reading && !c.eof
	watch := !c.reading && !c.eof && !c.held.Load()
	return c.SetInterest(read || watch, c.writing, watch)
}

// OnEvent implements Handler.
func (c *Conn) OnEvent(e Events) {
	if c.dial != nil {
		c.dial.onEvent(c)
		return
	}
	switch {
	case c.reading && !c.eof:
		if e&(Readable|Hangup|Error) != 0 {
			c.readOnce()
			if c.closed.Load() {
				return
			}
		}
	case !c.eof && !c.held.Load() && e&(Hangup|Error) != 0:
		// Paused: the peer hung up or reset. A reset is reported now (the
		// connection is gone); a FIN keeps flow control: read nothing,
		// remember it, stop watching; it is read after the bytes before
		// it when reads resume.
		if errno, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && errno != 0 {
			c.reading, c.writing = false, false
			_ = c.sync()
			c.ch.OnError(c, os.NewSyscallError("read", unix.Errno(errno)))
			return
		}
		// A FIN with no bytes before it is delivered now, as a read would
		// return it at once: nothing is held back by reading it.
		var one [1]byte
		if n, _, err := unix.Recvfrom(c.fd, one[:], unix.MSG_PEEK); err == nil && n == 0 {
			c.eof = true
			_ = c.sync()
			c.ch.OnEOF(c)
			return
		}
		c.held.Store(true)
		_ = c.sync()
	}
	if c.writing && e&(Writable|Error|Hangup) != 0 {
		c.ch.OnWritable(c)
	}
}

func (c *Conn) readAgain() {
	if c.reading && !c.eof && !c.closed.Load() && c.dial == nil {
		c.readOnce()
	}
}

// readOnce reads what the kernel holds into the loop's buffer (once on
// Linux, where readiness is level-triggered; until the buffer is not
// filled on kqueue) and hands it on.
func (c *Conn) readOnce() {
	buf := c.loop.buf
	for {
		n, err := rawio.Read(c.fd, buf)
		switch {
		case err == nil && n > 0:
			stats.BytesRead.Add(int64(n))
			c.ch.OnData(c, buf[:n])
			if edgeRead && n == len(buf) && c.reading && !c.closed.Load() {
				continue
			}
			return
		case err == nil: // n == 0: the peer's FIN
			c.eof = true
			_ = c.sync()
			c.ch.OnEOF(c)
			return
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return
		default:
			c.reading, c.writing = false, false
			_ = c.sync()
			c.ch.OnError(c, os.NewSyscallError("read", err))
			return
		}
	}
}

// OnLoopStop implements Handler.
func (c *Conn) OnLoopStop() {
	if c.dial != nil {
		c.dial.fail(ErrClosed)
		return
	}
	c.reading, c.writing = false, false
	_ = c.sync()
	c.ch.OnError(c, ErrClosed)
	_ = c.Close()
}

// Write writes p without blocking: a full send buffer writes fewer bytes
// (0 with a nil error).
func (c *Conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return retryWrite("write", func() (int, error) { return rawio.Write(c.fd, p) })
}

// retryWrite runs one nonblocking write call: again on EINTR, nothing
// written on EAGAIN, the bytes counted on success.
func retryWrite(op string, write func() (int, error)) (int, error) {
	for {
		n, err := write()
		switch err {
		case nil:
			stats.BytesWritten.Add(int64(n))
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		default:
			return 0, os.NewSyscallError(op, err)
		}
	}
}

// Writev writes bufs in order without blocking, like Write.
func (c *Conn) Writev(bufs [][]byte) (int, error) {
	if len(bufs) == 1 {
		return c.Write(bufs[0])
	}
	return retryWrite("writev", func() (int, error) { return rawio.Writev(c.fd, bufs) })
}

// CloseWrite shuts the write side down (shutdown(2) SHUT_WR on the one
// descriptor): the peer reads EOF, reads go on.
func (c *Conn) CloseWrite() error {
	err := unix.Shutdown(c.fd, unix.SHUT_WR)
	if err != nil && !errors.Is(err, unix.ENOTCONN) {
		return os.NewSyscallError("shutdown", err)
	}
	return nil
}

// Close closes the connection gracefully: what the kernel holds for the
// peer is still sent. When reads were off (a paused reader), the bytes and
// FIN waiting in the kernel are read and dropped first (up to 16 MiB), so
// the kernel does not answer a close with unread data by a reset. It runs
// on the loop.
func (c *Conn) Close() error {
	if c.closed.Load() {
		return nil
	}
	if !c.reading && !c.eof && c.dial == nil && c.ch != nil {
		c.discardInput(16 << 20)
	}
	if c.counted {
		c.counted = false
		if c.ln != nil {
			stats.ConnsIn.Add(-1)
			c.ln.conns.Add(-1)
		} else {
			stats.ConnsOut.Add(-1)
		}
		stats.ClosedTotal.Add(1)
	}
	return c.FD.Close()
}

// discardInput reads and drops what the kernel holds, up to limit bytes.
func (c *Conn) discardInput(limit int) {
	buf := c.loop.buf
	if c.loop.gone() {
		buf = make([]byte, 16<<10) // the loop's buffer is nobody's now
	}
	for limit > 0 {
		n, err := rawio.Read(c.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		limit -= n
	}
}

// Abort resets the connection: SO_LINGER 0 then close, so the peer reads
// ECONNRESET and unsent bytes are dropped. It runs on the loop.
func (c *Conn) Abort() error {
	if c.closed.Load() {
		return nil
	}
	_ = unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	return c.Close()
}

// open finishes an accepted or dialed connection on its loop: it is
// counted, OnOpen runs, then reads start unless OnOpen turned them off.
func (c *Conn) open(h ConnHandler) {
	c.ch = h
	c.counted = true
	if c.ln != nil {
		stats.ConnsIn.Add(1)
		stats.AcceptedTotal.Add(1)
	} else {
		stats.ConnsOut.Add(1)
		stats.DialedTotal.Add(1)
	}
	c.reading = true
	h.OnOpen(c)
	if !c.closed.Load() {
		if err := c.sync(); err != nil {
			c.reading, c.writing = false, false
			c.ch.OnError(c, err)
		}
	}
}
