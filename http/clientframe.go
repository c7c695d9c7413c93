package http

import (
	"errors"
	nethttp "net/http"
	"strconv"
	"strings"
)

// ErrBadResponse is returned (wrapped) for a response the client cannot
// frame: malformed head, bad chunking, conflicting lengths.
var ErrBadResponse = errors.New("http: malformed response")

// parsedResponse is a response head that passed the client's checks.
type parsedResponse struct {
	resp   *nethttp.Response
	mode   bodyMode
	length int64
}

// parseResponseHead parses a framed response head to req with a parser of
// its own (see parseResponseHeadWith). The scanner s is the one that
// framed the head; its checks are repeated by the parser.
func parseResponseHead(head []byte, s *headScanner, req *nethttp.Request) (parsedResponse, error) {
	var hp headParser
	return parseResponseHeadWith(&hp, head, s.ends, req)
}

// parseResponseHeadWith parses a framed response head with hp (a
// connection keeps one: its arena and slab serve every response) and
// decides how the body is delimited: none for HEAD, 1xx, 204 and 304;
// chunked when Transfer-Encoding is chunked (which, as in net/http, wins
// over a Content-Length); Content-Length bytes; otherwise until the server
// closes.
func parseResponseHeadWith(hp *headParser, head []byte, ends []int32, req *nethttp.Request) (parsedResponse, error) {
	var p parsedResponse
	resp, err := hp.parseResponse(head, ends, req)
	if err != nil {
		return p, err
	}
	p.resp = resp
	method := nethttp.MethodGet
	if req != nil && req.Method != "" {
		method = req.Method
	}
	switch {
	case !bodyAllowed(method, resp.StatusCode):
		p.mode = bodyNone
	case len(resp.TransferEncoding) > 0:
		p.mode = bodyChunked
		p.length = -1
	case resp.ContentLength > 0:
		p.mode, p.length = bodyLength, resp.ContentLength
	case resp.ContentLength == 0:
		p.mode = bodyNone
	default:
		p.mode, p.length = bodyUntilClose, -1
		resp.Close = true
	}
	return p, nil
}

// appendRequestHead appends the request line and header of req as the
// client sends it: origin-form target, Host first, the caller's fields
// (invalid names dropped, CR/LF in values replaced), then the framing the
// client chose: Content-Length n (n >= 0) or chunked (n < 0). A request with
// no body and a method that does not expect one sends no framing fields.
func appendRequestHead(dst []byte, req *nethttp.Request, n int64, closeConn bool) []byte {
	method := req.Method
	if method == "" {
		method = nethttp.MethodGet
	}
	dst = append(dst, method...)
	dst = append(dst, ' ')
	target := req.URL.RequestURI()
	if req.URL.Opaque == "" && !strings.HasPrefix(target, "/") && target != "*" {
		target = "/" + target
	}
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	dst = appendFieldValue(dst, host)
	dst = append(dst, '\r', '\n')
	dst = appendHeader(dst, req.Header, func(k string) bool {
		return k == "Host" || k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection"
	})
	switch {
	case n > 0 || (n == 0 && methodSendsLength(method)):
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, '\r', '\n')
	case n < 0:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	}
	if closeConn {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return append(dst, '\r', '\n')
}

func methodSendsLength(m string) bool {
	return m == nethttp.MethodPost || m == nethttp.MethodPut || m == nethttp.MethodPatch
}
