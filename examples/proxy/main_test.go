package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// backend is an independent server written with Go's net: it runs serve
// for every connection.
func backend(t *testing.T, serve func(c *net.TCPConn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(extest.Wait))
				serve(c.(*net.TCPConn))
			}()
		}
	}()
	return ln.Addr().String()
}

func dial(t *testing.T, port string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(extest.Wait))
	return c.(*net.TCPConn)
}

// The client half-closes; the backend reads to EOF (so the FIN went
// through), then answers and closes; the client gets all of it.
func TestHalfClosePassesThrough(t *testing.T) {
	to := backend(t, func(c *net.TCPConn) {
		got, err := io.ReadAll(c)
		if err != nil {
			return
		}
		c.Write([]byte("backend read " + string(got) + " then EOF\n"))
	})
	srv := extest.StartServer(t, run, "-to", to)
	c := dial(t, srv.Port)
	c.Write([]byte("hello"))
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "backend read hello then EOF\n" {
		t.Fatalf("client read %q, %v", got, err)
	}
	// One summary per connection, with its fields.
	srv.Err.WaitFor(t, `closed\s+\{"conn": \d+, "client": "127\.0\.0\.1:\d+", "backend": "`+to+`", "bytes_up": 5, "bytes_down": 28,`)
}

// The backend half-closes first; the client can still send, and the
// backend still receives.
func TestBackendHalfClose(t *testing.T) {
	backendGot := make(chan string, 1)
	to := backend(t, func(c *net.TCPConn) {
		c.Write([]byte("ready\n"))
		c.CloseWrite()
		got, err := io.ReadAll(c)
		backendGot <- fmt.Sprintf("%q %v", got, err)
	})
	srv := extest.StartServer(t, run, "-to", to)
	c := dial(t, srv.Port)
	got, err := io.ReadAll(c) // ends at the backend's FIN, passed on
	if err != nil || string(got) != "ready\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	c.Write([]byte("late data"))
	c.CloseWrite()
	if got := <-backendGot; got != `"late data" <nil>` {
		t.Fatalf("backend read %s; proxy log:\n%s", got, srv.Err.String())
	}
	srv.Err.WaitFor(t, `closed\s+\{"conn": \d+.*"bytes_up": 9, "bytes_down": 6,`)
}

// A client that does not read makes the proxy pause the backend side (the
// debug log says so) instead of queueing everything; when it reads, every
// byte arrives intact and in order.
func TestBackpressure(t *testing.T) {
	const size = 8 << 20 // more than the kernel's socket buffers (4 MB here) hold
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{7}).Read(data)
	want := sha256.Sum256(data)
	to := backend(t, func(c *net.TCPConn) {
		c.Write(data)
	})
	srv := extest.StartServer(t, run, "-to", to, "-v", "-max-buffer", "16777216")
	c := dial(t, srv.Port)
	// A fixed receive buffer (no autotuning), but larger than loopback's
	// 64 KiB segments: a smaller one makes the kernel's sender wait on
	// its zero-window probe timer, which backs off to seconds.
	c.SetReadBuffer(256 << 10)
	srv.Err.WaitFor(t, `tcp relay.*backpressure: pausing a side until its peer drains`)
	time.Sleep(50 * time.Millisecond)
	got, err := io.ReadAll(c)
	if err != nil || len(got) != size || sha256.Sum256(got) != want {
		t.Fatalf("read %d bytes (%v), want %d intact; proxy log:\n%s", len(got), err, size, srv.Err.String())
	}
}

// A slow client and a per-socket buffer far smaller than the transfer:
// the paused backend socket stops reading, so TCP flow control holds the
// backend back and nothing has to be buffered or dropped (before the tcp
// layer stopped reading paused sockets, this closed the connection with
// ErrBufferFull once 256 KiB piled up).
func TestSlowClientSmallBuffer(t *testing.T) {
	const size = 32 << 20
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{9}).Read(data)
	want := sha256.Sum256(data)
	to := backend(t, func(c *net.TCPConn) { c.Write(data) })
	srv := extest.StartServer(t, run, "-to", to, "-max-buffer", "262144")
	c := dial(t, srv.Port)
	c.SetReadBuffer(256 << 10)
	h := sha256.New()
	buf := make([]byte, 256<<10)
	n := 0
	for n < size {
		m, err := c.Read(buf)
		h.Write(buf[:m])
		n += m
		if err != nil {
			t.Fatalf("read %d of %d bytes: %v; proxy log:\n%s", n, size, err, srv.Err.String())
		}
		time.Sleep(time.Millisecond) // slower than the backend sends
	}
	if [32]byte(h.Sum(nil)) != want {
		t.Fatal("bytes through the proxy differ")
	}
}

// Many connections at once, each with its own peer.
func TestConcurrentConnections(t *testing.T) {
	to := backend(t, func(c *net.TCPConn) { io.Copy(c, c) })
	srv := extest.StartServer(t, run, "-to", to, "-v")
	errs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		go func() {
			c, err := net.Dial("tcp", "127.0.0.1:"+srv.Port)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(extest.Wait))
			msg := bytes.Repeat([]byte{byte('a' + i)}, 100000)
			go func() { c.Write(msg); c.(*net.TCPConn).CloseWrite() }()
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, msg) {
				errs <- fmt.Sprintf("connection %d got %d bytes back (%v), want %d", i, len(got), err, len(msg))
				return
			}
			errs <- ""
		}()
	}
	for i := 0; i < 20; i++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	if t.Failed() {
		t.Logf("proxy log:\n%s", srv.Err.String())
	}
}

func TestBackendDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	to := ln.Addr().String()
	ln.Close()
	srv := extest.StartServer(t, run, "-to", to)
	// The reset can reach the client while its connect is still
	// returning: that is a reset too.
	c, err := net.Dial("tcp", "127.0.0.1:"+srv.Port)
	if err == nil {
		defer c.Close()
		c.SetDeadline(time.Now().Add(extest.Wait))
		var got []byte
		got, err = io.ReadAll(c)
		if len(got) != 0 {
			t.Fatalf("read %q", got)
		}
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client got %v; want a reset (not an empty reply)", err)
	}
	srv.Err.WaitFor(t, `backend unreachable; resetting the client.*connection refused`)
}

func TestNeedsTo(t *testing.T) {
	_, _, err := extest.Run(t, run, "")
	if err == nil || !strings.Contains(err.Error(), "-to ADDR is required") {
		t.Fatalf("error = %v", err)
	}
}

// The issue-11 scenario: the client uploads 20 MiB and half-closes, the
// backend reads it all and answers with 20 MiB, which the client reads
// slowly. Both ends check SHA-256: the proxy must keep flow control on the
// paused, half-closed client side instead of buffering and failing.
func TestUploadHalfCloseSlowDownload(t *testing.T) {
	const size = 20 << 20
	up, down := make([]byte, size), make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(up)
	rand.NewChaCha8([32]byte{2}).Read(down)
	upSum := make(chan [32]byte, 1)
	to := backend(t, func(c *net.TCPConn) {
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			t.Errorf("backend read: %v", err)
		}
		upSum <- [32]byte(h.Sum(nil))
		c.Write(down)
	})
	srv := extest.StartServer(t, run, "-to", to, "-max-buffer", "262144")
	c := dial(t, srv.Port)
	c.SetReadBuffer(128 << 10)
	if _, err := c.Write(up); err != nil {
		t.Fatalf("upload: %v; proxy log:\n%s", err, srv.Err.String())
	}
	c.CloseWrite()
	h := sha256.New()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		m, err := c.Read(buf)
		h.Write(buf[:m])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("download: read %d of %d bytes: %v; proxy log:\n%s", n, size, err, srv.Err.String())
		}
		if n%(1<<20) < m {
			time.Sleep(20 * time.Millisecond) // a slow reader: ~50 ms per MiB
		}
	}
	if n != size {
		t.Fatalf("download ended cleanly after %d of %d bytes; proxy log:\n%s", n, size, srv.Err.String())
	}
	if [32]byte(h.Sum(nil)) != [32]byte(sha256.Sum256(down)) {
		t.Fatal("downloaded bytes differ")
	}
	if <-upSum != sha256.Sum256(up) {
		t.Fatal("uploaded bytes differ")
	}
}

// When the backend resets mid-stream, the client is reset too: it must
// never read a clean EOF after a truncated download.
func TestBackendResetResetsClient(t *testing.T) {
	to := backend(t, func(c *net.TCPConn) {
		c.Write(bytes.Repeat([]byte("x"), 1<<20))
		c.SetLinger(0) // close with a reset
	})
	srv := extest.StartServer(t, run, "-to", to)
	c := dial(t, srv.Port)
	n, err := io.Copy(io.Discard, c)
	if err == nil {
		t.Fatalf("client read %d bytes and a clean EOF after the backend reset", n)
	}
}
