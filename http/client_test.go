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
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/tcp"
)

// goServer is net/http's server with a handler set for client tests; it
// counts new connections.
func goServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/hello", func(w nethttp.ResponseWriter, r *nethttp.Request) { io.WriteString(w, "hello from net/http") })
	mux.HandleFunc("/sha", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		fmt.Fprintf(w, "%x %d %v", h.Sum(nil), n, r.TransferEncoding)
	})
	mux.HandleFunc("/chunked", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Trailer", "X-Done")
		for i := range 4 {
			fmt.Fprintf(w, "chunk %d;", i)
			w.(nethttp.Flusher).Flush()
		}
		w.Header().Set("X-Done", "yes")
	})
	mux.HandleFunc("/big", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Write(bytes.Repeat([]byte("0123456789abcdef"), (32<<20)/16))
	})
	mux.HandleFunc("/close", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		// An HTTP/1.0-style reply: no length, ends when the connection does.
		c, brw, _ := w.(nethttp.Hijacker).Hijack()
		brw.WriteString("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
		brw.Flush()
		c.Close()
	})
	mux.HandleFunc("/nocontent", func(w nethttp.ResponseWriter, r *nethttp.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/notmodified", func(w nethttp.ResponseWriter, r *nethttp.Request) { w.WriteHeader(304) })
	mux.HandleFunc("/redirect/{n}", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			fmt.Fprintf(w, "landed %s", r.Method)
			return
		}
		nethttp.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), nethttp.StatusFound)
	})
	mux.HandleFunc("/see-other", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, "/redirect/0", nethttp.StatusSeeOther)
	})
	mux.HandleFunc("/temp", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Redirect(w, r, "/sha", nethttp.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/slow", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(c net.Conn, s nethttp.ConnState) {
		if s == nethttp.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func newClient(t *testing.T) *Client {
	c := &Client{}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func awaitResp(t *testing.T, f *future.Future[*nethttp.Response]) *nethttp.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := f.Await(ctx)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	return resp
}

func readBody(t *testing.T, resp *nethttp.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return string(b)
}

func TestClientAgainstGoServerKeepAlive(t *testing.T) {
	srv, conns := goServer(t)
	c := newClient(t)
	for i := range 10 {
		resp := awaitResp(t, c.Get(context.Background(), srv.URL+"/hello"))
		if b := readBody(t, resp); resp.StatusCode != 200 || b != "hello from net/http" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 10 sequential requests", n)
	}
	// 64 in flight at once, then all reused.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(context.Background(), srv.URL+"/hello").Await(context.Background())
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(b) != "hello from net/http" {
				errs <- fmt.Errorf("%q %v", b, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := c.IdleConnections(srv.Listener.Addr().String()); n == 0 || n > 64 {
		t.Fatalf("idle connections kept: %d", n)
	}
}

func TestClientBodiesAgainstGoServer(t *testing.T) {
	srv, _ := goServer(t)
	c := newClient(t)
	ctx := context.Background()
	// Chunked with a trailer.
	resp := awaitResp(t, c.Get(ctx, srv.URL+"/chunked"))
	if b := readBody(t, resp); b != "chunk 0;chunk 1;chunk 2;chunk 3;" || resp.Trailer.Get("X-Done") != "yes" {
		t.Fatalf("chunked: %q trailer %v", b, resp.Trailer)
	}
	// Until close.
	resp = awaitResp(t, c.Get(ctx, srv.URL+"/close"))
	if b := readBody(t, resp); b != "until the end" {
		t.Fatalf("until close: %q", b)
	}
	// No bodies: HEAD, 204, 304.
	req, _ := nethttp.NewRequest("HEAD", srv.URL+"/hello", nil)
	resp = awaitResp(t, c.Do(ctx, req))
	if b := readBody(t, resp); b != "" || resp.ContentLength != 19 {
		t.Fatalf("HEAD: %q %d", b, resp.ContentLength)
	}
	for _, p := range []string{"/nocontent", "/notmodified"} {
		resp = awaitResp(t, c.Get(ctx, srv.URL+p))
		if b := readBody(t, resp); b != "" {
			t.Fatalf("%s: %q", p, b)
		}
	}
	// 32 MiB down, hash-checked, read as a stream.
	resp = awaitResp(t, c.Get(ctx, srv.URL+"/big"))
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	want := sha256.Sum256(bytes.Repeat([]byte("0123456789abcdef"), (32<<20)/16))
	if err != nil || n != 32<<20 || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("big: %d %v", n, err)
	}
	// 32 MiB up, with Content-Length and chunked, hash-checked.
	data := make([]byte, 32<<20)
	rand.Read(data)
	sum := fmt.Sprintf("%x", sha256.Sum256(data))
	req, _ = nethttp.NewRequest("POST", srv.URL+"/sha", bytes.NewReader(data))
	resp = awaitResp(t, c.Do(ctx, req))
	if b := readBody(t, resp); b != sum+" 33554432 []" {
		t.Fatalf("upload: %q", b)
	}
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(data); off += 1 << 20 {
			pw.Write(data[off : off+1<<20])
		}
		pw.Close()
	}()
	req, _ = nethttp.NewRequest("POST", srv.URL+"/sha", pr)
	resp = awaitResp(t, c.Do(ctx, req))
	if b := readBody(t, resp); b != sum+" 33554432 [chunked]" {
		t.Fatalf("chunked upload: %q", b)
	}
	// Expect: 100-continue.
	req, _ = nethttp.NewRequest("POST", srv.URL+"/sha", strings.NewReader("after continue"))
	req.Header.Set("Expect", "100-continue")
	resp = awaitResp(t, c.Do(ctx, req))
	if b := readBody(t, resp); !strings.HasSuffix(b, " 14 []") {
		t.Fatalf("expect: %q", b)
	}
	// Short bodies go out in the same write as the head, longer ones
	// after it; both, one after another on a kept-alive connection, arrive
	// whole and the connection stays in step.
	for _, n := range []int{1, 100, maxCoalescedBody - 1, maxCoalescedBody, maxCoalescedBody + 1, 3, 200 << 10, 7} {
		body := data[:n]
		req, _ = nethttp.NewRequest("POST", srv.URL+"/sha", bytes.NewReader(body))
		resp = awaitResp(t, c.Do(ctx, req))
		if b, want := readBody(t, resp), fmt.Sprintf("%x %d []", sha256.Sum256(body), n); b != want {
			t.Fatalf("POST of %d bytes: %q, want %q", n, b, want)
		}
	}
	// ReadAll collects without blocking.
	resp = awaitResp(t, c.Get(ctx, srv.URL+"/chunked"))
	b, err := ReadAll(resp).Await(ctx)
	if err != nil || string(b) != "chunk 0;chunk 1;chunk 2;chunk 3;" {
		t.Fatalf("ReadAll: %q %v", b, err)
	}
}

func TestClientRedirects(t *testing.T) {
	srv, _ := goServer(t)
	c := newClient(t)
	ctx := context.Background()
	resp := awaitResp(t, c.Get(ctx, srv.URL+"/redirect/5"))
	if b := readBody(t, resp); b != "landed GET" || resp.Request.URL.Path != "/redirect/0" {
		t.Fatalf("%q %v", b, resp.Request.URL)
	}
	_, err := c.Get(ctx, srv.URL+"/redirect/11").Await(ctx)
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("11 redirects: %v", err)
	}
	req, _ := nethttp.NewRequest("POST", srv.URL+"/see-other", strings.NewReader("x"))
	resp = awaitResp(t, c.Do(ctx, req))
	if b := readBody(t, resp); b != "landed GET" {
		t.Fatalf("303: %q", b)
	}
	req, _ = nethttp.NewRequest("POST", srv.URL+"/temp", strings.NewReader("resent"))
	resp = awaitResp(t, c.Do(ctx, req))
	if b := readBody(t, resp); !strings.HasSuffix(b, " 6 []") {
		t.Fatalf("307 resend: %q", b)
	}
	noFollow := &Client{MaxRedirects: -1}
	defer noFollow.CloseIdleConnections()
	resp = awaitResp(t, noFollow.Get(ctx, srv.URL+"/redirect/1"))
	readBody(t, resp)
	if resp.StatusCode != 302 {
		t.Fatalf("no-follow: %d", resp.StatusCode)
	}
}

func TestClientErrors(t *testing.T) {
	srv, _ := goServer(t)
	ctx := context.Background()
	c := &Client{ResponseHeaderTimeout: 200 * time.Millisecond}
	defer c.CloseIdleConnections()
	_, err := c.Get(ctx, srv.URL+"/slow").Await(ctx)
	if !errors.Is(err, future.ErrTimeout) || !errors.Is(err, ErrResponseHeaderTimeout) {
		t.Fatalf("header timeout: %v", err)
	}
	c2 := &Client{Timeout: 200 * time.Millisecond}
	defer c2.CloseIdleConnections()
	_, err = c2.Get(ctx, srv.URL+"/slow").Await(ctx)
	if !errors.Is(err, future.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("total timeout: %v", err)
	}
	// A port nobody listens on.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, err = c.Get(ctx, "http://"+addr+"/").Await(ctx)
	if !errors.Is(err, tcp.ErrRefused) {
		t.Fatalf("refused: %v", err)
	}
	if _, err = c.Get(ctx, "ftp://"+addr+"/").Await(ctx); err == nil {
		t.Fatal("ftp accepted")
	}
	// A malformed response.
	bad, _ := net.Listen("tcp", "127.0.0.1:0")
	defer bad.Close()
	go func() {
		conn, err := bad.Accept()
		if err != nil {
			return
		}
		bufio.NewReader(conn).ReadString('\n')
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
		time.Sleep(100 * time.Millisecond)
		conn.Close()
	}()
	_, err = c.Get(ctx, "http://"+bad.Addr().String()+"/").Await(ctx)
	if !errors.Is(err, ErrBadResponse) {
		t.Fatalf("bad response: %v", err)
	}
}

func TestClientAgainstOurServer(t *testing.T) {
	hub := NewHub()
	rt := testRouter()
	src := sseRouter(hub, 0)
	rt.Handle("GET /source", src)
	s := startServer(t, rt)
	c := newClient(t)
	ctx := context.Background()
	resp := awaitResp(t, c.Get(ctx, baseURL(s)+"/stream"))
	if b := readBody(t, resp); b != "part 0\npart 1\npart 2\npart 3\npart 4\n" || resp.Trailer.Get("X-Parts") != "5" {
		t.Fatalf("stream: %q %v", b, resp.Trailer)
	}
	// An SSE stream read as events while they are published.
	sctx, cancel := context.WithCancel(ctx)
	resp = awaitResp(t, c.Get(sctx, baseURL(s)+"/source?room=client"))
	er := NewEventReader(resp.Body)
	if ev, err := er.Next(); err != nil || ev.Event != "hello" {
		t.Fatalf("%+v %v", ev, err)
	}
	for i := range 3 {
		hub.Publish("client", Event{ID: fmt.Sprint(i), Data: fmt.Sprintf("event %d", i)})
		if ev, err := er.Next(); err != nil || ev.Data != fmt.Sprintf("event %d", i) {
			t.Fatalf("%+v %v", ev, err)
		}
	}
	cancel()
	if _, err := er.Next(); err == nil {
		t.Fatal("stream still readable after cancel")
	}
	resp.Body.Close()
	waitFor(t, "pruned", func() bool { return hub.Count("client") == 0 })
}

func TestClientPoolLimits(t *testing.T) {
	srv, conns := goServer(t)
	addr := srv.Listener.Addr().String()
	// The idle timeout must outlast the checks below even on a loaded
	// machine.
	c := &Client{MaxIdlePerHost: 2, IdleTimeout: 1500 * time.Millisecond}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	// Eight at once need eight connections; only two stay idle.
	fs := make([]*future.Future[[]byte], 8)
	for i := range fs {
		fs[i] = future.Compose(c.Get(ctx, srv.URL+"/hello"), ReadAll)
	}
	if _, err := future.All(fs...).Await(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.IdleConnections(addr); n != 2 {
		t.Fatalf("idle after burst: %d", n)
	}
	before := conns.Load()
	resp := awaitResp(t, c.Get(ctx, srv.URL+"/hello"))
	readBody(t, resp)
	if conns.Load() != before {
		t.Fatal("idle connection not reused")
	}
	waitFor(t, "idle connections expire", func() bool { return c.IdleConnections(addr) == 0 })
	resp = awaitResp(t, c.Get(ctx, srv.URL+"/hello"))
	readBody(t, resp)
	if conns.Load() != before+1 {
		t.Fatalf("after idle timeout: %d new connections", conns.Load()-before)
	}
}

// fullListener returns the address of a socket listening with a backlog of
// zero that never accepts, once its queue is full: a connect to it hangs.
func fullListener(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Linux queues one connection for a backlog of zero and drops the
	// SYNs of later ones while the queue is full.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return addr // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("every connection to a zero-backlog listener was accepted")
	return ""
}

func TestClientConnectTimeout(t *testing.T) {
	addr := fullListener(t)
	c := &Client{ConnectTimeout: 200 * time.Millisecond}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	start := time.Now()
	_, err := c.Get(ctx, "http://"+addr+"/").Await(ctx)
	if !errors.Is(err, future.ErrTimeout) || !errors.Is(err, tcp.ErrTimeout) {
		t.Fatalf("connect timeout: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

// A handler that waits on another HTTP request, made with our client from
// the server's event loop, without blocking the loop.
func TestHandlerAwaitsBackendRequest(t *testing.T) {
	backend, _ := goServer(t)
	c := newClient(t)
	rt := NewRouter()
	rt.Handle("GET /proxy/{path...}", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		got := future.Compose(c.Get(r.Context(), backend.URL+"/"+r.PathValue("path")), ReadAll)
		return future.Then(got, func(b []byte) (*Response, error) {
			return Text(200, "via proxy: "+string(b)), nil
		})
	}))
	rt.Handle("GET /fast", Func(func(r *nethttp.Request) *Response { return Text(200, "fast") }))
	s := startServer(t, rt, WithTCPOptions(tcp.WithLoops(1)))
	gc := goClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, want := "/proxy/hello", "via proxy: hello from net/http"
			if i%2 == 1 {
				path, want = "/fast", "fast"
			}
			resp, err := gc.Get(baseURL(s) + path)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != want {
				errs <- fmt.Errorf("%s: %q", path, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A handler that waits on a raw TCP exchange (tcp.Connect, Write, ReadLine).
func TestHandlerAwaitsTCPCall(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, strings.ToUpper(line))
			}()
		}
	}()
	rt := NewRouter()
	rt.Handle("GET /upper/{word}", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		sock := tcp.Connect(r.Context(), echo.Addr().String())
		line := future.Compose(sock, func(s *tcp.Socket) *future.Future[[]byte] {
			s.WriteString(r.PathValue("word") + "\n")
			return future.Then(s.ReadLine(), func(b []byte) ([]byte, error) {
				s.Close()
				return b, nil
			})
		})
		return future.Then(line, func(b []byte) (*Response, error) { return Text(200, string(b)), nil })
	}))
	s := startServer(t, rt)
	resp, err := goClient(t).Get(baseURL(s) + "/upper/shout")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "SHOUT" {
		t.Fatalf("%q", b)
	}
}

func TestClientSlowReaderBound(t *testing.T) {
	srv, _ := goServer(t)
	ctx := context.Background()
	want := sha256.Sum256(bytes.Repeat([]byte("0123456789abcdef"), (32<<20)/16))
	// Within the bound: a reader that stalls still gets every byte.
	c := newClient(t)
	resp := awaitResp(t, c.Get(ctx, srv.URL+"/big"))
	time.Sleep(300 * time.Millisecond) // the body piles up meanwhile
	h := sha256.New()
	if n, err := io.Copy(h, resp.Body); err != nil || n != 32<<20 || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("stalled reader: %d %v", n, err)
	}
	resp.Body.Close()
	// A bound far below the body: the client stops reading while the
	// reader lags (TCP flow control holds the server back), so a reader
	// much slower than loopback still gets every byte, and never more
	// than the bound is held.
	small := &Client{MaxBufferedBody: 2 << 20}
	defer small.CloseIdleConnections()
	resp = awaitResp(t, small.Get(ctx, srv.URL+"/big"))
	defer resp.Body.Close()
	buf := make([]byte, 1<<20)
	h.Reset()
	n := 0
	var err error
	for err == nil {
		var m int
		m, err = io.ReadFull(resp.Body, buf)
		h.Write(buf[:m])
		n += m
		time.Sleep(20 * time.Millisecond)
	}
	if (err != io.EOF && err != io.ErrUnexpectedEOF) || n != 32<<20 || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("slow reader under a 2 MiB bound: read %d, %v", n, err)
	}
}

// Cancelling the future of a request awaiting its response closes the
// connection (the server sees it go) and rejects with ErrCanceled; the
// client keeps working.
func TestClientCancel(t *testing.T) {
	gone := make(chan struct{}, 1)
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/hang", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-r.Context().Done():
			gone <- struct{}{}
		case <-time.After(20 * time.Second):
		}
	})
	mux.HandleFunc("/hello", func(w nethttp.ResponseWriter, r *nethttp.Request) { io.WriteString(w, "hello") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newClient(t)
	ctx := context.Background()
	// Warm a connection so the cancelled request runs on a reused one.
	readBody(t, awaitResp(t, c.Get(ctx, srv.URL+"/hello")))
	f := c.Get(ctx, srv.URL+"/hang")
	time.Sleep(50 * time.Millisecond) // let the request reach the server
	if !f.Cancel(nil) {
		t.Fatal("request settled before Cancel")
	}
	if _, err := f.Await(ctx); !errors.Is(err, future.ErrCanceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	select {
	case <-gone:
	case <-time.After(20 * time.Second):
		t.Fatal("the server never saw the cancelled request's connection close")
	}
	if n := c.IdleConnections(srv.Listener.Addr().String()); n != 0 {
		t.Fatalf("%d idle connections after the cancel", n)
	}
	if b := readBody(t, awaitResp(t, c.Get(ctx, srv.URL+"/hello"))); b != "hello" {
		t.Fatalf("after cancel: %q", b)
	}
	// A cancelled connect: the dial to a full backlog never completes.
	addr := fullListener(t)
	f = c.Get(ctx, "http://"+addr+"/")
	f.Cancel(nil)
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := f.Await(actx); !errors.Is(err, future.ErrCanceled) {
		t.Fatalf("cancelled connect: %v", err)
	}
}

// Client.Timeout covers the body until it has arrived, and deadlines of
// earlier requests on a connection never fire for later ones.
func TestClientTimeoutCoversBody(t *testing.T) {
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/stall", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "part")
		w.(nethttp.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
	mux.HandleFunc("/hello", func(w nethttp.ResponseWriter, r *nethttp.Request) { io.WriteString(w, "hello") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &Client{Timeout: 300 * time.Millisecond}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	// Fast requests for longer than the timeout, on one connection.
	for start := time.Now(); time.Since(start) < time.Second; {
		if b, err := future.Compose(c.Get(ctx, srv.URL+"/hello"), ReadAll).Await(ctx); err != nil || string(b) != "hello" {
			t.Fatalf("fast request: %q %v", b, err)
		}
	}
	start := time.Now()
	resp := awaitResp(t, c.Get(ctx, srv.URL+"/stall"))
	_, err := ReadAll(resp).Await(ctx)
	if !errors.Is(err, future.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled body: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

// A body collected twice: the second ReadAll fails at once and the first
// still gets every byte, whether the body had arrived or not.
func TestClientReadAllTwice(t *testing.T) {
	srv, _ := goServer(t)
	c := newClient(t)
	ctx := context.Background()
	for _, path := range []string{"/hello", "/chunked"} {
		resp := awaitResp(t, c.Get(ctx, srv.URL+path))
		first := ReadAll(resp)
		if _, err := ReadAll(resp).Await(ctx); !errors.Is(err, ErrBodyClosed) {
			t.Fatalf("%s: second ReadAll: %v", path, err)
		}
		b, err := first.Await(ctx)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: first ReadAll: %q %v", path, b, err)
		}
	}
}

// Response heads with header names or values that httpguts rejects are
// rejected; every value byte it allows passes.
func TestResponseHeaderChecks(t *testing.T) {
	bad := []string{
		"HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX A: b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX(A): b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX\x80A: b\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: b\r\n\r\n",
	}
	for _, raw := range bad {
		var s headScanner
		start, end, err := s.scan([]byte(raw), 4096)
		if err != nil {
			continue // the framing already refuses it
		}
		if end == 0 {
			t.Fatalf("%q: no head found", raw)
		}
		if _, err := parseResponseHead([]byte(raw[start:end]), &s, nil); !errors.Is(err, ErrBadResponse) {
			t.Errorf("%q: %v", raw, err)
		}
	}
	// Every byte httpguts allows in a value passes.
	var v []byte
	for c := 0; c < 256; c++ {
		if c == '\t' || (c >= 0x20 && c != 0x7f) {
			v = append(v, byte(c))
		}
	}
	raw := "HTTP/1.1 200 OK\r\nX-A: a" + string(v) + "\r\nContent-Length: 0\r\n\r\n"
	var s headScanner
	start, end, err := s.scan([]byte(raw), 4096)
	if err != nil || end == 0 {
		t.Fatalf("scan: %v", err)
	}
	if _, err := parseResponseHead([]byte(raw[start:end]), &s, nil); err != nil {
		t.Fatalf("valid value refused: %v", err)
	}
}

// Responses that arrive in pieces of a few bytes, split anywhere in the
// head, the chunk framing or the body, on one keep-alive connection: what
// the client keeps across reads must not alias the socket's lent buffer.
func TestClientTrickledResponses(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for i := 0; ; i++ {
					req, err := nethttp.ReadRequest(br)
					if err != nil {
						return
					}
					body := strings.Repeat(req.URL.Path, 50)
					var raw string
					if i%2 == 0 {
						raw = fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-N: %d\r\n\r\n%s", len(body), i, body)
					} else {
						raw = fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-N: %d\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\nX-T: t%d\r\n\r\n",
							i, 7, body[:7], len(body)-7, body[7:], i)
					}
					for k := 0; k < len(raw); {
						n := min(1+(k*7+i)%9, len(raw)-k)
						if _, err := io.WriteString(conn, raw[k:k+n]); err != nil {
							return
						}
						k += n
						time.Sleep(200 * time.Microsecond)
					}
				}
			}()
		}
	}()
	c := newClient(t)
	ctx := context.Background()
	for i := range 20 {
		path := fmt.Sprintf("/p%d", i)
		resp := awaitResp(t, c.Get(ctx, "http://"+l.Addr().String()+path))
		b, err := ReadAll(resp).Await(ctx)
		if err != nil || string(b) != strings.Repeat(path, 50) || resp.Header.Get("X-N") != fmt.Sprint(i) {
			t.Fatalf("response %d: %q %v %v", i, b, err, resp.Header)
		}
		if i%2 == 1 && resp.Trailer.Get("X-T") != fmt.Sprintf("t%d", i) {
			t.Fatalf("response %d trailer: %v", i, resp.Trailer)
		}
	}
	if n := accepted.Load(); n != 1 {
		t.Fatalf("%d connections for 20 keep-alive requests", n)
	}
}

// Requests cancelled while their connection is being opened leave no
// connection behind: the dial is ended, or the connection that opened
// anyway is pooled and closed with the idle ones.
func TestClientCancelDuringConnect(t *testing.T) {
	var open atomic.Int32
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		io.WriteString(w, "hello")
	}))
	srv.Config.ConnState = func(c net.Conn, s nethttp.ConnState) {
		switch s {
		case nethttp.StateNew:
			open.Add(1)
		case nethttp.StateClosed, nethttp.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newClient(t)
	ctx := context.Background()
	for range 20 {
		f := c.Get(ctx, srv.URL+"/")
		f.Cancel(nil)
		if _, err := f.Await(ctx); !errors.Is(err, future.ErrCanceled) {
			t.Fatalf("cancelled request: %v", err)
		}
	}
	if b := readBody(t, awaitResp(t, c.Get(ctx, srv.URL+"/"))); b != "hello" {
		t.Fatalf("after cancels: %q", b)
	}
	// Connections opened for cancelled requests may still be arriving.
	time.Sleep(100 * time.Millisecond)
	c.CloseIdleConnections()
	waitFor(t, "every connection closed", func() bool {
		c.CloseIdleConnections()
		return open.Load() == 0
	})
}

// TestClientAlternatingHosts sends one client's requests to two servers in
// turn, and to one of them under two spellings of its host: each request
// reaches the server its URL names (the client caches the pool of the host
// asked last), and the pool of each server's address keeps one idle
// connection ("localhost:port" is a pool of its own).
func TestClientAlternatingHosts(t *testing.T) {
	named := func(name string) *Server {
		return startServer(t, Func(func(r *nethttp.Request) *Response { return Text(200, name) }))
	}
	a, b := named("a"), named("b")
	c := newClient(t)
	portA := a.Addr().(*net.TCPAddr).Port
	urls := []struct{ url, want string }{
		{baseURL(a) + "/", "a"},
		{baseURL(b) + "/", "b"},
		{fmt.Sprintf("http://localhost:%d/", portA), "a"},
		{baseURL(b) + "/again", "b"},
	}
	for i := range 12 {
		u := urls[i%len(urls)]
		if got := readBody(t, awaitResp(t, c.Get(context.Background(), u.url))); got != u.want {
			t.Fatalf("request %d to %s answered by %q, want %q", i, u.url, got, u.want)
		}
	}
	if n := c.IdleConnections(a.Addr().String()); n != 1 {
		t.Errorf("%d idle connections to a, want 1", n)
	}
	if n := c.IdleConnections(b.Addr().String()); n != 1 {
		t.Errorf("%d idle connections to b, want 1", n)
	}
}
