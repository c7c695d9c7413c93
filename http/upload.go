package http

import (
	"context"
	"errors"
	nethttp "net/http"

	"github.com/goasync/goasync/future"
)

// ErrBodyTooLarge is matched (errors.Is) by the error a streamed request
// body fails with when it grows past StreamBody's limit; a handler that
// fails with it is answered 413.
var ErrBodyTooLarge = errors.New("http: request body larger than the limit")

// errTooLarge is the refusal of a body over its limit: 413, matching
// ErrBodyTooLarge.
func errTooLarge() *statusError {
	return &statusError{Code: nethttp.StatusRequestEntityTooLarge, Reason: "body larger than the limit", Err: ErrBodyTooLarge}
}

// errReplied fails a streamed body whose reply went out before the body
// was read to its end: the rest of it is not read.
var errReplied = errors.New("http: the reply was sent before the request body ended; the rest is not read")

// StreamBody returns a handler that receives request bodies as they arrive
// instead of after they were read in full: the server calls h as soon as a
// request's head is in, with r.Body reading the body as the client sends
// it (r.ContentLength is -1 for a chunked body, whose trailers are in
// r.Trailer once Read has returned io.EOF). Reading blocks, so read from a
// goroutine that is not an event loop: the blocking-work pool (future.Go),
// or a net/http handler run by Adapt, the usual pairing:
// StreamBody(Adapt(h), limit). On a loop, Read fails with
// future.ErrAwaitOnLoop.
//
// limit bounds the body in place of Limits.MaxBodyBytes (0 or less: no
// bound): a declared Content-Length over it is answered 413 before h runs;
// a chunked body that grows past it fails the reader with an error
// matching ErrBodyTooLarge, and h failing with that error is answered 413.
// While more than 1 MiB of the body waits for the reader, the server stops
// reading the connection, so TCP flow control holds the client back.
// Expect: 100-continue is answered once h has been called and has not
// answered yet.
//
// The reader fails when the client goes away (ErrClientGone), when no body
// bytes arrive for Limits.BodyTimeout (a 408 status error), or on a
// malformed chunked body (400); an h that fails with such an error is
// answered with that status. A reply sent before the body ended closes
// the connection after it, and the rest of the body is not read.
//
// Give StreamBody to Listen, or register it on a Router, which tells the
// server which routes stream. Wrapped in another handler it is not seen,
// and the body is read in full first, as for every other handler.
func StreamBody(h Handler, limit int64) Handler {
	if h == nil {
		panic("http: StreamBody of a nil handler")
	}
	return &streamHandler{h: h, limit: limit}
}

type streamHandler struct {
	h     Handler
	limit int64
}

// Serve calls the wrapped handler.
func (s *streamHandler) Serve(r *nethttp.Request) *future.Future[*Response] { return s.h.Serve(r) }

func (s *streamHandler) serveEither(r *nethttp.Request, ctx context.Context) (*Response, *future.Future[*Response]) {
	return serveEither(s.h, r, ctx)
}

func (s *streamHandler) streamBody(*nethttp.Request) (int64, bool) { return s.limit, true }

// bodyStreamer is implemented by handlers that take some request bodies as
// they arrive: streamBody reports whether r's body streams, and its limit.
type bodyStreamer interface {
	streamBody(r *nethttp.Request) (limit int64, ok bool)
}

// streamLimit asks h whether r's body streams.
func streamLimit(h Handler, r *nethttp.Request) (int64, bool) {
	if s, ok := h.(bodyStreamer); ok {
		return s.streamBody(r)
	}
	return 0, false
}

// The server stops reading a connection while more than uploadHigh bytes
// of a streamed body wait for their reader, and reads again below
// uploadLow.
const (
	uploadHigh = 1 << 20
	uploadLow  = 256 << 10
)

// upload is the Body of a streamed request: the connection's loop pushes
// the body's bytes, the handler's goroutine reads them.
type upload struct {
	c *conn
	bodyBuf
}

func newUpload(c *conn) *upload { return &upload{c: c} }

// push runs on the loop with bytes it may not keep (they are copied).
func (u *upload) push(p []byte) {
	if len(p) == 0 {
		return
	}
	u.mu.Lock()
	if u.closed || u.done {
		u.mu.Unlock()
		return
	}
	u.bufs = append(u.bufs, append([]byte(nil), p...))
	u.size += len(p)
	if u.size > uploadHigh {
		u.paused = true // the loop sees it in isFull and pauses
	}
	ch := u.notify
	u.mu.Unlock()
	signal(ch)
}

// finish runs on the loop: the body ended (err nil) or failed.
func (u *upload) finish(err error) {
	u.mu.Lock()
	if u.done {
		u.mu.Unlock()
		return
	}
	u.done, u.err = true, err
	ch := u.notify
	u.mu.Unlock()
	signal(ch)
}

// isFull reports whether the connection must stay paused for the reader.
func (u *upload) isFull() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.paused
}

// drained runs when the reader took the buffer below uploadLow.
func (u *upload) drained() {
	c := u.c
	c.exec.Execute(c.updatePause)
}

// Read reads the body as it arrives. It blocks, so it must not be called on
// an event loop (it then fails with future.ErrAwaitOnLoop).
func (u *upload) Read(p []byte) (int, error) {
	n, resume, err := u.read(p, uploadLow)
	if resume {
		u.drained()
	}
	return n, err
}

// Close drops the rest of the body: later bytes are discarded (the
// connection closes after the reply if the body had not ended).
func (u *upload) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	u.bufs, u.size = nil, 0
	resume := u.paused
	u.paused = false
	ch := u.notify
	u.mu.Unlock()
	signal(ch)
	if resume {
		u.drained()
	}
	return nil
}
