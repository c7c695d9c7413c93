package loop

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
)

// dialOp is one nonblocking connect, owned by its loop.
type dialOp struct {
	l       *Loop
	c       *Conn
	h       ConnHandler
	p       *future.Promise[*Conn]
	network string
	addr    string
	start   time.Time
	done    bool // loop only
	stopCtx func() bool
}

// Dial connects to addr without blocking the caller or any loop: socket,
// connect (EINPROGRESS), write readiness, SO_ERROR, all on a loop picked
// round-robin. network is tcp, tcp4, tcp6 or unix; addr an IP literal with
// a port, or a path (callers resolve names).
//
// The future resolves on the connection's loop right after h.OnOpen ran.
// It rejects with ctx's cause when ctx ends first, with the connect error
// (an *os.SyscallError: errors.Is(err, syscall.ECONNREFUSED) works), or
// with ErrClosed when the runtime shuts down. Canceling it aborts the dial.
func (r *Runtime) Dial(ctx context.Context, network, addr string, h ConnHandler) *future.Future[*Conn] {
	return r.DialFrom(ctx, network, "", addr, h)
}

// DialFrom is Dial from the local address local ("ip:port", port 0 for
// any; "" for the kernel's choice): the socket is bound to it before the
// connect.
func (r *Runtime) DialFrom(ctx context.Context, network, local, addr string, h ConnHandler) *future.Future[*Conn] {
	if network != "tcp" && network != "tcp4" && network != "tcp6" && network != "unix" {
		return future.Rejected[*Conn](fmt.Errorf("goasync runtime: dial: unsupported network %q", network))
	}
	family, sa, err := sockaddr(network, addr, false)
	if err != nil {
		return future.Rejected[*Conn](fmt.Errorf("goasync runtime: dial %s %q: %w", network, addr, err))
	}
	var lsa unix.Sockaddr
	if local != "" {
		lfam, l, err := sockaddr(network, local, true)
		if err == nil && lfam != family {
			err = fmt.Errorf("address family differs from %q", addr)
		}
		if err != nil {
			return future.Rejected[*Conn](fmt.Errorf("goasync runtime: dial %s from %q: %w", network, local, err))
		}
		lsa = l
	}
	if r.Stopped() {
		return future.Rejected[*Conn](ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return future.Rejected[*Conn](context.Cause(ctx))
	}
	l := r.Current()
	if l == nil {
		l = r.Next()
	}
	op := &dialOp{l: l, h: h, p: future.New[*Conn](), network: network, addr: addr, start: time.Now()}
	op.stopCtx = context.AfterFunc(ctx, func() {
		l.Execute(func() { op.fail(context.Cause(ctx)) })
	})
	op.p.OnCancel(func(cause error) {
		l.Execute(func() { op.fail(cause) })
	})
	l.Execute(func() { op.connect(family, lsa, sa) })
	return op.p.Future()
}

// connect runs on the loop.
func (op *dialOp) connect(family int, lsa, sa unix.Sockaddr) {
	if op.done {
		return
	}
	if op.l.stopping.Load() {
		op.fail(ErrClosed)
		return
	}
	fd, err := newSocket(family, unix.SOCK_STREAM)
	if err != nil {
		op.fail(os.NewSyscallError("socket", err))
		return
	}
	c := &Conn{dial: op}
	op.l.register(&c.FD, fd, c)
	op.c = c
	if lsa != nil {
		if err := unix.Bind(fd, lsa); err != nil {
			op.fail(os.NewSyscallError("bind", err))
			return
		}
	}
	err = connect(fd, sa)
	switch err {
	case nil:
		op.connected()
	case unix.EINPROGRESS, unix.EALREADY:
		if err := c.SetInterest(false, true, false); err != nil {
			op.fail(err)
		}
	default:
		op.fail(os.NewSyscallError("connect", err))
	}
}

// onEvent: the socket became writable (or failed): the connect finished.
func (op *dialOp) onEvent(c *Conn) {
	if op.done {
		return
	}
	errno, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case err != nil:
		op.fail(os.NewSyscallError("getsockopt", err))
	case errno == 0:
		op.connected()
	case unix.Errno(errno) == unix.EINPROGRESS || unix.Errno(errno) == unix.EALREADY || unix.Errno(errno) == unix.EINTR:
		// spurious wake-up: wait on
	default:
		op.fail(os.NewSyscallError("connect", unix.Errno(errno)))
	}
}

func (op *dialOp) connected() {
	op.done = true
	op.stopCtx()
	c := op.c
	c.dial = nil
	if op.network == "unix" {
		c.isUnix, c.path = true, op.addr
	} else {
		c.laddr = sockAddrPort(c.fd, unix.Getsockname)
		c.raddr = sockAddrPort(c.fd, unix.Getpeername)
	}
	c.writing = false
	_ = c.SetInterest(false, false, false)
	if logx.Debug() {
		op.l.rt.logger().Debug("goasync runtime socket event", zap.String("event", "dial"), zap.String("network", op.network), zap.String("addr", op.addr),
			zap.Int("fd", c.fd), zap.Int("loop", op.l.id), zap.Duration("duration", time.Since(op.start)))
	}
	c.open(op.h)
	if !op.p.Resolve(c) && !c.closed.Load() {
		// Canceled while opening: nobody will get this connection.
		c.reading, c.writing = false, false
		_ = c.sync()
		c.ch.OnError(c, ErrClosed)
		_ = c.Close()
	}
}

// fail ends the dial with err. Loop only (or after the loop stopped).
func (op *dialOp) fail(err error) {
	if op.done {
		return
	}
	op.done = true
	if op.stopCtx != nil {
		op.stopCtx()
	}
	if op.c != nil {
		_ = op.c.FD.Close() // never counted as a connection
	}
	if logx.Debug() {
		op.l.rt.logger().Debug("goasync runtime socket event", zap.String("event", "dial-failed"), zap.String("network", op.network), zap.String("addr", op.addr),
			zap.Duration("duration", time.Since(op.start)), zap.Error(err))
	}
	op.p.Reject(err)
}
