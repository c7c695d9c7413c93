package http

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/tcp"
)

// lingerTime is how long a connection closed by the server after an error
// reply keeps reading (and discarding) so the client can read the reply
// before the close, which would otherwise reset the connection.
const lingerTime = 2 * time.Second

// ErrClientGone is the cause (context.Cause) of a request context that
// ended because its connection closed.
var ErrClientGone = errors.New("http: client connection closed")

// ServerOption configures Listen.
type ServerOption func(*serverConfig)

type serverConfig struct {
	lim     Limits
	tcpOpts []tcp.ListenOption
	reuse   bool
	tls     *tls.Config // WithTLS (http/tls.go)
}

// WithLimits sets the server's limits (zero fields keep their defaults).
func WithLimits(l Limits) ServerOption { return func(c *serverConfig) { c.lim = l } }

// WithRequestReuse makes the server reuse each connection's request
// objects: once a request's reply has been written, its *http.Request,
// URL and Header map serve a later request of the same connection, which
// saves their allocation (about a fifth of the server's CPU with pipelined
// requests, see docs/benchmarks/http.md). The contract: a handler must not
// use the request, its Header or its URL (nor a copy made by WithContext,
// which shares them) after its future settled; strings taken from the
// request stay valid (they are never reused), and so does BodyBytes.
// Requests answered by a stream (NewStream, SSE) or read by a StreamBody
// handler are never reused. Off by default: a handler that keeps its
// request is correct without it.
func WithRequestReuse() ServerOption { return func(c *serverConfig) { c.reuse = true } }

// WithTCPOptions passes options to the underlying tcp.Listen (connection
// cap, SO_REUSEPORT, timeouts, ...). The settings the server depends on
// (half-open sockets, the bound on buffered input) are applied after them
// and cannot be overridden.
func WithTCPOptions(opts ...tcp.ListenOption) ServerOption {
	return func(c *serverConfig) { c.tcpOpts = append(c.tcpOpts, opts...) }
}

// WithRuntime runs the server's connections on r (goasync.NewRuntime)
// instead of the process-wide default runtime.
func WithRuntime(r *goasync.Runtime) ServerOption {
	return func(c *serverConfig) { c.tcpOpts = append(c.tcpOpts, tcp.WithRuntime(r)) }
}

// Server is an HTTP/1.1 server over the tcp package: every connection lives
// on one event loop, which reads and frames its requests, calls the
// handler, and writes the replies in request order as their futures
// settle. It keeps connections alive, answers pipelined requests in order,
// reads chunked bodies and writes chunked streams, answers
// Expect: 100-continue, and enforces Limits with 400, 408, 413, 431, 501 and
// 505 replies after which the connection closes.
type Server struct {
	h     Handler
	lim   Limits
	reuse bool
	ln    *tcp.Server
	close atomic.Bool

	mu    sync.Mutex
	conns map[*conn]struct{}
	mems  map[*loop.Loop]*loopMem // per event loop, shared by its connections
}

// Listen starts an HTTP server on addr ("host:port", ":0" for any port,
// "unix:///path") that answers every request with h.
func Listen(addr string, h Handler, opts ...ServerOption) (*Server, error) {
	if h == nil {
		return nil, errors.New("http: nil handler")
	}
	var cfg serverConfig
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{h: h, lim: cfg.lim.withDefaults(), reuse: cfg.reuse, conns: make(map[*conn]struct{})}
	th := tcp.Handler{
		BorrowData: true,
		OnConnect:  s.onConnect,
		OnData:     func(sock *tcp.Socket, data []byte) { sock.Data().(*conn).onData(data) },
		OnEOF:      func(sock *tcp.Socket) { sock.Data().(*conn).onEOF() },
		OnClose:    func(sock *tcp.Socket, err error) { sock.Data().(*conn).onClose(err) },
	}
	// While a connection is paused (pipeline full, output backed up, a
	// stream being written, a streamed body's reader lagging) the tcp
	// layer stops reading it; where it cannot, it buffers what arrives up
	// to this bound, then closes it: at least one whole request must fit.
	maxBuf := max(4<<20, s.lim.MaxBodyBytes+int64(s.lim.MaxHeaderBytes))
	tcpOpts := append(append([]tcp.ListenOption(nil), cfg.tcpOpts...),
		tcp.WithHalfOpen(true), tcp.WithMaxBuffered(int(min(maxBuf, 1<<30))))
	if cfg.tls != nil {
		tcpOpts = append(tcpOpts, tcp.WithTLS(serverTLS(cfg.tls)))
	}
	ln, err := tcp.Listen(addr, th, tcpOpts...)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Count returns the number of open connections.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close shuts the server down gracefully: it stops accepting, closes idle
// keep-alive connections, lets in-flight requests finish (their replies
// carry Connection: close), and when ctx ends aborts what is still open
// (long-lived streams included). It returns ctx's error if it had to abort.
func (s *Server) Close(ctx context.Context) error {
	s.close.Store(true)
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.exec.Execute(c.shutdown)
	}
	return s.ln.Close(ctx)
}

func (s *Server) onConnect(sock *tcp.Socket) {
	c := &conn{srv: s, sock: sock, exec: sock.Executor(), lim: &s.lim}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	c.rr.lim = &s.lim
	c.rr.hp.reuse = s.reuse
	if a := sock.RemoteAddr(); a != nil {
		c.remote = a.String()
	}
	c.tls = connTLS(sock)
	sock.SetData(c)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	if l, ok := c.exec.(*loop.Loop); ok && l != nil {
		// Connections share their loop's request memory (only that
		// loop's goroutine parses their requests); elsewhere each
		// connection makes its own.
		mem := s.mems[l]
		if mem == nil {
			if s.mems == nil {
				s.mems = make(map[*loop.Loop]*loopMem)
			}
			mem = new(loopMem)
			s.mems[l] = mem
		}
		c.rr.hp.mem = mem
	}
	s.mu.Unlock()
	if s.close.Load() {
		c.closeGraceful()
		return
	}
	c.setDeadline(clockOn(c.exec))
}

// exchange is one request and, once its future settles, its response.
type exchange struct {
	req      *nethttp.Request
	method   string
	minor    int
	keepOpen bool
	resp     *Response
	done     bool
	up       *upload      // the streamed body, for StreamBody handlers
	blk      *reusedBlock // the request's block, released after the reply (WithRequestReuse)
}

type deadlineKind uint8

const (
	dlNone deadlineKind = iota
	dlIdle
	dlHead
	dlBody
	dlEOF // the peer half-closed and replies are still pending
)

// conn is the server side of one connection. Everything in it runs on the
// connection's event loop, except streamWrite and streamEnd, which hop
// there.
type conn struct {
	srv    *Server
	sock   *tcp.Socket
	exec   future.Executor
	lim    *Limits
	remote string
	tls    *tls.ConnectionState // nil without TLS
	ctx    context.Context      // requests' context: ends when the connection does
	cancel context.CancelCauseFunc

	rr      requestReader
	in      []byte
	queue   []*exchange
	out     []byte
	active  *Stream // the stream being written, at the head of the replies
	reading bool    // a request has started arriving and is not complete

	noMore       bool // read no more requests (close after the queued replies)
	closed       bool
	paused       bool
	wantContinue bool // send 100 Continue when the replies ahead are out
	eof          bool
	waitOut      bool // waiting for the socket's output to drain
	linger       bool // close by half-closing first (after a refusal)

	timer   connTimer
	lingerT connTimer
	// Times are on the loop timers' clock (loop.Now), read once per batch
	// of events (clockOn); zero timerAt: not armed.
	timerAt  int64
	deadline int64
	dlKind   deadlineKind
	reqStart int64
	now      int64 // the time of the current event, for Date
}

func (c *conn) onData(data []byte) {
	if c.closed || c.noMore {
		return // lingering after an error reply, or closing: discard
	}
	now := clockOn(c.exec)
	if !c.reading && !c.rr.inBody {
		c.reading = true
		c.reqStart = now
	}
	// data is the socket's read buffer, lent for this call (BorrowData):
	// requests are parsed from it in place, and only bytes left over (a
	// request not complete yet, or not read because of a pause) are
	// copied.
	lent := len(c.in) == 0
	if lent {
		c.in = data
	} else {
		c.in = append(c.in, data...)
	}
	c.process(now)
	if lent && len(c.in) > 0 {
		c.in = append(make([]byte, 0, max(len(c.in), 512)), c.in...)
	}
}

// process reads as many complete requests from c.in as the limits allow,
// dispatches them, and writes whatever replies are ready.
func (c *conn) process(now int64) {
	c.now = now
	for !c.noMore && !c.closed && len(c.queue) < c.lim.MaxPipelined {
		ev, n, err := c.rr.next(c.in)
		c.in = c.in[n:]
		if err != nil {
			if c.rr.up != nil {
				c.failUpload(err)
			} else {
				c.refuse(err)
			}
			break
		}
		if c.rr.up != nil && n > 0 {
			c.reqStart = now // a streamed body's timeout is between reads
		}
		if ev == evStreamed {
			c.reading = len(c.in) > 0
			c.reqStart = now
			continue
		}
		if ev == evHead {
			c.reqStart = now // the body has its own deadline
			if limit, ok := streamLimit(c.srv.h, c.rr.cur.req); ok {
				if err := c.startUpload(limit); err != nil {
					c.refuse(err)
					break
				}
				continue
			}
			if p := c.rr.cur; p.mode == bodyLength && p.length > c.lim.MaxBodyBytes {
				c.refuse(errTooLarge())
				break
			}
			if c.rr.cur.expect {
				// 100 Continue goes out now if no earlier reply is
				// owed, else right after them (writeReady).
				c.wantContinue = true
				c.writeReady()
			}
			continue
		}
		if ev == evMore {
			break
		}
		// The body is in: a 100 Continue not sent yet is not needed.
		c.wantContinue = false
		c.reading = len(c.in) > 0
		c.reqStart = now
		c.dispatch(c.rr.cur, nil)
	}
	if len(c.in) == 0 {
		c.in = nil
	}
	c.writeReady()
	c.flush()
	c.updatePause()
	c.setDeadline(now)
}

// refuse answers a request the framing refused, then closes.
func (c *conn) refuse(err error) {
	code := errorStatus(err)
	reason := ""
	var se *statusError
	if errors.As(err, &se) {
		reason = se.Reason
	}
	if logx.Debug() {
		logx.L().Debug("http: refused request", zap.String("remote", c.remote), zap.Int("status", code), zap.Error(err))
	}
	c.noMore = true
	c.linger = true
	c.in = nil
	c.reading = false
	c.wantContinue = false
	resp := Error(code, reason)
	resp.SetHeader("Connection", "close")
	c.queue = append(c.queue, &exchange{method: "GET", minor: 1, resp: resp, done: true})
}

// startUpload dispatches the request whose head was just read to a
// StreamBody handler, with a body that streams what follows.
func (c *conn) startUpload(limit int64) error {
	p := c.rr.cur
	if limit > 0 && p.mode == bodyLength && p.length > limit {
		return errTooLarge()
	}
	up := newUpload(c)
	p.req.Body = up
	p.req.ContentLength = p.length
	c.rr.stream(up, limit)
	c.dispatch(p, up)
	if p.expect && c.rr.up == up && !c.noMore {
		// 100 Continue goes out once the replies ahead of this one
		// are (writeReady), unless the handler answered already.
		c.wantContinue = true
		c.writeReady()
	}
	return nil
}

// failUpload ends the streamed body being read with err (its reader sees
// it; a handler failing with it is answered with its status) and stops
// reading requests: the connection closes after the replies.
func (c *conn) failUpload(err error) {
	up := c.rr.up
	c.rr.up, c.rr.inBody = nil, false
	c.noMore, c.linger = true, true
	c.in = nil
	c.reading = false
	c.wantContinue = false
	up.finish(err)
}

func (c *conn) dispatch(p parsedRequest, up *upload) {
	req := p.req
	req.RemoteAddr = c.remote
	req.TLS = c.tls
	if !p.keepOpen || c.eof {
		c.noMore = true
	}
	resp, f := c.call(req)
	var err error
	ready := f == nil
	if !ready {
		resp, err, ready = f.Result()
	}
	if ready && len(c.queue) == 0 && c.active == nil {
		// Nothing is owed before it: a reply that is ready at once is
		// written without queueing.
		ex := exchange{req: req, method: req.Method, minor: req.ProtoMinor, keepOpen: p.keepOpen, up: up, blk: p.blk}
		ex.settle(resp, err)
		c.writeOne(&ex)
		return
	}
	ex := &exchange{req: req, method: req.Method, minor: req.ProtoMinor, keepOpen: p.keepOpen, up: up, blk: p.blk}
	c.queue = append(c.queue, ex)
	if ready {
		ex.settle(resp, err)
		return
	}
	f.OnComplete(func(resp *Response, err error) {
		c.exec.Execute(func() {
			ex.settle(resp, err)
			if c.closed {
				ex.discard()
				return
			}
			c.now = clockOn(c.exec)
			c.writeReady()
			c.flush()
			c.updatePause()
			c.setDeadline(c.now)
		})
	})
}

// call runs the handler: it returns the response, or else a future of it.
// A panic (recovered by future.Protect, with its stack) answers 500; a nil
// future counts as a nil response (also 500).
func (c *conn) call(req *nethttp.Request) (resp *Response, f *future.Future[*Response]) {
	ctx := c.ctx
	var root *future.Promise[*Response]
	if future.Tracing() {
		ctx, root = c.traceRequest(req)
	}
	if perr := future.Protect(func() { resp, f = serveEither(c.srv.h, req, ctx) }); perr != nil {
		logx.L().Error("http: handler panic", zap.Any("panic", perr.Value), zap.String("path", req.URL.Path),
			zap.ByteString("stack", perr.Stack))
		resp, f = Error(nethttp.StatusInternalServerError, ""), nil
	}
	if root != nil {
		endRequestTrace(root, resp, f)
	}
	return resp, f
}

// traceRequest makes the request a root of its own pipeline, named after
// the request's X-Request-Id when it has one (so a proxy's or client's id
// joins), and returns the context the handler sees: what it starts from
// r.Context() nests below the request.
func (c *conn) traceRequest(req *nethttp.Request) (context.Context, *future.Promise[*Response]) {
	base := c.ctx
	if id := req.Header.Get("X-Request-Id"); id != "" {
		base = future.WithTraceID(base, id)
	}
	root := future.New[*Response]()
	rf := future.Trace(base, root.Future(), "http serve "+req.Method+" "+req.URL.Path)
	rf.OnComplete(func(*Response, error) {}) // a record, not an unhandled rejection
	return future.TraceContext(base, rf), root
}

// endRequestTrace settles a traced request's step with the handler's
// outcome.
func endRequestTrace(root *future.Promise[*Response], resp *Response, f *future.Future[*Response]) {
	if f == nil {
		root.Resolve(resp)
		return
	}
	f.OnComplete(func(r *Response, err error) {
		if err != nil {
			root.Reject(err)
		} else {
			root.Resolve(r)
		}
	})
}

func (ex *exchange) settle(resp *Response, err error) {
	if err != nil {
		resp = errorReply(ex.req, err)
	} else if resp == nil {
		logx.L().Error("http: handler returned a nil response", zap.String("path", ex.req.URL.Path))
		resp = Error(nethttp.StatusInternalServerError, "")
	}
	ex.resp, ex.done = resp, true
}

// errorReply answers a handler that failed with err. A streamed body that
// failed (too large, too slow, malformed) and was passed on gets its
// status; anything else is a 500. (Its own function: the errors.As target
// escapes, and declared in settle it would cost every reply an allocation.)
func errorReply(req *nethttp.Request, err error) *Response {
	var se *statusError
	if errors.As(err, &se) {
		return Error(se.Code, se.Reason)
	}
	logx.L().Error("http: handler failed", zap.String("path", req.URL.Path), zap.Error(err))
	return Error(nethttp.StatusInternalServerError, "")
}

func (ex *exchange) discard() {
	if ex.done && ex.resp.discard != nil {
		ex.resp.discard()
		ex.resp.discard = nil
	}
}

// writeReady writes the replies at the head of the queue that are ready,
// in order, until one is pending or a stream is being written.
func (c *conn) writeReady() {
	for len(c.queue) > 0 && c.active == nil && !c.closed {
		ex := c.queue[0]
		if !ex.done {
			if c.wantContinue && ex.up != nil && ex.up == c.rr.up {
				// The handler of a streamed body waits for it.
				c.wantContinue = false
				c.out = appendContinue(c.out)
			}
			return
		}
		c.queue[0] = nil
		c.queue = c.queue[1:]
		if !c.writeOne(ex) {
			return
		}
	}
	if len(c.queue) == 0 && c.active == nil && !c.closed {
		if c.wantContinue {
			c.wantContinue = false
			c.out = appendContinue(c.out)
		}
		if c.noMore && !c.reading {
			c.closeGraceful()
		}
	}
}

// writeOne writes the reply of ex, which was at the head of the queue, and
// reports whether the next reply may follow (false once a stream started
// or the connection is closing).
func (c *conn) writeOne(ex *exchange) bool {
	keep := ex.keepOpen && !c.srv.close.Load() && !(c.noMore && len(c.queue) == 0 && !c.reading)
	if c.eof && len(c.queue) == 0 {
		keep = false
	}
	if ex.up != nil && c.rr.up == ex.up {
		// Answered before its streamed body ended: the rest of the
		// body is not read, so the connection ends after this reply
		// (lingering, so the client sees it).
		keep = false
		c.failUpload(errReplied)
	}
	resp := ex.resp
	var f responseFrame
	c.out, f = appendResponseHeadAt(c.out, resp, ex.method, ex.minor, keep, c.now)
	if logx.Debug() {
		path := ""
		if ex.req != nil {
			path = ex.req.URL.Path
		}
		logx.L().Debug("http: reply", zap.Uint64("conn", c.sock.ID()), zap.String("remote", c.remote),
			zap.String("method", ex.method), zap.String("path", path), zap.Int("status", resp.Status),
			zap.Bool("stream", resp.stream != nil), zap.Int("body", len(resp.Body)), zap.Bool("keep", f.keepOpen))
	}
	switch {
	case f.mode == bodyLength && len(resp.Body) > 64<<10:
		c.flush()
		ignore(c.sock.Write(resp.Body))
	case f.mode == bodyLength:
		c.out = append(c.out, resp.Body...)
	case resp.stream != nil && f.mode != bodyNone:
		s := newStream(c, f.mode == bodyChunked, ex.req)
		c.active = s
		if !f.keepOpen {
			c.noMore = true
		}
		c.startStream(s, resp)
		return false
	case f.mode == bodyChunked: // a fixed body with trailers
		c.out = appendChunk(c.out, resp.Body)
		c.out = appendLastChunk(c.out, resp.Trailer)
	}
	if f.mode == bodyNone {
		ex.discard()
	}
	if ex.blk != nil && ex.up == nil {
		// WithRequestReuse: the reply is out, the request may serve
		// again (never one answered by a stream: that returned above).
		c.rr.hp.release(ex.blk)
		ex.blk, ex.req = nil, nil
	}
	if !f.keepOpen {
		c.noMore = true
		for _, rest := range c.queue {
			rest.discard()
		}
		c.queue = nil
		c.closeGraceful()
		return false
	}
	return true
}

func (c *conn) startStream(s *Stream, resp *Response) {
	c.flush()
	if perr := future.Protect(func() { resp.stream(s) }); perr != nil {
		logx.L().Error("http: stream function panic", zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
		s.fail(perr)
	}
}

func (c *conn) flush() {
	if len(c.out) == 0 || c.closed {
		c.out = c.out[:0]
		return
	}
	ignore(c.sock.Write(c.out))
	if cap(c.out) > 64<<10 {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
}

// updatePause stops delivery while too many requests wait for replies, a
// stream is being written, or the socket's output is above its high
// watermark (tcp.WithWatermarks), and resumes it when all have cleared.
func (c *conn) updatePause() {
	if c.closed {
		return
	}
	if !c.waitOut {
		if w := c.sock.Writable(); !isSettled(w) {
			c.waitOut = true
			w.OnComplete(func(struct{}, error) {
				c.exec.Execute(func() {
					c.waitOut = false
					c.updatePause()
				})
			})
		}
	}
	busy := len(c.queue) >= c.lim.MaxPipelined || c.active != nil || c.waitOut ||
		(c.rr.up != nil && c.rr.up.isFull())
	switch {
	case busy && !c.paused:
		c.paused = true
		c.sock.Pause()
	case !busy && c.paused:
		c.paused = false
		c.sock.Resume()
		if len(c.in) > 0 {
			c.process(clockOn(c.exec))
		}
	}
}

func isSettled[T any](f *future.Future[T]) bool {
	_, _, ok := f.Result()
	return ok
}

// ------------------------------------------------------------- streams

func (c *conn) streamWrite(s *Stream, b []byte) *future.Future[struct{}] {
	p := future.New[struct{}]()
	c.exec.Execute(func() {
		if c.active != s || c.closed {
			p.Reject(ErrStreamClosed)
			return
		}
		c.sock.Write(b).OnComplete(func(_ struct{}, err error) {
			if err != nil {
				p.Reject(err)
				return
			}
			p.Resolve(struct{}{})
		})
	})
	return p.Future()
}

func (c *conn) streamEnd(s *Stream, framed []byte, closeConn bool) {
	c.exec.Execute(func() {
		if c.active != s || c.closed {
			s.finish(ErrStreamClosed)
			return
		}
		if closeConn {
			if s.Err() != nil {
				c.active = nil
				c.sock.Abort()
			} else {
				c.noMore = true
				c.active = nil
				c.closeGraceful()
			}
			s.finish(nil)
			return
		}
		c.out = append(c.out, framed...)
		c.active = nil
		s.finish(nil)
		now := clockOn(c.exec)
		c.now = now
		c.writeReady()
		c.flush()
		c.updatePause()
		if len(c.in) > 0 && !c.paused {
			c.process(now)
		}
		c.setDeadline(now)
	})
}

// ------------------------------------------------------------- closing

// closeGraceful sends what is queued and closes. After a refused request
// the client may still be sending (a body over the limit, pipelined
// requests); closing then would make the kernel reset the connection and
// the client could lose the error reply, so the connection half-closes and
// lingers, discarding input, until the peer closes or lingerTime passes.
func (c *conn) closeGraceful() {
	if c.closed {
		return
	}
	c.noMore = true
	c.flush()
	if c.eof || !c.linger {
		ignore(c.sock.Close())
		return
	}
	ignore(c.sock.CloseWrite())
	c.dlKind = dlNone
	sock := c.sock
	c.lingerT = afterOn(c.exec, lingerTime, func() { ignore(sock.Close()) })
}

// shutdown runs on the loop when the server closes: an idle connection
// closes now, a busy one after its current replies.
func (c *conn) shutdown() {
	if c.closed {
		return
	}
	c.noMore = true
	if c.active != nil {
		// End a long-lived stream cleanly (the last chunk goes out), so
		// event-stream clients see the end and reconnect elsewhere.
		c.active.Close()
		return
	}
	if len(c.queue) == 0 && !c.reading {
		// Idle: nothing unread to reset the close, so no lingering.
		c.flush()
		ignore(c.sock.Close())
	}
}

// onEOF runs when the peer half-closed. Requests already read are still
// answered (a client may send a request and then shut its write side), but
// a stream is over: its reader has gone.
func (c *conn) onEOF() {
	if c.active != nil {
		c.sock.Abort()
		return
	}
	if c.rr.up != nil {
		c.failUpload(&statusError{Code: nethttp.StatusBadRequest, Reason: "request body cut short", Err: io.ErrUnexpectedEOF})
	}
	c.eof = true
	c.noMore = true
	if c.rr.inBody || len(c.in) > 0 {
		c.in = nil
	}
	c.reading = false
	if len(c.queue) == 0 && c.active == nil {
		c.flush()
		ignore(c.sock.Close())
		return
	}
	c.setDeadline(clockOn(c.exec))
}

func ignoreResult(struct{}, error) {}

// ignore marks a socket future's outcome as seen: a failed write or close
// also closes the connection, which is handled in onClose.
func ignore(f *future.Future[struct{}]) {
	if _, _, ok := f.Result(); !ok {
		f.OnComplete(ignoreResult)
	}
}

func (c *conn) onClose(err error) {
	c.closed = true
	c.cancel(ErrClientGone)
	if up := c.rr.up; up != nil {
		c.rr.up = nil
		up.finish(ErrClientGone)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.lingerT != nil {
		c.lingerT.Stop()
	}
	if c.active != nil {
		if err == nil {
			err = ErrStreamClosed
		}
		c.active.finish(err)
		c.active = nil
	}
	for _, ex := range c.queue {
		ex.discard()
	}
	c.queue = nil
	c.in = nil
	c.srv.mu.Lock()
	delete(c.srv.conns, c)
	c.srv.mu.Unlock()
}

// ------------------------------------------------------------- deadlines

// setDeadline picks the deadline that applies now: the head timeout while
// a request head is arriving, the body timeout while its body is, the idle
// timeout when nothing is in progress, none while replies are pending.
func (c *conn) setDeadline(now int64) {
	if c.eof && !c.closed {
		// Replies owed to a peer that has half-closed: give the
		// handlers IdleTimeout, then give up, so a handler that never
		// answers cannot pin the connection.
		if c.dlKind != dlEOF {
			c.armDeadline(dlEOF, now+int64(c.lim.IdleTimeout))
		}
		return
	}
	if c.closed || (c.noMore && !c.reading) {
		c.dlKind = dlNone
		return
	}
	switch {
	case c.rr.inBody:
		c.dlKind, c.deadline = dlBody, c.reqStart+int64(c.lim.BodyTimeout)
	case c.reading:
		c.dlKind, c.deadline = dlHead, c.reqStart+int64(c.lim.HeaderTimeout)
	case len(c.queue) == 0 && c.active == nil:
		c.dlKind, c.deadline = dlIdle, now+int64(c.lim.IdleTimeout)
	default:
		c.dlKind = dlNone
		return
	}
	c.armDeadline(c.dlKind, c.deadline)
}

// armDeadline sets the deadline and makes sure the timer fires by then. The
// timer is only moved earlier: when it fires before the deadline it re-arms
// itself, so moving a deadline later (every request) costs no timer reset.
func (c *conn) armDeadline(kind deadlineKind, at int64) {
	c.dlKind, c.deadline = kind, at
	if c.timer == nil {
		c.timer = newTimerOn(c.exec, c.onTimer)
	} else if c.timerAt != 0 && c.timerAt <= at {
		return // it fires first, and onTimer sets it again
	}
	c.timerAt = at
	c.timer.ResetAt(at)
}

func (c *conn) onTimer() {
	c.timerAt = 0 // fired: the next armDeadline arms it again
	if c.closed || c.dlKind == dlNone {
		return
	}
	now := loop.Now()
	if now < c.deadline {
		c.timerAt = c.deadline
		c.timer.ResetAt(c.deadline)
		return
	}
	switch c.dlKind {
	case dlEOF:
		c.dlKind = dlNone
		c.sock.Abort()
	case dlIdle:
		c.dlKind = dlNone
		c.closeGraceful()
	case dlBody:
		if up := c.rr.up; up != nil {
			if up.isFull() {
				// Paused for a slow reader, not waiting on the client.
				c.reqStart = now
				c.setDeadline(now)
				return
			}
			c.now = now
			c.dlKind = dlNone
			c.failUpload(errStatus(nethttp.StatusRequestTimeout, "request body not received in time"))
			c.writeReady()
			c.flush()
			return
		}
		fallthrough
	case dlHead:
		c.now = now
		c.dlKind = dlNone
		c.rr.inBody = false
		c.refuse(errStatus(nethttp.StatusRequestTimeout, "request not received in time"))
		c.writeReady()
		c.flush()
	}
}
