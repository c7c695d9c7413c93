package http

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// hashHandler is a net/http handler that answers "<bytes> <sha256>" of the
// request body, read as it arrives; slow, when set, pauses between reads.
func hashHandler(slow time.Duration) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		h := sha256.New()
		buf := make([]byte, 64<<10)
		var n int64
		for {
			m, err := r.Body.Read(buf)
			h.Write(buf[:m])
			n += int64(m)
			if err == io.EOF {
				break
			}
			if err != nil {
				nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
				return
			}
			if slow > 0 {
				time.Sleep(slow)
			}
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func wantHash(b []byte) string { return fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)) }

// put sends body to url with net/http's client; chunked hides the length
// so the body goes out chunked.
func put(t *testing.T, c *nethttp.Client, url string, body []byte, chunked bool) (int, string) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // no known length: chunked
	}
	req, err := nethttp.NewRequest(nethttp.MethodPut, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestStreamBodyLargeUploads: bodies far above Limits.MaxBodyBytes reach a
// StreamBody handler intact, with Content-Length and chunked, while a
// buffered route of the same server still refuses them with 413.
func TestStreamBodyLargeUploads(t *testing.T) {
	rt := NewRouter()
	rt.Handle("PUT /stream", StreamBody(Adapt(hashHandler(0)), 0))
	rt.Handle("PUT /buffered", Adapt(hashHandler(0)))
	s := startServer(t, rt, WithLimits(Limits{MaxBodyBytes: 1 << 20}))
	c := goClient(t)
	big := randomBytes(64 << 20)
	if code, got := put(t, c, baseURL(s)+"/stream", big, false); code != 200 || got != wantHash(big) {
		t.Fatalf("64 MiB with Content-Length: %d %q", code, got)
	}
	mid := big[:32<<20]
	if code, got := put(t, c, baseURL(s)+"/stream", mid, true); code != 200 || got != wantHash(mid) {
		t.Fatalf("32 MiB chunked: %d %q", code, got)
	}
	if code, _ := put(t, c, baseURL(s)+"/buffered", big[:2<<20], false); code != nethttp.StatusRequestEntityTooLarge {
		t.Fatalf("buffered route over MaxBodyBytes: %d, want 413", code)
	}
}

// TestStreamBodySlowReader: a handler reading far slower than the client
// sends still gets every byte: the server stops reading the connection
// while the handler lags, instead of buffering (or refusing) the rest.
func TestStreamBodySlowReader(t *testing.T) {
	s := startServer(t, StreamBody(Adapt(hashHandler(3*time.Millisecond)), 0),
		WithLimits(Limits{MaxBodyBytes: 1 << 20}))
	body := randomBytes(16 << 20)
	if code, got := put(t, goClient(t), baseURL(s)+"/", body, false); code != 200 || got != wantHash(body) {
		t.Fatalf("slow reader: %d %q", code, got)
	}
}

// TestStreamBodyStartsBeforeTheBodyEnds: the handler runs and reads the
// first half of the body while the client still holds the second half.
func TestStreamBodyStartsBeforeTheBodyEnds(t *testing.T) {
	firstHalf := make(chan string, 1)
	h := StreamBody(HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		return future.Go(func() (*Response, error) {
			buf := make([]byte, 5)
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				return nil, err
			}
			firstHalf <- string(buf)
			rest, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			return Text(200, string(buf)+"|"+string(rest)), nil
		})
	}), 0)
	s := startServer(t, h)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
	select {
	case got := <-firstHalf:
		if got != "hello" {
			t.Fatalf("first half %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not get the first half before the body ended")
	}
	io.WriteString(c, "world")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := nethttp.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "hello|world" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
}

// TestStreamBodyLimit: a declared length over the limit is refused before
// the handler runs; a chunked body that grows past it fails the reader
// with ErrBodyTooLarge, and the handler passing that on answers 413.
func TestStreamBodyLimit(t *testing.T) {
	var calls atomic.Int32
	var readErr atomic.Pointer[error]
	h := StreamBody(HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		calls.Add(1)
		return future.Go(func() (*Response, error) {
			_, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				readErr.Store(&err)
				return nil, err
			}
			return Text(200, "ok"), nil
		})
	}), 1<<20)
	s := startServer(t, h)
	c := goClient(t)
	if code, _ := put(t, c, baseURL(s)+"/", randomBytes(2<<20), false); code != nethttp.StatusRequestEntityTooLarge {
		t.Fatalf("Content-Length over the limit: %d, want 413", code)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("handler called %d times for a body declared over the limit", n)
	}
	// Chunked, sent raw so the reply can be read while the body is
	// still being refused.
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		io.WriteString(conn, "PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := fmt.Sprintf("%x\r\n%s\r\n", 64<<10, strings.Repeat("a", 64<<10))
		for i := 0; i < 64; i++ { // 4 MiB, past the 1 MiB limit
			if _, err := io.WriteString(conn, chunk); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := nethttp.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != nethttp.StatusRequestEntityTooLarge || !resp.Close {
		t.Fatalf("chunked body past the limit: %d (close %v), want 413 and close", resp.StatusCode, resp.Close)
	}
	if p := readErr.Load(); p == nil || !errors.Is(*p, ErrBodyTooLarge) {
		t.Fatalf("the handler's read error %v, want ErrBodyTooLarge", p)
	}
}

// TestStreamBodyEarlyReply: a handler that answers without reading the body
// gets its reply to the client, then the connection closes (the rest of
// the body is not read) and the server goes on serving.
func TestStreamBodyEarlyReply(t *testing.T) {
	rt := NewRouter()
	rt.Handle("PUT /up", StreamBody(Func(func(r *nethttp.Request) *Response {
		return Text(nethttp.StatusUnauthorized, "no")
	}), 0))
	rt.Handle("GET /hello", Func(func(*nethttp.Request) *Response { return Text(200, "hello") }))
	s := startServer(t, rt)
	c := goClient(t)
	code, got := put(t, c, baseURL(s)+"/up", randomBytes(8<<20), false)
	if code != nethttp.StatusUnauthorized || got != "no" {
		t.Fatalf("early reply: %d %q", code, got)
	}
	resp, err := c.Get(baseURL(s) + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, resp); b != "hello" {
		t.Fatalf("after an early reply: %q", b)
	}
}

// TestStreamBodyClientGone: the reader of a body whose client disconnects
// gets an error matching ErrClientGone, not a hang.
func TestStreamBodyClientGone(t *testing.T) {
	errs := make(chan error, 1)
	h := StreamBody(HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		return future.Go(func() (*Response, error) {
			_, err := io.Copy(io.Discard, r.Body)
			errs <- err
			return Text(200, "ok"), nil
		})
	}), 0)
	s := startServer(t, h)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npartial body")
	time.Sleep(100 * time.Millisecond)
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	select {
	case err := <-errs:
		if !errors.Is(err, ErrClientGone) {
			t.Fatalf("read error %v, want ErrClientGone", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reader hung after its client went away")
	}
}

// TestStreamBodyPipelinedAndTrailers: a streamed chunked body with a
// trailer, pipelined with a buffered request and a GET on one connection:
// all answered in order; the buffered body is in memory, the streamed one
// is not, and its trailer arrives with the end of the body.
func TestStreamBodyPipelinedAndTrailers(t *testing.T) {
	rt := NewRouter()
	rt.Handle("PUT /up", StreamBody(HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		return future.Go(func() (*Response, error) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			return Text(200, fmt.Sprintf("up %s %s inmem=%v", b, r.Trailer.Get("X-Sum"), BodyBytes(r) != nil)), nil
		})
	}), 0))
	rt.Handle("POST /buf", Func(func(r *nethttp.Request) *Response {
		return Text(200, fmt.Sprintf("buf %s inmem=%v", BodyBytes(r), BodyBytes(r) != nil))
	}))
	rt.Handle("GET /hello", Func(func(*nethttp.Request) *Response { return Text(200, "hello") }))
	s := startServer(t, rt)
	raw := "PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
		"3\r\nabc\r\n3\r\ndef\r\n0\r\nX-Sum: 42\r\n\r\n" +
		"POST /buf HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz" +
		"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, raw)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for _, want := range []string{"up abcdef 42 inmem=false", "buf xyz inmem=true", "hello"} {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
}

// TestStreamBodyExpectContinue: net/http's client waits for 100 Continue
// before sending the body; the server sends it once the handler is called.
func TestStreamBodyExpectContinue(t *testing.T) {
	s := startServer(t, StreamBody(Adapt(hashHandler(0)), 0))
	body := randomBytes(1 << 20)
	req, _ := nethttp.NewRequest(nethttp.MethodPut, baseURL(s)+"/", bytes.NewReader(body))
	req.Header.Set("Expect", "100-continue")
	start := time.Now()
	resp, err := goClient(t).Do(req) // ExpectContinueTimeout is 5 s
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != wantHash(body) {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("took %v: the client waited out its 100-continue timeout", el)
	}
}

// TestStreamBodyTimeout: Limits.BodyTimeout bounds the wait for the
// client's next bytes (the reader fails, the handler passing the error on
// answers 408), not the time a slow handler takes to read what came.
func TestStreamBodyTimeout(t *testing.T) {
	var stalls atomic.Int32
	h := StreamBody(HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		return future.Go(func() (*Response, error) {
			buf := make([]byte, 64<<10)
			n := 0
			for {
				m, err := r.Body.Read(buf)
				n += m
				if err == io.EOF {
					return Text(200, fmt.Sprint(n)), nil
				}
				if err != nil {
					return nil, err
				}
				if n >= 1<<20 && stalls.Add(1) == 1 {
					time.Sleep(time.Second) // the server is paused meanwhile
				}
			}
		})
	}), 0)
	s := startServer(t, h, WithLimits(Limits{BodyTimeout: 300 * time.Millisecond}))
	// A client that stalls mid-body.
	out := rawExchange(t, s.Addr().String(), "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello", 10*time.Second)
	if !strings.HasPrefix(out, "HTTP/1.1 408 ") || !strings.Contains(out, "Connection: close\r\n") {
		t.Fatalf("stalled client: %q", firstLine(out))
	}
	// A handler that stalls longer than BodyTimeout with the client waiting.
	body := randomBytes(4 << 20)
	if code, got := put(t, goClient(t), baseURL(s)+"/", body, false); code != 200 || got != fmt.Sprint(len(body)) {
		t.Fatalf("slow handler: %d %q", code, got)
	}
}

// FuzzStreamedBodies: streaming a body (StreamBody) and reading it in full
// frame the same requests, with the same bodies and trailers, and refuse
// the same inputs with the same status.
func FuzzStreamedBodies(f *testing.F) {
	for _, tc := range hostileRequests {
		f.Add([]byte(tc.raw), uint8(3))
	}
	f.Add([]byte("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), uint8(1))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, step uint8) {
		// The same split for both: the status of a refusal may depend on
		// how much had arrived (431 before a line ends, 400 after).
		a, errA := readAll(raw, testLimits, int(step)+1)
		b, bodies, errB := frameAll(raw, testLimits, int(step)+1, true)
		if (errA == nil) != (errB == nil) || len(a) != len(b) {
			t.Fatalf("buffered: %d reqs %v; streamed: %d reqs %v", len(a), errA, len(b), errB)
		}
		if errA != nil && errorStatus(errA) != errorStatus(errB) {
			t.Fatalf("buffered refused with %d, streamed with %d", errorStatus(errA), errorStatus(errB))
		}
		for i := range a {
			if a[i].Method != b[i].Method || a[i].RequestURI != b[i].RequestURI || !bytes.Equal(BodyBytes(a[i]), bodies[i]) {
				t.Fatalf("request %d differs: %q vs %q", i, BodyBytes(a[i]), bodies[i])
			}
			for k, v := range a[i].Trailer {
				if got := b[i].Trailer[k]; strings.Join(got, ",") != strings.Join(v, ",") {
					t.Fatalf("trailer %s: %q vs %q", k, v, got)
				}
			}
		}
	})
}
