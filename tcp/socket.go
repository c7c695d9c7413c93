package tcp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/runtime"
	"github.com/goasync/goasync/internal/stats"
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
	// BorrowData lends OnData the socket's read buffer instead of a copy:
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

// clock is the socket timeouts' monotonic time base.
var clockBase = time.Now()

func now() int64 { return int64(time.Since(clockBase)) }

type pendingWrite struct {
	end uint64
	p   *future.Promise[struct{}]
}

type readKind uint8

const (
	readN readKind = iota
	readLine
	readUntil
)

type readOp struct {
	kind  readKind
	n     int
	delim []byte
	p     *future.Promise[[]byte]
}

// Socket is one TCP or unix stream connection, on either side. Its methods
// are safe for concurrent use; its callbacks and the futures it settles
// itself run on its event loop.
type Socket struct {
	id     uint64
	cfg    *config
	h      *Handler
	srv    *Server
	exec   future.Executor
	local  net.Addr
	remote net.Addr
	addr   string // remote address for errors
	loop   int64  // loop id for logs

	bytesRead    atomic.Int64
	bytesWritten atomic.Int64
	closed       atomic.Bool

	mu         sync.Mutex
	c          gnet.Conn // nil once gnet closed it
	fd         int       // descriptor written to; -1 when closed
	dup        bool      // fd is our dup of gnet's, we close it
	state      uint8
	rdEOF      bool
	wrShut     bool // no more writes accepted
	shutAfter  bool // shutdown(SHUT_WR) once the queue drains
	userClose  bool // this side asked gnet to close
	reset      bool // Abort: close with a reset (SO_LINGER 0)
	closeErr   error
	finalErr   error
	dataV      any
	removeHook func()

	out      [][]byte
	queued   int
	accepted uint64 // bytes accepted by Write
	flushed  uint64 // bytes handed to the kernel
	wwait    []pendingWrite
	watch    *runtime.WriteWatch
	armed    bool
	blocked  bool
	writable []*future.Promise[struct{}]
	shutP    *future.Promise[struct{}]
	closeP   *future.Promise[struct{}]

	in     []byte
	inOff  int
	reads  []readOp
	paused bool
	pauseT *time.Timer
	// While paused, gnet's read events for the descriptor are turned off
	// (rdOff), so the peer meets TCP flow control; rp is made on the
	// first pause, and rpFailed records that it cannot be (see
	// runtime.ReadPauser). Loop only.
	rp       *runtime.ReadPauser
	rpFailed bool
	rdOff    bool
	// eofDue: the peer's FIN has been read but not delivered yet. The FIN
	// ends the input stream: deliver hands it on (OnEOF, or the clean
	// close) only after every byte received before it.
	eofDue bool

	readTO, writeTO, idleTO time.Duration
	lastRead, lastWrite     int64
	lastProgress            int64
	blockedAt               int64
	toTimer                 *time.Timer
}

func newSocket(cfg *config, srv *Server, addr string) *Socket {
	s := &Socket{id: socketIDs.Add(1), cfg: cfg, srv: srv, addr: addr, fd: -1}
	s.h = &cfg.handler
	s.readTO, s.writeTO, s.idleTO = cfg.readTimeout, cfg.writeTimeout, cfg.idleTimeout
	return s
}

// open runs on the loop from the runtime's OnOpen.
func (s *Socket) open(c gnet.Conn) {
	s.attach(c)
	s.connected()
}

// attach binds the socket to its gnet conn; fields set here are read
// without the lock afterwards, so attach happens before the socket is
// published.
func (s *Socket) attach(c gnet.Conn) {
	s.mu.Lock()
	s.c = c
	s.fd = c.Fd()
	s.exec = runtime.LoopExecutor(c)
	s.loop = s.cfg.rt.LoopID(c)
	s.local = copyAddr(c.LocalAddr())
	s.remote = copyAddr(c.RemoteAddr())
	if s.addr == "" && s.remote != nil {
		s.addr = s.remote.String()
	}
	t := now()
	s.lastRead, s.lastWrite, s.lastProgress = t, t, t
	s.armTimeoutsLocked()
	s.mu.Unlock()
}

// connected counts the socket and runs OnConnect.
func (s *Socket) connected() {
	if s.srv != nil {
		statIn.Add(1)
		statAccepted.Add(1)
	} else {
		statOut.Add(1)
		statDialed.Add(1)
	}
	if logx.Debug() {
		s.log("open", nil)
	}
	if fn := s.h.OnConnect; fn != nil {
		s.callUser(func() { fn(s) })
	}
}

// copyAddr copies gnet's address: gnet recycles parts of it on close.
func copyAddr(a net.Addr) net.Addr {
	switch v := a.(type) {
	case *net.TCPAddr:
		return &net.TCPAddr{IP: append(net.IP(nil), v.IP...), Port: v.Port, Zone: string(append([]byte(nil), v.Zone...))}
	case *net.UnixAddr:
		return &net.UnixAddr{Name: v.Name, Net: v.Net}
	}
	return a
}

func (s *Socket) log(event string, err error, fields ...zap.Field) {
	fs := append(fields, zap.Uint64("socket", s.id), zap.String("event", event), zap.Int64("loop", s.loop),
		zap.Int64("bytes_read", s.bytesRead.Load()), zap.Int64("bytes_written", s.bytesWritten.Load()))
	if s.remote != nil {
		fs = append(fs, zap.String("remote", s.remote.String()))
	}
	if err != nil {
		fs = append(fs, zap.Error(err))
	}
	logx.L().Debug("tcp socket", fs...)
}

// callUser runs a user callback; a panic is logged and closes this socket
// only.
func (s *Socket) callUser(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			perr := &future.PanicError{Value: r, Stack: debug.Stack()}
			logx.L().Error("tcp: panic in socket callback; closing the socket",
				zap.Uint64("socket", s.id), zap.Any("panic", r), zap.ByteString("stack", perr.Stack))
			s.fail(perr)
		}
	}()
	fn()
}

func run(done []func()) {
	for _, f := range done {
		f()
	}
}

// ID returns the socket's id, unique in the process, for logs.
func (s *Socket) ID() uint64 { return s.id }

// LocalAddr returns the local address.
func (s *Socket) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the peer's address.
func (s *Socket) RemoteAddr() net.Addr { return s.remote }

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
func (s *Socket) Executor() future.Executor { return s.exec }

// ---------------------------------------------------------------- writing

// Write sends p. The future resolves when every byte of p has been handed
// to the kernel (the bytes left user space), in order with earlier writes;
// it rejects if the socket fails or closes first. p may be reused as soon
// as Write returns: bytes that cannot be written at once are copied.
func (s *Socket) Write(p []byte) *future.Future[struct{}] {
	s.mu.Lock()
	if s.state != stOpen || s.wrShut {
		err := s.closedErrLocked()
		s.mu.Unlock()
		return future.Rejected[struct{}](opError("write", s.addr, err))
	}
	if s.queued+len(p) > s.cfg.maxQueued && s.queued > 0 {
		s.mu.Unlock()
		return future.Rejected[struct{}](opError("write", s.addr, ErrBufferFull))
	}
	if s.idleTO > 0 {
		s.lastWrite = now()
	}
	if s.queued == 0 {
		n, err := s.writeNow(p)
		if err != nil {
			done := s.failLocked(opError("write", s.addr, err), nil)
			s.mu.Unlock()
			run(done)
			return future.Rejected[struct{}](opError("write", s.addr, err))
		}
		if n == len(p) {
			s.mu.Unlock()
			return writeDone
		}
		p = p[n:]
		s.lastProgress = now()
		s.blockedAt = s.lastProgress
	}
	s.enqueue(p)
	if logx.Debug() {
		s.log("write-queued", nil, zap.Int("bytes", len(p)), zap.Int("queued", s.queued))
	}
	pr := future.New[struct{}]()
	s.wwait = append(s.wwait, pendingWrite{end: s.accepted, p: pr})
	if !s.blocked && s.queued > s.cfg.high {
		s.blocked = true
	}
	err := s.armLocked()
	var done []func()
	if err != nil {
		done = s.failLocked(opError("write", s.addr, err), nil)
	}
	s.mu.Unlock()
	run(done)
	return pr.Future()
}

// WriteString is Write for a string.
func (s *Socket) WriteString(str string) *future.Future[struct{}] {
	return s.Write([]byte(str))
}

// writeNow writes p without blocking; EAGAIN writes nothing.
func (s *Socket) writeNow(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Write(s.fd, p)
		switch err {
		case nil:
			s.addWritten(n)
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		default:
			return 0, err
		}
	}
}

func (s *Socket) addWritten(n int) {
	s.bytesWritten.Add(int64(n))
	statBytesWritten.Add(int64(n))
	stats.BytesWritten.Add(int64(n))
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

// armLocked asks the poller to tell when the socket is writable again.
func (s *Socket) armLocked() error {
	if s.armed {
		return nil
	}
	if s.watch == nil {
		w, err := s.cfg.rt.NewWriteWatch(s.onWritable)
		if err != nil {
			return err
		}
		s.watch = w
	}
	if err := s.watch.Arm(s.fd); err != nil {
		return err
	}
	s.armed = true
	return nil
}

// onWritable runs on the poller goroutine: hop to the loop.
func (s *Socket) onWritable() { s.exec.Execute(s.flush) }

// flush writes queued output; it runs on the loop.
func (s *Socket) flush() {
	s.mu.Lock()
	s.armed = false
	if s.state == stClosed || s.queued == 0 {
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
		n, err := unix.Writev(s.fd, iov)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			return s.failLocked(opError("write", s.addr, err), done)
		}
		progressed = true
		s.bytesWritten.Add(int64(n))
		statBytesWritten.Add(int64(n))
		stats.BytesWritten.Add(int64(n))
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
		s.lastProgress = now()
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
		if err := s.armLocked(); err != nil {
			return s.failLocked(opError("write", s.addr, err), done)
		}
		return done
	}
	s.out = nil
	if logx.Debug() {
		s.log("drained", nil, zap.Duration("blocked_for", time.Duration(now()-s.blockedAt)))
	}
	return s.drainedLocked(done)
}

// drainedLocked runs the steps that wait for an empty queue.
func (s *Socket) drainedLocked(done []func()) []func() {
	if s.shutAfter {
		s.shutAfter = false
		err := unix.Shutdown(s.fd, unix.SHUT_WR)
		if p := s.shutP; p != nil {
			if err != nil && !errors.Is(err, unix.ENOTCONN) {
				e := opError("close", s.addr, err)
				done = append(done, func() { p.Reject(e) })
			} else {
				done = append(done, func() { p.Resolve(struct{}{}) })
			}
		}
	}
	// After the peer's FIN the write side lives on a dup; once nothing more
	// will be written and the FIN has been delivered (deliver), it closes.
	if s.state == stClosing || (s.dup && s.wrShut && !s.eofDue) {
		done = s.closeNowLocked(done)
	}
	return done
}

// closeNowLocked closes the descriptor now: through gnet while gnet owns
// it, else (a dup after the peer's FIN) directly.
func (s *Socket) closeNowLocked(done []func()) []func() {
	if s.c != nil {
		s.userClose = true
		c := s.c
		done = append(done, func() { _ = c.Close() })
		return done
	}
	// Only our dup is left: finish on the loop, where OnClose must run.
	return append(done, func() {
		s.exec.Execute(func() {
			s.mu.Lock()
			d := s.finalizeLocked(nil, nil)
			s.mu.Unlock()
			run(d)
		})
	})
}

// Writable returns a future that resolves once queued output is at or
// below the low watermark: at once unless a write pushed it above the high
// watermark. It rejects if the socket closes first.
func (s *Socket) Writable() *future.Future[struct{}] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stClosed {
		return future.Rejected[struct{}](opError("write", s.addr, s.closedErrLocked()))
	}
	if !s.blocked {
		return writeDone
	}
	p := future.New[struct{}]()
	s.writable = append(s.writable, p)
	return p.Future()
}

// Buffered returns the number of bytes queued for output.
func (s *Socket) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued
}

// CloseWrite half-closes the socket: queued output is sent, then the write
// side shuts down (the peer reads EOF) while reads go on. The future
// resolves when the shutdown happened. Later writes fail with ErrClosed.
func (s *Socket) CloseWrite() *future.Future[struct{}] {
	s.mu.Lock()
	if s.state != stOpen || s.wrShut {
		err := s.closedErrLocked()
		s.mu.Unlock()
		if err == nil {
			return writeDone
		}
		return future.Rejected[struct{}](opError("close", s.addr, err))
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
// first.
func (s *Socket) Close() *future.Future[struct{}] {
	s.mu.Lock()
	if s.closeP == nil {
		s.closeP = future.New[struct{}]()
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
	s.readAgainLocked()
	var done []func()
	if s.queued == 0 {
		done = s.closeNowLocked(nil)
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
	s.fail(opError("close", s.addr, ErrClosed))
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

// ---------------------------------------------------------------- failing and closing

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
	if s.exec == nil || s.onOwnLoop() {
		run(done)
		return
	}
	s.exec.Execute(func() { run(done) })
}

// onOwnLoop reports whether the caller runs on the socket's loop.
func (s *Socket) onOwnLoop() bool {
	ex, ok := loopmark.Current()
	return ok && any(ex) == any(s.exec)
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
	s.readAgainLocked()
	if s.fd >= 0 && (s.queued > 0 || s.reset) {
		// The stream is cut short (Abort, or output dropped): reset, so
		// the peer does not take the end for a clean one.
		_ = unix.SetsockoptLinger(s.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	s.out, s.queued = nil, 0
	done = s.rejectPendingLocked(err, done)
	if s.c != nil {
		c := s.c
		return append(done, func() { _ = c.Close() })
	}
	// Only our dup is left: finish on the loop, where OnClose must run.
	return append(done, func() {
		s.exec.Execute(func() {
			s.mu.Lock()
			d := s.finalizeLocked(err, nil)
			s.mu.Unlock()
			run(d)
		})
	})
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

// onClose runs on the loop when gnet closed (or is closing) the conn.
func (s *Socket) onClose(c gnet.Conn, err error) {
	s.mu.Lock()
	s.c = nil
	if s.rdOff {
		// gnet saw an error or hang-up event while reads were off and
		// closes without reading: read what the kernel still holds, and
		// the real error (a reset), before the descriptor goes.
		s.rdOff = false
		if errors.Is(err, io.EOF) {
			if rerr := s.drainLocked(c.Fd()); rerr != nil {
				err = os.NewSyscallError("read", rerr)
			}
		}
	}
	if s.watch != nil {
		s.watch.Detach() // gnet closes this descriptor right after us
		s.armed = false
	}
	var reason error
	switch {
	case s.closeErr != nil:
		reason = s.closeErr
	case err == nil && s.userClose:
		reason = nil
	case err == nil:
		reason = opError("close", s.addr, ErrClosed) // engine or server shut down
	case errors.Is(err, io.EOF):
		reason = io.EOF
	default:
		reason = opError("read", s.addr, err)
	}
	if reason == io.EOF && s.state != stClosed {
		if s.peerFINLocked(c) {
			return // unlocked
		}
		if s.queued > 0 {
			reason = opError("write", s.addr, ErrReset) // output dropped
		}
	}
	done := s.finalizeLocked(reason, nil)
	s.mu.Unlock()
	run(done)
}

// drainLocked reads what the kernel holds for fd into the input buffer and
// returns the read error, if any (nil at EOF). The peer has finished
// sending, so this is at most the socket's receive buffer (the bound below
// is only a guard); it is not held to maxBuffered, since these bytes were
// acknowledged to the peer and must not be lost.
func (s *Socket) drainLocked(fd int) error {
	var buf [16 << 10]byte
	for len(s.in)-s.inOff <= max(s.cfg.maxBuffered, 64<<20) {
		n, err := unix.Read(fd, buf[:])
		switch {
		case n > 0:
			s.in = append(s.in, buf[:n]...)
			s.bytesRead.Add(int64(n))
			statBytesRead.Add(int64(n))
			stats.BytesRead.Add(int64(n))
		case err == unix.EINTR:
		case err == nil || err == unix.EAGAIN:
			return nil
		default:
			return err
		}
	}
	return nil
}

// peerFINLocked handles the peer's FIN on an open socket, from gnet's
// OnClose (gnet closes its descriptor when we return). The FIN is the end
// of the input stream, so it is queued behind the bytes received before it
// (eofDue) and delivered by deliver: at once unless the socket is paused
// with bytes held, else after Resume. While output is queued, in half-open
// mode, or while received bytes still wait for their reader (whose answer
// must still go out), the write side is kept on a dup of the descriptor.
// A socket already closing (Close) only finishes its output. It returns
// false, still locked, when the socket is to close now: closing with
// nothing queued, or output queued but the dup failed; else it has
// unlocked.
func (s *Socket) peerFINLocked(c gnet.Conn) bool {
	closing := s.state == stClosing
	s.rdEOF, s.eofDue = true, !closing
	undelivered := s.inOff < len(s.in) && (s.paused || s.h.OnData != nil || len(s.reads) > 0)
	if s.queued > 0 || (!closing && !s.wrShut && (s.cfg.halfOpen || undelivered)) {
		if fd, err := c.Dup(); err == nil {
			s.fd, s.dup = fd, true
			s.removeHook = s.cfg.rt.OnStop(func() {
				s.fail(opError("close", s.addr, ErrClosed))
			})
			var done []func()
			if s.queued > 0 {
				if err := s.armLocked(); err != nil {
					done = s.failLocked(opError("write", s.addr, err), done)
				}
			}
			s.mu.Unlock()
			run(done)
			s.deliver()
			return true
		}
	}
	if closing || s.queued > 0 {
		s.eofDue = false
		return false
	}
	// Nothing more can be written.
	s.fd, s.wrShut = -1, true
	s.mu.Unlock()
	s.deliver()
	s.mu.Lock()
	if s.eofDue && s.state != stClosed && s.removeHook == nil {
		// Paused with bytes held: gnet's conn is gone, so a runtime
		// shutdown must still settle the socket.
		s.removeHook = s.cfg.rt.OnStop(func() {
			s.fail(opError("close", s.addr, ErrClosed))
		})
	}
	s.mu.Unlock()
	return true
}

// finalizeLocked makes the socket closed: everything pending settles and
// OnClose runs (appended to done, which the caller runs on the loop).
func (s *Socket) finalizeLocked(reason error, done []func()) []func() {
	if s.state == stClosed {
		return done
	}
	s.state = stClosed
	if s.watch != nil {
		s.watch.Release()
		s.watch = nil
		s.armed = false
	}
	if s.dup && s.fd >= 0 {
		_ = unix.Close(s.fd)
	}
	s.fd = -1
	if s.removeHook != nil {
		s.removeHook()
		s.removeHook = nil
	}
	if s.toTimer != nil {
		s.toTimer.Stop()
	}
	if s.pauseT != nil {
		s.pauseT.Stop()
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
		pendErr = opError("close", s.addr, ErrClosed)
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
	if s.srv != nil {
		statIn.Add(-1)
	} else {
		statOut.Add(-1)
	}
	return append(done, func() {
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

// ---------------------------------------------------------------- reading

// onTraffic runs on the loop with new bytes.
func (s *Socket) onTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	n := len(buf)
	if n == 0 {
		return gnet.None
	}
	s.bytesRead.Add(int64(n))
	statBytesRead.Add(int64(n))
	stats.BytesRead.Add(int64(n))
	if logx.Debug() {
		s.log("read", nil, zap.Int("bytes", n))
	}
	s.mu.Lock()
	if s.readTO > 0 || s.idleTO > 0 {
		s.lastRead = now()
	}
	if s.state == stClosed || s.closeErr != nil {
		s.mu.Unlock()
		return gnet.None
	}
	if fn := s.h.OnData; fn != nil && !s.paused && len(s.reads) == 0 && s.inOff == len(s.in) {
		s.mu.Unlock()
		data := buf
		if !s.h.BorrowData {
			data = make([]byte, n)
			copy(data, buf)
		}
		s.callUser(func() { fn(s, data) })
		return gnet.None
	}
	s.in = append(s.in, buf...)
	var done []func()
	if s.paused || (len(s.reads) == 0 && s.h.OnData == nil) {
		if len(s.in)-s.inOff > s.cfg.maxBuffered {
			done = s.failLocked(opError("read", s.addr, ErrBufferFull), nil)
		} else if !s.rdOff && !s.paused {
			s.syncReadingLocked() // nobody reads: stop once enough waits
		}
		s.mu.Unlock()
		run(done)
		return gnet.None
	}
	done = s.serveReadsLocked(nil)
	s.mu.Unlock()
	run(done)
	s.pushRest()
	return gnet.None
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
		var data []byte
		if s.h.BorrowData {
			// Nothing appends to s.in until the loop reads again, after
			// fn has returned.
			data = s.in[s.inOff:]
		} else {
			data = append([]byte(nil), s.in[s.inOff:]...)
		}
		s.in, s.inOff = s.in[:0], 0
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
				return nil, 0, true, opError("read", s.addr, ErrBufferFull)
			}
			return nil, 0, false, nil
		}
		n, cut = r.n, r.n
	case readLine:
		i := bytes.IndexByte(avail, '\n')
		if i < 0 {
			if len(avail) > s.cfg.maxBuffered {
				return nil, 0, true, opError("read", s.addr, ErrBufferFull)
			}
			return nil, 0, false, nil
		}
		cut, n = i+1, i
		if n > 0 && avail[n-1] == '\r' {
			n--
		}
	case readUntil:
		i := bytes.Index(avail, r.delim)
		if i < 0 {
			if len(avail) > s.cfg.maxBuffered {
				return nil, 0, true, opError("read", s.addr, ErrBufferFull)
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
		s.in, s.inOff = s.in[:0], 0
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
	f := r.p.Future()
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
	exec := s.exec
	s.mu.Unlock()
	if i == 0 && exec != nil {
		exec.Execute(s.deliver)
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

// ---------------------------------------------------------------- pause

// Pause stops delivering received bytes (to OnData and to read futures)
// until Resume, and stops reading the descriptor, so the peer is held back
// by TCP flow control once the kernel's buffers fill. Bytes already read
// (at most what one read brought in before the pause took effect) are held
// and delivered on Resume; so is the peer's FIN, after them. Where reads
// cannot be stopped (gnet gives no call for it; see docs/tcp.md), and
// while this side's write half is shut, the socket keeps reading and holds
// what arrives, up to WithMaxBuffered; past that it closes with
// ErrBufferFull.
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
	if d > 0 {
		s.pauseT = time.AfterFunc(d, s.Resume)
	}
	if !s.rdOff && !s.rpFailed && !s.cfg.bufferPaused {
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

// readAgainLocked turns reads back on after the write side was shut, the
// socket started closing or a reader came back.
func (s *Socket) readAgainLocked() {
	if s.rdOff {
		s.syncReadingSoonLocked()
	}
}

// syncReadingSoonLocked runs syncReadingLocked now when the caller is on the
// socket's loop (where the epoll change must happen), else queues it there.
func (s *Socket) syncReadingSoonLocked() {
	switch {
	case s.exec == nil:
	case s.onOwnLoop():
		s.syncReadingLocked()
	default:
		s.exec.Execute(s.syncReading)
	}
}

// syncReading turns gnet's reading of the descriptor off while the socket
// is paused, or while a socket without OnData holds enough bytes that no
// read has asked for (unreadLocked), and on again otherwise. Reads stay on
// once the write side is shut: with both directions shut the kernel reports EPOLLHUP even to an
// empty event mask, and gnet would then close without reading what the
// peer sent before its FIN. Loop only.
func (s *Socket) syncReading() {
	s.mu.Lock()
	s.syncReadingLocked()
	s.mu.Unlock()
}

func (s *Socket) syncReadingLocked() {
	if s.c == nil {
		s.rdOff = false // gnet has let go of the descriptor
		return
	}
	off := (s.paused || s.unreadLocked()) && s.state != stClosed && s.closeErr == nil && !s.cfg.bufferPaused
	if off == s.rdOff || (off && s.rpFailed) {
		return
	}
	if s.rp == nil {
		if s.rp = runtime.NewReadPauser(s.c); s.rp == nil {
			s.rpFailed = true
			return
		}
	}
	if err := s.rp.SetReading(!off); err != nil {
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
// socket's loop, and goes on delivering. A peer FIN read while paused is
// delivered after those bytes (OnEOF, or the clean close).
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
	exec := s.exec
	s.mu.Unlock()
	exec.Execute(s.deliver)
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
		case s.dup && s.cfg.halfOpen && !s.wrShut:
			callEOF = s.h.OnEOF != nil
		case s.dup:
			s.wrShut = true // finish what is queued, then close
			if s.queued == 0 {
				done = s.finalizeLocked(io.EOF, done)
			}
		default:
			done = s.finalizeLocked(io.EOF, done)
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

// ---------------------------------------------------------------- timeouts

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

// armTimeoutsLocked (re)arms the one timer for the nearest deadline.
func (s *Socket) armTimeoutsLocked() {
	next := s.nextDeadlineLocked()
	if next < 0 {
		if s.toTimer != nil {
			s.toTimer.Stop()
		}
		return
	}
	d := time.Duration(next - now())
	if d < 0 {
		d = 0
	}
	if s.toTimer == nil {
		s.toTimer = time.AfterFunc(d, s.onTimer)
	} else {
		s.toTimer.Reset(d)
	}
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

// onTimer runs on the timer goroutine: check on the loop.
func (s *Socket) onTimer() {
	if s.exec != nil {
		s.exec.Execute(s.checkTimeouts)
	}
}

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
	done := s.failLocked(&OpError{Op: op, Addr: s.addr, Err: &timeoutKind{which: which}}, nil)
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
