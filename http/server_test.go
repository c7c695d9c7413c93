package http

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// startServer runs h on a loopback port for the test's duration.
func startServer(t testing.TB, h Handler, opts ...ServerOption) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

func baseURL(s *Server) string { return "http://" + s.Addr().String() }

// goClient is net/http's client, closed when the test ends.
func goClient(t testing.TB) *nethttp.Client {
	tr := &nethttp.Transport{MaxIdleConnsPerHost: 64, ExpectContinueTimeout: 5 * time.Second, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &nethttp.Client{Transport: tr, Timeout: 30 * time.Second}
}

// testRouter is the application most server tests use.
func testRouter() *Router {
	rt := NewRouter()
	rt.Handle("GET /hello", Func(func(r *nethttp.Request) *Response { return Text(200, "hello") }))
	rt.Handle("POST /echo", Func(func(r *nethttp.Request) *Response {
		resp := Bytes(200, "application/octet-stream", BodyBytes(r))
		resp.SetHeader("X-Trailer", r.Trailer.Get("X-Sum"))
		return resp
	}))
	rt.Handle("POST /sha", Func(func(r *nethttp.Request) *Response {
		sum := sha256.Sum256(BodyBytes(r))
		return Text(200, fmt.Sprintf("%x", sum))
	}))
	rt.Handle("GET /delay/{ms}", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		var ms int
		fmt.Sscan(r.PathValue("ms"), &ms)
		p := future.New[*Response]()
		time.AfterFunc(time.Duration(ms)*time.Millisecond, func() { p.Resolve(Text(200, "slept "+r.PathValue("ms"))) })
		return p.Future()
	}))
	rt.Handle("GET /big/{n}", Func(func(r *nethttp.Request) *Response {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		return Bytes(200, "application/octet-stream", bytes.Repeat([]byte("0123456789abcdef"), n/16))
	}))
	rt.Handle("GET /stream", Func(func(r *nethttp.Request) *Response {
		return NewStream(200, nethttp.Header{"Content-Type": {"text/plain"}}, func(s *Stream) {
			for i := range 5 {
				s.WriteString(fmt.Sprintf("part %d\n", i))
			}
			s.SetTrailer(nethttp.Header{"X-Parts": {"5"}})
			s.Close()
		})
	}))
	rt.Handle("GET /panic", Func(func(r *nethttp.Request) *Response { panic("boom") }))
	rt.Handle("GET /reject", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		return future.Rejected[*Response](fmt.Errorf("backend down"))
	}))
	return rt
}

func TestGoClientKeepAliveReuse(t *testing.T) {
	s := startServer(t, testRouter())
	c := goClient(t)
	var reused atomic.Int32
	for i := range 20 {
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused.Add(1)
			}
		}}
		req, _ := nethttp.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", baseURL(s)+"/hello", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
	}
	if reused.Load() != 19 {
		t.Fatalf("reused %d of 19 connections", reused.Load())
	}
}

func TestGoClientStatusesAndErrors(t *testing.T) {
	s := startServer(t, testRouter())
	c := goClient(t)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/nope", 404, "404 page not found\n"},
		{"DELETE", "/hello", 405, "Method Not Allowed\n"},
		{"GET", "/panic", 500, "Internal Server Error\n"},
		{"GET", "/reject", 500, "Internal Server Error\n"},
		{"HEAD", "/hello", 200, ""},
		{"GET", "/delay/20", 200, "slept 20"},
	} {
		req, _ := nethttp.NewRequest(tc.method, baseURL(s)+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, resp.StatusCode, b)
		}
		if tc.method == "HEAD" && resp.ContentLength != 5 {
			t.Errorf("HEAD content length %d", resp.ContentLength)
		}
	}
}

func TestGoClientChunkedBothWays(t *testing.T) {
	s := startServer(t, testRouter())
	c := goClient(t)
	// Request: a body of unknown length goes chunked, with a trailer.
	pr, pw := io.Pipe()
	go func() {
		for i := range 50 {
			fmt.Fprintf(pw, "line %d\n", i)
		}
		pw.Close()
	}()
	req, _ := nethttp.NewRequest("POST", baseURL(s)+"/echo", pr)
	req.Trailer = nethttp.Header{"X-Sum": nil}
	req.Trailer.Set("X-Sum", "50 lines") // set before the body ends
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "line 0\n") || strings.Count(string(b), "\n") != 50 || resp.Header.Get("X-Trailer") != "50 lines" {
		t.Fatalf("echo: %d bytes, trailer %q", len(b), resp.Header.Get("X-Trailer"))
	}
	// Response: a stream is chunked, with trailers.
	resp, err = c.Get(baseURL(s) + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(resp.TransferEncoding) != 1 || string(b) != "part 0\npart 1\npart 2\npart 3\npart 4\n" || resp.Trailer.Get("X-Parts") != "5" {
		t.Fatalf("stream: te %v body %q trailer %v", resp.TransferEncoding, b, resp.Trailer)
	}
}

func TestGoClientLargeBodiesHashChecked(t *testing.T) {
	s := startServer(t, testRouter(), WithLimits(Limits{MaxBodyBytes: 64 << 20}))
	c := goClient(t)
	data := make([]byte, 32<<20)
	rand.Read(data)
	want := fmt.Sprintf("%x", sha256.Sum256(data))
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(data)
		if chunked {
			body = io.MultiReader(bytes.NewReader(data)) // length unknown: chunked
		}
		req, _ := nethttp.NewRequest("POST", baseURL(s)+"/sha", body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Fatalf("chunked=%v: hash %q want %q", chunked, b, want)
		}
	}
	// 32 MiB down.
	resp, err := c.Get(baseURL(s) + fmt.Sprintf("/big/%d", 32<<20))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, _ := io.Copy(h, resp.Body)
	resp.Body.Close()
	wantDown := sha256.Sum256(bytes.Repeat([]byte("0123456789abcdef"), (32<<20)/16))
	if n != 32<<20 || !bytes.Equal(h.Sum(nil), wantDown[:]) {
		t.Fatalf("download %d bytes, hash mismatch", n)
	}
}

func TestGoClientExpectContinue(t *testing.T) {
	s := startServer(t, testRouter(), WithLimits(Limits{MaxBodyBytes: 1 << 20}))
	c := goClient(t)
	var got100 atomic.Bool
	trace := &httptrace.ClientTrace{Got100Continue: func() { got100.Store(true) }}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	req, _ := nethttp.NewRequestWithContext(ctx, "POST", baseURL(s)+"/echo", strings.NewReader("payload after continue"))
	req.Header.Set("Expect", "100-continue")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !got100.Load() || string(b) != "payload after continue" {
		t.Fatalf("100 continue %v, body %q", got100.Load(), b)
	}
	// Too large: 413 at once, and the body is never sent.
	var wrote atomic.Bool
	body := &watchReader{r: bytes.NewReader(make([]byte, 2<<20)), read: &wrote}
	req, _ = nethttp.NewRequest("POST", baseURL(s)+"/echo", body)
	req.ContentLength = 2 << 20
	req.Header.Set("Expect", "100-continue")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || wrote.Load() {
		t.Fatalf("oversized expect: %d, body sent %v", resp.StatusCode, wrote.Load())
	}
}

type watchReader struct {
	r    io.Reader
	read *atomic.Bool
}

func (w *watchReader) Read(p []byte) (int, error) {
	w.read.Store(true)
	return w.r.Read(p)
}

// rawExchange writes raw on a fresh connection and returns everything the
// server sends until it closes (or the deadline).
func rawExchange(t testing.TB, addr, raw string, wait time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestHostileRequestsOverTheWire(t *testing.T) {
	s := startServer(t, testRouter(), WithLimits(testLimits))
	for _, tc := range hostileRequests {
		if tc.status == 0 {
			continue
		}
		out := rawExchange(t, s.Addr().String(), tc.raw, 10*time.Second)
		want := fmt.Sprintf("HTTP/1.1 %d ", tc.status)
		if !strings.HasPrefix(out, want) || !strings.Contains(out, "Connection: close\r\n") {
			t.Errorf("%s: got %q, want %q and close", tc.name, firstLine(out), want)
		}
		if strings.Count(out, "HTTP/1.1 ") != 1 {
			t.Errorf("%s: more than one reply (smuggled request answered?): %q", tc.name, out)
		}
	}
	// Still serving.
	out := rawExchange(t, s.Addr().String(), "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10*time.Second)
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(out, "hello") {
		t.Fatalf("after hostile requests: %q", out)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

func TestSmugglingDoesNotLeakASecondRequest(t *testing.T) {
	s := startServer(t, testRouter())
	// A CL.TE attack: a front end using Content-Length would forward the
	// "GET /panic" as part of the body; we refuse the whole message.
	raw := "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /panic HTTP/1.1\r\nHost: x\r\n\r\n"
	out := rawExchange(t, s.Addr().String(), raw, 10*time.Second)
	if !strings.HasPrefix(out, "HTTP/1.1 400 ") || strings.Contains(out, "500") {
		t.Fatalf("%q", out)
	}
}

func TestPipelinedRepliesInOrder(t *testing.T) {
	s := startServer(t, testRouter())
	var raw strings.Builder
	delays := []int{80, 10, 50, 0, 30, 5, 60, 1, 20, 40, 0, 70, 15, 25, 35, 45}
	for _, d := range delays {
		fmt.Fprintf(&raw, "GET /delay/%d HTTP/1.1\r\nHost: x\r\n\r\n", d)
	}
	raw.WriteString("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	out := rawExchange(t, s.Addr().String(), raw.String(), 20*time.Second)
	br := bufio.NewReader(strings.NewReader(out))
	for i, d := range delays {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != fmt.Sprintf("slept %d", d) {
			t.Fatalf("reply %d: %q", i, b)
		}
	}
	resp, err := nethttp.ReadResponse(br, nil)
	if err != nil || !resp.Close {
		t.Fatalf("last reply: %v", err)
	}
}

func TestSlowlorisGets408(t *testing.T) {
	s := startServer(t, testRouter(), WithLimits(Limits{HeaderTimeout: 300 * time.Millisecond, BodyTimeout: 300 * time.Millisecond}))
	for _, raw := range []string{
		"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ",                            // head never ends
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly5", // body never ends
	} {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		// Trickle a byte at a time, faster than any idle timeout would need.
		go func() {
			for i := 0; i < len(raw); i++ {
				if _, err := c.Write([]byte{raw[i]}); err != nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			for {
				time.Sleep(50 * time.Millisecond)
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
		b, _ := io.ReadAll(c)
		c.Close()
		if !strings.HasPrefix(string(b), "HTTP/1.1 408 ") || time.Since(start) > 8*time.Second {
			t.Fatalf("slowloris %q: got %q after %v", raw, b, time.Since(start))
		}
	}
	out := rawExchange(t, s.Addr().String(), "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10*time.Second)
	if !strings.HasSuffix(out, "hello") {
		t.Fatalf("after slowloris: %q", out)
	}
}

func TestIdleKeepAliveClosed(t *testing.T) {
	s := startServer(t, testRouter(), WithLimits(Limits{IdleTimeout: 200 * time.Millisecond}))
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	b, _ := io.ReadAll(c) // ends when the idle timeout closes the connection
	if !strings.HasSuffix(string(b), "hello") {
		t.Fatalf("%q", b)
	}
}

func TestHTTP10AndHalfClose(t *testing.T) {
	s := startServer(t, testRouter())
	out := rawExchange(t, s.Addr().String(), "GET /hello HTTP/1.0\r\n\r\n", 10*time.Second)
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.Contains(out, "Connection: close") || !strings.HasSuffix(out, "hello") {
		t.Fatalf("1.0: %q", out)
	}
	out = rawExchange(t, s.Addr().String(), "GET /stream HTTP/1.0\r\n\r\n", 10*time.Second)
	if !strings.HasSuffix(out, "\r\n\r\npart 0\npart 1\npart 2\npart 3\npart 4\n") || strings.Contains(out, "chunked") {
		t.Fatalf("1.0 stream: %q", out)
	}
	// A client that half-closes after its request still gets the reply.
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /delay/50 HTTP/1.1\r\nHost: x\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	if !strings.HasSuffix(string(b), "slept 50") {
		t.Fatalf("half-close: %q", b)
	}
}

func TestAdaptNetHTTPHandler(t *testing.T) {
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/plain", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		time.Sleep(10 * time.Millisecond) // blocking is fine on the pool
		w.Header().Set("X-Std", "yes")
		w.WriteHeader(201)
		fmt.Fprintf(w, "std %s", r.URL.Query().Get("q"))
	})
	mux.HandleFunc("/flush", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "tick %d\n", i)
			w.(nethttp.Flusher).Flush()
		}
	})
	mux.HandleFunc("/large", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Write(bytes.Repeat([]byte("z"), 1<<20))
	})
	s := startServer(t, Adapt(mux))
	c := goClient(t)
	resp, err := c.Get(baseURL(s) + "/plain?q=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(b) != "std 1" || resp.Header.Get("X-Std") != "yes" || resp.ContentLength != 5 {
		t.Fatalf("plain: %d %q %v", resp.StatusCode, b, resp.Header)
	}
	resp, err = c.Get(baseURL(s) + "/flush")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "tick 0\ntick 1\ntick 2\n" || len(resp.TransferEncoding) == 0 {
		t.Fatalf("flush: %q %v", b, resp.TransferEncoding)
	}
	resp, err = c.Get(baseURL(s) + "/large")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 1<<20 {
		t.Fatalf("large: %d", len(b))
	}
}

func TestGracefulClose(t *testing.T) {
	rt := testRouter()
	started := make(chan struct{})
	rt.Handle("GET /inflight", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		close(started)
		p := future.New[*Response]()
		time.AfterFunc(300*time.Millisecond, func() { p.Resolve(Text(200, "slept 300")) })
		return p.Future()
	}))
	s, err := Listen("127.0.0.1:0", rt)
	if err != nil {
		t.Fatal(err)
	}
	// One idle keep-alive connection and one request in flight.
	idle, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(idle)
	if resp, err := nethttp.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	} else {
		io.ReadAll(resp.Body)
	}
	busy, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busy.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(busy, "GET /inflight HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started // the request is in flight
	var wg sync.WaitGroup
	wg.Add(1)
	var closeErr error
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		closeErr = s.Close(ctx)
	}()
	b, _ := io.ReadAll(busy)
	if !strings.Contains(string(b), "Connection: close") || !strings.HasSuffix(string(b), "slept 300") {
		t.Fatalf("in-flight request: %q", b)
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Fatalf("idle connection got %q", rest)
	}
	wg.Wait()
	if closeErr != nil {
		t.Fatalf("close: %v", closeErr)
	}
}

func TestCloseEndsStreamsCleanly(t *testing.T) {
	hub := NewHub()
	s, err := Listen("127.0.0.1:0", sseRouter(hub, 0))
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, s.Addr().String(), "bye")
	defer sub.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Close(ctx) }()
	// The event stream ends with the last chunk, not a reset.
	if _, err := sub.er.Next(); err != io.EOF {
		t.Fatalf("stream end: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("close: %v", err)
	}
	if hub.Count("bye") != 0 {
		t.Fatal("subscriber left behind")
	}
}

func TestHalfClosedPeerWithStuckHandler(t *testing.T) {
	rt := NewRouter()
	never := future.New[*Response]()
	rt.Handle("GET /never", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] { return never.Future() }))
	s := startServer(t, rt, WithLimits(Limits{IdleTimeout: 200 * time.Millisecond}))
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /never HTTP/1.1\r\nHost: x\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	if _, err := io.ReadAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read: %v", err)
	}
	waitFor(t, "connection dropped", func() bool { return s.Count() == 0 })
	never.Resolve(Text(200, "late")) // settles into a closed connection: no effect
}

func TestExpectContinueWithBodyAlreadySent(t *testing.T) {
	s := startServer(t, testRouter())
	raw := "GET /delay/50 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	out := rawExchange(t, s.Addr().String(), raw, 10*time.Second)
	// The body arrived with the head: no interim reply is owed, and none
	// may ever follow a final reply.
	if strings.Contains(out, "100 Continue") {
		t.Fatalf("stray 100 Continue: %q", out)
	}
	br := bufio.NewReader(strings.NewReader(out))
	for i, want := range []string{"slept 50", "hello", "hello"} {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("reply %d: %q", i, b)
		}
	}
	// Head first, body later: 100 Continue comes before the final reply.
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
	br = bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim: %q %v", line, err)
	}
	io.WriteString(c, "hello")
	rest, _ := io.ReadAll(br)
	if !strings.HasPrefix(string(rest), "\r\nHTTP/1.1 200 OK\r\n") || !strings.HasSuffix(string(rest), "hello") {
		t.Fatalf("final: %q", rest)
	}
}

func TestGoClientFollowsOurRedirects(t *testing.T) {
	rt := testRouter()
	rt.Handle("GET /r/{n}", Func(func(r *nethttp.Request) *Response {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			return Redirect(nethttp.StatusFound, "/hello")
		}
		return Redirect(nethttp.StatusMovedPermanently, fmt.Sprintf("/r/%d", n-1))
	}))
	rt.Handle("POST /form", Func(func(r *nethttp.Request) *Response { return Redirect(nethttp.StatusSeeOther, "/hello") }))
	s := startServer(t, rt)
	c := goClient(t)
	resp, err := c.Get(baseURL(s) + "/r/3")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" || resp.Request.URL.Path != "/hello" {
		t.Fatalf("%q %v", b, resp.Request.URL)
	}
	resp, err = c.Post(baseURL(s)+"/form", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" || resp.Request.Method != "GET" {
		t.Fatalf("303: %q %s", b, resp.Request.Method)
	}
}

func TestRequestContextEndsWithConnection(t *testing.T) {
	causes := make(chan error, 1)
	started := make(chan struct{})
	rt := NewRouter()
	rt.Handle("GET /wait", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		close(started)
		p := future.New[*Response]()
		context.AfterFunc(r.Context(), func() {
			causes <- context.Cause(r.Context())
			p.Reject(context.Cause(r.Context()))
		})
		return p.Future()
	}))
	s := startServer(t, rt)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the handler")
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close() // reset: the server sees the connection end
	select {
	case err := <-causes:
		if !errors.Is(err, ErrClientGone) {
			t.Fatalf("cause %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("request context not cancelled")
	}
}

func TestDeepPipelineAndOutputBackpressure(t *testing.T) {
	s := startServer(t, testRouter())
	// 300 pipelined requests: more than MaxPipelined (64) wait at once, so
	// the server must pause reading and resume as replies go out.
	var raw strings.Builder
	for i := range 300 {
		fmt.Fprintf(&raw, "GET /delay/%d HTTP/1.1\r\nHost: x\r\n\r\n", i%3)
	}
	raw.WriteString("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	out := rawExchange(t, s.Addr().String(), raw.String(), 30*time.Second)
	br := bufio.NewReader(strings.NewReader(out))
	for i := range 300 {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != fmt.Sprintf("slept %d", i%3) {
			t.Fatalf("reply %d: %q", i, b)
		}
	}
	// 48 requests for 1 MiB each, pipelined by a client that reads nothing
	// until it has sent them all: the server stops reading while its output
	// is backed up, and every byte still arrives, in order.
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	const n = 48
	go func() {
		for range n {
			if _, err := io.WriteString(c, "GET /big/1048576 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				return
			}
		}
		time.Sleep(200 * time.Millisecond) // let the output back up
	}()
	time.Sleep(300 * time.Millisecond)
	br = bufio.NewReader(c)
	want := sha256.Sum256(bytes.Repeat([]byte("0123456789abcdef"), 1<<16))
	for i := range n {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("big reply %d: %v", i, err)
		}
		h := sha256.New()
		io.Copy(h, resp.Body)
		if !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("big reply %d corrupted", i)
		}
	}
}
