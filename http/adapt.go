package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	nethttp "net/http"

	"github.com/goasync/goasync/future"
)

// adaptBuffer is how much a net/http handler may write before its response
// starts streaming.
const adaptBuffer = 64 << 10

// Adapt runs a plain net/http handler on the blocking-work pool
// (future.Go), so it may block (files, databases, time.Sleep) without
// touching an event loop. Its output is buffered and sent with
// Content-Length when it is small; once it writes more than 64 KiB or calls
// Flush, the response switches to a chunked stream, and each later Write
// waits (on the pool goroutine) until the bytes left user space, so a slow
// client slows the handler instead of filling memory. A panic in the
// handler answers 500 (or aborts the stream). The request context is
// cancelled when the handler returns, its stream ends or the connection
// closes. Hijack is not supported.
func Adapt(h nethttp.Handler) Handler {
	return HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		p := future.New[*Response]()
		ctx, cancel := context.WithCancel(r.Context())
		w := &adaptWriter{p: p, ctx: ctx, header: make(nethttp.Header), ready: make(chan *Stream, 1)}
		r2 := r.WithContext(ctx)
		future.Go(func() (struct{}, error) {
			h.ServeHTTP(w, r2)
			return struct{}{}, nil
		}).OnComplete(func(_ struct{}, err error) {
			w.finish(err)
			cancel()
		})
		return p.Future()
	})
}

type adaptWriter struct {
	p      *future.Promise[*Response]
	ctx    context.Context
	header nethttp.Header
	status int
	buf    bytes.Buffer
	ready  chan *Stream // the stream, once the server has started it
	stream *Stream
	start  bool // the response has been handed to the server as a stream
}

// Header returns the header map to fill before the first write.
func (w *adaptWriter) Header() nethttp.Header { return w.header }

// WriteHeader records the status; interim (1xx) codes are ignored.
func (w *adaptWriter) WriteHeader(code int) {
	if code < 200 || w.status != 0 {
		return // interim responses are not relayed
	}
	w.status = code
}

// Write buffers p, or once streaming, waits until p left user space.
func (w *adaptWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = nethttp.StatusOK
	}
	if !w.start {
		if w.buf.Len()+len(p) <= adaptBuffer {
			return w.buf.Write(p)
		}
		w.sniff(p)
		if err := w.startStream(); err != nil {
			return 0, err
		}
	}
	if _, err := w.stream.Write(p).Await(w.ctx); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush sends what has been written so far and switches to streaming.
func (w *adaptWriter) Flush() {
	if w.status == 0 {
		w.status = nethttp.StatusOK
	}
	if !w.start {
		w.sniff(nil)
		_ = w.startStream()
	}
}

// sniff sets Content-Type, when the handler set none, from the first bytes
// of the body as net/http's server does when the head goes out before the
// body is complete: from what was written so far (then next, the write that
// overflowed the buffer); nothing when nothing was written, or when the
// handler set Content-Encoding or Transfer-Encoding.
func (w *adaptWriter) sniff(next []byte) {
	if _, ok := w.header["Content-Type"]; ok || !bodyAllowed("", w.status) {
		return
	}
	if w.header.Get("Content-Encoding") != "" || w.header.Get("Transfer-Encoding") != "" {
		return
	}
	data := w.buf.Bytes()
	if len(data) < 512 && len(next) > 0 {
		data = append(data[:len(data):len(data)], next[:min(len(next), 512-len(data))]...)
	}
	if len(data) == 0 {
		return
	}
	w.header.Set("Content-Type", nethttp.DetectContentType(data))
}

// startStream hands the response to the server as a stream and waits until
// the server has written its head.
func (w *adaptWriter) startStream() error {
	w.start = true
	resp := NewStream(w.status, w.header.Clone(), func(s *Stream) { w.ready <- s })
	resp.discard = func() { close(w.ready) }
	w.p.Resolve(resp)
	var s *Stream
	ok := false
	select {
	case s, ok = <-w.ready:
	case <-w.ctx.Done(): // the connection is gone
	}
	if !ok {
		return ErrStreamClosed
	}
	w.stream = s
	if w.buf.Len() > 0 {
		b := bytes.Clone(w.buf.Bytes())
		w.buf.Reset()
		if _, err := s.Write(b).Await(w.ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *adaptWriter) finish(err error) {
	if err != nil {
		if w.start {
			if w.stream != nil {
				w.stream.Abort()
			}
			return
		}
		if errors.Is(err, future.ErrPanic) {
			w.p.Resolve(Error(nethttp.StatusInternalServerError, ""))
			return
		}
		w.p.Resolve(Error(nethttp.StatusInternalServerError, fmt.Sprint(err)))
		return
	}
	if w.start {
		if w.stream != nil {
			w.stream.Close()
		}
		return
	}
	st := w.status
	if st == 0 {
		st = nethttp.StatusOK
	}
	body := w.buf.Bytes()
	if len(body) == 0 {
		body = nil
	}
	w.p.Resolve(&Response{Status: st, Header: w.header, Body: body})
}
