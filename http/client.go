package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/tcp"
)

// Errors of the client. Timeouts also match future.ErrTimeout and
// context.DeadlineExceeded; connection failures keep their tcp errors
// (errors.Is(err, tcp.ErrRefused)).
var (
	// ErrTooManyRedirects is returned when a request was redirected more
	// than Client.MaxRedirects times.
	ErrTooManyRedirects = errors.New("http: too many redirects")
	// ErrResponseHeaderTimeout: no complete response head arrived within
	// Client.ResponseHeaderTimeout.
	ErrResponseHeaderTimeout = fmt.Errorf("http: timeout awaiting response headers: %w", future.ErrTimeout)
	// ErrConnClosed: the connection closed before the response was
	// complete.
	ErrConnClosed = errors.New("http: connection closed before the response was complete")
	// ErrBodyClosed is returned by reads of a response body after Close.
	ErrBodyClosed = errors.New("http: read on closed response body")
)

// Client sends HTTP/1.1 requests over the tcp package and returns futures of
// the responses. It keeps idle connections per host for reuse, follows
// redirects, and streams response bodies. The zero value is ready to use;
// fields must not change once the client is in use.
type Client struct {
	// MaxIdlePerHost bounds the idle connections kept per host
	// (default 64).
	MaxIdlePerHost int
	// IdleTimeout closes a connection idle for this long (default 90 s).
	IdleTimeout time.Duration
	// ConnectTimeout bounds connecting, name resolution included
	// (default 30 s).
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response head once the
	// request is sent (0: no limit).
	ResponseHeaderTimeout time.Duration
	// Timeout bounds a whole request: connect, redirects, and reading the
	// body (0: no limit, as for event streams). It counts from the moment
	// the request reaches a connection's loop or starts its connect,
	// microseconds after Do on an idle pooled connection, read from the
	// loop's clock of that batch of events (it may end the request up to a
	// batch's run time early, well under a millisecond).
	Timeout time.Duration
	// MaxRedirects is the number of redirects followed (0: 10; negative:
	// none, the 3xx response is returned).
	MaxRedirects int
	// MaxHeaderBytes bounds a response head (default 1 MiB).
	MaxHeaderBytes int
	// MaxBufferedBody bounds the bytes of a response body received and not
	// yet read (default 64 MiB). The client stops reading the connection
	// while more than 1 MiB waits for the reader, so TCP flow control holds
	// the server back and the bound is only reached where reads cannot be
	// stopped (see the tcp package's Pause): a reader that falls further
	// behind then fails with an error matching tcp.ErrBufferFull and the
	// connection closes.
	MaxBufferedBody int
	// Runtime runs the client's connections (nil: the process-wide
	// default runtime).
	Runtime *goasync.Runtime
	// TLSClientConfig configures https connections (nil: Go's defaults,
	// the system's roots). Its ServerName, when empty, is each URL's
	// host; certificates are verified unless it says otherwise.
	TLSClientConfig *tls.Config
	// Resolver resolves host names (nil: dns.Default()).
	Resolver *dns.Resolver
	// DialOptions are passed to tcp.Connect for every connection:
	// tcp.WithLocalAddr, tcp.WithKeepAlive, tcp.WithNoDelay, timeouts,
	// watermarks. The client's own handler and body bound always apply.
	DialOptions []tcp.DialOption

	mu     sync.Mutex
	pools  map[string]*hostPool
	queues map[future.Executor]*sendQueue // per loop, see sendQueue

	// lastPool is the pool of the host asked last, with the URL scheme and
	// host that led to it: a client mostly talks to one host, and a hit
	// builds no key and takes no lock (see poolFor).
	lastPool atomic.Pointer[poolHint]
}

// poolHint is Client.lastPool.
type poolHint struct {
	scheme, host string
	p            *hostPool
}

// DefaultClient is the client used by the package-level Get and Do.
var DefaultClient = &Client{}

// Get fetches url with DefaultClient.
func Get(ctx context.Context, url string) *future.Future[*nethttp.Response] {
	return DefaultClient.Get(ctx, url)
}

// Do sends req with DefaultClient.
func Do(ctx context.Context, req *nethttp.Request) *future.Future[*nethttp.Response] {
	return DefaultClient.Do(ctx, req)
}

// Get fetches url.
func (c *Client) Get(ctx context.Context, rawURL string) *future.Future[*nethttp.Response] {
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodGet, rawURL, nil)
	if err != nil {
		return future.Rejected[*nethttp.Response](err)
	}
	return c.Do(ctx, req)
}

// Do sends req and returns a future that resolves when the response head
// has arrived; resp.Body then streams the body as it arrives (read it from
// a goroutine that is not an event loop, or collect it without blocking
// with ReadAll), and must be closed. Only http URLs are supported. A
// request body is sent with Content-Length when its length is known and
// its reader is in memory (bytes.Reader, strings.Reader, bytes.Buffer),
// otherwise chunked, read on the blocking-work pool. Expect: 100-continue is
// honoured. Redirects are followed up to MaxRedirects (303, and 301/302
// after POST, become GET without a body; 307 and 308 resend the body when
// it can be replayed).
func (c *Client) Do(ctx context.Context, req *nethttp.Request) *future.Future[*nethttp.Response] {
	if ctx == nil {
		ctx = context.Background()
	}
	body, err := prepareBody(req)
	if err != nil {
		return future.Rejected[*nethttp.Response](err)
	}
	x := c.newCall(ctx, req, body)
	if future.Tracing() {
		// A step of ctx's pipeline (or a root); the connect, its lookups
		// and the redirects nest below it.
		f := future.Trace(ctx, x.p.Future(), "http "+req.Method+" "+req.URL.Redacted())
		x.ctx = future.TraceContext(ctx, f)
	}
	x.roundTrip()
	return x.p.Future()
}

// reqBody is a request body the client can send (and resend on redirects
// when replayable).
type reqBody struct {
	data   []byte    // in memory, sent with Content-Length
	stream io.Reader // streamed, chunked
	replay bool
}

// noBody is the (never modified) reqBody of every request without a body.
var noBody = &reqBody{replay: true}

func prepareBody(req *nethttp.Request) (*reqBody, error) {
	if req.Body == nil || req.Body == nethttp.NoBody {
		return noBody, nil
	}
	// NewRequest sets GetBody only for in-memory readers (bytes.Buffer,
	// bytes.Reader, strings.Reader): reading those never blocks.
	if req.GetBody != nil && req.ContentLength >= 0 {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		return &reqBody{data: b, replay: true}, nil
	}
	return &reqBody{stream: req.Body}, nil
}

func (c *Client) maxRedirects() int {
	switch {
	case c.MaxRedirects == 0:
		return 10
	case c.MaxRedirects < 0:
		return 0
	}
	return c.MaxRedirects
}

// ------------------------------------------------------------- pools

type hostPool struct {
	c    *Client
	addr string // host:port
	tls  bool   // https
	mu   sync.Mutex
	idle []*clientConn
}

// pool returns the pool for key, "host:port" (http) or
// "https://host:port": connections are shared by scheme, host and port.
func (c *Client) pool(key string) *hostPool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pools == nil {
		c.pools = make(map[string]*hostPool)
	}
	p := c.pools[key]
	if p == nil {
		addr, secure := strings.CutPrefix(key, "https://")
		p = &hostPool{c: c, addr: addr, tls: secure}
		c.pools[key] = p
	}
	return p
}

// poolFor returns the pool of u's host (see hostAddr), through lastPool.
func (c *Client) poolFor(u *url.URL) (*hostPool, error) {
	if h := c.lastPool.Load(); h != nil && h.host == u.Host && h.scheme == u.Scheme {
		return h.p, nil
	}
	key, err := hostAddr(u)
	if err != nil {
		return nil, err
	}
	p := c.pool(key)
	c.lastPool.Store(&poolHint{scheme: u.Scheme, host: u.Host, p: p})
	return p, nil
}

// CloseIdleConnections closes the connections kept for reuse.
func (c *Client) CloseIdleConnections() {
	c.mu.Lock()
	pools := make([]*hostPool, 0, len(c.pools))
	for _, p := range c.pools {
		pools = append(pools, p)
	}
	c.mu.Unlock()
	for _, p := range pools {
		p.mu.Lock()
		idle := p.idle
		p.idle = nil
		p.mu.Unlock()
		for _, cc := range idle {
			ignore(cc.sock.Close())
		}
	}
}

// IdleConnections returns the number of idle connections kept for addr:
// "host:port" for http, "https://host:port" for https.
func (c *Client) IdleConnections(addr string) int {
	p := c.pool(addr)
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func (p *hostPool) get() *clientConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 {
		cc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !cc.sock.Closed() {
			return cc
		}
	}
	return nil
}

func (p *hostPool) put(cc *clientConn) bool {
	max := p.c.MaxIdlePerHost
	if max <= 0 {
		max = 64
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= max {
		return false
	}
	p.idle = append(p.idle, cc)
	return true
}

func (p *hostPool) remove(cc *clientConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == cc {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return
		}
	}
}

// hostAddr returns the pool key of u: "host:port" for http,
// "https://host:port" for https.
func hostAddr(u *url.URL) (string, error) {
	prefix, port := "", "80"
	switch u.Scheme {
	case "http":
	case "https":
		prefix, port = "https://", "443"
	default:
		return "", fmt.Errorf("http: unsupported URL scheme %q (only http and https)", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return "", errors.New("http: URL has no host")
	}
	if p := u.Port(); p != "" {
		port = p
		if !strings.Contains(u.Host, "%") {
			// Host already reads host:port (brackets around IPv6) as
			// JoinHostPort would write it.
			return prefix + u.Host, nil
		}
	}
	return prefix + net.JoinHostPort(host, port), nil
}

// ctxError reports that ctx ended the request: a deadline matches
// future.ErrTimeout and context.DeadlineExceeded.
func ctxError(ctx context.Context, cause error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errRequestTimeout
	}
	if cause == nil {
		return ctx.Err()
	}
	return fmt.Errorf("http: request canceled: %w (%v)", ctx.Err(), cause)
}

// ------------------------------------------------------------- connection

type ccState uint8

const (
	ccIdle ccState = iota
	ccHead
	ccBody
	ccClosed
)

// clientConn is one client connection. Its fields belong to its loop
// except where noted.
type clientConn struct {
	pool *hostPool
	sock *tcp.Socket
	exec future.Executor
	tls  *tls.ConnectionState // https: the handshake's state, made once for every response (as net/http shares it)

	state     ccState
	reused    bool
	gotBytes  bool
	x         *clientCall // the call whose request was sent last
	sq        *sendQueue  // the client's queue for cc's loop
	req       *nethttp.Request
	in        []byte // bytes received and not consumed yet
	borrowed  bool   // in is (part of) the socket's lent read buffer
	scan      headScanner
	hp        headParser // parses response heads
	mode      bodyMode
	remaining int64
	chunk     chunkedDecoder
	body      *clientBody
	keep      bool
	waitCont  func()    // sends the body after 100 Continue
	contT     connTimer // sends the body if no 100 Continue comes
	stopCtx   func() bool
	wbuf      []byte // the request head (and a small body) being written

	// One timer per connection enforces the response-header timeout and
	// Client.Timeout of the request in flight, and the idle timeout. It
	// is re-armed only when a deadline comes before the time it is set
	// for; when it fires early for a later deadline it is set again, so
	// a request usually costs no timer operation at all.
	timer connTimer
	// The times are on the loop timers' clock (loop.Now: monotonic
	// nanoseconds, one clock read each); zero means none.
	timerAt  int64 // when timer fires; zero: not armed
	headDue  int64 // response-header deadline
	totalDue int64 // Client.Timeout deadline
	idleDue  int64 // when an idle connection expires
}

// maxCoalescedBody is the largest in-memory request body sent in the same
// write as its head.
const maxCoalescedBody = 16 << 10

// start sends x's request on cc, from any goroutine. Whoever took cc from
// the pool owns it until the send.
func (cc *clientConn) start(x *clientCall) {
	cc.sq.add(cc, x)
}

// sendQueue holds the requests handed to one loop (by a client) and not
// written yet. They are written by one task on the loop, after the events
// the loop is handling: a continuation that sends the next request from a
// response's callback does not write at once, so the writes of a batch of
// responses leave together at its end. On loopback a write runs the
// peer's receive path and, when the peer sleeps in epoll_wait, wakes it
// (an inter-processor interrupt), which cost more than the rest of the
// write; together, only the first write of a batch finds the peer asleep.
// And start needs no check of which goroutine calls it (a system call on
// Linux).
type sendQueue struct {
	exec    future.Executor
	flushFn func() // sq.flush, made once

	mu     sync.Mutex
	q      []pendingSend
	spare  []pendingSend // q's previous array, for reuse
	queued bool          // a flush task is queued on exec
}

type pendingSend struct {
	cc *clientConn
	x  *clientCall
}

// sendQueue returns c's queue for the loop behind exec.
func (c *Client) sendQueue(exec future.Executor) *sendQueue {
	c.mu.Lock()
	defer c.mu.Unlock()
	sq := c.queues[exec]
	if sq == nil {
		if c.queues == nil {
			c.queues = make(map[future.Executor]*sendQueue)
		}
		sq = &sendQueue{exec: exec}
		sq.flushFn = sq.flush
		c.queues[exec] = sq
	}
	return sq
}

// add queues x for cc and makes sure a flush task is queued.
func (sq *sendQueue) add(cc *clientConn, x *clientCall) {
	sq.mu.Lock()
	sq.q = append(sq.q, pendingSend{cc, x})
	queue := !sq.queued
	sq.queued = true
	sq.mu.Unlock()
	if queue {
		sq.exec.Execute(sq.flushFn)
	}
}

// flush sends what was queued, in order. Loop only. Requests queued while
// it runs (a retry) get a task of their own.
func (sq *sendQueue) flush() {
	sq.mu.Lock()
	q := sq.q
	sq.q, sq.spare = sq.spare, nil
	sq.queued = false
	sq.mu.Unlock()
	for i := range q {
		p := q[i]
		q[i] = pendingSend{}
		p.cc.send(p.x)
	}
	sq.mu.Lock()
	if sq.spare == nil && cap(q) <= 4096 {
		sq.spare = q[:0]
	}
	sq.mu.Unlock()
}

func (cc *clientConn) send(x *clientCall) {
	if cc.state != ccIdle || cc.sock.Closed() {
		x.failed(ErrConnClosed, cc.reused)
		return
	}
	x.cc.Store(cc)
	if x.canceled.Load() {
		// Cancelled before anything was sent: the connection stays
		// usable.
		x.cc.Store(nil)
		cc.release()
		return
	}
	c := cc.pool.c
	req, body, ctx := x.req, x.body, x.ctx
	cc.state, cc.x, cc.req, cc.gotBytes = ccHead, x, req, false
	cc.scan.reset()
	cc.keep = !req.Close
	n := int64(len(body.data))
	if body.stream != nil {
		n = -1
	}
	expect := n != 0 && httpguts.HeaderValuesContainsToken(req.Header["Expect"], "100-continue")
	// One write for the head and, when short and not waiting for
	// 100 Continue, the body: one system call per request instead of two.
	// The buffer is reused (Write copies what the kernel did not take).
	head := appendRequestHead(cc.wbuf[:0], req, n, req.Close)
	coalesced := !expect && body.stream == nil && len(body.data) > 0 && len(body.data) <= maxCoalescedBody
	if coalesced {
		head = append(head, body.data...)
	}
	ignore(cc.sock.Write(head))
	if cap(head) <= 2*maxCoalescedBody {
		cc.wbuf = head[:0]
	}
	if expect {
		// Send the body after 100 Continue, or after a second without
		// an answer (RFC 9110 section 10.1.1).
		cc.waitCont = func() { cc.sendBody(ctx, req, body) }
		cc.contT = afterOn(cc.exec, time.Second, func() {
			if cc.waitCont != nil && cc.x == x {
				cc.waitCont()
			}
		})
	} else if !coalesced {
		cc.sendBody(ctx, req, body)
	}
	if c.ResponseHeaderTimeout > 0 || c.Timeout > 0 {
		now := clockOn(cc.exec)
		if d := c.ResponseHeaderTimeout; d > 0 {
			cc.headDue = now + int64(d)
			cc.arm(cc.headDue)
		}
		x.startDeadline(now)
	}
	if x.deadline != 0 {
		cc.totalDue = x.deadline
		cc.arm(x.deadline)
	}
	if ctx.Done() == nil {
		return // ctx can never end: nothing to watch
	}
	cc.stopCtx = context.AfterFunc(ctx, func() {
		cc.exec.Execute(func() {
			if cc.x == x && (cc.state == ccHead || cc.state == ccBody) {
				cc.fail(ctxError(ctx, nil))
			}
		})
	})
}

// arm makes the connection's timer fire at due or earlier.
func (cc *clientConn) arm(due int64) {
	if cc.timerAt != 0 && due >= cc.timerAt {
		return // it fires first, and checkTimers sets it again
	}
	cc.timerAt = due
	if cc.timer == nil {
		cc.timer = newTimerOn(cc.exec, cc.checkTimers)
	}
	cc.timer.ResetAt(due)
}

// checkTimers runs on the loop when the timer fired: it fails the call
// whose deadline passed or closes a connection idle for too long, or sets
// the timer for the next deadline.
func (cc *clientConn) checkTimers() {
	cc.timerAt = 0
	now := loop.Now()
	if cc.state == ccIdle {
		if now >= cc.idleDue {
			cc.idleExpired()
		} else {
			cc.arm(cc.idleDue)
		}
		return
	}
	if cc.state != ccHead && cc.state != ccBody {
		return
	}
	if cc.state == ccHead && cc.headDue != 0 {
		if now >= cc.headDue {
			cc.fail(ErrResponseHeaderTimeout)
			return
		}
		cc.arm(cc.headDue)
	}
	if cc.totalDue != 0 {
		if now >= cc.totalDue {
			cc.fail(errRequestTimeout)
			return
		}
		cc.arm(cc.totalDue)
	}
}

// sendBody sends the body of req that did not go out with its head.
func (cc *clientConn) sendBody(ctx context.Context, req *nethttp.Request, body *reqBody) {
	cc.waitCont = nil
	if cc.contT != nil {
		cc.contT.Stop()
		cc.contT = nil
	}
	switch {
	case body.stream != nil:
		cc.streamBody(ctx, body.stream, req.Trailer)
	case len(body.data) > 0:
		ignore(cc.sock.Write(body.data))
	}
}

// streamBody sends a request body of unknown length, chunked, reading it on
// the blocking-work pool and waiting for each chunk to leave user space.
func (cc *clientConn) streamBody(ctx context.Context, r io.Reader, trailer nethttp.Header) {
	sock := cc.sock
	future.Go(func() (struct{}, error) {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := sock.Write(appendChunk(nil, buf[:n])).Await(ctx); werr != nil {
					return struct{}{}, werr
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				sock.Abort()
				return struct{}{}, err
			}
		}
		if c, ok := r.(io.Closer); ok {
			c.Close()
		}
		_, err := sock.Write(appendLastChunk(nil, trailer)).Await(ctx)
		return struct{}{}, err
	}).OnComplete(func(struct{}, error) {})
}

// stopTimers ends the deadlines of the call that is over. The shared
// timer is left armed: it fires for nothing at worst.
func (cc *clientConn) stopTimers() {
	cc.headDue, cc.totalDue = 0, 0
	if cc.contT != nil {
		cc.contT.Stop()
		cc.contT = nil
	}
}

func (cc *clientConn) onData(data []byte) {
	if cc.state == ccIdle || cc.state == ccClosed {
		// Bytes nobody asked for: the connection is unusable.
		cc.sock.Abort()
		return
	}
	cc.gotBytes = true
	if len(cc.in) == 0 {
		// Parse in place: the head is copied into the response's
		// strings and body bytes into the body; only what is left
		// over is kept.
		cc.in, cc.borrowed = data, true
	} else {
		cc.in = append(cc.in, data...)
	}
	for len(cc.in) > 0 && cc.state != ccIdle && cc.state != ccClosed {
		if cc.state == ccHead {
			if !cc.readHead() {
				break
			}
			continue
		}
		cc.readBody()
	}
	switch {
	case len(cc.in) == 0 || cc.state == ccClosed:
		cc.in = nil
	case cc.borrowed:
		cc.in = bytes.Clone(cc.in)
	}
	cc.borrowed = false
}

// owned returns p, copied when it is part of the lent read buffer. A short
// copy goes to the connection's string arena, beside the head it follows:
// one allocation fewer per small response (the arena never hands a region
// out twice, and the copy's capacity is its length, so an append by the
// reader copies again).
func (cc *clientConn) owned(p []byte) []byte {
	switch {
	case !cc.borrowed:
		return p
	case len(p) <= maxArenaBody:
		return cc.hp.arena.copyBytes(p)
	}
	return bytes.Clone(p)
}

// maxArenaBody is the largest body part owned copies into the arena.
const maxArenaBody = 512

// readHead parses a response head from cc.in; it reports whether it made
// progress.
func (cc *clientConn) readHead() bool {
	max := cc.pool.c.MaxHeaderBytes
	if max <= 0 {
		max = 1 << 20
	}
	start, end, err := cc.scan.scan(cc.in, max)
	if err != nil {
		cc.fail(fmt.Errorf("%w: %v", ErrBadResponse, err))
		return false
	}
	if end == 0 {
		return false
	}
	pr, err := parseResponseHeadWith(&cc.hp, cc.in[start:end], cc.scan.ends, cc.req)
	cc.in = cc.in[end:]
	cc.scan.reset()
	if err != nil {
		cc.fail(err)
		return false
	}
	resp := pr.resp
	if resp.StatusCode/100 == 1 {
		if resp.StatusCode == nethttp.StatusContinue && cc.waitCont != nil {
			cc.waitCont()
		}
		return true // interim response: the final one follows
	}
	if cc.waitCont != nil {
		// Final answer before 100 Continue: the body was never sent, so
		// the connection cannot be reused.
		cc.waitCont = nil
		cc.keep = false
	}
	cc.headDue = 0
	if cc.contT != nil {
		cc.contT.Stop()
		cc.contT = nil
	}
	if resp.Close || pr.mode == bodyUntilClose {
		cc.keep = false
	}
	x := cc.x
	resp.Request = cc.req
	resp.TLS = cc.tlsState()
	body := x.newBody(cc)
	body.r = resp
	resp.Body = body
	cc.body = body
	cc.mode, cc.remaining = pr.mode, pr.length
	if pr.mode == bodyChunked {
		cc.chunk = chunkedDecoder{}
		resp.Trailer = nethttp.Header{}
	}
	cc.state = ccBody
	switch {
	case pr.mode == bodyNone:
		cc.endBody(nil)
	case pr.mode == bodyLength && int64(len(cc.in)) >= pr.length:
		// The whole body is here: complete it before anyone sees the
		// response, so the connection is free again for the next
		// request and the body reads without waiting.
		cc.readBody()
	}
	x.gotResponse(resp)
	return true
}

func (cc *clientConn) readBody() {
	switch cc.mode {
	case bodyLength:
		n := int(min(int64(len(cc.in)), cc.remaining))
		cc.body.push(cc.owned(cc.in[:n:n]))
		cc.in = cc.in[n:]
		cc.remaining -= int64(n)
		if cc.remaining == 0 {
			cc.endBody(nil)
		}
	case bodyChunked:
		out, n, err := cc.chunk.Decode(nil, cc.in)
		cc.in = cc.in[n:]
		if len(out) > 0 {
			cc.body.push(out)
		}
		if err != nil {
			cc.fail(fmt.Errorf("%w: %v", ErrBadResponse, err))
			return
		}
		if cc.chunk.Done() {
			if resp := cc.body.resp(); resp != nil {
				for k, v := range cc.chunk.Trailer {
					resp.Trailer[k] = v
				}
			}
			cc.endBody(nil)
		}
	case bodyUntilClose:
		cc.body.push(cc.owned(cc.in))
		cc.in = nil
	default:
		cc.in = nil
	}
}

// endBody finishes the current response and recycles or closes the
// connection.
func (cc *clientConn) endBody(err error) {
	b := cc.body
	cc.body, cc.req, cc.x = nil, nil, nil
	if cc.stopCtx != nil {
		cc.stopCtx()
		cc.stopCtx = nil
	}
	cc.stopTimers()
	if err != nil || !cc.keep || len(cc.in) > 0 {
		cc.state = ccClosed
		if b != nil {
			b.finish(err)
		}
		if err != nil {
			cc.sock.Abort()
		} else {
			ignore(cc.sock.Close())
		}
		return
	}
	cc.reused = true
	// Back in the pool before the body's readers hear of its end, so a
	// request they send next can reuse this connection.
	cc.release()
	if b != nil {
		b.finish(nil)
	}
}

// release makes an idle connection available for the next request, or
// closes it when the pool is full.
func (cc *clientConn) release() {
	cc.state = ccIdle
	if cc.sock.Paused() {
		cc.sock.Resume()
	}
	d := cc.pool.c.IdleTimeout
	if d <= 0 {
		d = 90 * time.Second
	}
	if !cc.pool.put(cc) {
		cc.state = ccClosed
		ignore(cc.sock.Close())
		return
	}
	cc.idleDue = clockOn(cc.exec) + int64(d)
	cc.arm(cc.idleDue)
}

func (cc *clientConn) idleExpired() {
	if cc.state != ccIdle {
		return
	}
	cc.pool.remove(cc)
	cc.state = ccClosed
	ignore(cc.sock.Close())
}

// fail ends the current call with err and closes the connection.
func (cc *clientConn) fail(err error) {
	x, state, body := cc.x, cc.state, cc.body
	retryable := cc.reused && !cc.gotBytes
	cc.body, cc.x, cc.req = nil, nil, nil
	cc.stopTimers()
	if cc.stopCtx != nil {
		cc.stopCtx()
		cc.stopCtx = nil
	}
	cc.state = ccClosed
	cc.sock.Abort()
	if state == ccBody && body != nil {
		body.finish(err)
	}
	if x != nil && state == ccHead {
		x.cc.Store(nil)
		x.failed(err, retryable)
	}
}

func (cc *clientConn) onClose(err error) {
	cc.pool.remove(cc)
	if cc.timer != nil {
		cc.timer.Stop()
	}
	cc.stopTimers()
	switch cc.state {
	case ccBody:
		if cc.mode == bodyUntilClose && (err == nil || errors.Is(err, io.EOF)) {
			cc.keep = false
			cc.endBody(nil)
			return
		}
		cc.fail(fmt.Errorf("%w: %w", ErrConnClosed, orEOF(err)))
	case ccHead:
		cc.fail(fmt.Errorf("%w: %w", ErrConnClosed, orEOF(err)))
	}
	cc.state = ccClosed
}

func orEOF(err error) error {
	if err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ------------------------------------------------------------- body

// bodyHigh is how much of a response body the client buffers before it
// stops reading from the connection until the reader catches up.
const (
	bodyHigh = 1 << 20
	bodyLow  = 256 << 10
)

// clientBody is a response body fed by the connection's loop and read by
// the user.
type clientBody struct {
	// collect is ReadAll's promise, first in the object (see clientCall.p).
	collect    future.Promise[[]byte]
	collecting bool

	cc *clientConn
	r  *nethttp.Response
	bodyBuf
	waiter *future.Promise[[]byte] // a pending NextChunk
	one    [1][]byte               // bufs' first backing array: most bodies are one read
}

// init readies b for a response read from cc.
func (b *clientBody) init(cc *clientConn) {
	b.cc = cc
	b.bufs = b.one[:0]
}

func (b *clientBody) resp() *nethttp.Response { return b.r }

// joined returns the buffered bytes as one slice, without copying when they
// are one buffer already.
func (b *clientBody) joined() []byte {
	if len(b.bufs) == 1 {
		return b.bufs[0]
	}
	return bytes.Join(b.bufs, nil)
}

// push runs on the loop with bytes the body owns.
func (b *clientBody) push(p []byte) {
	if len(p) == 0 {
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.bufs = append(b.bufs, p)
	b.size += len(p)
	pause := b.size > bodyHigh && !b.collecting && !b.paused
	if pause {
		b.paused = true
	}
	ch := b.notify
	w, data := b.takeWaiterLocked()
	b.mu.Unlock()
	if pause {
		b.cc.sock.Pause()
	}
	signal(ch)
	if w != nil {
		w.Resolve(data)
	}
}

// finish runs on the loop when the body is complete (err nil) or failed.
func (b *clientBody) finish(err error) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.done = true
	b.err = err
	collect := b.collecting
	var data []byte
	if collect {
		data = b.joined()
		b.bufs, b.size = nil, 0
	}
	ch := b.notify
	w, wdata := b.takeWaiterLocked()
	b.mu.Unlock()
	signal(ch)
	settleWaiter(w, wdata, err)
	if collect {
		if err != nil {
			b.collect.Reject(err)
		} else {
			b.collect.Resolve(data)
		}
	}
}

// Read reads the body as it arrives; it blocks, so it must not be called on
// an event loop (it then fails with future.ErrAwaitOnLoop).
func (b *clientBody) Read(p []byte) (int, error) {
	n, resume, err := b.read(p, bodyLow)
	if resume {
		b.cc.sock.Resume()
	}
	return n, err
}

// Close discards the rest of the body; a connection whose response was not
// read to the end is closed rather than reused.
func (b *clientBody) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	done := b.done
	b.bufs, b.size = nil, 0
	paused := b.paused
	b.mu.Unlock()
	if !done {
		cc := b.cc
		cc.exec.Execute(func() {
			if cc.body == b {
				cc.fail(ErrBodyClosed)
			}
		})
	} else if paused {
		b.cc.sock.Resume()
	}
	return nil
}

// ReadAll returns a future of the whole body of resp, collected without
// blocking any goroutine when resp came from this package's Client (other
// bodies are read on the blocking-work pool). The body is closed after.
func ReadAll(resp *nethttp.Response) *future.Future[[]byte] {
	b, ok := resp.Body.(*clientBody)
	if !ok {
		return future.Go(func() ([]byte, error) {
			defer resp.Body.Close()
			return io.ReadAll(resp.Body)
		})
	}
	b.mu.Lock()
	if b.closed || b.collecting {
		b.mu.Unlock()
		return future.Rejected[[]byte](ErrBodyClosed)
	}
	b.collecting = true
	p := &b.collect
	switch {
	case b.done:
		data, err := b.joined(), b.err
		b.bufs, b.size, b.closed = nil, 0, true
		b.mu.Unlock()
		if err != nil {
			p.Reject(err)
		} else {
			p.Resolve(data)
		}
	default:
		paused := b.paused
		b.paused = false
		b.mu.Unlock()
		if paused {
			b.cc.sock.Resume()
		}
	}
	return p.Future()
}
