package tcp

import (
	"net/netip"
	"time"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/internal/loop"
)

// Defaults of the options.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultMaxBuffered    = 4 << 20   // bytes a paused or unread socket may buffer
	DefaultHighWatermark  = 1 << 20   // queued output above which Writable waits
	DefaultLowWatermark   = 256 << 10 // queued output at or below which Writable resolves
	DefaultMaxQueued      = 64 << 20  // queued output beyond which Write fails with ErrBufferFull
)

// Option configures the sockets of either side: timeouts, buffers,
// watermarks, half-open mode, the runtime. It is both a DialOption and a
// ListenOption.
type Option func(*config)

// DialOption configures Connect and Send: every Option, plus the dial-only
// WithConnectTimeout and WithHandler.
type DialOption interface{ applyDial(*config) }

// ListenOption configures Listen: every Option, plus the listen-only
// WithMaxConns and WithReusePort. A dial-only option passed to Listen (or
// the reverse) does not compile, so neither side silently ignores one.
type ListenOption interface{ applyListen(*config) }

func (o Option) applyDial(c *config) {
	if o != nil {
		o(c)
	}
}

func (o Option) applyListen(c *config) {
	if o != nil {
		o(c)
	}
}

// dialOnly is an option that only Connect and Send take.
type dialOnly func(*config)

func (o dialOnly) applyDial(c *config) { o(c) }

// listenOnly is an option that only Listen takes.
type listenOnly func(*config)

func (o listenOnly) applyListen(c *config) { o(c) }

type config struct {
	connectTimeout time.Duration
	resolver       *dns.Resolver
	local          netip.AddrPort
	localErr       error
	noDelay        *bool
	keepAlive      time.Duration
	readTimeout    time.Duration
	writeTimeout   time.Duration
	idleTimeout    time.Duration
	maxBuffered    int
	high, low      int
	maxQueued      int
	handler        Handler
	halfOpen       bool
	// bufferPaused keeps reading a paused socket and holds what arrives
	// (up to maxBuffered); tests use it to reach that path.
	bufferPaused bool

	maxConns  int
	multicore bool
	reusePort bool
	loops     int

	rt *loop.Runtime
}

func defaultConfig() *config {
	return &config{
		reusePort:      true,
		connectTimeout: DefaultConnectTimeout,
		maxBuffered:    DefaultMaxBuffered,
		high:           DefaultHighWatermark,
		low:            DefaultLowWatermark,
		maxQueued:      DefaultMaxQueued,
	}
}

func (c *config) finish() *config {
	if c.low > c.high {
		c.low = c.high
	}
	if c.rt == nil {
		c.rt = loop.Default()
	}
	return c
}

func newDialConfig(opts []DialOption) *config {
	c := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.applyDial(c)
		}
	}
	return c.finish()
}

func newListenConfig(opts []ListenOption) *config {
	c := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.applyListen(c)
		}
	}
	return c.finish()
}

// WithConnectTimeout bounds Connect (resolution included). Zero means
// DefaultConnectTimeout; the context's deadline also applies.
func WithConnectTimeout(d time.Duration) DialOption {
	return dialOnly(func(c *config) {
		if d <= 0 {
			d = DefaultConnectTimeout
		}
		c.connectTimeout = d
	})
}

// WithReadTimeout closes a socket that receives nothing for d, with an
// error matching ErrTimeout. Zero disables it. Socket.SetReadTimeout changes
// it later.
func WithReadTimeout(d time.Duration) Option { return func(c *config) { c.readTimeout = d } }

// WithWriteTimeout closes a socket whose queued output makes no progress
// for d, with an error matching ErrTimeout. Zero disables it.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithIdleTimeout closes a socket with neither reads nor writes for d, with
// an error matching ErrTimeout. Zero disables it.
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithMaxBuffered bounds the received bytes a socket holds for a reader
// that is paused or has not asked for them yet (default 4 MiB). Past the
// bound the socket closes with ErrBufferFull. Such a socket normally stops
// reading long before (see Pause), so the bound is reached by a read that
// wants more (a line longer than the bound), or where reads cannot be
// stopped.
func WithMaxBuffered(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBuffered = n
		}
	}
}

// WithWatermarks sets the output backpressure marks: once more than high
// bytes are queued, Writable returns a pending future that resolves when
// the queue drains to low bytes or fewer.
func WithWatermarks(high, low int) Option {
	return func(c *config) {
		if high > 0 {
			c.high = high
		}
		if low >= 0 {
			c.low = low
		}
	}
}

// WithMaxQueued caps the queued output (default 64 MiB): a Write that
// would queue more fails with ErrBufferFull and the socket stays open.
func WithMaxQueued(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxQueued = n
		}
	}
}

// WithResolver makes Connect and Send resolve host names with r (its
// servers, hosts file, cache) instead of the process-wide dns.Default().
func WithResolver(r *dns.Resolver) DialOption {
	return dialOnly(func(c *config) { c.resolver = r })
}

// WithLocalAddr makes Connect and Send connect from the local address
// addr ("ip:port"; port 0 lets the kernel pick one). Only addresses of the
// same family are tried; an address that cannot be parsed fails the
// connect.
func WithLocalAddr(addr string) DialOption {
	return dialOnly(func(c *config) {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			c.localErr = err
			return
		}
		c.local = ap
	})
}

// WithNoDelay sets TCP_NODELAY on the sockets: on (the default) sends
// small writes at once; off lets the kernel coalesce them (Nagle's
// algorithm). Unix sockets ignore it.
func WithNoDelay(on bool) Option { return func(c *config) { c.noDelay = &on } }

// WithKeepAlive turns TCP keep-alive probes on for the sockets, d being
// both the idle time before the first probe and the interval between
// probes (rounded to seconds); d < 0 turns them off; 0 (the default)
// leaves the system's setting. A peer that vanished without a FIN or
// reset is then detected: the socket fails with a timeout error.
func WithKeepAlive(d time.Duration) Option { return func(c *config) { c.keepAlive = d } }

// WithHandler sets the event handler of a socket made by Connect or Send
// (a server takes its Handler from Listen).
func WithHandler(h Handler) DialOption { return dialOnly(func(c *config) { c.handler = h }) }

// WithHalfOpen keeps a socket open for writing after the peer half-closed
// its side, until the socket is closed explicitly. The handler's OnEOF
// tells when that happens. Without it (the default) a peer's FIN makes the
// socket finish writing what is queued and close, as most protocols want.
func WithHalfOpen(on bool) Option { return func(c *config) { c.halfOpen = on } }

// WithMaxConns caps a server's open connections; one accepted beyond the
// cap is closed at once. The default leaves headroom below the process's
// descriptor limit (see DefaultMaxConns), so accept never fails with EMFILE
// because of this server.
func WithMaxConns(n int) ListenOption { return listenOnly(func(c *config) { c.maxConns = n }) }

// WithMulticore is kept for compatibility and does nothing: a server runs
// on the loops of its runtime (GOMAXPROCS loops by default; see
// goasync.NewRuntime and WithRuntime to choose).
//
// Deprecated: size the runtime instead.
func WithMulticore(on bool) ListenOption { return listenOnly(func(c *config) { c.multicore = on }) }

// WithReusePort gives each loop of the runtime a listening socket of its
// own with SO_REUSEPORT (on by default): the kernel spreads connections
// and each loop accepts its own. Off, one socket on one loop accepts and
// hands connections to the loops round-robin. Either way the connection
// cap is checked at every accept. Unix sockets never use it. Note what SO_REUSEPORT means: a second server of
// the same user on the same port (also with SO_REUSEPORT) binds too and
// the kernel splits connections between them; a port held without it
// still makes Listen fail.
func WithReusePort(on bool) ListenOption { return listenOnly(func(c *config) { c.reusePort = on }) }

// WithLoops is kept for compatibility and does nothing: loops belong to
// the runtime (goasync.NewRuntime(goasync.WithLoops(n)) with WithRuntime).
//
// Deprecated: size the runtime instead.
func WithLoops(n int) ListenOption { return listenOnly(func(c *config) { c.loops = n }) }

// WithRuntime runs the sockets (and a server's listener) on r instead of
// the process-wide default runtime. A nil r means the default.
func WithRuntime(r *goasync.Runtime) Option {
	return func(c *config) {
		if lr := loop.Unwrap(r); lr != nil {
			c.rt = lr
		}
	}
}

// withRuntime runs the sockets on an explicit loop runtime (tests).
func withRuntime(r *loop.Runtime) Option { return func(c *config) { c.rt = r } }
