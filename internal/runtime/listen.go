package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/stats"
)

// ListenOption configures a Listener.
type ListenOption func(*listenConfig)

type listenConfig struct {
	multicore bool
	reusePort bool
	loops     int
	maxConns  int
}

// WithMulticore gives the listener one event loop per CPU (gnet's
// WithMulticore) instead of the runtime's loop count.
func WithMulticore(on bool) ListenOption { return func(c *listenConfig) { c.multicore = on } }

// WithReusePort sets SO_REUSEPORT on the listening socket; each loop then
// accepts on its own socket (Linux load-balances), one connection per
// wake-up, and a connection beyond WithMaxConns is closed before the next
// accept. Without it gnet's main reactor accepts in a burst until EAGAIN,
// so a flood can use more descriptors than the cap before the loops turn
// the excess away. gnet ignores it for unix sockets.
func WithReusePort(on bool) ListenOption { return func(c *listenConfig) { c.reusePort = on } }

// WithListenLoops sets the listener's loop count (default: the runtime's).
func WithListenLoops(n int) ListenOption { return func(c *listenConfig) { c.loops = n } }

// WithMaxConns caps the number of open connections: a connection accepted
// beyond the cap is closed at once and never reaches the Handler. n <= 0
// means no cap.
func WithMaxConns(n int) ListenOption { return func(c *listenConfig) { c.maxConns = n } }

// ErrEngineStopped is a listener's Err when its engine stopped without
// Close or Shutdown: gnet shuts an engine down when accept fails (EMFILE).
var ErrEngineStopped = errors.New("goasync runtime: listener engine stopped by itself (accept failed)")

// Listener is a gnet server engine bound to one address.
type Listener struct {
	r       *Runtime
	h       Handler
	cfg     listenConfig
	network string
	addr    net.Addr
	eng     gnet.Engine
	loops   int

	conns    atomic.Int64
	rejected atomic.Int64
	runErr   error
	stopping atomic.Bool
	done     chan struct{} // closed when gnet.Run returned
	stopOnce sync.Once
}

// Listen starts a gnet engine listening on addr ("host:port" for tcp,
// tcp4, tcp6, udp, udp4, udp6; a path for unix) that hands every connection
// to h. It returns once the engine is running.
func (r *Runtime) Listen(network, addr string, h Handler, opts ...ListenOption) (*Listener, error) {
	if h == nil {
		return nil, errNoHandler
	}
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix":
	default:
		return nil, fmt.Errorf("goasync runtime: listen: unsupported network %q", network)
	}
	if err := r.start(); err != nil {
		return nil, err
	}
	l := &Listener{r: r, h: h, network: network, done: make(chan struct{})}
	for _, o := range opts {
		o(&l.cfg)
	}
	l.loops = l.cfg.loops
	if l.loops <= 0 {
		l.loops = r.loops
	}
	gopts := []gnet.Option{
		gnet.WithLogger(logx.L().Sugar()),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReusePort(l.cfg.reusePort),
		gnet.WithReuseAddr(true),
		gnet.WithLoadBalancing(gnet.LeastConnections),
		// The ticker starts after every loop (and every SO_REUSEPORT
		// socket): its first OnTick tells Listen the engine is fully up.
		gnet.WithTicker(true),
	}
	if l.cfg.multicore {
		gopts = append(gopts, gnet.WithMulticore(true))
		l.loops = goruntime.NumCPU()
	} else {
		gopts = append(gopts, gnet.WithNumEventLoop(l.loops))
	}
	if strings.HasPrefix(network, "tcp") || strings.HasPrefix(network, "udp") {
		// Pick the port for ":0" here: with SO_REUSEPORT every loop binds
		// its own socket (":0" would give each a different port), and it
		// tells Addr the port without asking gnet.
		a, err := fixPort(network, addr)
		if err != nil {
			return nil, fmt.Errorf("goasync runtime: listen %s %s: %w", network, addr, err)
		}
		addr = a
	}
	ev := &serverEvents{l: l, booted: make(chan struct{}), started: make(chan struct{})}
	r.mu.Lock()
	if r.state != stateRunning {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.listeners[l] = struct{}{}
	r.mu.Unlock()

	go func() {
		defer close(l.done)
		err := gnet.Run(ev, network+"://"+addr, gopts...)
		// Its loops have exited: drop their marks (loopmark keys them by OS
		// thread id, and a thread id can be reused once its thread ended).
		r.unmarkLoops(l)
		if err == nil && !l.stopping.Load() {
			select {
			case <-ev.booted:
				// gnet reports a fatal accept error only in its log.
				err = ErrEngineStopped
			default:
			}
		}
		l.runErr = err
	}()
	select {
	case <-ev.started:
	case <-l.done:
		r.mu.Lock()
		delete(r.listeners, l)
		r.mu.Unlock()
		err := l.runErr
		if err == nil {
			err = errors.New("engine stopped at start")
		}
		return nil, fmt.Errorf("goasync runtime: listen %s %s: %w", network, addr, err)
	}
	l.eng = ev.eng
	l.addr = boundAddr(network, addr)
	r.addLoops(int64(l.loops))
	return l, nil
}

// fixPort replaces a zero port by a free one.
func fixPort(network, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" && port != "" {
		return addr, nil
	}
	if strings.HasPrefix(network, "udp") {
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		return net.JoinHostPort(host, strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)), nil
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)), nil
}

// boundAddr is the listener's address as a net.Addr.
func boundAddr(network, addr string) net.Addr {
	switch {
	case network == "unix":
		return &net.UnixAddr{Name: addr, Net: "unix"}
	case strings.HasPrefix(network, "udp"):
		a, _ := net.ResolveUDPAddr(network, addr)
		return a
	default:
		a, _ := net.ResolveTCPAddr(network, addr)
		return a
	}
}

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.addr }

// Count returns the number of open connections.
func (l *Listener) Count() int { return int(l.conns.Load()) }

// Rejected returns how many connections were closed at once because the
// connection cap was reached.
func (l *Listener) Rejected() int64 { return l.rejected.Load() }

// Loops returns the listener's number of event loops.
func (l *Listener) Loops() int { return l.loops }

// Done is closed when the engine has stopped (Close, runtime shutdown, or a
// fatal accept error).
func (l *Listener) Done() <-chan struct{} { return l.done }

// Err returns why the engine stopped, nil while it runs or after a clean
// stop.
func (l *Listener) Err() error {
	select {
	case <-l.done:
		return l.runErr
	default:
		return nil
	}
}

// Close stops the engine: the listening socket closes and every open
// connection gets OnClose. It waits until the engine stopped or ctx ends.
func (l *Listener) Close(ctx context.Context) error {
	if loopmark.OnLoop() {
		return future.ErrAwaitOnLoop
	}
	go l.stop()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop signals the engine and waits for it.
func (l *Listener) stop() error {
	l.stopping.Store(true)
	l.stopOnce.Do(func() {
		// Engine.Stop polls every 500ms; an already-ended context makes it
		// return right after signaling, and done tells when it finished.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = l.eng.Stop(ctx)
		<-l.done
		l.r.addLoops(-int64(l.loops))
		l.r.mu.Lock()
		delete(l.r.listeners, l)
		l.r.mu.Unlock()
	})
	<-l.done
	return nil
}

type serverEvents struct {
	gnet.BuiltinEventEngine
	l         *Listener
	eng       gnet.Engine
	booted    chan struct{}
	started   chan struct{}
	startOnce sync.Once
}

// OnTick runs on the ticker goroutine, which gnet starts last.
func (e *serverEvents) OnTick() (time.Duration, gnet.Action) {
	e.startOnce.Do(func() { close(e.started) })
	return 24 * time.Hour, gnet.None
}

func (e *serverEvents) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	close(e.booted)
	return gnet.None
}

// rejectedConn marks, as the conn context, a connection closed at once
// because of the connection cap.
type rejectedConn struct{}

func (e *serverEvents) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	l := e.l
	l.r.markLoop(c, l)
	if max := l.cfg.maxConns; max > 0 && l.conns.Load() >= int64(max) {
		l.rejected.Add(1)
		c.SetContext(rejectedConn{})
		l.r.logEvent("reject", c, nil)
		return nil, gnet.Close
	}
	l.conns.Add(1)
	stats.Sockets.Add(1)
	l.r.logEvent("accept", c, nil)
	l.h.OnOpen(c)
	return nil, gnet.None
}

func (e *serverEvents) OnTraffic(c gnet.Conn) gnet.Action {
	return e.l.h.OnTraffic(c)
}

func (e *serverEvents) OnClose(c gnet.Conn, err error) gnet.Action {
	if _, ok := c.Context().(rejectedConn); ok {
		return gnet.None
	}
	e.l.conns.Add(-1)
	stats.Sockets.Add(-1)
	e.l.r.logEvent("close", c, err)
	e.l.h.OnClose(c, err)
	return gnet.None
}
