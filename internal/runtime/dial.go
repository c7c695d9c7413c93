package runtime

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/stats"
)

// dialOp is one outbound connection; it is also the gnet context of the
// connection once registered, so the client engine finds its Handler.
type dialOp struct {
	r       *Runtime
	h       Handler
	p       *future.Promise[gnet.Conn]
	network string
	addr    string
	start   time.Time
	// state: 0 pending, 1 opened (OnOpen ran), 2 failed
	state atomic.Int32
}

const (
	dialPending int32 = iota
	dialOpened
	dialFailed
)

func (op *dialOp) fail(err error) {
	if op.state.CompareAndSwap(dialPending, dialFailed) {
		op.r.forget(op)
		op.p.Reject(err)
	}
}

func (r *Runtime) forget(op *dialOp) {
	r.mu.Lock()
	delete(r.dials, op)
	r.mu.Unlock()
}

// checkAddr accepts only what Dial can use without a resolver.
func checkAddr(network, addr string) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return fmt.Errorf("goasync runtime: dial %s %q: address must be an IP literal with a port: %w", network, addr, err)
		}
		ip := ap.Addr()
		if (network == "tcp4" || network == "udp4") && !ip.Unmap().Is4() {
			return fmt.Errorf("goasync runtime: dial %s %q: not an IPv4 address", network, addr)
		}
		if (network == "tcp6" || network == "udp6") && !ip.Is6() {
			return fmt.Errorf("goasync runtime: dial %s %q: not an IPv6 address", network, addr)
		}
	case "unix":
		if addr == "" {
			return fmt.Errorf("goasync runtime: dial unix: empty path")
		}
	default:
		return fmt.Errorf("goasync runtime: dial: unsupported network %q", network)
	}
	return nil
}

// Dial connects to addr without blocking the caller or any loop and
// registers the connection on a loop of the client engine with h as its
// Handler. network is tcp, tcp4, tcp6, udp, udp4, udp6 or unix; addr is an
// IP literal with a port, or a path for unix (callers resolve names).
//
// A UDP dial made off the event loops never waits for the network, so it
// runs on the calling goroutine: Dial returns once a loop registered the
// socket and ran OnOpen (one turn of that loop), with the future settled.
// Every other dial, and UDP dials made on a loop, run on the blocking-work
// pool and Dial returns at once.
//
// The future resolves on the connection's loop right after h.OnOpen ran. It
// rejects with ctx's error when ctx ends first (a connection that completes
// later is closed, never leaked), with the connect error, or with ErrClosed
// when the runtime shuts down. Canceling the future aborts the dial.
func (r *Runtime) Dial(ctx context.Context, network, addr string, h Handler) *future.Future[gnet.Conn] {
	if h == nil {
		return future.Rejected[gnet.Conn](errNoHandler)
	}
	if err := checkAddr(network, addr); err != nil {
		return future.Rejected[gnet.Conn](err)
	}
	if err := r.start(); err != nil {
		return future.Rejected[gnet.Conn](err)
	}
	op := &dialOp{r: r, h: h, p: future.New[gnet.Conn](), network: network, addr: addr, start: time.Now()}
	r.mu.Lock()
	if r.state != stateRunning {
		r.mu.Unlock()
		return future.Rejected[gnet.Conn](ErrClosed)
	}
	r.dials[op] = struct{}{}
	r.inflight.Add(1)
	r.mu.Unlock()

	if isUDP(network) && !loopmark.OnLoop() {
		r.dialUDPInline(ctx, op)
		return op.p.Future()
	}

	dctx, cancel := context.WithCancel(ctx)
	stopBase := context.AfterFunc(r.base, cancel)
	stopCtx := context.AfterFunc(ctx, func() { op.fail(context.Cause(ctx)) })
	op.p.OnCancel(func(cause error) {
		cancel()
		op.fail(cause)
	})
	done := func() {
		stopCtx()
		stopBase()
		cancel()
		r.inflight.Done()
	}
	f := future.Go(func() (struct{}, error) {
		defer done()
		r.dialBlocking(ctx, dctx, op)
		return struct{}{}, nil
	})
	f.OnComplete(func(_ struct{}, err error) {
		if err != nil { // the pool refused the job: it never ran
			done()
			op.fail(err)
		}
	})
	return op.p.Future()
}

func isUDP(network string) bool {
	return network == "udp" || network == "udp4" || network == "udp6"
}

// dialUDPInline is Dial's path for UDP off the loops. A UDP connect to an IP
// literal never waits for the network (it only picks the route and a local
// port), so the socket is made on the calling goroutine, without the hop to
// the blocking-work pool, and handed to a loop at once. EnrollContext waits
// until the loop ran OnOpen: one turn of a loop, which never blocks; that is
// why this path is not taken on a loop, where that wait would deadlock.
// When it returns, op is settled.
func (r *Runtime) dialUDPInline(ctx context.Context, op *dialOp) {
	defer r.inflight.Done()
	if ctx.Err() != nil {
		op.fail(context.Cause(ctx))
		return
	}
	ap, _ := netip.ParseAddrPort(op.addr) // checked by checkAddr
	nc, err := net.DialUDP(op.network, nil, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		op.fail(err)
		return
	}
	if op.state.Load() != dialPending { // canceled meanwhile
		_ = nc.Close()
		return
	}
	if _, err := r.client.EnrollContext(nc, op); err != nil {
		op.fail(fmt.Errorf("goasync runtime: register connection: %w", err))
	}
}

// dialBlocking runs on the blocking-work pool. ctx is the caller's, dctx
// the one the connect runs under (it also ends with the runtime).
func (r *Runtime) dialBlocking(ctx, dctx context.Context, op *dialOp) {
	var d net.Dialer
	nc, err := d.DialContext(dctx, op.network, op.addr)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			// net reports its own "i/o timeout"; say why in the caller's terms.
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		case pastDeadline(ctx):
			// The connect's deadline fired a moment before ctx's timer.
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		case r.base.Err() != nil:
			err = ErrClosed
		}
		op.fail(err)
		return
	}
	if op.state.Load() != dialPending { // timed out or canceled meanwhile
		_ = nc.Close()
		return
	}
	// EnrollContext dups the descriptor, closes nc, registers the dup on a
	// loop and returns after OnOpen ran there (OnOpen settles op).
	if _, err := r.client.EnrollContext(nc, op); err != nil {
		op.fail(fmt.Errorf("goasync runtime: register connection: %w", err))
	}
}

// clientEvents is the gnet handler of the client engine: it routes each
// event to the Handler carried in the connection's context.
type clientEvents struct {
	gnet.BuiltinEventEngine
	r *Runtime
}

func (e *clientEvents) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	e.r.markLoop(c, nil)
	op, _ := c.Context().(*dialOp)
	if op == nil || !op.state.CompareAndSwap(dialPending, dialOpened) {
		return nil, gnet.Close // the dial timed out or was canceled: drop the late connection
	}
	e.r.forget(op)
	if logx.Debug() {
		e.r.logEvent("dial", c, nil, zap.String("network", op.network), zap.String("addr", op.addr),
			zap.Duration("duration", time.Since(op.start)))
	}
	stats.Sockets.Add(1)
	op.h.OnOpen(c)
	if !op.p.Resolve(c) {
		// Given up (Cancel) while opening: nobody will ever get this
		// conn, so close it; the Handler sees its OnClose.
		return nil, gnet.Close
	}
	return nil, gnet.None
}

func (e *clientEvents) OnTraffic(c gnet.Conn) gnet.Action {
	op := c.Context().(*dialOp)
	return op.h.OnTraffic(c)
}

func (e *clientEvents) OnClose(c gnet.Conn, err error) gnet.Action {
	op, _ := c.Context().(*dialOp)
	if op == nil || op.state.Load() != dialOpened {
		return gnet.None
	}
	stats.Sockets.Add(-1)
	e.r.logEvent("close", c, err)
	op.h.OnClose(c, err)
	return gnet.None
}

func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
