package http

import (
	"context"
	"errors"
	"fmt"
	nethttp "net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/tcp"
)

// errRequestTimeout is the error of a request that outlived Client.Timeout.
var errRequestTimeout = fmt.Errorf("http: request timed out: %w (%w)", future.ErrTimeout, context.DeadlineExceeded)

// clientCall is one call of Do: the request as it follows redirects and the
// single retry, and the promise of the final response. It replaces a chain
// of futures with plain calls, so a request costs one object here instead
// of one per step.
//
// The atomic fields are for cancellation, which may come from any
// goroutine. The others are written by whoever moves the call on (Do's
// caller, then the loop of the connection carrying it, or the dial's
// completion), one at a time: each hands the call to the next (through
// the pool's lock, an executor's queue or a future) before the next
// touches it.
type clientCall struct {
	// p is first, so the future Do returns starts the object (the
	// unhandled-rejection cleanup attaches to it).
	p future.Promise[*nethttp.Response]

	// cc is the connection carrying the request while it awaits its
	// response head, for cancellation.
	cc atomic.Pointer[clientConn]
	// stopDial ends the connect in progress, for cancellation.
	stopDial atomic.Pointer[context.CancelFunc]
	canceled atomic.Bool

	c    *Client
	ctx  context.Context // the caller's
	req  *nethttp.Request
	body *reqBody
	// deadline is when Client.Timeout ends the call, on the loop timers'
	// clock (loop.Now); zero: not set yet (no timeout, or the call has
	// not reached a connection: it is set at the first send or dial).
	deadline int64
	hops     int
	retried  bool // this hop was retried once already
	bodyUsed bool // body went to a response already

	// resp is the first response's body, allocated with the call: a
	// request without redirects needs no other.
	resp clientBody
}

// newBody returns the body of a response read from cc for the call.
func (x *clientCall) newBody(cc *clientConn) *clientBody {
	b := &x.resp
	if x.bodyUsed {
		b = &clientBody{}
	}
	x.bodyUsed = true
	b.init(cc)
	return b
}

// newCall prepares Do's state; the caller starts it with roundTrip.
func (c *Client) newCall(ctx context.Context, req *nethttp.Request, body *reqBody) *clientCall {
	x := &clientCall{c: c, ctx: ctx, req: req, body: body}
	x.p.OnCancel(x.cancel)
	return x
}

// cancel runs when the caller cancels Do's future: it aborts the connect or
// the call in flight. A connection whose request was not sent yet goes
// back to the pool; one awaiting a response is closed.
func (x *clientCall) cancel(error) {
	x.canceled.Store(true)
	if stop := x.stopDial.Load(); stop != nil {
		(*stop)()
	}
	if cc := x.cc.Load(); cc != nil {
		cc.exec.Execute(func() {
			if cc.x == x && cc.state == ccHead {
				cc.fail(future.ErrCanceled)
			}
		})
	}
}

// reject settles Do's future with err.
func (x *clientCall) reject(err error) { x.p.Reject(err) }

// idempotent reports whether the request may be sent again after a reused
// connection failed before any byte of the response arrived.
func (x *clientCall) idempotent() bool {
	m := x.req.Method
	return (m == "" || m == nethttp.MethodGet || m == nethttp.MethodHead) && x.body.replay
}

// roundTrip sends the current request on a pooled or new connection. A
// request that fails on a reused connection before any response byte
// arrived is retried once (see failed) when it is idempotent.
func (x *clientCall) roundTrip() {
	req := x.req
	if req.URL == nil {
		x.reject(errors.New("http: nil request URL"))
		return
	}
	p, err := x.c.poolFor(req.URL)
	if err != nil {
		x.reject(err)
		return
	}
	if err := checkHeader(req.Header); err != nil {
		x.reject(err)
		return
	}
	if cc := p.get(); cc != nil {
		cc.start(x)
		return
	}
	x.connect(p)
}

// checkHeader refuses a request header that net/http's client refuses: a
// name or value it may not send.
func checkHeader(h nethttp.Header) error {
	if len(h) == 0 {
		return nil // the usual case: no map iteration to set up
	}
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("http: invalid header field name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("http: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

// connect dials a new connection for the call, under a context derived
// only here: Client.Timeout bounds the dial, and cancelling the call ends
// it. A connection that opens after the call was cancelled goes to the
// pool.
func (x *clientCall) connect(p *hostPool) {
	var (
		ctx  context.Context
		stop context.CancelFunc
	)
	if d := x.c.Timeout; d <= 0 {
		ctx, stop = context.WithCancel(x.ctx)
	} else {
		now := loop.Now()
		x.startDeadline(now)
		ctx, stop = context.WithTimeout(x.ctx, time.Duration(x.deadline-now))
	}
	x.stopDial.Store(&stop)
	if x.canceled.Load() {
		stop()
	}
	f := x.c.connect(ctx, p)
	f.OnComplete(func(cc *clientConn, err error) {
		x.stopDial.Store(nil)
		if err != nil {
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = ctxError(ctx, err)
			}
			stop()
			x.reject(err)
			return
		}
		stop()
		cc.start(x)
	})
}

// failed runs on the loop of the connection that carried the call when
// that connection failed before the response head was complete. retryable:
// the connection was reused and no byte of the response arrived.
func (x *clientCall) failed(err error, retryable bool) {
	if retryable && !x.retried && x.idempotent() && x.ctx.Err() == nil && !x.canceled.Load() && !x.expired() {
		x.retried = true
		x.roundTrip()
		return
	}
	x.reject(err)
}

// startDeadline sets the Client.Timeout deadline from now (a loop clock
// reading) when the client has a timeout and the call has none yet: at its
// first send or dial.
func (x *clientCall) startDeadline(now int64) {
	if x.deadline == 0 && x.c.Timeout > 0 {
		x.deadline = now + int64(x.c.Timeout)
	}
}

// expired reports whether Client.Timeout has passed.
func (x *clientCall) expired() bool {
	return x.deadline != 0 && loop.Now() >= x.deadline
}

// gotResponse runs on the loop when the final response head arrived: it
// follows a redirect or resolves Do's future.
func (x *clientCall) gotResponse(resp *nethttp.Response) {
	x.cc.Store(nil)
	if x.canceled.Load() {
		resp.Body.Close()
		return
	}
	switch resp.StatusCode {
	case 301, 302, 303, 307, 308:
	default:
		x.p.Resolve(resp)
		return
	}
	c, req, body := x.c, x.req, x.body
	loc := resp.Header.Get("Location")
	if loc == "" || c.maxRedirects() == 0 {
		x.p.Resolve(resp)
		return
	}
	if x.hops >= c.maxRedirects() {
		resp.Body.Close()
		x.reject(fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, x.hops))
		return
	}
	next, err := req.URL.Parse(loc)
	if err != nil {
		resp.Body.Close()
		x.reject(fmt.Errorf("http: bad redirect Location %q: %w", loc, err))
		return
	}
	method := req.Method
	nbody := body
	if resp.StatusCode == 303 || ((resp.StatusCode == 301 || resp.StatusCode == 302) && method == nethttp.MethodPost) {
		if method != nethttp.MethodHead {
			method = nethttp.MethodGet
		}
		nbody = noBody
	} else if !body.replay {
		x.p.Resolve(resp) // cannot resend a streamed body
		return
	}
	resp.Body.Close()
	nreq := req.Clone(x.ctx)
	nreq.Method = method
	nreq.URL = next
	nreq.Host = ""
	if nbody.data == nil && nbody.stream == nil {
		nreq.Header.Del("Content-Type")
	}
	if next.Host != req.URL.Host || downgrade(req.URL, next) {
		nreq.Header.Del("Authorization")
		nreq.Header.Del("Cookie")
	}
	x.req, x.body = nreq, nbody
	x.hops++
	x.retried = false
	x.roundTrip()
}

// connect dials p's host and returns the connection once it is open.
func (c *Client) connect(ctx context.Context, p *hostPool) *future.Future[*clientConn] {
	cc := &clientConn{pool: p}
	h := tcp.Handler{
		OnData:     func(s *tcp.Socket, data []byte) { cc.onData(data) },
		OnClose:    func(s *tcp.Socket, err error) { cc.onClose(err) },
		BorrowData: true,
	}
	maxBuf := c.MaxBufferedBody
	if maxBuf <= 0 {
		maxBuf = 64 << 20
	}
	opts := []tcp.DialOption{tcp.WithHandler(h), tcp.WithMaxBuffered(maxBuf)}
	if c.Runtime != nil {
		opts = append(opts, tcp.WithRuntime(c.Runtime))
	}
	if c.ConnectTimeout > 0 {
		opts = append(opts, tcp.WithConnectTimeout(c.ConnectTimeout))
	}
	if c.Resolver != nil {
		opts = append(opts, tcp.WithResolver(c.Resolver))
	}
	if p.tls {
		opts = append(opts, tcp.WithTLS(c.tlsConfig()))
	}
	// The caller's options last: they win, except the handler and the
	// body bound the client depends on, which are set again after them.
	opts = append(opts, c.DialOptions...)
	opts = append(opts, tcp.WithHandler(h), tcp.WithMaxBuffered(maxBuf))
	return future.Then(tcp.Connect(ctx, p.addr, opts...), func(s *tcp.Socket) (*clientConn, error) {
		cc.sock = s
		cc.exec = s.Executor()
		cc.sq = c.sendQueue(cc.exec)
		return cc, nil
	})
}
