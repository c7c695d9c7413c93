package tcp

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/runtime"
)

// DefaultMaxConns returns the default connection cap of a server: the
// process's soft descriptor limit minus a reserve of a tenth (at least 64)
// for everything else the process opens, so gnet's accept never meets
// EMFILE because of this server alone.
func DefaultMaxConns() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY || rl.Cur > 1<<20 {
		return 1 << 20
	}
	limit := int(rl.Cur)
	reserve := max(64, limit/10)
	if limit-reserve < 1 {
		return 1
	}
	return limit - reserve
}

// Server accepts connections on one address and runs a Socket for each.
type Server struct {
	cfg  *config
	ln   *runtime.Listener
	addr net.Addr

	mu      sync.Mutex
	clients map[*Socket]struct{}
	closing bool
	empty   chan struct{} // closed when closing and no client is left
}

// Listen starts a server on addr ("host:port", "[v6]:port", ":port" or
// "unix:///path") and runs h for every client. Options set the clients'
// timeouts and buffers, the connection cap, multicore loops and
// SO_REUSEPORT. The host must be an IP literal, empty, or "localhost".
func Listen(addr string, h Handler, opts ...Option) (*Server, error) {
	cfg := newConfig(opts)
	cfg.handler = h
	t, err := parseAddr(addr)
	if err != nil {
		return nil, opError("listen", addr, err)
	}
	network, laddr := "tcp", addr
	switch {
	case t.network == "unix":
		network, laddr = "unix", t.host
	case t.host == "" || t.ip.IsValid():
	case t.host == "localhost":
		laddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(int(t.port)))
	default:
		return nil, opError("listen", addr, errors.New("host must be an IP address"))
	}
	if cfg.maxConns <= 0 {
		cfg.maxConns = DefaultMaxConns()
	}
	s := &Server{cfg: cfg, clients: make(map[*Socket]struct{})}
	lopts := []runtime.ListenOption{
		runtime.WithMaxConns(cfg.maxConns),
		runtime.WithMulticore(cfg.multicore),
		runtime.WithReusePort(cfg.reusePort),
		runtime.WithListenLoops(cfg.loops),
	}
	ln, err := cfg.rt.Listen(network, laddr, (*serverHandler)(s), lopts...)
	if err != nil {
		return nil, opError("listen", addr, err)
	}
	s.ln = ln
	s.addr = ln.Addr()
	return s, nil
}

// Addr returns the address the server listens on (with the port the
// kernel picked for ":0").
func (s *Server) Addr() net.Addr { return s.addr }

// Count returns the number of connected clients.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Clients returns the connected clients.
func (s *Server) Clients() []*Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Socket, 0, len(s.clients))
	for c := range s.clients {
		out = append(out, c)
	}
	return out
}

// Rejected returns how many connections were closed at once because the
// connection cap was reached or the server was closing.
func (s *Server) Rejected() int64 { return s.ln.Rejected() }

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.ln.Done() }

// Err returns why the server stopped by itself (an accept failure, which
// matches ErrAccept), or nil.
func (s *Server) Err() error {
	if err := s.ln.Err(); err != nil {
		return &OpError{Op: "accept", Addr: s.addrString(), Err: errors.Join(ErrAccept, err)}
	}
	return nil
}

func (s *Server) addrString() string {
	if s.addr == nil {
		return ""
	}
	return s.addr.String()
}

// Close stops accepting (a connection that arrives meanwhile is closed at
// once: gnet has no way to take its listener out of the poller without
// stopping the engine), lets connected clients finish, and when ctx ends
// aborts those still open. Then the listener closes. It returns ctx's error
// if clients had to be aborted.
//
// Close blocks, so it must not run on an event loop (a Handler callback or
// a continuation there): there it returns an error matching
// future.ErrAwaitOnLoop at once. Start it from a goroutine instead.
func (s *Server) Close(ctx context.Context) error {
	if loopmark.OnLoop() {
		return opError("close", s.addrString(), future.ErrAwaitOnLoop)
	}
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		s.empty = make(chan struct{})
		if len(s.clients) == 0 {
			close(s.empty)
		}
	}
	empty := s.empty
	s.mu.Unlock()
	var err error
	select {
	case <-empty:
	case <-s.ln.Done():
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range s.Clients() {
			c.fail(opError("close", c.addr, ErrClosed))
		}
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 30e9)
	defer cancel()
	if cerr := s.ln.Close(stopCtx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func (s *Server) add(c *Socket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.clients[c] = struct{}{}
	return true
}

func (s *Server) remove(c *Socket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c]; !ok {
		return
	}
	delete(s.clients, c)
	if s.closing && len(s.clients) == 0 {
		close(s.empty)
	}
}

// serverHandler is the runtime Handler of a server's listener.
type serverHandler Server

func (h *serverHandler) OnOpen(c gnet.Conn) {
	srv := (*Server)(h)
	sock := newSocket(srv.cfg, srv, "")
	sock.attach(c)
	if !srv.add(sock) {
		_ = c.Close() // closing: turn newcomers away
		return
	}
	c.SetContext(sock)
	sock.connected()
}

func (h *serverHandler) OnTraffic(c gnet.Conn) gnet.Action {
	sock, ok := c.Context().(*Socket)
	if !ok {
		_, _ = c.Discard(-1)
		return gnet.None
	}
	return sock.onTraffic(c)
}

func (h *serverHandler) OnClose(c gnet.Conn, err error) {
	if sock, ok := c.Context().(*Socket); ok {
		sock.onClose(c, err)
	}
}
