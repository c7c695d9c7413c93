package loop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
)

// ListenConfig configures a Listener.
type ListenConfig struct {
	// ReusePort gives every loop a listening socket of its own
	// (SO_REUSEPORT; the kernel spreads connections), each accepting on
	// its loop. Off, one socket on one loop accepts and hands connections
	// to the loops round-robin. Unix sockets always use one socket.
	ReusePort bool
	// MaxConns caps the open connections; one accepted beyond the cap is
	// closed at once and counted in Rejected. <= 0: no cap.
	MaxConns int
	// Backlog is listen(2)'s backlog (default 4096; the kernel caps it).
	Backlog int
}

// AcceptFunc makes the handler of an accepted connection. It runs on the
// connection's loop; a nil handler closes the connection.
type AcceptFunc func(c *Conn) ConnHandler

// Listener accepts connections on the loops of its runtime.
type Listener struct {
	r       *Runtime
	network string
	addr    net.Addr
	path    string // unix: the socket path
	accept  AcceptFunc
	cfg     ListenConfig

	socks []*lsock

	conns      atomic.Int64
	rejected   atomic.Int64
	acceptErrs atomic.Int64
	lastErr    atomic.Pointer[error]
	open       atomic.Int64 // listening sockets not yet closed
	closing    atomic.Bool
	done       chan struct{}
	stopOnce   sync.Once
}

// lsock is one listening socket on one loop.
type lsock struct {
	FD
	ln      *Listener
	home    *Loop         // the loop it is (to be) registered on
	backoff time.Duration // loop only
	timer   *Timer
}

const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Listen binds and listens on addr ("host:port", empty host for every
// address, port 0 for one the kernel picks; a path for unix) and accepts on
// the runtime's loops. Port 0 is bound once: the first socket gets the
// kernel's port and, with ReusePort, the others bind that port.
func (r *Runtime) Listen(network, addr string, accept AcceptFunc, cfg ListenConfig) (*Listener, error) {
	if network != "tcp" && network != "tcp4" && network != "tcp6" && network != "unix" {
		return nil, fmt.Errorf("goasync runtime: listen: unsupported network %q", network)
	}
	if accept == nil {
		return nil, errors.New("goasync runtime: listen: nil accept function")
	}
	family, sa, err := sockaddr(network, addr, true)
	if err != nil {
		return nil, fmt.Errorf("goasync runtime: listen %s %s: %w", network, addr, err)
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = 4096
	}
	n := 1
	if cfg.ReusePort && network != "unix" {
		n = len(r.loops)
	}
	ln := &Listener{r: r, network: network, accept: accept, cfg: cfg, done: make(chan struct{})}
	var fds []int
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	for i := 0; i < n; i++ {
		fd, err := listenSocket(family, sa, cfg.ReusePort && n > 1, cfg.Backlog)
		if err != nil && i == 0 && family == unix.AF_INET6 && network == "tcp" && isWildcard(sa) {
			// No IPv6 on this host: listen on IPv4's wildcard.
			family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: sa.(*unix.SockaddrInet6).Port}
			fd, err = listenSocket(family, sa, cfg.ReusePort && n > 1, cfg.Backlog)
		}
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("goasync runtime: listen %s %s: %w", network, addr, err)
		}
		fds = append(fds, fd)
		if i == 0 {
			ln.addr = localAddr(fd, false)
			if network == "unix" {
				ln.addr = &net.UnixAddr{Name: addr, Net: "unix"}
				ln.path = addr
			}
			sa = withPort(sa, ln.addr)
		}
	}
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		closeAll()
		return nil, ErrClosed
	}
	r.listeners[ln] = struct{}{}
	r.mu.Unlock()
	ln.open.Store(int64(len(fds)))
	for i := range fds {
		l := r.loops[0]
		if n > 1 {
			l = r.loops[i]
		} else {
			l = r.Next()
		}
		ln.socks = append(ln.socks, &lsock{ln: ln, home: l})
	}
	for i, s := range ln.socks {
		fd := fds[i]
		s.home.Execute(func() { s.start(s.home, fd) })
	}
	return ln, nil
}

func isWildcard(sa unix.Sockaddr) bool {
	a, ok := sa.(*unix.SockaddrInet6)
	return ok && a.Addr == [16]byte{}
}

// withPort gives sa the port of the bound address (for port 0).
func withPort(sa unix.Sockaddr, bound net.Addr) unix.Sockaddr {
	ta, ok := bound.(*net.TCPAddr)
	if !ok {
		return sa
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		c := *a
		c.Port = ta.Port
		return &c
	case *unix.SockaddrInet6:
		c := *a
		c.Port = ta.Port
		return &c
	}
	return sa
}

func listenSocket(family int, sa unix.Sockaddr, reusePort bool, backlog int) (int, error) {
	fd, err := socketNB(family, unix.SOCK_STREAM)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if family != unix.AF_UNIX {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if reusePort {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
				unix.Close(fd)
				return -1, os.NewSyscallError("setsockopt SO_REUSEPORT", err)
			}
		}
		if family == unix.AF_INET6 && isWildcard(sa) {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		}
	} else if u, ok := sa.(*unix.SockaddrUnix); ok {
		// A stale socket file from an earlier run would make bind fail.
		if st, err := os.Lstat(u.Name); err == nil && st.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(u.Name)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("listen", err)
	}
	return fd, nil
}

// start registers the listening socket on l (loop).
func (s *lsock) start(l *Loop, fd int) {
	if l.stopping.Load() {
		unix.Close(fd)
		s.closed.Store(true)
		s.ln.sockClosed()
		return
	}
	l.register(&s.FD, fd, s)
	if s.ln.stopping() {
		s.close()
		return
	}
	if err := s.SetInterest(true, false, false); err != nil {
		s.ln.acceptFailed(err)
	}
}

// OnEvent accepts what is pending (a bounded batch per wake-up).
func (s *lsock) OnEvent(Events) {
	ln := s.ln
	for i := 0; i < 128; i++ {
		nfd, sa, err := acceptNB(s.fd)
		if err != nil {
			switch err {
			case unix.EAGAIN:
				return
			case unix.EINTR, unix.ECONNABORTED, unix.EPROTO:
				continue
			}
			ln.acceptFailed(os.NewSyscallError("accept", err))
			s.backOff()
			return
		}
		s.backoff = 0
		if max := ln.cfg.MaxConns; max > 0 && ln.conns.Load() >= int64(max) {
			ln.rejected.Add(1) // counted before the peer can see the close
			unix.Close(nfd)
			continue
		}
		ln.conns.Add(1)
		target := s.loop
		if len(ln.socks) == 1 && len(ln.r.loops) > 1 {
			target = ln.r.Next()
		}
		if target == s.loop {
			ln.opened(target, nfd, sa)
		} else {
			target.Execute(func() { ln.opened(target, nfd, sa) })
		}
	}
}

// backOff stops accepting for a while after an accept error (EMFILE: the
// descriptors a closing connection frees let it go on later).
func (s *lsock) backOff() {
	s.backoff = min(max(2*s.backoff, minBackoff), maxBackoff)
	_ = s.SetInterest(false, false, false)
	if s.timer == nil {
		s.timer = s.loop.AfterFunc(s.backoff, s.resume)
	} else {
		s.timer.Reset(s.backoff)
	}
}

func (s *lsock) resume() {
	if !s.closed.Load() {
		if err := s.SetInterest(true, false, false); err != nil {
			s.ln.acceptFailed(err)
		}
	}
}

// OnLoopStop implements Handler.
func (s *lsock) OnLoopStop() { s.close() }

// close closes the listening socket (loop).
func (s *lsock) close() {
	if s.closed.Load() {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	_ = s.FD.Close()
	s.ln.sockClosed()
}

func (ln *Listener) sockClosed() {
	if ln.open.Add(-1) == 0 {
		if ln.network == "unix" {
			_ = os.Remove(ln.addr.String())
		}
		ln.r.mu.Lock()
		delete(ln.r.listeners, ln)
		ln.r.mu.Unlock()
		close(ln.done)
	}
}

// opened registers an accepted connection on l (loop).
func (ln *Listener) opened(l *Loop, fd int, sa unix.Sockaddr) {
	if l.stopping.Load() {
		unix.Close(fd)
		ln.conns.Add(-1)
		return
	}
	c := &Conn{ln: ln}
	if ln.network != "unix" {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	l.register(&c.FD, fd, c)
	if ln.network == "unix" {
		c.isUnix, c.path = true, ln.path
	} else {
		c.raddr = addrPort(sa)
		c.laddr = sockAddrPort(fd, unix.Getsockname)
	}
	var h ConnHandler
	if perr := future.Protect(func() { h = ln.accept(c) }); perr != nil {
		ln.r.logger().Error("goasync runtime: panic in accept", zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
	}
	if h == nil {
		_ = c.FD.Close()
		ln.conns.Add(-1)
		return
	}
	if logx.Debug() {
		ln.r.logger().Debug("goasync runtime socket event", zap.String("event", "accept"), zap.String("addr", ln.addr.String()),
			zap.Int("fd", fd), zap.Int("loop", l.id), zap.String("remote", c.RemoteString()))
	}
	c.open(h)
}

func (ln *Listener) acceptFailed(err error) {
	ln.acceptErrs.Add(1)
	ln.lastErr.Store(&err)
	ln.r.logger().Warn("goasync runtime: accept failed; backing off", zap.String("addr", ln.addr.String()), zap.Error(err))
}

// Addr returns the bound address (with the kernel's port for port 0).
func (ln *Listener) Addr() net.Addr { return ln.addr }

// Count returns the number of open accepted connections.
func (ln *Listener) Count() int { return int(ln.conns.Load()) }

// Rejected returns how many connections were closed at once because the
// cap was reached.
func (ln *Listener) Rejected() int64 { return ln.rejected.Load() }

// AcceptErrors returns how many accepts failed (EMFILE, ENFILE, ...). The
// listener never stops because of them: it backs off and accepts again.
func (ln *Listener) AcceptErrors() int64 { return ln.acceptErrs.Load() }

// LastAcceptError returns the latest accept error, or nil.
func (ln *Listener) LastAcceptError() error {
	if p := ln.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Done is closed when every listening socket is closed.
func (ln *Listener) Done() <-chan struct{} { return ln.done }

func (ln *Listener) stopping() bool {
	select {
	case <-ln.done:
		return true
	default:
	}
	return ln.closing.Load()
}

// Close closes the listening sockets (accepted connections stay open) and
// waits for that or for ctx. On one of the runtime's loops it returns
// future.ErrAwaitOnLoop: close from a goroutine of your own there.
func (ln *Listener) Close(ctx context.Context) error {
	if loopmark.OnLoop() {
		return future.ErrAwaitOnLoop
	}
	ln.closeAsync()
	select {
	case <-ln.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeAsync asks every socket's loop to close it.
func (ln *Listener) closeAsync() {
	ln.stopOnce.Do(func() {
		ln.closing.Store(true)
		for _, s := range ln.socks {
			// FIFO: a start queued on the same loop runs first.
			s.home.Execute(s.close)
		}
	})
}

func (ln *Listener) stop() {
	ln.closeAsync()
	<-ln.done
}
