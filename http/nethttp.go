package http

import (
	"sync"

	nethttp "net/http"

	"github.com/goasync/goasync/future"
)

// NetHTTP returns a net/http.Handler view of h: the goasync handler serves
// requests that net/http's server (or httptest) reads, so it can be tested
// with httptest.NewRecorder or mounted inside an existing net/http server
// beside other handlers. It is the reverse of Adapt.
//
// Each request runs h.Serve on net/http's goroutine and waits for its
// future, which ends with the request's context (the future is cancelled
// when the client goes away). The Response is written as the goasync
// server writes it: status, header, the constructor's Content-Type (else
// sniffed), the body; a streaming Response (NewStream, SSE) gets a Stream
// whose writes are flushed as they come, until it is closed or the client
// goes away. A handler that fails answers with the status the goasync server
// would give (500, or the status of a failed request body); a panic in h
// is recovered as a 500.
func NetHTTP(h Handler) nethttp.Handler { return netHTTP{h} }

type netHTTP struct{ h Handler }

func (n netHTTP) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	var f *future.Future[*Response]
	if perr := future.Protect(func() { f = n.h.Serve(r) }); perr != nil {
		f = future.Rejected[*Response](perr)
	}
	resp, err := f.Await(r.Context())
	if err != nil {
		if r.Context().Err() != nil {
			f.Cancel(r.Context().Err())
			return // the client has gone
		}
		resp = errorReply(r, err)
	} else if resp == nil {
		resp = Error(nethttp.StatusInternalServerError, "")
	}
	hdr := w.Header()
	for k, v := range resp.Header {
		hdr[k] = v
	}
	if ct := resp.ContentType(); ct != "" {
		hdr.Set("Content-Type", ct)
	}
	for k := range resp.Trailer {
		hdr.Add("Trailer", k)
	}
	status := resp.Status
	if status == 0 {
		status = nethttp.StatusOK
	}
	if resp.stream == nil {
		w.WriteHeader(status)
		w.Write(resp.Body)
		for k, v := range resp.Trailer {
			hdr[k] = v
		}
		return
	}
	w.WriteHeader(status)
	if fl, ok := w.(nethttp.Flusher); ok {
		fl.Flush()
	}
	sink := &writerSink{w: w, done: make(chan struct{})}
	s := newStream(sink, false, r)
	if perr := future.Protect(func() { resp.stream(s) }); perr != nil {
		s.Abort()
	}
	select {
	case <-sink.done:
	case <-r.Context().Done():
		s.Abort()
	}
}

// writerSink is a Stream's sink over a net/http ResponseWriter: net/http
// frames the body (chunked on HTTP/1.1), so the Stream hands it raw bytes.
type writerSink struct {
	w    nethttp.ResponseWriter
	mu   sync.Mutex
	end  bool
	done chan struct{}
}

func (k *writerSink) streamWrite(_ *Stream, p []byte) *future.Future[struct{}] {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.end {
		return future.Rejected[struct{}](ErrStreamClosed)
	}
	if _, err := k.w.Write(p); err != nil {
		return future.Rejected[struct{}](err)
	}
	if fl, ok := k.w.(nethttp.Flusher); ok {
		fl.Flush()
	}
	return future.Resolved(struct{}{})
}

// streamEnd ends the body: net/http writes the last chunk when ServeHTTP
// returns. The Stream is unframed here, so Close and Abort both arrive with
// abort set; Err tells them apart.
func (k *writerSink) streamEnd(s *Stream, _ []byte, _ bool) {
	k.mu.Lock()
	if k.end {
		k.mu.Unlock()
		return
	}
	k.end = true
	k.mu.Unlock()
	s.finish(s.Err())
	close(k.done)
}
