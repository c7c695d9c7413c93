package http

import (
	"bytes"
	"errors"
	"fmt"
	nethttp "net/http"
)

// statusError is a request the server refuses before any handler runs, or
// a streamed body that failed: Code is the status of the error reply, after
// which the connection closes.
type statusError struct {
	Code   int
	Reason string
	Err    error // the cause, if any (Unwrap)
}

// Unwrap returns the cause.
func (e *statusError) Unwrap() error { return e.Err }

// Error reads like "http: 431 Request Header Fields Too Large: header too large".
func (e *statusError) Error() string {
	return fmt.Sprintf("http: %d %s: %s", e.Code, nethttp.StatusText(e.Code), e.Reason)
}

func errStatus(code int, reason string) *statusError { return &statusError{Code: code, Reason: reason} }

// maxLeadingEmptyLines bounds the empty lines skipped before a request line
// (RFC 9112 section 2.2 asks servers to ignore at least one).
const maxLeadingEmptyLines = 4

// maxHeaderLines bounds the number of header fields in one head.
const maxHeaderLines = 256

// headScanner finds the end of a message head incrementally: bytes already
// examined are never examined again when more data arrives. It is strict
// about line endings: every line must end in CRLF, and a CR anywhere else
// (bare CR) or an LF without CR (bare LF) is an error, so no two parsers can
// disagree about where a line ends. It bounds the head's size and its
// number of lines; the fields themselves are checked by the parser
// (headParser).
type headScanner struct {
	start   int // offset of the head's first byte (after skipped empty lines)
	pos     int // offset of the first byte not yet examined (a line start)
	lines   int // lines seen, request/status line included
	skipped int // leading empty lines skipped
	// ends holds, for each line of the head but the empty last one, the
	// offset of its CR from the head's first byte: the parser walks the
	// lines without searching for their ends again.
	ends []int32
}

func (s *headScanner) reset() { *s = headScanner{ends: s.ends[:0]} }

// scan examines buf, which holds the bytes received so far for this message,
// and returns the head as buf[start:end] (ending with the empty line) once it
// is complete, or end == 0 when more bytes are needed. limit bounds the head
// size in bytes; past it scan fails with a 431 error.
func (s *headScanner) scan(buf []byte, limit int) (start, end int, err error) {
	for {
		i := bytes.IndexByte(buf[s.pos:], '\n')
		if i < 0 {
			if len(buf)-s.start > limit {
				return 0, 0, errStatus(nethttp.StatusRequestHeaderFieldsTooLarge, "header too large")
			}
			return 0, 0, nil
		}
		lf := s.pos + i
		if lf == s.pos || buf[lf-1] != '\r' {
			return 0, 0, errStatus(nethttp.StatusBadRequest, "bare LF in header")
		}
		line := buf[s.pos : lf-1]
		if bytes.IndexByte(line, '\r') >= 0 {
			return 0, 0, errStatus(nethttp.StatusBadRequest, "bare CR in header")
		}
		next := lf + 1
		if len(line) == 0 && s.lines == 0 {
			s.skipped++
			if s.skipped > maxLeadingEmptyLines {
				return 0, 0, errStatus(nethttp.StatusBadRequest, "too many empty lines before request")
			}
			s.start, s.pos = next, next
			continue
		}
		if next-s.start > limit {
			return 0, 0, errStatus(nethttp.StatusRequestHeaderFieldsTooLarge, "header too large")
		}
		s.pos = next
		if len(line) == 0 {
			return s.start, next, nil
		}
		s.ends = append(s.ends, int32(lf-1-s.start))
		s.lines++
		if s.lines > maxHeaderLines+1 {
			return 0, 0, errStatus(nethttp.StatusRequestHeaderFieldsTooLarge, "too many header fields")
		}
	}
}

// bodyMode is how a message body is delimited.
type bodyMode uint8

const (
	bodyNone       bodyMode = iota // no body
	bodyLength                     // Content-Length bytes
	bodyChunked                    // chunked transfer coding
	bodyUntilClose                 // until the peer closes (responses only)
)

// parsedRequest is a request head that passed every check.
type parsedRequest struct {
	req      *nethttp.Request
	mode     bodyMode
	length   int64        // for bodyLength
	expect   bool         // Expect: 100-continue
	keepOpen bool         // the connection may serve another request afterwards
	blk      *reusedBlock // set with WithRequestReuse: released after the reply
}

// parseRequestHead parses a framed head (with its line ends from the
// headScanner, or nil) with hp (see parseRequest, which
// applies net/http's server checks) and adds what this server needs on
// top: the body's framing, Expect (only 100-continue, on a request with a
// body, is honoured; the field is removed as net/http's server does) and
// whether the connection may stay open. Every failure is a *statusError.
func parseRequestHead(hp *headParser, head []byte, ends []int32) (parsedRequest, error) {
	var p parsedRequest
	req, facts, err := hp.parseRequest(head, ends)
	if err != nil {
		return p, err
	}
	p.req = req
	p.blk = facts.blk
	switch {
	case facts.chunked:
		p.mode = bodyChunked
		p.length = -1
	case req.ContentLength > 0:
		p.mode = bodyLength
		p.length = req.ContentLength
	}
	if ex, ok := req.Header["Expect"]; ok {
		if len(ex) != 1 || !asciiEqualFoldString(ex[0], "100-continue") {
			return p, errStatus(nethttp.StatusExpectationFailed, "unsupported Expect")
		}
		p.expect = req.ProtoMinor >= 1 && p.mode != bodyNone
		delete(req.Header, "Expect")
	}
	p.keepOpen = !req.Close
	return p, nil
}

// errorStatus returns the status code an error from framing maps to.
func errorStatus(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.Code
	}
	return nethttp.StatusBadRequest
}
