package http

import (
	"bytes"
	nethttp "net/http"
	"time"
)

// Limits bound what one client may make the server hold. Zero fields take
// the defaults shown.
type Limits struct {
	// MaxHeaderBytes bounds a request head (request line, fields, final
	// CRLF); more answers 431. Default 64 KiB.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body after de-chunking; more answers
	// 413. Default 8 MiB. StreamBody handlers have a limit of their own.
	MaxBodyBytes int64
	// HeaderTimeout bounds the time from a request's first byte to the end
	// of its head (slowloris); expiry answers 408. Default 10 s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds the time to receive a request body once its head
	// is in; expiry answers 408. Default 60 s. For a StreamBody handler it
	// bounds the wait for each next piece of the body instead.
	BodyTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request in
	// progress. Default 60 s.
	IdleTimeout time.Duration
	// MaxPipelined bounds the requests read ahead of their replies on one
	// connection; past it the server stops reading from that connection
	// until replies go out. Default 64.
	MaxPipelined int
}

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 64 << 10
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 8 << 20
	}
	if l.HeaderTimeout <= 0 {
		l.HeaderTimeout = 10 * time.Second
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = 60 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 60 * time.Second
	}
	if l.MaxPipelined <= 0 {
		l.MaxPipelined = 64
	}
	return l
}

// readEvent is what requestReader.next found.
type readEvent uint8

const (
	evMore     readEvent = iota // need more bytes
	evHead                      // a head is parsed; the body follows (see cur.expect)
	evRequest                   // a complete request is in cur
	evStreamed                  // the streamed body (up) ended; nothing to dispatch
)

// requestReader turns the bytes of one connection into requests: it frames
// each head, parses it, then collects the body by Content-Length or the
// chunked decoder, within the limits.
type requestReader struct {
	lim       *Limits
	scan      headScanner
	hp        headParser
	inBody    bool
	cur       parsedRequest
	body      []byte
	remaining int64
	chunk     chunkedDecoder
	// up, when set, takes the body's bytes as they are read (StreamBody)
	// instead of body; scratch is the chunked decoder's output buffer.
	up      *upload
	scratch []byte
	over    bool // the declared length is over MaxBodyBytes
}

// stream makes the body of the request just framed (after evHead) go to up
// as it arrives, bounded by limit (<= 0: no bound) instead of
// Limits.MaxBodyBytes.
func (r *requestReader) stream(up *upload, limit int64) {
	r.up = up
	if r.cur.mode == bodyChunked {
		r.chunk.Limit = max(limit, 0)
		// The handler may hold a copy of the request (WithContext):
		// trailers are filled into this map, which copies share.
		if r.cur.req.Trailer == nil {
			r.cur.req.Trailer = make(nethttp.Header)
		}
	}
}

// started reports whether part of a request has been received.
func (r *requestReader) started(buffered int) bool { return r.inBody || buffered > 0 }

// next consumes bytes of buf and reports what it found and how many bytes it
// consumed. After evRequest, cur holds the request with its Body set, and the
// reader is ready for the next request. An error is a *statusError; the
// connection must answer it and close.
func (r *requestReader) next(buf []byte) (readEvent, int, error) {
	if !r.inBody {
		start, end, err := r.scan.scan(buf, r.lim.MaxHeaderBytes)
		if err != nil || end == 0 {
			return evMore, 0, err
		}
		p, err := parseRequestHead(&r.hp, buf[start:end], r.scan.ends)
		r.scan.reset()
		if err != nil {
			return evMore, end, err
		}
		r.cur = p
		r.inBody = true
		r.body = nil
		r.over = false
		switch p.mode {
		case bodyLength:
			// Past MaxBodyBytes the body is refused when it starts,
			// unless stream gave it to a StreamBody handler, which has
			// a limit of its own.
			r.remaining = p.length
			r.over = p.length > r.lim.MaxBodyBytes
		case bodyChunked:
			r.chunk = chunkedDecoder{Limit: r.lim.MaxBodyBytes}
		}
		if p.mode != bodyNone {
			return evHead, end, nil
		}
		r.finish()
		return evRequest, end, nil
	}
	if r.over && r.up == nil {
		return evMore, 0, errTooLarge()
	}
	n := 0
	switch r.cur.mode {
	case bodyLength:
		n = int(min(int64(len(buf)), r.remaining))
		if r.up != nil {
			r.up.push(buf[:n])
		} else {
			if r.body == nil {
				r.body = make([]byte, 0, min(r.cur.length, 1<<20))
			}
			r.body = append(r.body, buf[:n]...)
		}
		r.remaining -= int64(n)
		if r.remaining > 0 {
			return evMore, n, nil
		}
	case bodyChunked:
		var err error
		if r.up != nil {
			var out []byte
			out, n, err = r.chunk.Decode(r.scratch[:0], buf)
			r.up.push(out)
			if cap(out) <= 64<<10 {
				r.scratch = out[:0]
			}
		} else {
			r.body, n, err = r.chunk.Decode(r.body, buf)
		}
		if err != nil {
			if err == errBodyTooLarge {
				return evMore, n, errTooLarge()
			}
			return evMore, n, errStatus(nethttp.StatusBadRequest, err.Error())
		}
		if !r.chunk.Done() {
			return evMore, n, nil
		}
		if r.up != nil {
			for k, v := range r.chunk.Trailer {
				r.cur.req.Trailer[k] = v
			}
		} else {
			r.cur.req.Trailer = r.chunk.Trailer
		}
	}
	if r.up != nil {
		up := r.up
		r.up, r.inBody = nil, false
		up.finish(nil)
		return evStreamed, n, nil
	}
	r.finish()
	return evRequest, n, nil
}

func (r *requestReader) finish() {
	req := r.cur.req
	if r.cur.mode == bodyNone {
		req.Body = nethttp.NoBody
	} else {
		req.Body = &bodyReader{data: r.body}
	}
	req.ContentLength = int64(len(r.body))
	r.body = nil
	r.inBody = false
}

// bodyReader is the Body of a request the server has read in full.
type bodyReader struct {
	bytes.Reader
	data []byte
	init bool
}

// Read reads from the in-memory body.
func (b *bodyReader) Read(p []byte) (int, error) {
	if !b.init {
		b.Reader.Reset(b.data)
		b.init = true
	}
	return b.Reader.Read(p)
}

// Close does nothing: the body is in memory.
func (b *bodyReader) Close() error { return nil }

// BodyBytes returns the whole body of a request received by this package's
// server without copying it (nil for other requests, or when the body has
// already been replaced). The slice must not be modified.
func BodyBytes(r *nethttp.Request) []byte {
	if b, ok := r.Body.(*bodyReader); ok {
		return b.data
	}
	return nil
}
