package http

import (
	nethttp "net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/goasync/goasync/internal/loop"
)

// dateValue is the formatted Date header value of one wall-clock second,
// with the stretch of the loop timers' clock (loop.Now) it stands for: the
// server's clock of the current batch picks it without reading the wall
// clock, which is read again only once the second is over.
type dateValue struct {
	until int64 // loop clock at the end of the second
	b     []byte
}

// dateCache is the current dateValue, shared by all loops.
var dateCache atomic.Pointer[dateValue]

// appendDate appends the Date header value for now, a loop clock reading
// (loop.Now or Loop.Clock).
func appendDate(dst []byte, now int64) []byte {
	d := dateCache.Load()
	if d == nil || now >= d.until {
		wall, mono := time.Now(), loop.Now()
		d = &dateValue{until: mono - int64(wall.Nanosecond()) + int64(time.Second), b: wall.UTC().AppendFormat(nil, nethttp.TimeFormat)}
		dateCache.Store(d)
	}
	return append(dst, d.b...)
}

// statusLines holds "HTTP/1.1 NNN Text\r\n" for the common codes.
var statusLines [600][]byte

func init() {
	for code := 100; code < len(statusLines); code++ {
		if t := nethttp.StatusText(code); t != "" {
			statusLines[code] = []byte("HTTP/1.1 " + strconv.Itoa(code) + " " + t + "\r\n")
		}
	}
}

func appendStatusLine(dst []byte, status int) []byte {
	if status < len(statusLines) && statusLines[status] != nil {
		return append(dst, statusLines[status]...)
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, nethttp.StatusText(status)...)
	return append(dst, '\r', '\n')
}

// bodyAllowed reports whether a response with this status to a request with
// this method may carry a body.
func bodyAllowed(method string, status int) bool {
	if method == nethttp.MethodHead || status/100 == 1 {
		return false
	}
	return status != nethttp.StatusNoContent && status != nethttp.StatusNotModified
}

// skipOnWire lists header fields the server writes itself.
func skipOnWire(k string) bool {
	switch k {
	case "Content-Length", "Transfer-Encoding", "Connection", "Date", "Trailer", "Keep-Alive":
		return true
	}
	return false
}

// appendHeader writes the fields of h, skipping invalid names and replacing
// CR, LF and NUL in values with spaces (see appendFieldValue).
func appendHeader(dst []byte, h nethttp.Header, skip func(string) bool) []byte {
	if len(h) == 0 {
		return dst // no map iteration to set up
	}
	for k, vv := range h {
		if skip != nil && skip(k) {
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			dst = append(dst, k...)
			dst = append(dst, ':', ' ')
			dst = appendFieldValue(dst, v)
			dst = append(dst, '\r', '\n')
		}
	}
	return dst
}

// responseFrame is what appendResponseHead decided about a response.
type responseFrame struct {
	mode     bodyMode
	keepOpen bool
}

// appendResponseHead appends the status line and header fields of resp, the
// answer to a request with the given method and minor HTTP/1 version, and
// decides the body framing: a fixed body gets Content-Length; a stream (or
// a body with trailers) is chunked on HTTP/1.1 and delimited by closing the
// connection on HTTP/1.0; HEAD, 1xx, 204 and 304 get no body. keepOpen says
// whether the connection may stay open afterwards; the result may narrow it
// (Connection: close from the handler, an HTTP/1.0 stream).
func appendResponseHead(dst []byte, resp *Response, method string, minor int, keepOpen bool) ([]byte, responseFrame) {
	return appendResponseHeadAt(dst, resp, method, minor, keepOpen, loop.Now())
}

// appendResponseHeadAt is appendResponseHead with the current time given as
// a loop clock reading (the server has it already; reading the clock is not
// free).
func appendResponseHeadAt(dst []byte, resp *Response, method string, minor int, keepOpen bool, now int64) ([]byte, responseFrame) {
	status := resp.Status
	if status == 0 {
		status = nethttp.StatusOK
	}
	if status < 200 || status > 999 {
		status = nethttp.StatusInternalServerError
	}
	if httpguts.HeaderValuesContainsToken(resp.Header["Connection"], "close") {
		keepOpen = false
	}
	f := responseFrame{keepOpen: keepOpen}
	streaming := resp.stream != nil || len(resp.Trailer) > 0
	switch {
	case !bodyAllowed(method, status):
		f.mode = bodyNone
	case streaming && minor >= 1:
		f.mode = bodyChunked
	case streaming:
		f.mode = bodyUntilClose
		f.keepOpen = false
	default:
		f.mode = bodyLength
	}

	dst = appendStatusLine(dst, status)
	dst = append(dst, "Date: "...)
	dst = appendDate(dst, now)
	dst = append(dst, '\r', '\n')
	if _, ok := resp.Header["Content-Type"]; !ok {
		switch {
		case resp.ctype == textPlain || resp.ctype == textHTML:
			dst = append(dst, "Content-Type: "...)
			dst = append(dst, resp.ctype...)
			dst = append(dst, '\r', '\n')
		case resp.ctype != "":
			dst = append(dst, "Content-Type: "...)
			dst = appendFieldValue(dst, resp.ctype)
			dst = append(dst, '\r', '\n')
		case len(resp.Body) > 0 && bodyAllowed("", status):
			dst = append(dst, "Content-Type: "...)
			dst = append(dst, nethttp.DetectContentType(resp.Body)...)
			dst = append(dst, '\r', '\n')
		}
	}
	if len(resp.Header) > 0 {
		dst = appendHeader(dst, resp.Header, skipOnWire)
	}
	switch f.mode {
	case bodyLength:
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(resp.Body)), 10)
		dst = append(dst, '\r', '\n')
	case bodyChunked:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	case bodyNone:
		if method == nethttp.MethodHead && status/100 != 1 &&
			status != nethttp.StatusNoContent && status != nethttp.StatusNotModified {
			// A HEAD reply announces the length a GET would have: the
			// handler's declared Content-Length, else the body's.
			n := int64(len(resp.Body))
			if cl := resp.Header["Content-Length"]; len(cl) == 1 {
				if v, err := strconv.ParseInt(cl[0], 10, 64); err == nil && v >= 0 {
					n = v
				}
			} else if streaming {
				n = -1
			}
			if n >= 0 {
				dst = append(dst, "Content-Length: "...)
				dst = strconv.AppendInt(dst, n, 10)
				dst = append(dst, '\r', '\n')
			}
		}
	}
	switch {
	case !f.keepOpen:
		dst = append(dst, "Connection: close\r\n"...)
	case minor == 0:
		dst = append(dst, "Connection: keep-alive\r\n"...)
	}
	return append(dst, '\r', '\n'), f
}

// appendContinue is the interim response to Expect: 100-continue.
func appendContinue(dst []byte) []byte { return append(dst, "HTTP/1.1 100 Continue\r\n\r\n"...) }

// appendErrorResponse appends a complete short plain-text reply that closes
// the connection; the server uses it for requests it refuses.
func appendErrorResponse(dst []byte, status int, reason string) []byte {
	body := strconv.Itoa(status) + " " + nethttp.StatusText(status)
	if reason != "" {
		body += ": " + reason
	}
	body += "\n"
	r := &Response{Status: status, ctype: "text/plain; charset=utf-8", Body: []byte(body)}
	dst, _ = appendResponseHead(dst, r, "", 1, false)
	return append(dst, body...)
}
