package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loopmark"
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
	// body (0: no limit, as for event streams).
	Timeout time.Duration
	// MaxRedirects is the number of redirects followed (0: 10; negative:
	// none, the 3xx response is returned).
	MaxRedirects int
	// MaxHeaderBytes bounds a response head (default 1 MiB).
	MaxHeaderBytes int
	// MaxBufferedBody bounds the bytes of a response body received and not
	// yet read (default 64 MiB). The event loop cannot make the server stop
	// sending (gnet always reads), so a reader that falls further behind
	// than this fails: the read returns an error matching
	// tcp.ErrBufferFull and the connection closes.
	MaxBufferedBody int

	mu    sync.Mutex
	pools map[string]*hostPool
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
	cancel := context.CancelFunc(func() {})
	if c.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	body, err := prepareBody(req)
	if err != nil {
		cancel()
		return future.Rejected[*nethttp.Response](err)
	}
	f := c.follow(ctx, req, body, 0)
	// The timeout also covers the body: cancel only when it is done.
	f.OnComplete(func(resp *nethttp.Response, err error) {
		if err != nil {
			cancel()
			return
		}
		if cb, ok := resp.Body.(*clientBody); ok {
			cb.afterDone(cancel)
		} else {
			cancel()
		}
	})
	return f
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

func (c *Client) follow(ctx context.Context, req *nethttp.Request, body *reqBody, hops int) *future.Future[*nethttp.Response] {
	f := c.roundTrip(ctx, req, body, true)
	return future.Compose(f, func(resp *nethttp.Response) *future.Future[*nethttp.Response] {
		loc := resp.Header.Get("Location")
		switch resp.StatusCode {
		case 301, 302, 303, 307, 308:
		default:
			return future.Resolved(resp)
		}
		if loc == "" || c.maxRedirects() == 0 {
			return future.Resolved(resp)
		}
		if hops >= c.maxRedirects() {
			resp.Body.Close()
			return future.Rejected[*nethttp.Response](fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, hops))
		}
		next, err := req.URL.Parse(loc)
		if err != nil {
			resp.Body.Close()
			return future.Rejected[*nethttp.Response](fmt.Errorf("http: bad redirect Location %q: %w", loc, err))
		}
		method := req.Method
		nbody := body
		if resp.StatusCode == 303 || ((resp.StatusCode == 301 || resp.StatusCode == 302) && method == nethttp.MethodPost) {
			if method != nethttp.MethodHead {
				method = nethttp.MethodGet
			}
			nbody = noBody
		} else if !body.replay {
			return future.Resolved(resp) // cannot resend a streamed body
		}
		resp.Body.Close()
		nreq := req.Clone(ctx)
		nreq.Method = method
		nreq.URL = next
		nreq.Host = ""
		if nbody.data == nil && nbody.stream == nil {
			nreq.Header.Del("Content-Type")
		}
		if next.Host != req.URL.Host {
			nreq.Header.Del("Authorization")
			nreq.Header.Del("Cookie")
		}
		return c.follow(ctx, nreq, nbody, hops+1)
	})
}

// ------------------------------------------------------------- pools

type hostPool struct {
	c    *Client
	addr string
	mu   sync.Mutex
	idle []*clientConn
}

func (c *Client) pool(addr string) *hostPool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pools == nil {
		c.pools = make(map[string]*hostPool)
	}
	p := c.pools[addr]
	if p == nil {
		p = &hostPool{c: c, addr: addr}
		c.pools[addr] = p
	}
	return p
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

// IdleConnections returns the number of idle connections kept for addr
// ("host:port").
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

func hostAddr(u *url.URL) (string, error) {
	if u.Scheme != "http" {
		return "", fmt.Errorf("http: unsupported URL scheme %q (only http)", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return "", errors.New("http: URL has no host")
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port), nil
}

func (c *Client) connect(ctx context.Context, p *hostPool) *future.Future[*clientConn] {
	cc := &clientConn{pool: p}
	h := tcp.Handler{
		OnData:  func(s *tcp.Socket, data []byte) { cc.onData(data) },
		OnClose: func(s *tcp.Socket, err error) { cc.onClose(err) },
	}
	maxBuf := c.MaxBufferedBody
	if maxBuf <= 0 {
		maxBuf = 64 << 20
	}
	opts := []tcp.Option{tcp.WithHandler(h), tcp.WithMaxBuffered(maxBuf)}
	if c.ConnectTimeout > 0 {
		opts = append(opts, tcp.WithConnectTimeout(c.ConnectTimeout))
	}
	return future.Then(tcp.Connect(ctx, p.addr, opts...), func(s *tcp.Socket) (*clientConn, error) {
		cc.sock = s
		cc.exec = s.Executor()
		return cc, nil
	})
}

// roundTrip sends one request on a pooled or new connection. A request
// that fails on a reused connection before any response byte arrived is
// retried once on a new one when it is idempotent.
func (c *Client) roundTrip(ctx context.Context, req *nethttp.Request, body *reqBody, retry bool) *future.Future[*nethttp.Response] {
	if req.URL == nil {
		return future.Rejected[*nethttp.Response](errors.New("http: nil request URL"))
	}
	addr, err := hostAddr(req.URL)
	if err != nil {
		return future.Rejected[*nethttp.Response](err)
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return future.Rejected[*nethttp.Response](fmt.Errorf("http: invalid header field name %q", k))
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return future.Rejected[*nethttp.Response](fmt.Errorf("http: invalid header field value for %q", k))
			}
		}
	}
	p := c.pool(addr)
	if cc := p.get(); cc != nil {
		f := cc.start(ctx, req, body)
		if !retry || !(req.Method == "" || req.Method == nethttp.MethodGet || req.Method == nethttp.MethodHead) || !body.replay {
			return f
		}
		return future.Compose(future.Handle(f, func(resp *nethttp.Response, err error) (*future.Future[*nethttp.Response], error) {
			var re *retryableError
			if errors.As(err, &re) && ctx.Err() == nil {
				return c.roundTrip(ctx, req, body, false), nil
			}
			if err != nil {
				return nil, unwrapRetry(err)
			}
			return future.Resolved(resp), nil
		}), func(x *future.Future[*nethttp.Response]) *future.Future[*nethttp.Response] { return x })
	}
	f := future.Compose(c.connect(ctx, p), func(cc *clientConn) *future.Future[*nethttp.Response] {
		return cc.start(ctx, req, body)
	})
	return future.Handle(f, func(resp *nethttp.Response, err error) (*nethttp.Response, error) {
		if err != nil {
			err = unwrapRetry(err)
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = ctxError(ctx, err)
			}
			return nil, err
		}
		return resp, nil
	})
}

// retryableError marks a failure on a reused connection before any byte of
// the response arrived.
type retryableError struct{ err error }

// Error returns the wrapped error's message.
func (e *retryableError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *retryableError) Unwrap() error { return e.err }

func unwrapRetry(err error) error {
	var re *retryableError
	if errors.As(err, &re) {
		return re.err
	}
	return err
}

// ctxError reports that ctx ended the request: a deadline matches
// future.ErrTimeout and context.DeadlineExceeded.
func ctxError(ctx context.Context, cause error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("http: request timed out: %w (%w)", future.ErrTimeout, context.DeadlineExceeded)
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

	state     ccState
	reused    bool
	gotBytes  bool
	req       *nethttp.Request
	p         *future.Promise[*nethttp.Response]
	in        []byte
	scan      headScanner
	mode      bodyMode
	remaining int64
	chunk     chunkedDecoder
	body      *clientBody
	keep      bool
	waitCont  func() // sends the body after 100 Continue
	timer     *time.Timer
	contT     *time.Timer // sends the body if no 100 Continue comes
	idleTimer *time.Timer
	stopCtx   func() bool
	wbuf      []byte // the request head (and a small body) being written
}

// maxCoalescedBody is the largest in-memory request body sent in the same
// write as its head.
const maxCoalescedBody = 16 << 10

// start sends req on cc (from any goroutine) and returns the response future.
func (cc *clientConn) start(ctx context.Context, req *nethttp.Request, body *reqBody) *future.Future[*nethttp.Response] {
	p := future.New[*nethttp.Response]()
	if cc.onLoop() {
		// Continuations usually run on the loop: no hop needed.
		cc.send(ctx, req, body, p)
	} else {
		cc.exec.Execute(func() { cc.send(ctx, req, body, p) })
	}
	return p.Future()
}

// onLoop reports whether the caller runs on cc's event loop.
func (cc *clientConn) onLoop() bool {
	ex, ok := loopmark.Current()
	return ok && any(ex) == any(cc.exec)
}

func (cc *clientConn) send(ctx context.Context, req *nethttp.Request, body *reqBody, p *future.Promise[*nethttp.Response]) {
	if cc.state != ccIdle || cc.sock.Closed() {
		err := error(ErrConnClosed)
		if cc.reused {
			err = &retryableError{err}
		}
		p.Reject(err)
		return
	}
	if cc.idleTimer != nil {
		cc.idleTimer.Stop()
	}
	c := cc.pool.c
	cc.state, cc.req, cc.p, cc.gotBytes = ccHead, req, p, false
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
		cc.contT = time.AfterFunc(time.Second, func() {
			cc.exec.Execute(func() {
				if cc.waitCont != nil && cc.p == p {
					cc.waitCont()
				}
			})
		})
	} else if !coalesced {
		cc.sendBody(ctx, req, body)
	}
	if d := c.ResponseHeaderTimeout; d > 0 {
		cc.timer = time.AfterFunc(d, func() {
			cc.exec.Execute(func() {
				if cc.p == p && cc.state == ccHead {
					cc.fail(ErrResponseHeaderTimeout)
				}
			})
		})
	}
	if ctx.Done() == nil {
		return // ctx can never end: nothing to watch
	}
	cc.stopCtx = context.AfterFunc(ctx, func() {
		cc.exec.Execute(func() {
			if cc.p == p && (cc.state == ccHead || cc.state == ccBody) {
				cc.fail(ctxError(ctx, nil))
			}
		})
	})
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

func (cc *clientConn) stopTimers() {
	if cc.timer != nil {
		cc.timer.Stop()
		cc.timer = nil
	}
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
		cc.in = data
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
	if len(cc.in) == 0 {
		cc.in = nil
	}
}

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
	pr, err := parseResponseHead(cc.in[start:end], &cc.scan, cc.req)
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
	cc.stopTimers()
	if resp.Close || pr.mode == bodyUntilClose {
		cc.keep = false
	}
	resp.Request = cc.req
	body := newClientBody(cc)
	body.r = resp
	resp.Body = body
	cc.body = body
	cc.mode, cc.remaining = pr.mode, pr.length
	if pr.mode == bodyChunked {
		cc.chunk = chunkedDecoder{}
		resp.Trailer = nethttp.Header{}
	}
	cc.state = ccBody
	p := cc.p
	p.Resolve(resp)
	if pr.mode == bodyNone {
		cc.endBody(nil)
	}
	return true
}

func (cc *clientConn) readBody() {
	switch cc.mode {
	case bodyLength:
		n := int(min(int64(len(cc.in)), cc.remaining))
		cc.body.push(cc.in[:n:n])
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
		cc.body.push(cc.in)
		cc.in = nil
	default:
		cc.in = nil
	}
}

// endBody finishes the current response and recycles or closes the
// connection.
func (cc *clientConn) endBody(err error) {
	b := cc.body
	cc.body, cc.req, cc.p = nil, nil, nil
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
	cc.state = ccIdle
	cc.reused = true
	if cc.sock.Paused() {
		cc.sock.Resume()
	}
	d := cc.pool.c.IdleTimeout
	if d <= 0 {
		d = 90 * time.Second
	}
	if cc.idleTimer == nil {
		cc.idleTimer = time.AfterFunc(d, func() { cc.exec.Execute(cc.idleExpired) })
	} else {
		cc.idleTimer.Reset(d)
	}
	// Back in the pool before the body's readers hear of its end, so a
	// request they send next can reuse this connection.
	if !cc.pool.put(cc) {
		cc.state = ccClosed
		cc.idleTimer.Stop()
		ignore(cc.sock.Close())
	}
	if b != nil {
		b.finish(nil)
	}
}

func (cc *clientConn) idleExpired() {
	if cc.state != ccIdle {
		return
	}
	cc.pool.remove(cc)
	cc.state = ccClosed
	ignore(cc.sock.Close())
}

// fail ends the current exchange with err and closes the connection.
func (cc *clientConn) fail(err error) {
	if cc.p != nil && cc.state == ccHead {
		if cc.reused && !cc.gotBytes {
			err = &retryableError{err}
		}
		cc.p.Reject(err)
	}
	if cc.state == ccBody && cc.body != nil {
		cc.body.finish(err)
	}
	cc.body, cc.p, cc.req = nil, nil, nil
	cc.stopTimers()
	if cc.stopCtx != nil {
		cc.stopCtx()
		cc.stopCtx = nil
	}
	cc.state = ccClosed
	cc.sock.Abort()
}

func (cc *clientConn) onClose(err error) {
	cc.pool.remove(cc)
	if cc.idleTimer != nil {
		cc.idleTimer.Stop()
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
	cc      *clientConn
	mu      sync.Mutex
	r       *nethttp.Response
	bufs    [][]byte
	size    int
	done    bool
	err     error
	closed  bool
	paused  bool
	notify  chan struct{}
	collect *future.Promise[[]byte]
	after   []func()
}

func newClientBody(cc *clientConn) *clientBody {
	return &clientBody{cc: cc, notify: make(chan struct{}, 1)}
}

func (b *clientBody) resp() *nethttp.Response { return b.r }

func (b *clientBody) signal() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
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
	pause := b.size > bodyHigh && b.collect == nil && !b.paused
	if pause {
		b.paused = true
	}
	b.mu.Unlock()
	if pause {
		b.cc.sock.Pause()
	}
	b.signal()
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
	collect := b.collect
	var data []byte
	if collect != nil {
		data = bytes.Join(b.bufs, nil)
		b.bufs, b.size = nil, 0
	}
	after := b.after
	b.after = nil
	b.mu.Unlock()
	b.signal()
	if collect != nil {
		if err != nil {
			collect.Reject(err)
		} else {
			collect.Resolve(data)
		}
	}
	for _, fn := range after {
		fn()
	}
}

// afterDone runs fn once the body is complete, failed or closed.
func (b *clientBody) afterDone(fn func()) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		fn()
		return
	}
	b.after = append(b.after, fn)
	b.mu.Unlock()
}

// Read reads the body as it arrives; it blocks, so it must not be called on
// an event loop (it then fails with future.ErrAwaitOnLoop).
func (b *clientBody) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return 0, ErrBodyClosed
		}
		if len(b.bufs) > 0 {
			n := 0
			for n < len(p) && len(b.bufs) > 0 {
				m := copy(p[n:], b.bufs[0])
				n += m
				if m == len(b.bufs[0]) {
					b.bufs[0] = nil
					b.bufs = b.bufs[1:]
				} else {
					b.bufs[0] = b.bufs[0][m:]
				}
			}
			b.size -= n
			resume := b.paused && b.size < bodyLow
			if resume {
				b.paused = false
			}
			b.mu.Unlock()
			if resume {
				b.cc.sock.Resume()
			}
			return n, nil
		}
		if b.done {
			err := b.err
			b.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		b.mu.Unlock()
		if loopmark.Active() && loopmark.OnLoop() {
			return 0, future.ErrAwaitOnLoop
		}
		<-b.notify
	}
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
	p := future.New[[]byte]()
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		p.Reject(ErrBodyClosed)
	case b.done:
		data, err := bytes.Join(b.bufs, nil), b.err
		b.bufs, b.size, b.closed = nil, 0, true
		b.mu.Unlock()
		if err != nil {
			p.Reject(err)
		} else {
			p.Resolve(data)
		}
	default:
		b.collect = p
		paused := b.paused
		b.paused = false
		b.mu.Unlock()
		if paused {
			b.cc.sock.Resume()
		}
	}
	return p.Future()
}
