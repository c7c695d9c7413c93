package http

import (
	"context"
	nethttp "net/http"

	"github.com/goasync/goasync/future"
)

// Handler answers a request with a future of the response, so the answer
// may wait on timers, sockets or other requests without blocking the event
// loop that read the request. Serve runs on that loop: it must not block.
// The request body has been read in full (see Limits.MaxBodyBytes; a
// StreamBody handler gets it as it arrives instead), and
// r.Context() ends when the connection closes (cause ErrClientGone); for
// handlers made by Func and TypedFunc, which answer before they return,
// the server skips that context and r.Context() is never done.
type Handler interface {
	Serve(r *nethttp.Request) *future.Future[*Response]
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(r *nethttp.Request) *future.Future[*Response]

// Serve calls f(r).
func (f HandlerFunc) Serve(r *nethttp.Request) *future.Future[*Response] { return f(r) }

// Func adapts a function that answers at once (without waiting on anything)
// to Handler.
func Func(fn func(r *nethttp.Request) *Response) Handler { return syncFunc(fn) }

// syncFunc is the Handler made by Func. It also answers through
// serveEither, which lets the server skip the future.
type syncFunc func(r *nethttp.Request) *Response

// Serve calls f and wraps the response in a resolved future.
func (f syncFunc) Serve(r *nethttp.Request) *future.Future[*Response] { return future.Resolved(f(r)) }

func (f syncFunc) serveEither(r *nethttp.Request, _ context.Context) (*Response, *future.Future[*Response]) {
	return f(r), nil
}

// eitherHandler is implemented by handlers that can answer at once without
// making a future: serveEither returns the response, or else a future.
// ctx is the connection's context: a handler that may answer later gets
// the request with it (r.WithContext), one that answers at once does not
// need it, which saves a copy of the request.
type eitherHandler interface {
	serveEither(r *nethttp.Request, ctx context.Context) (*Response, *future.Future[*Response])
}

// serveEither calls h the cheapest way it supports.
func serveEither(h Handler, r *nethttp.Request, ctx context.Context) (*Response, *future.Future[*Response]) {
	if e, ok := h.(eitherHandler); ok {
		return e.serveEither(r, ctx)
	}
	if ctx != nil {
		r = r.WithContext(ctx)
	}
	return nil, h.Serve(r)
}

// Reply returns an already resolved future of resp: the usual last line of
// a handler that needs no waiting.
func Reply(resp *Response) *future.Future[*Response] { return future.Resolved(resp) }

// StripPrefix returns a handler that removes prefix from the request path
// (and RawPath) before calling h, and answers 404 when the path does not
// start with prefix.
func StripPrefix(prefix string, h Handler) Handler {
	strip := nethttp.StripPrefix(prefix, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		c := w.(*capture)
		c.h, c.r = h, r
	}))
	return HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		var c capture
		strip.ServeHTTP(&c, r)
		if c.h != nil {
			return c.h.Serve(c.r)
		}
		return Reply(c.response())
	})
}
