package http

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	nethttp "net/http"
	"net/textproto"
	"reflect"
	"strconv"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// realRequests are heads as real clients send them.
var realRequests = []string{
	// curl 8
	"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n",
	"PUT /up HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
	// wrk
	"GET / HTTP/1.1\r\nHost: 127.0.0.1:18601\r\n\r\n",
	// Chromium
	"GET /chat?room=general&x=%20y HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\nsec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n" +
		"sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Linux\"\r\nUpgrade-Insecure-Requests: 1\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
		"Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\nCookie: a=b; session=xyz\r\n\r\n",
	"GET /events HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nPragma: no-cache\r\nLast-Event-ID: 42\r\n\r\n",
	// Go's client
	"GET /a/b%2Fc?q=1 HTTP/1.1\r\nHost: example.test\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
	"POST /form HTTP/1.1\r\nHost: example.test\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 3\r\nContent-Type: text/plain\r\nAccept-Encoding: gzip\r\n\r\n",
	"POST /chunk HTTP/1.1\r\nHost: example.test\r\nUser-Agent: Go-http-client/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum, X-Other\r\nAccept-Encoding: gzip\r\n\r\n",
	// other targets and versions
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n",
	"GET http://example.test:8080/p/a%20b?q=1 HTTP/1.1\r\nHost: other\r\n\r\n",
	"GET /x? HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET //double//slash HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /caf\xc3\xa9?q=\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a(b)!*' HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nx-custom-header: v\r\nX-CUSTOM-HEADER: w\r\nx: \t spaced \t \r\nempty:\r\n\r\n",
	"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0004\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTrailer: X\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n",
}

// smugglingRequests are heads that differ between lax and strict parsers.
var smugglingRequests = []string{
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 04\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4 \r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\x00\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1_0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nhost: a\r\nHOST: b\r\n\r\n",
	"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n\x00X: y\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX\x7f: y\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n: y\r\n\r\n",
	"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
	"GET / http/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
	"GET / HTTP/0.9\r\nHost: a\r\n\r\n",
	"G\xc3\xa9T / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n",
}

// netHTTPServerParse reads head as net/http's server does: http.ReadRequest,
// then the checks of its conn.readRequest and serve (HTTP version, Host
// rules, httpguts on every field, Expect), and the removal of Host from the
// header map.
func netHTTPServerParse(head []byte) (*nethttp.Request, error) {
	req, err := nethttp.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
	if err != nil {
		return nil, err
	}
	h2 := req.Method == "PRI" && len(req.Header) == 0 && req.URL.Path == "*" && req.Proto == "HTTP/2.0"
	if req.ProtoMajor != 1 && !(req.ProtoMajor == 2 && req.ProtoMinor == 0 && req.Method == "PRI" && req.RequestURI == "*") {
		return nil, fmt.Errorf("unsupported protocol version")
	}
	// http.ReadRequest removes Host from the map (the server's internal
	// readRequest does not): read the fields again with net/textproto.
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(head)))
	if _, err := tp.ReadLine(); err != nil {
		return nil, err
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	hosts, haveHost := mh["Host"]
	if req.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && !h2 && req.Method != "CONNECT" {
		return nil, fmt.Errorf("missing required Host header")
	}
	if len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return nil, fmt.Errorf("malformed Host header")
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, fmt.Errorf("invalid header name")
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, fmt.Errorf("invalid header value")
			}
		}
	}
	delete(req.Header, "Host")
	if ex := req.Header.Get("Expect"); ex != "" && !httpguts.HeaderValuesContainsToken(req.Header["Expect"], "100-continue") {
		return nil, fmt.Errorf("expectation failed")
	}
	return req, nil
}

// sameRequest reports the first field in which ours differs from want.
// Documented differences: ours removes Expect when it honours it (as
// net/http's server does before calling the handler), and the server sets
// Body and RemoteAddr itself.
func sameRequest(ours, want *nethttp.Request) string {
	want.Header.Del("Expect")
	switch {
	case ours.Method != want.Method:
		return "Method"
	case !reflect.DeepEqual(ours.URL, want.URL):
		return fmt.Sprintf("URL %#v vs %#v", ours.URL, want.URL)
	case ours.Proto != want.Proto || ours.ProtoMajor != want.ProtoMajor || ours.ProtoMinor != want.ProtoMinor:
		return "Proto"
	case !reflect.DeepEqual(ours.Header, want.Header):
		return fmt.Sprintf("Header %q vs %q", ours.Header, want.Header)
	case ours.Host != want.Host:
		return "Host"
	case ours.ContentLength != want.ContentLength:
		return fmt.Sprintf("ContentLength %d vs %d", ours.ContentLength, want.ContentLength)
	case !reflect.DeepEqual(ours.TransferEncoding, want.TransferEncoding):
		return "TransferEncoding"
	case ours.Close != want.Close:
		return "Close"
	case ours.RequestURI != want.RequestURI:
		return "RequestURI"
	case !reflect.DeepEqual(ours.Trailer, want.Trailer):
		return fmt.Sprintf("Trailer %q vs %q", ours.Trailer, want.Trailer)
	case (ours.Body == nethttp.NoBody) != (want.Body == nethttp.NoBody):
		return "Body"
	}
	return ""
}

// snapshot is a deep copy of the fields compared, to check later that
// nothing wrote into a request's strings.
func snapshot(r *nethttp.Request) string {
	return fmt.Sprintf("%q %#v %q %q %q %d %v %q %q %v", r.Method, *r.URL, r.Proto, r.Header, r.Host,
		r.ContentLength, r.TransferEncoding, r.RequestURI, r.Trailer, r.Close)
}

// diffParse is the differential check of one input: if our framing and
// parser accept it, net/http's server accepts it too and every field is
// equal; and the request stays equal after the input buffer is scribbled
// over and more heads are parsed into the same arena.
func diffParse(t *testing.T, hp *headParser, raw []byte) {
	var s headScanner
	start, end, err := s.scan(raw, 64<<10)
	if err != nil || end == 0 {
		return
	}
	head := raw[start:end]
	if got := lineEnds(head, nil); !reflect.DeepEqual(got, s.ends) {
		t.Fatalf("line ends: scanner %v, lineEnds %v", s.ends, got)
	}
	p, err := parseRequestHead(hp, head, s.ends)
	if err != nil {
		return
	}
	want, werr := netHTTPServerParse(head)
	if werr != nil {
		t.Fatalf("ours accepts, net/http refuses (%v): %q", werr, head)
	}
	if d := sameRequest(p.req, want); d != "" {
		t.Fatalf("%s differs for %q", d, head)
	}
	snap := snapshot(p.req)
	keep := bytes.Clone(head)
	for i := range head {
		head[i] = 'Z'
	}
	for range 3 {
		if _, err := parseRequestHead(hp, keep, nil); err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
	}
	copy(head, keep)
	if got := snapshot(p.req); got != snap {
		t.Fatalf("request changed after its input was reused:\n%s\n%s", snap, got)
	}
}

func FuzzRequestHeadDifferential(f *testing.F) {
	for _, tc := range hostileRequests {
		f.Add([]byte(tc.raw))
	}
	for _, r := range realRequests {
		f.Add([]byte(r))
	}
	for _, r := range smugglingRequests {
		f.Add([]byte(r))
	}
	hp := new(headParser)
	f.Fuzz(func(t *testing.T, raw []byte) {
		diffParse(t, hp, raw)
	})
}

// TestRequestHeadDifferential runs the differential check over every seed
// and asserts that each real client's request is accepted.
func TestRequestHeadDifferential(t *testing.T) {
	hp := new(headParser)
	var all []string
	for _, tc := range hostileRequests {
		all = append(all, tc.raw)
	}
	all = append(all, realRequests...)
	all = append(all, smugglingRequests...)
	for _, r := range all {
		diffParse(t, hp, []byte(r))
	}
	for _, r := range realRequests[:9] {
		if _, err := parseRequestHead(hp, []byte(r), nil); err != nil {
			t.Errorf("real request refused (%v): %q", err, r)
		}
	}
}

// TestRequestHeadStricter lists inputs net/http's server accepts and ours
// refuses on purpose (docs/http.md, "Stricter than net/http"): each must
// stay refused, and net/http must still accept it (or the case is moot).
func TestRequestHeadStricter(t *testing.T) {
	cases := map[string]string{
		"obs-fold":                 "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
		"HTTP/1.2":                 "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
		"PRI upgrade":              "PRI * HTTP/2.0\r\n\r\n",
		"CONNECT without Host":     "CONNECT a:443 HTTP/1.1\r\n\r\n",
		"CL and TE":                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		"TE on HTTP/1.0":           "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
		"CL of 20 digits":          "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 00000000000000000003\r\n\r\n",
		"Expect with other tokens": "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: 100-continue, x\r\n\r\n",
	}
	hp := new(headParser)
	for name, raw := range cases {
		if _, err := netHTTPServerParse([]byte(raw)); err != nil {
			t.Errorf("%s: net/http refuses it too (%v): drop the case", name, err)
		}
		var s headScanner
		start, end, err := s.scan([]byte(raw), 4096)
		if err != nil {
			continue
		}
		if _, err := parseRequestHead(hp, []byte(raw)[start:end], nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestInternedNamesAreCanonical checks every name of internHeader's table
// (read from its source) against net/textproto: scanFields keeps a name
// that matches the table as it arrived, so an entry that is not in
// canonical form would reach the header map uncanonicalized.
func TestInternedNamesAreCanonical(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "fields.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if fd, ok := n.(*ast.FuncDecl); ok && fd.Name.Name != "internHeader" {
			return false
		}
		if cc, ok := n.(*ast.CaseClause); ok {
			for _, e := range cc.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					name, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					names = append(names, name)
				}
			}
		}
		return true
	})
	if len(names) < 40 {
		t.Fatalf("found %d names in internHeader, expected its whole table", len(names))
	}
	for _, name := range names {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("internHeader has %q, canonical form %q", name, c)
		}
		if got, ok := internHeader([]byte(name)); !ok || got != name {
			t.Errorf("internHeader(%q) = %q, %v", name, got, ok)
		}
	}
}
