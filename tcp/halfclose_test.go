package tcp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// (a) IOLib ex5b: our client writes 8 MiB, half-closes, and still receives
// every byte of the echo before EOF, from our echo server.
func TestHalfCloseClientGetsWholeEcho(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	const n = 8 << 20
	payload := make([]byte, n)
	rand.Read(payload)

	got := make(chan []byte, 1)
	var buf bytes.Buffer
	h := Handler{
		OnData:  func(s *Socket, d []byte) { buf.Write(d) },
		OnClose: func(s *Socket, err error) { got <- buf.Bytes() },
	}
	s := await(t, Connect(context.Background(), srv.Addr().String(), withRuntime(r), WithHandler(h)))
	for off := 0; off < n; off += 256 << 10 {
		s.Write(payload[off : off+256<<10])
	}
	await(t, s.CloseWrite())
	select {
	case b := <-got:
		if !bytes.Equal(b, payload) {
			t.Fatalf("echo: got %d bytes, want %d (equal prefix: %v)", len(b), n, bytes.HasPrefix(payload, b))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no close after the echo")
	}
	if err := s.Err(); err != nil {
		t.Fatalf("close error = %v, want nil", err)
	}
}

// (a) with Go's net as the client: writes N bytes, CloseWrite, reads all.
func TestHalfCloseGoClientAgainstOurEcho(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 8 << 20
	payload := make([]byte, n)
	rand.Read(payload)
	// Read concurrently: the echo comes back while we still write.
	res := make(chan []byte, 1)
	go func() { res <- readAllTimeout(t, c, 30*time.Second) }()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	b := <-res
	if sha256.Sum256(b) != sha256.Sum256(payload) {
		t.Fatalf("echo mismatch: %d bytes, want %d", len(b), n)
	}
}

// (b) our server writes 8 MiB then Close(); a slow-reading Go peer gets
// every byte.
func TestGracefulCloseDeliversEverythingToSlowReader(t *testing.T) {
	r := newRuntime(t)
	const n = 8 << 20
	payload := make([]byte, n)
	rand.Read(payload)
	closed := make(chan error, 1)
	srv := listen(t, r, Handler{
		OnConnect: func(s *Socket) {
			s.Write(payload)
			s.Close().OnComplete(func(_ struct{}, err error) { closed <- err })
		},
	})
	c, err := smallBufDial(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(200 * time.Millisecond) // let the server fill the socket buffers
	var got bytes.Buffer
	buf := make([]byte, 32<<10)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for i := 0; ; i++ {
		k, err := c.Read(buf)
		got.Write(buf[:k])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err, got.Len())
		}
		if i%64 == 0 {
			time.Sleep(time.Millisecond) // slow reader
		}
	}
	if !bytes.Equal(got.Bytes(), payload) {
		t.Fatalf("got %d bytes, want %d", got.Len(), n)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close future: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close future did not settle")
	}
}

// (b') the peer half-closes early while our server still has megabytes
// queued: the queued output still reaches the peer (gnet alone would drop
// it on the read EOF).
func TestPeerFINDoesNotDropQueuedOutput(t *testing.T) {
	r := newRuntime(t)
	const n = 8 << 20
	payload := make([]byte, n)
	rand.Read(payload)
	srv := listen(t, r, Handler{
		OnData: func(s *Socket, d []byte) {
			if string(d) == "go" {
				s.Write(payload)
			}
		},
	})
	c, err := smallBufDial(srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("go"))
	time.Sleep(100 * time.Millisecond)
	c.(*net.TCPConn).CloseWrite()
	b := readAllTimeout(t, c, 30*time.Second)
	if !bytes.Equal(b, payload) {
		t.Fatalf("got %d bytes, want %d", len(b), n)
	}
}

// (c) the peer resets: pending futures fail with ErrReset.
func TestPeerResetFailsPendingFutures(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r)))
	peer := <-accepted
	read := s.ReadN(10)
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close() // RST
	err := awaitErr(t, read)
	if !errors.Is(err, ErrReset) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read error = %v, want ErrReset and ECONNRESET", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) {
		t.Fatalf("error %T is not an *OpError", err)
	}
	werr := awaitErr(t, s.Write([]byte("x")))
	if werr == nil {
		t.Fatal("write after reset succeeded")
	}
	if !s.Closed() {
		t.Fatal("socket not closed after reset")
	}
}

// A half-open server (WithHalfOpen) answers after the peer's FIN.
func TestHalfOpenServerAnswersAfterEOF(t *testing.T) {
	r := newRuntime(t)
	var total int
	srv := listen(t, r, Handler{
		OnData: func(s *Socket, d []byte) { total += len(d) },
		OnEOF: func(s *Socket) {
			s.WriteString("got " + itoa(total) + " bytes\n")
			s.Close()
		},
	}, WithHalfOpen(true))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(make([]byte, 100000))
	c.(*net.TCPConn).CloseWrite()
	b := readAllTimeout(t, c, 10*time.Second)
	if string(b) != "got 100000 bytes\n" {
		t.Fatalf("reply %q", b)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// smallBufDial connects with a small receive buffer set before the
// handshake (shrinking it afterwards can stall loopback transfers).
func smallBufDial(addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return d.Dial("tcp", addr)
}
