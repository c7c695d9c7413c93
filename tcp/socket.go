package tcp

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loop"
)

// Handler holds a socket's event callbacks. Each runs on the socket's
// event loop, in order, and must not block. Nil callbacks are skipped.
type Handler struct {
	// OnConnect runs once the socket is open (accepted or connected).
	OnConnect func(s *Socket)
	// OnData receives bytes as they arrive, unless pending ReadN,
	// ReadLine or ReadUntil futures take them first or the socket is
	// paused. data belongs to the callee, unless BorrowData is set.
	OnData func(s *Socket, data []byte)
	// BorrowData lends OnData the loop's read buffer instead of a copy:
	// data is valid only until OnData returns, so copy what must outlive
	// the call. It saves an allocation and a copy per read, which matters
	// to a proxy that writes the bytes on at once (Write copies what the
	// kernel does not take) or a parser that keeps only what it has not
	// consumed.
	BorrowData bool
	// OnEOF runs when the peer half-closed its side while this side can
	// still write (see WithHalfOpen), after every byte received before the
	// FIN was delivered to reads or OnData (so after Resume if the socket
	// was paused with bytes held).
	OnEOF func(s *Socket)
	// OnClose runs once, when the socket is closed: err is nil for a clean
	// close by either side, else the reason (matching ErrReset, ErrTimeout,
	// ErrBufferFull, ErrClosed, a *future.PanicError, ...). A clean close
	// by the peer comes after every byte it sent was delivered; nothing is
	// delivered to OnData after OnClose.
	OnClose func(s *Socket, err error)
}

const (
	stOpen uint8 = iota
	stClosing
	stClosed
)

var socketIDs atomic.Uint64

var writeDone = future.Resolved(struct{}{})

// now is the socket timeouts' clock: the loop timers' monotonic clock.
func now() int64 { return loop.Now() }

// Socket is one TCP or unix stream connection, on either side. Its methods
// are safe for concurrent use; its callbacks and the futures it settles
// itself run on its event loop.
//
// Its descriptor is a loop.Conn: reads arrive in the loop's buffer and
// are handed on at once (a socket holds received bytes only while a
// reader is paused or has not asked for them), writes go to the kernel
// from the caller's goroutine and what the kernel does not take is queued
// and flushed on write readiness.
type Socket struct {
	// Identity: set before the socket is published, read-only after.
	id   uint64
	srv  *Server
	addr string     // the address dialed, for errors ("" when accepted: see peer)
	lc   *loop.Conn // its connection, kept after close for the addresses

	// Tracing (trace.go): dialCtx is the traced ctx Connect dialled with,
	// trace the socket's place in its pipeline; both nil when untraced.
	dialCtx context.Context
	trace   atomic.Pointer[sockTrace]

	// What every read and write touches comes next, from h to reads, in
	// 200 bytes: with 1,000 connections an event's cost outside the system
	// calls is mostly cache misses, and an echoed message touched all 7
	// cache lines of the struct before this order, 3 or 4 now.
	h   *Handler // identity, like cfg and lp
	cfg *config
	lp  *loop.Loop // the socket's loop

	// Counters.
	bytesRead    atomic.Int64
	bytesWritten atomic.Int64
	closed       atomic.Bool

	mu sync.Mutex // guards every field below

	conn     *loop.Conn // nil once closed (close.go)
	state    uint8      // close.go
	paused   bool       // pause.go
	rdOff    bool       // read interest is off (paused, or nobody reads)
	wrShut   bool       // no more writes accepted
	rdEOF    bool       // the peer's FIN was read
	closeErr error      // why the socket failed, once it did
	queued   int        // bytes queued for output (write.go)
	accepted uint64     // bytes accepted by Write
	flushed  uint64     // bytes handed to the kernel

	// TLS (tls.go): the engine of WithTLS or StartTLS; set on the loop
	// under mu, read on the loop without it.
	tls *tlsConn

	// Timeouts (timeout.go): nil until a timeout is set, so a socket
	// without timeouts does not carry their clocks.
	to *timeouts

	// Reading (read.go).
	in    []byte // received bytes not delivered yet; nil when none
	inOff int
	reads []readOp
	// eofDue: the FIN has been read but not delivered. It ends the input
	// stream: deliver hands it on (OnEOF, or the clean close) only after
	// every byte received before it.
	eofDue bool

	// Lifecycle (close.go).
	reset    bool  // close with a reset (Abort, output dropped)
	halfOpen bool  // WithHalfOpen, or taken over by Relay
	finalErr error // what OnClose was told
	closeP   *future.Promise[struct{}]
	dataV    any

	// Writing (write.go).
	out       [][]byte
	wwait     []pendingWrite
	armed     bool // write readiness asked for
	blocked   bool // above the high watermark
	shutAfter bool // shutdown(SHUT_WR) once the queue drains
	writable  []*future.Promise[struct{}]
	shutP     *future.Promise[struct{}]

	// Pause (pause.go).
	pauseT *loop.Timer
}

func newSocket(cfg *config, srv *Server, addr string) *Socket {
	s := &Socket{id: socketIDs.Add(1), cfg: cfg, srv: srv, addr: addr}
	s.h = &cfg.handler
	if cfg.tls != nil {
		s.h = &noEvents // the handler sees the socket after the handshake
	}
	s.halfOpen = cfg.halfOpen
	if cfg.readTimeout > 0 || cfg.writeTimeout > 0 || cfg.idleTimeout > 0 {
		s.to = &timeouts{read: cfg.readTimeout, write: cfg.writeTimeout, idle: cfg.idleTimeout}
	}
	return s
}

// connHandler is a Socket seen as its loop.Conn's handler; a type of its
// own keeps those methods off Socket's API.
type connHandler Socket

func (h *connHandler) OnOpen(c *loop.Conn)             { (*Socket)(h).open(c) }
func (h *connHandler) OnData(_ *loop.Conn, b []byte)   { (*Socket)(h).onData(b) }
func (h *connHandler) OnEOF(*loop.Conn)                { (*Socket)(h).onEOF() }
func (h *connHandler) OnWritable(*loop.Conn)           { (*Socket)(h).flush() }
func (h *connHandler) OnError(_ *loop.Conn, err error) { (*Socket)(h).onConnError(err) }

// bind sets the socket's identity from its connection. It happens before
// the socket is published (a server's accept, a dial's OnOpen), so these
// fields are read without the lock afterwards.
func (s *Socket) bind(c *loop.Conn) {
	s.lp = c.Loop()
	s.lc = c
}

// peer is the peer's address for errors and logs: the address dialed, or
// the accepted connection's remote address (made when needed, so an idle
// socket holds no string for it).
func (s *Socket) peer() string {
	if s.addr != "" || s.lc == nil {
		return s.addr
	}
	return s.lc.RemoteString()
}

// open runs on the loop when the connection is established.
func (s *Socket) open(c *loop.Conn) {
	if s.lp == nil {
		s.bind(c)
	}
	s.setSockOpts(c)
	s.mu.Lock()
	s.conn = c
	if s.to != nil {
		s.to.restart()
		s.armTimeoutsLocked()
	}
	s.mu.Unlock()
	if future.Tracing() {
		s.startTrace(s.dialCtx)
	}
	if logx.Debug() {
		s.log("open", nil)
	}
	if s.cfg.tls != nil {
		s.beginTLS(s.cfg.tls, s.srv != nil, future.New[struct{}](), true)
		return
	}
	s.opened()
}

// noEvents is the handler of a TLS socket during its handshake.
var noEvents Handler

// opened runs OnConnect (after the TLS handshake, with WithTLS).
func (s *Socket) opened() {
	if fn := s.h.OnConnect; fn != nil {
		s.callUser(func() { fn(s) })
	}
}

// setSockOpts applies WithNoDelay and WithKeepAlive to a new connection.
// Loop only. A failure is logged: the connection works without them.
func (s *Socket) setSockOpts(c *loop.Conn) {
	if s.cfg.noDelay != nil && !*s.cfg.noDelay {
		if err := c.SetNoDelay(false); err != nil && logx.Debug() {
			s.log("setsockopt", err)
		}
	}
	if s.cfg.keepAlive != 0 {
		if err := c.SetKeepAlive(s.cfg.keepAlive); err != nil && logx.Debug() {
			s.log("setsockopt", err)
		}
	}
}

func (s *Socket) log(event string, err error, fields ...zap.Field) {
	fs := append(fields, zap.Uint64("socket", s.id), zap.String("event", event),
		zap.Int64("bytes_read", s.bytesRead.Load()), zap.Int64("bytes_written", s.bytesWritten.Load()))
	if s.lp != nil {
		fs = append(fs, zap.Int("loop", s.lp.ID()))
	}
	if s.lc != nil {
		fs = append(fs, zap.String("remote", s.lc.RemoteString()))
	}
	if err != nil {
		fs = append(fs, zap.Error(err))
	}
	logx.L().Debug("tcp socket", s.traceFields(fs)...)
}

// callUser runs a user callback; a panic (recovered by future.Protect with
// its stack) is logged and closes this socket only.
func (s *Socket) callUser(fn func()) {
	if perr := future.Protect(fn); perr != nil {
		logx.L().Error("tcp: panic in socket callback; closing the socket",
			zap.Uint64("socket", s.id), zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
		s.fail(perr)
	}
}

func run(done []func()) {
	for _, f := range done {
		f()
	}
}

// onOwnLoop reports whether the caller runs on the socket's loop.
func (s *Socket) onOwnLoop() bool { return s.lp != nil && s.lp.OnLoop() }

// ID returns the socket's id, unique in the process, for logs.
func (s *Socket) ID() uint64 { return s.id }

// LocalAddr returns the local address.
func (s *Socket) LocalAddr() net.Addr {
	if s.lc == nil {
		return nil
	}
	return s.lc.LocalAddr()
}

// RemoteAddr returns the peer's address.
func (s *Socket) RemoteAddr() net.Addr {
	if s.lc == nil {
		return nil
	}
	return s.lc.RemoteAddr()
}

// BytesRead returns the number of bytes received.
func (s *Socket) BytesRead() int64 { return s.bytesRead.Load() }

// BytesWritten returns the number of bytes handed to the kernel.
func (s *Socket) BytesWritten() int64 { return s.bytesWritten.Load() }

// Closed reports whether the socket is closed: fully closed, or failed
// (Abort, a timeout, a reset) and finishing its close on the loop. A
// closed socket does no more I/O.
func (s *Socket) Closed() bool { return s.closed.Load() }

// Err returns why the socket closed: nil while open or after a clean close.
// After a failure (Abort, a timeout, a reset, ...) it is set at once, even
// while the close is still finishing on the loop.
func (s *Socket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finalErr != nil {
		return s.finalErr
	}
	return s.closeErr
}

// Data returns the value stored with SetData.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataV
}

// SetData stores a per-socket value (a proxy keeps the peer socket here).
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.dataV = v
	s.mu.Unlock()
}

// Executor returns the executor of the socket's event loop: functions
// handed to it run there, in order with the socket's own callbacks.
func (s *Socket) Executor() future.Executor { return s.lp }
