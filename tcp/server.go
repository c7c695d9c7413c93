package tcp

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"

	"sync/atomic"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
)

// DefaultMaxConns returns the default connection cap of a server: the
// process's soft descriptor limit minus a reserve of a tenth (at least 64)
// for everything else the process opens, so accept does not meet EMFILE
// because of this server alone (and survives it when it does: see
// Server.AcceptErrors).
func DefaultMaxConns() int { return loop.DefaultMaxConns() }

// Server accepts connections on one address and runs a Socket for each.
type Server struct {
	cfg        *config
	ln         *loop.Listener
	addr       net.Addr
	turnedAway atomic.Int64 // connections refused while closing

	mu      sync.Mutex
	clients map[*Socket]struct{}
	closing bool
	empty   chan struct{} // closed when closing and no client is left
}

// Listen starts a server on addr ("host:port", "[v6]:port", ":port" or
// "unix:///path") and runs h for every client. Options set the clients'
// timeouts and buffers, the connection cap, multicore loops and
// SO_REUSEPORT. The host must be an IP literal, empty, or "localhost".
func Listen(addr string, h Handler, opts ...ListenOption) (*Server, error) {
	cfg := newListenConfig(opts)
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
	lcfg := loop.ListenConfig{MaxConns: cfg.maxConns, ReusePort: cfg.reusePort}
	ln, err := cfg.rt.Listen(network, laddr, s.accept, lcfg)
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
func (s *Server) Rejected() int64 { return s.ln.Rejected() + s.turnedAway.Load() }

// AcceptErrors returns how many accepts failed (EMFILE, ENFILE, ...). A
// server never stops because of them: it logs each one, backs off for a
// moment and accepts again.
func (s *Server) AcceptErrors() int64 { return s.ln.AcceptErrors() }

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.ln.Done() }

// Err returns the latest accept failure (matching ErrAccept), or nil. The
// server goes on accepting after it (see AcceptErrors).
func (s *Server) Err() error {
	if err := s.ln.LastAcceptError(); err != nil {
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
// once), lets connected clients finish, and when ctx ends
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
			c.fail(opError("close", c.peer(), ErrClosed))
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

// accept runs on the new connection's loop: nil turns it away.
func (s *Server) accept(c *loop.Conn) loop.ConnHandler {
	sock := newSocket(s.cfg, s, "")
	sock.bind(c)
	if !s.add(sock) {
		s.turnedAway.Add(1) // closing: turn newcomers away
		return nil
	}
	return (*connHandler)(sock)
}
