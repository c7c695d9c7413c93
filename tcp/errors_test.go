package tcp

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
)

func TestConnectRefused(t *testing.T) {
	r := newRuntime(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = awaitErr(t, Connect(context.Background(), addr, withRuntime(r)))
	if !errors.Is(err, ErrRefused) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want ErrRefused and ECONNREFUSED", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "dial" || oe.Addr != addr {
		t.Fatalf("err = %#v, want *OpError{Op: dial, Addr: %s}", err, addr)
	}
}

func TestConnectRefusedUnix(t *testing.T) {
	r := newRuntime(t)
	path := filepath.Join(t.TempDir(), "nobody.sock")
	err := awaitErr(t, Connect(context.Background(), "unix://"+path, withRuntime(r)))
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want ErrRefused", err)
	}
}

// fullBacklog returns the address of a listener whose accept queue is full,
// so a further connect hangs in SYN retries.
func fullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*unix.SockaddrInet4).Port}).String()
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break // the queue is full now
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr
}

func TestConnectTimeout(t *testing.T) {
	r := newRuntime(t)
	addr := fullBacklog(t)
	start := time.Now()
	err := awaitErr(t, Connect(context.Background(), addr, withRuntime(r), WithConnectTimeout(300*time.Millisecond)))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, future.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestConnectContextDeadline(t *testing.T) {
	r := newRuntime(t)
	addr := fullBacklog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := awaitErr(t, Connect(ctx, addr, withRuntime(r)))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestReadTimeout(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c) // never writes
		}
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r), WithReadTimeout(200*time.Millisecond)))
	err := awaitErr(t, s.ReadN(1))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, future.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if !s.Closed() {
		// the close completes on the loop right after the read fails
		deadline := time.Now().Add(5 * time.Second)
		for !s.Closed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !errors.Is(s.Err(), ErrTimeout) {
		t.Fatalf("close reason = %v, want ErrTimeout", s.Err())
	}
}

func TestIdleTimeoutOnServer(t *testing.T) {
	r := newRuntime(t)
	closed := make(chan error, 1)
	srv := listen(t, r, Handler{OnClose: func(_ *Socket, err error) { closed <- err }}, WithIdleTimeout(200*time.Millisecond))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-closed:
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("close error = %v, want ErrTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("idle socket not closed")
	}
	if b := readAllTimeout(t, c, 5*time.Second); len(b) != 0 {
		t.Fatalf("read %q", b)
	}
}

func TestIdleTimeoutKeptAliveByTraffic(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler(), WithIdleTimeout(time.Second))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1)
	for i := 0; i < 6; i++ { // 6 x 250ms > the idle timeout
		time.Sleep(250 * time.Millisecond)
		c.Write([]byte{'x'})
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}

func TestWriteAfterCloseIsErrClosed(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	s := await(t, Connect(context.Background(), srv.Addr().String(), withRuntime(r)))
	await(t, s.Close())
	err := awaitErr(t, s.Write([]byte("late")))
	if !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	if err := awaitErr(t, s.ReadN(1)); !errors.Is(err, io.EOF) && !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close = %v", err)
	}
}

func TestAbortRejectsPending(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, Handler{})
	s := await(t, Connect(context.Background(), srv.Addr().String(), withRuntime(r)))
	rd := s.ReadN(10)
	s.Abort()
	if err := awaitErr(t, rd); !errors.Is(err, ErrClosed) {
		t.Fatalf("read err = %v, want ErrClosed", err)
	}
}

func TestPeerCloseIsEOF(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("bye"))
			c.Close()
		}
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r)))
	if got := string(await(t, s.ReadN(3))); got != "bye" {
		t.Fatalf("read %q", got)
	}
	if err := awaitErr(t, s.ReadN(1)); !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want io.EOF", err)
	}
}

func TestBadAddresses(t *testing.T) {
	r := newRuntime(t)
	for _, a := range []string{"", "nohostport", "127.0.0.1:99999", "127.0.0.1:x", "unix://"} {
		if err := awaitErr(t, Connect(context.Background(), a, withRuntime(r))); err == nil {
			t.Errorf("Connect(%q) succeeded", a)
		}
	}
	if _, err := Listen("example.invalid:80", Handler{}, withRuntime(r)); err == nil {
		t.Error("Listen on a host name succeeded")
	}
}

func TestConnectLocalhostResolves(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	port := srv.Addr().(*net.TCPAddr).Port
	s := await(t, Connect(context.Background(), net.JoinHostPort("localhost", itoa(port)), withRuntime(r)))
	defer s.Abort()
	await(t, s.WriteString("ping"))
	if got := string(await(t, s.ReadN(4))); got != "ping" {
		t.Fatalf("echo %q", got)
	}
}

func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback on this machine:", err)
	}
	ln.Close()
	r := newRuntime(t)
	srv, err := Listen("[::1]:0", echoHandler(), withRuntime(r))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	s := await(t, Connect(context.Background(), srv.Addr().String(), withRuntime(r)))
	defer s.Abort()
	await(t, s.WriteString("v6"))
	if got := string(await(t, s.ReadN(2))); got != "v6" {
		t.Fatalf("echo %q", got)
	}
}

var _ = os.Getpid
