package http

import (
	"bufio"
	"bytes"
	"fmt"
	nethttp "net/http"
	"reflect"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// realResponses are heads as real servers send them.
var realResponses = []string{
	// net/http
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Sun, 06 Dec 2026 20:00:00 GMT\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 200 OK\r\nDate: Sun, 06 Dec 2026 20:00:00 GMT\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: Sun, 06 Dec 2026 20:00:00 GMT\r\nContent-Length: 19\r\n\r\n",
	"HTTP/1.1 301 Moved Permanently\r\nLocation: /a/\r\nDate: Sun, 06 Dec 2026 20:00:00 GMT\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nDate: Sun, 06 Dec 2026 20:00:00 GMT\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\nEtag: \"x\"\r\nContent-Length: 12\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	// fasthttp
	"HTTP/1.1 200 OK\r\nServer: fasthttp\r\nDate: Sun, 06 Dec 2026 20:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n",
	// nginx
	"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Sun, 06 Dec 2026 20:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 615\r\n" +
		"Last-Modified: Tue, 11 Apr 2023 01:45:34 GMT\r\nConnection: keep-alive\r\nETag: \"6434bbbe-267\"\r\nAccept-Ranges: bytes\r\n\r\n",
	"HTTP/1.1 502 Bad Gateway\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 157\r\nConnection: close\r\n\r\n",
	// ours, HTTP/1.0 and until-close
	"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum, X-Other\r\n\r\n",
	"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nset-cookie: c=3\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n",
	"HTTP/1.1  200  OK \r\nPragma: no-cache\r\nContent-Length: 1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
}

// hostileResponses are heads a client must refuse or read carefully.
var hostileResponses = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
	"HTTP/1.1 +20 OK\r\n\r\n",
	"HTTP/1.1 020 OK\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"HTTP/1.2 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTrailer: Content-Length\r\nTransfer-Encoding: chunked\r\n\r\n",
	"ICY 200 OK\r\n\r\n",
	"HTTP/1.1\r\n\r\n",
}

// netHTTPClientParse reads head with http.ReadResponse and applies the
// client's checks: HTTP/1.x, valid field names and values, one chunked
// Transfer-Encoding at most (net/http refuses the rest itself).
func netHTTPClientParse(head []byte, req *nethttp.Request) (*nethttp.Response, error) {
	resp, err := nethttp.ReadResponse(bufio.NewReader(bytes.NewReader(head)), req)
	if err != nil {
		return nil, err
	}
	if resp.ProtoMajor != 1 {
		return nil, fmt.Errorf("not HTTP/1.x")
	}
	for k, vv := range resp.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, fmt.Errorf("invalid header name")
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, fmt.Errorf("invalid header value")
			}
		}
	}
	return resp, nil
}

func sameResponse(ours, want *nethttp.Response) string {
	switch {
	case ours.Status != want.Status || ours.StatusCode != want.StatusCode:
		return fmt.Sprintf("Status %q %d vs %q %d", ours.Status, ours.StatusCode, want.Status, want.StatusCode)
	case ours.Proto != want.Proto || ours.ProtoMajor != want.ProtoMajor || ours.ProtoMinor != want.ProtoMinor:
		return "Proto"
	case !reflect.DeepEqual(ours.Header, want.Header):
		return fmt.Sprintf("Header %q vs %q", ours.Header, want.Header)
	case ours.ContentLength != want.ContentLength:
		return fmt.Sprintf("ContentLength %d vs %d", ours.ContentLength, want.ContentLength)
	case !reflect.DeepEqual(ours.TransferEncoding, want.TransferEncoding):
		return "TransferEncoding"
	case ours.Close != want.Close:
		return fmt.Sprintf("Close %v vs %v", ours.Close, want.Close)
	case !reflect.DeepEqual(ours.Trailer, want.Trailer):
		return fmt.Sprintf("Trailer %q vs %q", ours.Trailer, want.Trailer)
	case ours.Request != want.Request || ours.Uncompressed != want.Uncompressed || ours.TLS != want.TLS:
		return "Request, Uncompressed or TLS"
	}
	return ""
}

var diffMethods = []string{"", "GET", "HEAD", "POST"}

// diffParseResponse is the differential check of one input: if our
// framing and parser accept it as the answer to a request of the method
// chosen by sel ("" meaning no request), http.ReadResponse plus the
// client's checks accept it and every field is equal, and stays equal
// after the input is scribbled over and more heads are parsed.
func diffParseResponse(t *testing.T, hp *headParser, raw []byte, sel uint8) {
	var req *nethttp.Request
	if m := diffMethods[int(sel)%len(diffMethods)]; m != "" {
		req = &nethttp.Request{Method: m}
	}
	var s headScanner
	start, end, err := s.scan(raw, 64<<10)
	if err != nil || end == 0 || s.skipped > 0 {
		return // net/http's client does not skip empty lines before a response
	}
	head := raw[start:end]
	p, err := parseResponseHeadWith(hp, head, s.ends, req)
	if err != nil {
		return
	}
	want, werr := netHTTPClientParse(head, req)
	if werr != nil {
		t.Fatalf("ours accepts, net/http refuses (%v): %q", werr, head)
	}
	if p.mode == bodyUntilClose {
		want.Close = true // the client marks it too (parseResponseHeadWith)
	}
	if d := sameResponse(p.resp, want); d != "" {
		t.Fatalf("%s differs for %q", d, head)
	}
	snap := fmt.Sprintf("%q %q %v %v", p.resp.Status, p.resp.Header, p.resp.ContentLength, p.resp.Trailer)
	keep := bytes.Clone(head)
	for i := range head {
		head[i] = 'Z'
	}
	for range 3 {
		if _, err := parseResponseHeadWith(hp, keep, nil, req); err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
	}
	copy(head, keep)
	if got := fmt.Sprintf("%q %q %v %v", p.resp.Status, p.resp.Header, p.resp.ContentLength, p.resp.Trailer); got != snap {
		t.Fatalf("response changed after its input was reused:\n%s\n%s", snap, got)
	}
}

func FuzzResponseHeadDifferential(f *testing.F) {
	for _, r := range realResponses {
		for sel := range diffMethods {
			f.Add([]byte(r), uint8(sel))
		}
	}
	for _, r := range hostileResponses {
		f.Add([]byte(r), uint8(1))
	}
	hp := new(headParser)
	f.Fuzz(func(t *testing.T, raw []byte, sel uint8) {
		diffParseResponse(t, hp, raw, sel)
	})
}

// TestResponseHeadDifferential runs the differential check over every
// seed, asserts that real servers' responses are accepted, and that the
// hostile ones are refused or read as net/http reads them.
func TestResponseHeadDifferential(t *testing.T) {
	hp := new(headParser)
	for _, r := range append(append([]string{}, realResponses...), hostileResponses...) {
		for sel := range diffMethods {
			diffParseResponse(t, hp, []byte(r), uint8(sel))
		}
	}
	for _, r := range realResponses {
		if _, err := parseResponseHeadWith(hp, []byte(r), nil, nil); err != nil {
			t.Errorf("real response refused (%v): %q", err, r)
		}
	}
	// Stricter than net/http on purpose (docs/http.md).
	for _, r := range []string{
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
		"HTTP/1.1 +20 OK\r\n\r\n",
		"HTTP/1.1 020 OK\r\n\r\n",
		"HTTP/1.2 200 OK\r\n\r\n",
	} {
		if _, err := netHTTPClientParse([]byte(r), nil); err != nil {
			t.Errorf("net/http refuses %q too (%v): not a stricter case", r, err)
		}
		if _, err := parseResponseHeadWith(hp, []byte(r), nil, nil); err == nil {
			t.Errorf("accepted %q", r)
		}
	}
}
