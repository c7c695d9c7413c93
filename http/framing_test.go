package http

import (
	"bufio"
	"bytes"
	"io"
	nethttp "net/http"
	"net/http/httputil"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/loop"
)

// hostileCase is a raw request and what the server must do with it: answer
// Status and close (Status >= 400), or accept it (Status 0).
type hostileCase struct {
	name   string
	raw    string
	status int
}

var testLimits = Limits{MaxHeaderBytes: 4096, MaxBodyBytes: 1 << 16}

// hostileRequests is shared by the framing unit test and the server test
// that sends each over a real connection.
var hostileRequests = []hostileCase{
	{"cl and te (smuggling)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"te and cl (smuggling)", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400},
	{"differing duplicate cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400},
	{"cl list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd", 400},
	{"negative cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
	{"plus-signed cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd", 400},
	{"hex cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x4\r\n\r\nabcd", 400},
	{"cl overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
	{"te gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
	{"te gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
	{"te twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"te with space before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
	{"te on http/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},
	{"bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 400},
	{"empty chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nab\r\n0\r\n\r\n", 400},
	{"chunk size overflow", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nab\r\n0\r\n\r\n", 400},
	{"chunk size 0x prefix", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n", 400},
	{"chunk data too long", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", 400},
	{"chunk bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n", 400},
	{"chunk size then space", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2 \r\nab\r\n0\r\n\r\n", 400},
	{"chunk ext with CTL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\x01\r\nab\r\n0\r\n\r\n", 400},
	{"chunked body over limit", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n20000\r\n", 413},
	{"cl over limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n", 413},
	{"bare CR in header", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400},
	{"bare LF in header", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400},
	{"bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
	{"missing host", "GET / HTTP/1.1\r\n\r\n", 400},
	{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
	{"invalid host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
	{"invalid host chars", "GET / HTTP/1.1\r\nHost: a/b\"\r\n\r\n", 400},
	{"header too large", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", 431},
	{"header line never ends", "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("a", 5000), 431},
	{"too many fields", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("A: b\r\n", 300) + "\r\n", 431},
	{"space in field name", "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400},
	{"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400},
	{"no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400},
	{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"bad version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400},
	{"http/2 version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
	{"control char in uri", "GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"missing uri", "GET HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"unknown expect", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\na", 417},
	{"too many empty lines", "\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	{"ok: plain get", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
	{"ok: http/1.0 without host", "GET / HTTP/1.0\r\n\r\n", 0},
	{"ok: chunked with ext and trailer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=\"v\"\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", 0},
	{"ok: same cl twice", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 0},
	{"ok: leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
}

// readAll feeds raw to a requestReader in pieces of step bytes and returns
// the requests it completed and the first error.
func readAll(raw []byte, lim Limits, step int) ([]*nethttp.Request, error) {
	reqs, _, err := frameAll(raw, lim, step, false)
	return reqs, err
}

// frameAll is readAll that also returns each request's body; with stream,
// every body is streamed (as for a StreamBody handler whose limit is
// MaxBodyBytes) and the body is what its reader received.
func frameAll(raw []byte, lim Limits, step int, stream bool) ([]*nethttp.Request, [][]byte, error) {
	lim = lim.withDefaults()
	r := &requestReader{lim: &lim}
	var reqs []*nethttp.Request
	var bodies [][]byte
	var up *upload
	var buf []byte
	for off := 0; off < len(raw) || len(buf) > 0; {
		if off < len(raw) {
			end := min(off+step, len(raw))
			buf = append(buf, raw[off:end]...)
			off = end
		}
		for {
			ev, n, err := r.next(buf)
			buf = buf[n:]
			if err != nil {
				return reqs, bodies, err
			}
			switch ev {
			case evHead:
				if !stream {
					continue
				}
				if p := r.cur; p.mode == bodyLength && p.length > lim.MaxBodyBytes {
					return reqs, bodies, errStatus(nethttp.StatusRequestEntityTooLarge, "declared length over the limit")
				}
				up = newUpload(nil)
				r.stream(up, lim.MaxBodyBytes)
				continue
			case evStreamed:
				b, err := io.ReadAll(up)
				if err != nil {
					return reqs, bodies, err
				}
				reqs, bodies = append(reqs, r.cur.req), append(bodies, b)
				continue
			case evRequest:
				reqs, bodies = append(reqs, r.cur.req), append(bodies, BodyBytes(r.cur.req))
				continue
			}
			if n == 0 || len(buf) == 0 {
				break
			}
		}
		if off >= len(raw) {
			break
		}
	}
	return reqs, bodies, nil
}

func TestHostileRequestsFraming(t *testing.T) {
	for _, tc := range hostileRequests {
		for _, step := range []int{1, 7, 1 << 20} {
			reqs, err := readAll([]byte(tc.raw), testLimits, step)
			if tc.status == 0 {
				if err != nil || len(reqs) != 1 {
					t.Errorf("%s (step %d): got %d requests, err %v; want 1 request", tc.name, step, len(reqs), err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s (step %d): accepted, want %d", tc.name, step, tc.status)
				continue
			}
			if got := errorStatus(err); got != tc.status {
				t.Errorf("%s (step %d): status %d (%v), want %d", tc.name, step, got, err, tc.status)
			}
		}
	}
}

func TestRequestReaderPipelined(t *testing.T) {
	raw := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-Sum: 11\r\nContent-Length: 9\r\n\r\n" +
		"GET /d?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	for _, step := range []int{1, 3, 64, len(raw)} {
		reqs, err := readAll([]byte(raw), testLimits, step)
		if err != nil || len(reqs) != 4 {
			t.Fatalf("step %d: %d requests, err %v", step, len(reqs), err)
		}
		paths := []string{"/a", "/b", "/c", "/d"}
		bodies := []string{"", "hello", "hello world", ""}
		for i, r := range reqs {
			b, _ := io.ReadAll(r.Body)
			if r.URL.Path != paths[i] || string(b) != bodies[i] || r.Host != "x" {
				t.Errorf("step %d req %d: %s %q host %q", step, i, r.URL.Path, b, r.Host)
			}
		}
		if got := reqs[2].Trailer.Get("X-Sum"); got != "11" {
			t.Errorf("trailer X-Sum = %q", got)
		}
		if _, ok := reqs[2].Trailer["Content-Length"]; ok {
			t.Errorf("framing field accepted as trailer")
		}
		if !reqs[3].Close || reqs[3].URL.Query().Get("q") != "1" {
			t.Errorf("last request: close %v query %q", reqs[3].Close, reqs[3].URL.RawQuery)
		}
	}
}

func TestExpectContinueHead(t *testing.T) {
	lim := testLimits.withDefaults()
	r := &requestReader{lim: &lim}
	raw := []byte("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
	ev, n, err := r.next(raw)
	if err != nil || ev != evHead || n != len(raw) || !r.cur.expect {
		t.Fatalf("ev %v n %d err %v expect %v", ev, n, err, r.cur.expect)
	}
	ev, n, err = r.next([]byte("abc"))
	if err != nil || ev != evRequest || n != 3 {
		t.Fatalf("body: ev %v n %d err %v", ev, n, err)
	}
	if _, ok := r.cur.req.Header["Expect"]; ok {
		t.Errorf("Expect left in header")
	}
}

func TestChunkedDecoderAgainstNetHTTP(t *testing.T) {
	cases := []string{
		"0\r\n\r\n",
		"1\r\na\r\n0\r\n\r\n",
		"A\r\n0123456789\r\n0\r\n\r\n",
		"3;x\r\nabc\r\n0\r\n\r\n",
		"000003\r\nabc\r\n0\r\nA: b\r\nC: d\r\n\r\n",
	}
	for _, c := range cases {
		for step := 1; step <= len(c); step++ {
			var d chunkedDecoder
			var out []byte
			in := []byte(c)
			for len(in) > 0 && !d.Done() {
				n := min(step, len(in))
				var used int
				var err error
				out, used, err = d.Decode(out, in[:n])
				if err != nil {
					t.Fatalf("%q step %d: %v", c, step, err)
				}
				in = in[used:]
			}
			if !d.Done() || len(in) != 0 {
				t.Fatalf("%q: not done or leftover %q", c, in)
			}
			want, err := io.ReadAll(httputil.NewChunkedReader(strings.NewReader(c)))
			if err != nil || !bytes.Equal(out, want) {
				t.Fatalf("%q: ours %q, net/http %q (%v)", c, out, want, err)
			}
		}
	}
}

func TestChunkedEncoderRoundTrip(t *testing.T) {
	var wire []byte
	for _, p := range []string{"hello", "", " ", strings.Repeat("x", 70000)} {
		wire = appendChunk(wire, []byte(p))
	}
	wire = appendLastChunk(wire, nethttp.Header{"X-Check": {"a\r\nInjected: yes"}, "Content-Length": {"3"}})
	got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(wire)))
	if err != nil || string(got) != "hello "+strings.Repeat("x", 70000) {
		t.Fatalf("net/http decoded %d bytes, err %v", len(got), err)
	}
	var d chunkedDecoder
	out, n, err := d.Decode(nil, wire)
	if err != nil || !d.Done() || n != len(wire) || !bytes.Equal(out, got) {
		t.Fatalf("ours: n %d/%d err %v done %v", n, len(wire), err, d.Done())
	}
	if d.Trailer.Get("X-Check") != "a  Injected: yes" || d.Trailer.Get("Injected") != "" || d.Trailer.Get("Content-Length") != "" {
		t.Fatalf("trailer %v", d.Trailer)
	}
}

func TestResponseHeadWire(t *testing.T) {
	type tc struct {
		name     string
		resp     *Response
		method   string
		minor    int
		keep     bool
		wantBody string
		wantLen  int64
		wantTE   bool
		wantKeep bool
	}
	stream := &Response{stream: func(*Stream) {}}
	cases := []tc{
		{"fixed", Text(200, "hi"), "GET", 1, true, "hi", 2, false, true},
		{"head", Text(200, "hello"), "HEAD", 1, true, "", 5, false, true},
		{"204", &Response{Status: 204, Body: []byte("x")}, "GET", 1, true, "", 0, false, true},
		{"304", &Response{Status: 304}, "GET", 1, true, "", 0, false, true},
		{"stream 1.1", stream, "GET", 1, true, "", -1, true, true},
		{"stream 1.0", stream, "GET", 0, true, "", -1, false, false},
		{"handler close", &Response{Header: nethttp.Header{"Connection": {"close"}}, Body: []byte("b")}, "GET", 1, true, "b", 1, false, false},
		{"1.0 keep-alive", Text(200, "k"), "GET", 0, true, "k", 1, false, true},
		{"close requested", Text(404, "nf"), "GET", 1, false, "nf", 2, false, false},
	}
	for _, c := range cases {
		head, f := appendResponseHead(nil, c.resp, c.method, c.minor, c.keep)
		wire := append(head, c.resp.Body...)
		if f.mode != bodyLength {
			wire = head
		}
		if f.mode == bodyChunked {
			wire = appendLastChunk(wire, nil)
		}
		req := &nethttp.Request{Method: c.method, ProtoMajor: 1, ProtoMinor: c.minor}
		resp, err := nethttp.ReadResponse(bufio.NewReader(bytes.NewReader(wire)), req)
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, wire)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != c.wantBody || (c.method == "HEAD" && resp.ContentLength != c.wantLen) ||
			(len(resp.TransferEncoding) > 0) != c.wantTE || resp.Close == c.wantKeep || f.keepOpen != c.wantKeep {
			t.Errorf("%s: body %q len %d te %v close %v keep %v\n%s", c.name, body, resp.ContentLength, resp.TransferEncoding, resp.Close, f.keepOpen, wire)
		}
		if resp.Header.Get("Date") == "" {
			t.Errorf("%s: no Date", c.name)
		}
	}
}

func TestResponseHeaderInjection(t *testing.T) {
	r := Text(200, "x").SetHeader("X-Evil", "a\r\nSet-Cookie: stolen=1\r\n\r\nbody")
	r.Header["Bad\r\nName"] = []string{"v"}
	head, _ := appendResponseHead(nil, r, "GET", 1, true)
	if bytes.Contains(head, []byte("\r\nSet-Cookie")) || bytes.Contains(head, []byte("Bad")) {
		t.Fatalf("injection reached the wire:\n%q", head)
	}
	resp, err := nethttp.ReadResponse(bufio.NewReader(bytes.NewReader(append(head, 'x'))), nil)
	if err != nil || resp.Header.Get("Set-Cookie") != "" || !strings.Contains(resp.Header.Get("X-Evil"), "Set-Cookie") {
		t.Fatalf("parse %v header %v", err, resp.Header)
	}
}

func TestResponseFraming(t *testing.T) {
	type tc struct {
		name   string
		raw    string
		method string
		mode   bodyMode
		length int64
		bad    bool
	}
	cases := []tc{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "GET", bodyLength, 5, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", bodyChunked, -1, false},
		{"until close", "HTTP/1.1 200 OK\r\n\r\n", "GET", bodyUntilClose, -1, false},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", bodyNone, 0, false},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", "GET", bodyNone, 0, false},
		{"304 with length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", bodyNone, 0, false},
		{"zero length", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", bodyNone, 0, false},
		{"te gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "GET", 0, 0, true},
		{"bad cl", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "GET", 0, 0, true},
		{"differing cl", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "GET", 0, 0, true},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", "GET", 0, 0, true},
		{"fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "GET", 0, 0, true},
	}
	for _, c := range cases {
		var s headScanner
		start, end, err := s.scan([]byte(c.raw), 4096)
		if err != nil || end != len(c.raw) {
			t.Fatalf("%s: scan %d %d %v", c.name, start, end, err)
		}
		req, _ := nethttp.NewRequest(c.method, "http://x/", nil)
		p, err := parseResponseHead([]byte(c.raw[start:end]), &s, req)
		if c.bad {
			if err == nil {
				t.Errorf("%s: accepted", c.name)
			}
			continue
		}
		if err != nil || p.mode != c.mode || (c.mode == bodyLength && p.length != c.length) {
			t.Errorf("%s: mode %v length %d err %v", c.name, p.mode, p.length, err)
		}
	}
}

func TestRequestHeadWire(t *testing.T) {
	req, _ := nethttp.NewRequest("POST", "http://example.test:8080/p/a%20b?q=1", nil)
	req.Header.Set("X-A", "1\r\nX-Injected: 2")
	wire := appendRequestHead(nil, req, 3, true)
	wire = append(wire, "abc"...)
	got, err := nethttp.ReadRequest(bufio.NewReader(bytes.NewReader(wire)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	if got.Host != "example.test:8080" || got.URL.RequestURI() != "/p/a%20b?q=1" || string(body) != "abc" ||
		!got.Close || got.Header.Get("X-Injected") != "" {
		t.Fatalf("%+v %q", got, body)
	}
}

func FuzzRequestFraming(f *testing.F) {
	for _, tc := range hostileRequests {
		f.Add([]byte(tc.raw), uint8(5))
	}
	f.Fuzz(func(t *testing.T, raw []byte, step uint8) {
		s := int(step) + 1
		a, errA := readAll(raw, testLimits, s)
		b, errB := readAll(raw, testLimits, len(raw)+1)
		// Splitting the input differently never changes the outcome.
		if (errA == nil) != (errB == nil) || len(a) != len(b) {
			t.Fatalf("step %d: %d reqs %v; whole: %d reqs %v", s, len(a), errA, len(b), errB)
		}
		for i := range a {
			ba, bb := BodyBytes(a[i]), BodyBytes(b[i])
			if a[i].Method != b[i].Method || a[i].RequestURI != b[i].RequestURI || !bytes.Equal(ba, bb) {
				t.Fatalf("request %d differs", i)
			}
			if int64(len(ba)) > testLimits.MaxBodyBytes {
				t.Fatalf("body over limit")
			}
		}
	})
}

func FuzzChunkedDecoder(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("3;a=b\r\nabc\r\n0\r\nT: v\r\n\r\n"))
	f.Add([]byte("ffffffffffffffff\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := chunkedDecoder{Limit: 1 << 20}
		out, n, err := d.Decode(nil, in)
		if n > len(in) {
			t.Fatalf("consumed %d of %d", n, len(in))
		}
		if err != nil || !d.Done() {
			return
		}
		// Whatever we accept, net/http's chunked reader reads the same data.
		want, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in[:n])))
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("ours %q, net/http %q (%v)", out, want, err)
		}
	})
}

func FuzzResponseFraming(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nuntil close"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var s headScanner
		start, end, err := s.scan(raw, 4096)
		if err != nil || end == 0 {
			return
		}
		p, err := parseResponseHead(raw[start:end], &s, nil)
		if err != nil {
			return
		}
		if p.resp == nil || (p.mode == bodyLength && p.length <= 0) {
			t.Fatalf("accepted with mode %v length %d", p.mode, p.length)
		}
	})
}

// TestDateFollowsTheWallClock checks the Date value taken from the loop
// clock: it names the current wall-clock second, a reading from earlier in
// that second keeps it, and once the second is over the next one is named.
func TestDateFollowsTheWallClock(t *testing.T) {
	parse := func(b []byte) time.Time {
		d, err := nethttp.ParseTime(string(b))
		if err != nil {
			t.Fatalf("Date %q: %v", b, err)
		}
		return d
	}
	check := func() time.Time {
		before := time.Now().Truncate(time.Second)
		got := parse(appendDate(nil, loop.Now()))
		if after := time.Now(); got.Before(before) || got.After(after) {
			t.Fatalf("Date %v outside [%v, %v]", got, before, after)
		}
		return got
	}
	first := check()
	if d := dateCache.Load(); !parse(appendDate(nil, d.until-1)).Equal(parse(d.b)) {
		t.Fatal("a reading inside the cached second got another Date")
	}
	time.Sleep(time.Until(first.Add(time.Second)) + 10*time.Millisecond)
	if second := check(); !second.After(first) {
		t.Fatalf("Date after the second %v ended = %v", first, second)
	}
}
