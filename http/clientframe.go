package http

import (
	"errors"
	"fmt"
	nethttp "net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
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

// parseResponseHead hands exactly the framed head bytes to http.ReadResponse
// and decides how the body is delimited: none for HEAD, 1xx, 204 and 304;
// chunked when Transfer-Encoding is chunked (which, as in net/http, wins over
// a Content-Length); Content-Length bytes; otherwise until the server closes.
func parseResponseHead(head []byte, s *headScanner, req *nethttp.Request) (parsedResponse, error) {
	h := getHeadReader(nil)
	p, err := parseResponseHeadWith(h, head, s, req)
	putHeadReader(h)
	return p, err
}

// parseResponseHeadWith is parseResponseHead reading through h, which the
// caller owns (a connection keeps one: no pool round trip per response).
func parseResponseHeadWith(h *headReader, head []byte, s *headScanner, req *nethttp.Request) (parsedResponse, error) {
	var p parsedResponse
	if s.fold {
		return p, fmt.Errorf("%w: obsolete line folding", ErrBadResponse)
	}
	if s.te > 1 || (s.te == 1 && !asciiEqualFold(s.teValue, "chunked")) {
		return p, fmt.Errorf("%w: unsupported transfer encoding", ErrBadResponse)
	}
	h.rd.Reset(head)
	h.br.Reset(&h.rd)
	resp, err := nethttp.ReadResponse(h.br, req)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if resp.ProtoMajor != 1 {
		return p, fmt.Errorf("%w: not HTTP/1.x", ErrBadResponse)
	}
	for k, vv := range resp.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return p, fmt.Errorf("%w: invalid header name %q", ErrBadResponse, k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return p, fmt.Errorf("%w: invalid value of %s", ErrBadResponse, k)
			}
		}
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
