package http

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
)

const benchRequest = "GET /api/items/42?full=1 HTTP/1.1\r\nHost: example.test\r\nUser-Agent: bench/1.0\r\n" +
	"Accept: application/json\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n"

func BenchmarkParseRequest(b *testing.B) {
	lim := Limits{}.withDefaults()
	r := &requestReader{lim: &lim}
	raw := []byte(benchRequest)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		ev, _, err := r.next(raw)
		if err != nil || ev != evRequest {
			b.Fatal(ev, err)
		}
	}
}

// BenchmarkParseRequestNetHTTP is the same head parsed by net/http alone
// from a bufio.Reader, for comparison.
func BenchmarkParseRequestNetHTTP(b *testing.B) {
	raw := benchRequest
	sr := strings.NewReader(raw)
	br := bufio.NewReader(sr)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		sr.Reset(raw)
		br.Reset(sr)
		if _, err := nethttp.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

// benchResponse is the head the benchmarks' gnet responder sends.
const benchResponse = "HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 03:05:52 GMT\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n"

// BenchmarkParseResponse is the client's parse of a response head into
// an *http.Response (the parser's allocations: the Response block comes
// from a slab, the header map is the caller's).
func BenchmarkParseResponse(b *testing.B) {
	var hp headParser
	raw := []byte(benchResponse)
	head := raw[:len(raw)-2] // the scanner hands the head without the last CRLF
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := parseResponseHeadWith(&hp, head, nil, nil)
		if err != nil || p.length != 5 {
			b.Fatal(p.length, err)
		}
	}
}

func BenchmarkChunkedDecode(b *testing.B) {
	var wire []byte
	chunk := []byte(strings.Repeat("x", 4096))
	for range 16 {
		wire = appendChunk(wire, chunk)
	}
	wire = appendLastChunk(wire, nil)
	out := make([]byte, 0, 70000)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		var d chunkedDecoder
		o, _, err := d.Decode(out[:0], wire)
		if err != nil || !d.Done() || len(o) != 16*4096 {
			b.Fatal(err)
		}
	}
}

func BenchmarkResponseHead(b *testing.B) {
	resp := Text(200, "hello")
	var buf []byte
	now := loop.Now() // the server passes the loop clock of the event
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendResponseHeadAt(buf[:0], resp, "GET", 1, true, now)
	}
}

func BenchmarkEventEncode(b *testing.B) {
	ev := Event{ID: "42", Event: "chat", Data: "{\"name\":\"ann\",\"message\":\"hello there\"}"}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = ev.AppendTo(buf[:0])
	}
}

// roundTrips sends b.N keep-alive requests, one at a time, over one
// connection to addr, and checks each reply.
func roundTrips(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	b.Run("ours", func(b *testing.B) {
		s := startServer(b, Func(func(r *nethttp.Request) *Response { return Text(200, "hello") }))
		roundTrips(b, s.Addr().String())
	})
	b.Run("nethttp", func(b *testing.B) {
		srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "hello")
		}))
		defer srv.Close()
		roundTrips(b, srv.Listener.Addr().String())
	})
}

// BenchmarkClient64 keeps 64 requests in flight with keep-alive against
// one server, with our client and with net/http's; the server is net/http's
// or ours (the same for both clients in each pair).
func BenchmarkClient64(b *testing.B) {
	nsrv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		io.WriteString(w, "hello")
	}))
	defer nsrv.Close()
	osrv := startServer(b, Func(func(r *nethttp.Request) *Response { return Text(200, "hello") }))
	for _, srv := range []struct{ name, url string }{
		{"server=nethttp", nsrv.URL + "/hello"},
		{"server=goasync", baseURL(osrv) + "/hello"},
	} {
		b.Run(srv.name+"/client=ours", func(b *testing.B) { withCPU(b, func() { clientOurs(b, srv.url) }) })
		b.Run(srv.name+"/client=nethttp", func(b *testing.B) { withCPU(b, func() { clientNetHTTP(b, srv.url) }) })
	}
}

// processCPU returns the CPU time (user and system) the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// withCPU runs fn and reports, beside ns/op, cpu-ns/op: the process's CPU
// time per operation (client and server together, as both run in this
// process). Wall time grows when other programs hold the CPUs;
// cpu-ns/op much less, so it is the steadier figure on a shared machine.
func withCPU(b *testing.B, fn func()) {
	c0 := processCPU(b)
	fn()
	b.ReportMetric(float64(processCPU(b)-c0)/float64(b.N), "cpu-ns/op")
}

func clientOurs(b *testing.B, url string) {
	c := &Client{MaxIdlePerHost: 64}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var failed sync.Once
	b.ReportAllocs()
	for b.Loop() {
		sem <- struct{}{}
		wg.Add(1)
		f := future.Compose(c.Get(ctx, url), ReadAll)
		f.OnComplete(func(body []byte, err error) {
			if err != nil || string(body) != "hello" {
				failed.Do(func() { b.Error(err) })
			}
			<-sem
			wg.Done()
		})
	}
	wg.Wait()
}

func clientNetHTTP(b *testing.B, url string) {
	tr := &nethttp.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &nethttp.Client{Transport: tr}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var failed sync.Once
	b.ReportAllocs()
	for b.Loop() {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := c.Get(url)
			if err != nil {
				failed.Do(func() { b.Error(err) })
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "hello" {
				failed.Do(func() { b.Error("bad body") })
			}
		}()
	}
	wg.Wait()
}

// BenchmarkPipelined16 sends 16 pipelined requests at a time over one
// connection and reads the 16 replies; ns/op is per request.
func BenchmarkPipelined16(b *testing.B) {
	s := startServer(b, Func(func(r *nethttp.Request) *Response { return Text(200, "hello") }))
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	batch := []byte(strings.Repeat("GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n", 16))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%16 == 0 {
			if _, err := c.Write(batch); err != nil {
				b.Fatal(err)
			}
		}
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		n++
	}
	for ; n%16 != 0; n++ {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

// BenchmarkRouter is one request routed by a Router to a Func handler with
// a path variable (no server: the routing and handler cost alone).
func BenchmarkRouter(b *testing.B) {
	rt := NewRouter()
	rt.Handle("GET /hello/{name}", Func(func(r *nethttp.Request) *Response { return Text(200, "hi "+r.PathValue("name")) }))
	req := httptest.NewRequest("GET", "/hello/bob", nil)
	b.ReportAllocs()
	for b.Loop() {
		r := *req
		resp, f := serveEither(rt, &r, nil)
		if f != nil || resp.Status != 200 {
			b.Fatal("not routed")
		}
	}
}

// helloRouter is the "hello" application of the benchmarks: one route
// through the Router to a Func handler answering Text(200, "hello").
func helloRouter() *Router {
	rt := NewRouter()
	rt.Handle("GET /hello", Func(func(r *nethttp.Request) *Response { return Text(200, "hello") }))
	return rt
}

// rawPipeline writes batch (n pipelined requests) to c and reads exactly
// n replies of size each into buf, without allocating: what it measures
// is the server's.
func rawPipeline(t testing.TB, c net.Conn, batch, buf []byte, size, n int) {
	if _, err := c.Write(batch); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf[:size*n]); err != nil {
		t.Fatal(err)
	}
}

// TestAllocationBudgetsServer pins the server's allocations per request
// for the "hello" handler through the Router, 16 requests pipelined: at
// most 3 (today: the request's header map, the handler's Response, and a
// share of the request slab and string arena). The client side is a raw
// connection reading fixed-size replies into a fixed buffer, so every
// allocation counted is the server's. scripts/test.sh runs it without the
// race detector, which adds allocations.
func TestAllocationBudgetsServer(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes allocation counts")
	}
	s := startServer(t, helloRouter())
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	one := []byte("GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n")
	// One request first, read with net/http, to learn the reply's size
	// (fixed: the Date field has a fixed width).
	if _, err := c.Write(one); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := nethttp.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "hello" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || br.Buffered() != 0 {
		t.Fatalf("reply %q %v, %d bytes left", body, resp.Header, br.Buffered())
	}
	size := len(appendTestReply(nil))
	const n = 16
	batch := bytes.Repeat(one, n)
	buf := make([]byte, size*n)
	round := func() { rawPipeline(t, c, batch, buf, size, n) }
	round() // warm up buffers and timers
	if !bytes.HasSuffix(buf[:size], []byte("\r\n\r\nhello")) || !bytes.HasSuffix(buf, []byte("\r\n\r\nhello")) {
		t.Fatalf("replies out of step: %q", buf[:size])
	}
	per := testing.AllocsPerRun(300, round) / n
	t.Logf("%.2f allocations per pipelined request on the server", per)
	if per > 3 {
		t.Fatalf("%.2f allocations per pipelined request, budget 3", per)
	}
}

// appendTestReply is the reply of the "hello" handler, as the server
// writes it (the Date field's value has a fixed width).
func appendTestReply(dst []byte) []byte {
	dst, _ = appendResponseHead(dst, Text(200, "hello"), "GET", 1, true)
	return append(dst, "hello"...)
}

// TestAllocationBudgetsClient pins the allocations of one keep-alive GET by
// this package's client against this package's server, awaited from a
// plain goroutine (client, server and the request's NewRequest together),
// so the client's hot path cannot grow unnoticed. Run without -race by
// scripts/test.sh.
func TestAllocationBudgetsClient(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes allocation counts")
	}
	s := startServer(t, Func(func(r *nethttp.Request) *Response { return Text(200, "hello") }))
	c := &Client{}
	defer c.CloseIdleConnections()
	url := baseURL(s) + "/hello"
	ctx := context.Background()
	get := func() {
		resp, err := c.Get(ctx, url).Await(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := ReadAll(resp).Await(ctx); err != nil || string(b) != "hello" {
			t.Fatalf("%q %v", b, err)
		}
	}
	get() // the connection is pooled from here on
	per := testing.AllocsPerRun(500, get)
	t.Logf("%.0f allocations per request (client and server)", per)
	const budget = 13
	if per > budget {
		t.Fatalf("%.0f allocations per request, budget %d", per, budget)
	}
}
