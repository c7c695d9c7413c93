package http

import (
	"errors"
	nethttp "net/http"
	"sync"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"go.uber.org/zap"
)

// Errors of streams.
var (
	// ErrStreamClosed is returned by writes to a stream that has ended.
	ErrStreamClosed = errors.New("http: stream closed")
	// ErrSlowConsumer ends a stream whose peer does not read fast enough:
	// more than the stream's buffer bound was waiting to be sent.
	ErrSlowConsumer = errors.New("http: stream consumer too slow")
)

// DefaultStreamBuffer is the default bound on the bytes a Stream may have
// queued and not yet handed to the kernel (see Stream.SetMaxBuffered).
const DefaultStreamBuffer = 256 << 10

// streamSink is the connection side of a Stream; the server implements it.
// Both methods are safe from any goroutine and never block.
type streamSink interface {
	// streamWrite queues framed bytes of s; the future resolves when they
	// left user space.
	streamWrite(s *Stream, framed []byte) *future.Future[struct{}]
	// streamEnd ends s: with the framed end of the body (last chunk), or
	// with abort set by closing the connection.
	streamEnd(s *Stream, framed []byte, abort bool)
}

// Stream is the body of a response that stays open: the handler's stream
// function receives it once the response head is on its way, and may write
// to it from any goroutine, for as long as it likes, until Close. On HTTP/1.1
// the body is chunked; on HTTP/1.0 it ends when the connection closes.
//
// Writes never block: each returns a future that resolves when the bytes
// have left user space. A stream whose queued bytes exceed its bound (see
// SetMaxBuffered) fails with ErrSlowConsumer and its connection is closed, so
// one slow reader cannot make the server hold unbounded memory.
type Stream struct {
	sink    streamSink
	chunked bool
	req     *nethttp.Request

	mu      sync.Mutex
	pending int
	max     int
	ended   bool
	err     error
	done    chan struct{}
	hooks   []func(error)
	trailer nethttp.Header
}

func newStream(sink streamSink, chunked bool, req *nethttp.Request) *Stream {
	return &Stream{sink: sink, chunked: chunked, req: req, max: DefaultStreamBuffer, done: make(chan struct{})}
}

// Request returns the request this stream answers.
func (s *Stream) Request() *nethttp.Request { return s.req }

// SetMaxBuffered sets the bound on queued, unsent bytes (default
// DefaultStreamBuffer). A single write larger than the bound is accepted
// when nothing else is queued.
func (s *Stream) SetMaxBuffered(n int) {
	s.mu.Lock()
	s.max = n
	s.mu.Unlock()
}

// Buffered returns the bytes queued and not yet handed to the kernel.
func (s *Stream) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Write queues p (copied) as the next part of the body.
func (s *Stream) Write(p []byte) *future.Future[struct{}] {
	if len(p) == 0 {
		return future.Resolved(struct{}{})
	}
	var b []byte
	if s.chunked {
		b = appendChunk(make([]byte, 0, len(p)+12), p)
	} else {
		b = append([]byte(nil), p...)
	}
	return s.writeFramed(b)
}

// WriteString queues s as the next part of the body.
func (s *Stream) WriteString(str string) *future.Future[struct{}] { return s.Write([]byte(str)) }

// Send queues one server-sent event.
func (s *Stream) Send(ev Event) *future.Future[struct{}] { return s.Write(ev.AppendTo(nil)) }

func (s *Stream) writeFramed(b []byte) *future.Future[struct{}] {
	s.mu.Lock()
	if s.ended {
		err := s.err
		s.mu.Unlock()
		if err == nil {
			err = ErrStreamClosed
		}
		return future.Rejected[struct{}](err)
	}
	if s.pending > 0 && s.pending+len(b) > s.max {
		s.mu.Unlock()
		s.fail(ErrSlowConsumer)
		return future.Rejected[struct{}](ErrSlowConsumer)
	}
	n := len(b)
	s.pending += n
	s.mu.Unlock()
	f := s.sink.streamWrite(s, b)
	f.OnComplete(func(struct{}, error) {
		s.mu.Lock()
		s.pending -= n
		s.mu.Unlock()
	})
	return f
}

// SetTrailer sets trailer fields to send when the stream is closed
// (chunked streams only).
func (s *Stream) SetTrailer(h nethttp.Header) {
	s.mu.Lock()
	s.trailer = h
	s.mu.Unlock()
}

// Close ends the body; the connection goes on with the next request. It is
// safe to call more than once.
func (s *Stream) Close() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	tr := s.trailer
	s.mu.Unlock()
	if s.chunked {
		s.sink.streamEnd(s, appendLastChunk(nil, tr), false)
	} else {
		s.sink.streamEnd(s, nil, true)
	}
}

// Abort ends the stream by closing its connection.
func (s *Stream) Abort() { s.fail(ErrStreamClosed) }

func (s *Stream) fail(err error) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.err = err
	s.mu.Unlock()
	s.sink.streamEnd(s, nil, true)
}

// Done is closed when the stream has ended: closed by the handler, failed,
// or its connection gone.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Err returns why the stream ended: nil while open or after Close, else the
// error (ErrSlowConsumer, a connection error, ...).
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// OnClose registers fn to run once when the stream ends, with Err(). If the
// stream has already ended, fn runs at once.
func (s *Stream) OnClose(fn func(err error)) {
	s.mu.Lock()
	select {
	case <-s.done:
		err := s.err
		s.mu.Unlock()
		runHook(fn, err)
		return
	default:
	}
	s.hooks = append(s.hooks, fn)
	s.mu.Unlock()
}

// finish is called by the server once the stream is over on the wire.
func (s *Stream) finish(err error) {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return
	default:
	}
	s.ended = true
	if s.err == nil {
		s.err = err
	}
	err = s.err
	hooks := s.hooks
	s.hooks = nil
	close(s.done)
	s.mu.Unlock()
	for _, fn := range hooks {
		runHook(fn, err)
	}
}

func runHook(fn func(error), err error) {
	if perr := future.Protect(func() { fn(err) }); perr != nil {
		logx.L().Error("http: panic in stream close hook", zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
	}
}

// NewStream returns a streaming response: once its head is written, fn
// receives the Stream (on the connection's event loop; fn must not block).
func NewStream(status int, header nethttp.Header, fn func(s *Stream)) *Response {
	if header == nil {
		header = make(nethttp.Header)
	}
	return &Response{Status: status, Header: header, stream: fn}
}

// SSE returns a text/event-stream response (server-sent events): once the
// head is written, fn receives the Stream, typically to Subscribe it to a
// Hub channel or to Send events itself.
func SSE(fn func(s *Stream)) *Response {
	return NewStream(nethttp.StatusOK, nethttp.Header{
		"Content-Type":      {"text/event-stream"},
		"Cache-Control":     {"no-cache"},
		"X-Accel-Buffering": {"no"},
	}, fn)
}
