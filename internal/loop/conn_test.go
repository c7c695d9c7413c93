package loop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/stats"
)

// recorder is a ConnHandler that keeps what it reads, optionally echoing
// it, and reports its events on channels.
type recorder struct {
	echo   bool
	paused bool // start with reads off

	mu      sync.Mutex
	got     bytes.Buffer
	opened  chan *Conn
	eof     chan struct{}
	errs    chan error
	dataSig chan struct{}
	pending [][]byte // echo output the kernel did not take
	closeOn bool     // close once EOF is seen and output drained
}

func newRecorder(echo bool) *recorder {
	return &recorder{echo: echo, opened: make(chan *Conn, 1), eof: make(chan struct{}, 1), errs: make(chan error, 1), dataSig: make(chan struct{}, 1)}
}

func (h *recorder) OnOpen(c *Conn) {
	if h.paused {
		_ = c.SetReading(false)
	}
	if h.opened != nil {
		h.opened <- c
	}
}

func (h *recorder) OnData(c *Conn, b []byte) {
	h.mu.Lock()
	h.got.Write(b)
	h.mu.Unlock()
	select {
	case h.dataSig <- struct{}{}:
	default:
	}
	if h.echo {
		h.write(c, b)
	}
}

func (h *recorder) write(c *Conn, b []byte) {
	if len(h.pending) == 0 {
		n, err := c.Write(b)
		if err != nil {
			h.fail(c, err)
			return
		}
		b = b[n:]
	}
	if len(b) > 0 {
		h.pending = append(h.pending, append([]byte(nil), b...))
		_ = c.SetWriting(true)
		_ = c.SetReading(false) // backpressure: do not read faster than we write
	}
}

func (h *recorder) OnWritable(c *Conn) {
	for len(h.pending) > 0 {
		n, err := c.Writev(h.pending)
		if err != nil {
			h.fail(c, err)
			return
		}
		if n == 0 {
			return
		}
		for n > 0 {
			if n >= len(h.pending[0]) {
				n -= len(h.pending[0])
				h.pending = h.pending[1:]
			} else {
				h.pending[0] = h.pending[0][n:]
				n = 0
			}
		}
	}
	_ = c.SetWriting(false)
	if h.closeOn && c.EOF() {
		_ = c.Close()
		return
	}
	_ = c.SetReading(true)
}

func (h *recorder) OnEOF(c *Conn) {
	select {
	case h.eof <- struct{}{}:
	default:
	}
	if h.closeOn && len(h.pending) == 0 {
		_ = c.Close()
	}
}

func (h *recorder) fail(c *Conn, err error) {
	select {
	case h.errs <- err:
	default:
	}
	_ = c.Close()
}

func (h *recorder) OnError(c *Conn, err error) { h.fail(c, err) }

func (h *recorder) bytes() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]byte(nil), h.got.Bytes()...)
}

// onLoop runs fn on c's loop and waits.
func onLoop(t *testing.T, c *Conn, fn func()) {
	t.Helper()
	done := make(chan struct{})
	c.Loop().Execute(func() { fn(); close(done) })
	wait(t, done, 5*time.Second, "a task on the loop")
}

// echoServer listens on the runtime with an echoing recorder per client.
func echoServer(t *testing.T, r *Runtime, network, addr string, cfg ListenConfig) *Listener {
	t.Helper()
	ln, err := r.Listen(network, addr, func(*Conn) ConnHandler {
		h := newRecorder(true)
		h.opened = nil
		h.closeOn = true
		return h
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close(context.Background()) })
	return ln
}

func TestEchoWithGoClients(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		t.Run(map[bool]string{true: "reuseport", false: "handoff"}[reuse], func(t *testing.T) {
			r := newRT(t, 2)
			ln := echoServer(t, r, "tcp", "127.0.0.1:0", ListenConfig{ReusePort: reuse})
			if ln.Addr().(*net.TCPAddr).Port == 0 {
				t.Fatal("port 0 reported")
			}
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := net.Dial("tcp", ln.Addr().String())
					if err != nil {
						t.Error(err)
						return
					}
					defer c.Close()
					msg := bytes.Repeat([]byte{byte('a' + i)}, 1000+i)
					for k := 0; k < 20; k++ {
						if _, err := c.Write(msg); err != nil {
							t.Error(err)
							return
						}
						got := make([]byte, len(msg))
						if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
							t.Errorf("echo %d/%d: %v", i, k, err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestIntegrity64MiB streams 64 MiB through an echoing loop connection
// (write side and read side at once, with backpressure) and compares
// SHA-256 sums.
func TestIntegrity64MiB(t *testing.T) {
	r := newRT(t, 2)
	ln := echoServer(t, r, "tcp", "127.0.0.1:0", ListenConfig{})
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const total = 64 << 20
	src := make([]byte, 1<<20)
	_, _ = rand.Read(src)
	sent, got := sha256.New(), sha256.New()
	go func() {
		for i := 0; i < total/len(src); i++ {
			if _, err := c.Write(src); err != nil {
				return
			}
			sent.Write(src)
		}
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	n, err := io.Copy(got, c)
	if err != nil || n != total {
		t.Fatalf("read %d bytes, err %v", n, err)
	}
	if !bytes.Equal(sent.Sum(nil), got.Sum(nil)) {
		t.Fatal("SHA-256 differs")
	}
}

func TestDialAgainstGoServer(t *testing.T) {
	r := newRT(t, 2)
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gl.Close()
	go func() {
		c, err := gl.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(c, c) // echo until EOF, then close
		c.Close()
	}()
	h := newRecorder(false)
	c, err := r.Dial(context.Background(), "tcp", gl.Addr().String(), h).Await(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Inbound() || c.RemoteAddr().String() != gl.Addr().String() || c.LocalAddr() == nil {
		t.Fatalf("addresses: local %v remote %v inbound %v", c.LocalAddr(), c.RemoteAddr(), c.Inbound())
	}
	onLoop(t, c, func() {
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Error(err)
		}
		if err := c.CloseWrite(); err != nil { // half-close on the one descriptor
			t.Error(err)
		}
	})
	wait(t, h.eof, 5*time.Second, "EOF")
	if got := string(h.bytes()); got != "hello" {
		t.Fatalf("got %q", got)
	}
	onLoop(t, c, func() { _ = c.Close() })
}

func TestDialErrors(t *testing.T) {
	r := newRT(t, 1)
	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := gl.Addr().String()
	gl.Close()
	_, err := r.Dial(context.Background(), "tcp", addr, newRecorder(false)).Await(context.Background())
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a closed port: %v", err)
	}
	for _, a := range []string{"localhost:80", "1.2.3.4", "[::1]:x"} {
		if _, err := r.Dial(context.Background(), "tcp", a, newRecorder(false)).Await(context.Background()); err == nil {
			t.Fatalf("dial %q succeeded", a)
		}
	}
	if _, err := r.Dial(context.Background(), "tcp4", "[::1]:80", newRecorder(false)).Await(context.Background()); err == nil {
		t.Fatal("tcp4 dial to an IPv6 address succeeded")
	}
	// A connect that cannot finish (a non-routable address) ends with ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = r.Dial(ctx, "tcp", hangingAddr(t), newRecorder(false)).Await(context.Background())
	if err == nil {
		t.Fatal("dial to a black hole succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("black-hole dial: %v", err)
	}
}

func TestUnixSockets(t *testing.T) {
	r := newRT(t, 2)
	path := filepath.Join(t.TempDir(), "s.sock")
	ln := echoServer(t, r, "unix", path, ListenConfig{ReusePort: true})
	h := newRecorder(false)
	c, err := r.Dial(context.Background(), "unix", path, h).Await(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	onLoop(t, c, func() { _, _ = c.Write([]byte("ping")); _ = c.CloseWrite() })
	wait(t, h.eof, 5*time.Second, "EOF")
	if string(h.bytes()) != "ping" {
		t.Fatalf("got %q", h.bytes())
	}
	onLoop(t, c, func() { _ = c.Close() })
	if err := ln.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file left after Close: %v", err)
	}
}

// TestPauseKeepsFlowControl: while reads are off the peer is held back by
// TCP flow control, a FIN sent meanwhile is seen after the bytes before it
// once reads resume, and the write side of the paused socket (half-close)
// does not turn reading back on.
func TestPauseKeepsFlowControl(t *testing.T) {
	r := newRT(t, 2)
	h := newRecorder(false)
	h.paused = true
	srv, c := acceptOne(t, r, h)
	// Half-close the paused side: reads must stay off.
	onLoop(t, srv, func() {
		if err := srv.CloseWrite(); err != nil {
			t.Error(err)
		}
	})
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("client read after the server's half-close: %d %v", n, err)
	}
	src := make([]byte, 64<<20)
	_, _ = rand.Read(src)
	written := 0
	_ = c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
	for written < len(src) {
		n, err := c.Write(src[written:min(written+64<<10, len(src))])
		written += n
		if err != nil {
			break
		}
	}
	if written >= len(src) {
		t.Fatal("the client wrote 64 MiB into a paused socket: no flow control")
	}
	if got := len(h.bytes()); got != 0 {
		t.Fatalf("a paused socket delivered %d bytes", got)
	}
	t.Logf("flow control stopped the writer after %d bytes", written)
	// Send the rest and the FIN while paused: nothing may be lost.
	_ = c.SetWriteDeadline(time.Time{})
	go func() {
		_, _ = c.Write(src[written:])
		_ = c.(*net.TCPConn).CloseWrite()
	}()
	time.Sleep(50 * time.Millisecond)
	onLoop(t, srv, func() { _ = srv.SetReading(true) })
	wait(t, h.eof, 20*time.Second, "EOF after resume")
	if got := h.bytes(); !bytes.Equal(got, src) {
		t.Fatalf("got %d bytes, want %d (equal prefix: %v)", len(got), len(src), bytes.HasPrefix(src, got))
	}
	onLoop(t, srv, func() { _ = srv.Close() })
}

func TestAbortResetsThePeer(t *testing.T) {
	r := newRT(t, 1)
	h := newRecorder(false)
	srv, c := acceptOne(t, r, h)
	onLoop(t, srv, func() { _, _ = srv.Write([]byte("x")); _ = srv.Abort() })
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.ReadAll(c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("peer of an aborted socket read %v, want ECONNRESET", err)
	}
}

func TestPeerResetIsAnError(t *testing.T) {
	r := newRT(t, 1)
	h := newRecorder(false)
	_, c := acceptOne(t, r, h)
	_ = c.(*net.TCPConn).SetLinger(0)
	c.Close()
	if err := wait(t, h.errs, 5*time.Second, "reset"); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("got %v, want ECONNRESET", err)
	}
}

func TestConnectionCapAndCounters(t *testing.T) {
	r := newRT(t, 2)
	in0 := stats.ConnsIn.Load()
	ln := echoServer(t, r, "tcp", "127.0.0.1:0", ListenConfig{MaxConns: 3})
	var cs []net.Conn
	for i := 0; i < 6; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	deadline := time.Now().Add(5 * time.Second)
	// A connection is counted by the listener at accept and in ConnsIn
	// once its loop has opened it: wait for both.
	for (ln.Count() != 3 || ln.Rejected() != 3 || stats.ConnsIn.Load()-in0 != 3) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if ln.Count() != 3 || ln.Rejected() != 3 {
		t.Fatalf("count %d rejected %d, want 3 and 3", ln.Count(), ln.Rejected())
	}
	if d := stats.ConnsIn.Load() - in0; d != 3 {
		t.Fatalf("ConnsIn rose by %d, want 3", d)
	}
	for _, c := range cs {
		c.Close()
	}
	for (ln.Count() != 0 || stats.ConnsIn.Load() != in0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if ln.Count() != 0 || stats.ConnsIn.Load() != in0 {
		t.Fatalf("after close: count %d, ConnsIn %d (was %d)", ln.Count(), stats.ConnsIn.Load(), in0)
	}
}

func TestShutdownSettlesEverything(t *testing.T) {
	r, err := New(WithLoops(2))
	if err != nil {
		t.Fatal(err)
	}
	h := newRecorder(false)
	ln, err := r.Listen("tcp", "127.0.0.1:0", func(*Conn) ConnHandler { return h }, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wait(t, h.opened, 5*time.Second, "accept")
	out := newRecorder(false)
	if _, err := r.Dial(context.Background(), "tcp", ln.Addr().String(), out).Await(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A dial that never completes (a black hole) is settled by Shutdown.
	pending := r.Dial(context.Background(), "tcp", hangingAddr(t), newRecorder(false))
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, h.errs, time.Second, "server conn error"); !errors.Is(err, ErrClosed) {
		t.Fatalf("server conn: %v", err)
	}
	if err := wait(t, out.errs, time.Second, "client conn error"); !errors.Is(err, ErrClosed) {
		t.Fatalf("client conn: %v", err)
	}
	if _, err := pending.Await(context.Background()); err == nil {
		t.Fatal("pending dial resolved")
	}
	select {
	case <-ln.Done():
	default:
		t.Fatal("listener not done after Shutdown")
	}
}

// TestFINWhilePausedIsHeld: the peer's FIN that arrives while reads are
// off is noticed once (Held), read nothing, and comes after the bytes
// before it when reads resume.
func TestFINWhilePausedIsHeld(t *testing.T) {
	r := newRT(t, 1)
	h := newRecorder(false)
	h.paused = true
	srv, c := acceptOne(t, r, h)
	_, _ = c.Write([]byte("abc"))
	_ = c.(*net.TCPConn).CloseWrite()
	deadline := time.Now().Add(5 * time.Second)
	held := false
	for !held && time.Now().Before(deadline) {
		onLoop(t, srv, func() { held = srv.Held() })
		time.Sleep(time.Millisecond)
	}
	if !held {
		t.Fatal("the FIN was not noticed while paused")
	}
	if len(h.bytes()) != 0 || len(h.eof) != 0 {
		t.Fatal("a paused socket read")
	}
	onLoop(t, srv, func() { _ = srv.SetReading(true) })
	wait(t, h.eof, 5*time.Second, "EOF")
	if string(h.bytes()) != "abc" {
		t.Fatalf("got %q", h.bytes())
	}
	onLoop(t, srv, func() { _ = srv.Close() })
}

// acceptOne listens on a free loopback port with h for every connection,
// dials it with Go's net and waits for the accept. The client side and
// the listener are closed when the test ends.
func acceptOne(t *testing.T, r *Runtime, h *recorder) (*Conn, net.Conn) {
	t.Helper()
	ln, err := r.Listen("tcp", "127.0.0.1:0", func(*Conn) ConnHandler { return h }, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close(context.Background()) })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return wait(t, h.opened, 5*time.Second, "accept"), c
}
