package tcp

import (
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// pausedServer starts a server whose sockets pause as they connect, hash
// what OnData receives, and report their close.
type pausedServer struct {
	sock   chan *Socket
	got    chan []byte // every OnData chunk, copied
	closed chan error
}

func newPausedServer(t *testing.T, opts ...ListenOption) (*pausedServer, string) {
	t.Helper()
	r := newRuntime(t)
	p := &pausedServer{sock: make(chan *Socket, 1), got: make(chan []byte, 4096), closed: make(chan error, 1)}
	srv := listen(t, r, Handler{
		OnConnect: func(s *Socket) { s.Pause(); p.sock <- s },
		OnData:    func(_ *Socket, d []byte) { p.got <- append([]byte(nil), d...) },
		OnEOF:     func(s *Socket) { s.Close() },
		OnClose:   func(_ *Socket, err error) { p.closed <- err },
	}, opts...)
	return p, srv.Addr().String()
}

// stalled waits until n stops growing for a while (a writer blocked by
// flow control), within a bound.
func stalled(n *atomic.Int64) int64 {
	last, same := int64(-1), 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		v := n.Load()
		if v == last {
			if same++; same >= 4 {
				return v
			}
		} else {
			last, same = v, 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	return n.Load()
}

// TestPauseAppliesFlowControl: a paused socket stops reading, so a peer
// sending far more than the socket's buffer bound is held back by TCP
// flow control instead of the socket failing with ErrBufferFull; after
// Resume every byte arrives, in order.
//
// The same holds after the paused socket half-closed its own side
// (CloseWrite): shutting the write side must not turn reading back on
// (issue 11: the proxy truncated downloads that way).
func TestPauseAppliesFlowControl(t *testing.T) {
	for _, halfClosed := range []bool{false, true} {
		name := "open"
		if halfClosed {
			name = "after CloseWrite"
		}
		t.Run(name, func(t *testing.T) { testPauseAppliesFlowControl(t, halfClosed) })
	}
}

func testPauseAppliesFlowControl(t *testing.T, halfClosed bool) {
	p, addr := newPausedServer(t, WithMaxBuffered(256<<10), WithHalfOpen(true))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-p.sock
	if halfClosed {
		await(t, s.CloseWrite())
	}
	const size = 32 << 20
	out, sum := randomStream(t, size)
	var sent atomic.Int64
	go func() {
		for off := 0; off < size; off += 32 << 10 {
			n, err := c.Write(out[off : off+32<<10])
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		c.(*net.TCPConn).CloseWrite()
	}()
	held := stalled(&sent)
	if held >= size {
		t.Fatalf("the peer sent all %d bytes to a paused socket: nothing held it back", size)
	}
	select {
	case err := <-p.closed:
		t.Fatalf("paused socket closed while the peer was held back: %v", err)
	default:
	}
	if n := s.BytesRead(); n > 256<<10 {
		t.Fatalf("paused socket read %d bytes (peer sent %d)", n, held)
	}
	t.Logf("peer held back after %d bytes; the paused socket had read %d", held, s.BytesRead())
	s.Resume()
	h := sha256.New()
	total := 0
	timeout := time.After(60 * time.Second)
	for total < size {
		select {
		case d := <-p.got:
			h.Write(d)
			total += len(d)
		case err := <-p.closed:
			for len(p.got) > 0 {
				d := <-p.got
				h.Write(d)
				total += len(d)
			}
			if err != nil || total != size {
				t.Fatalf("closed after %d of %d bytes: %v", total, size, err)
			}
		case <-timeout:
			t.Fatalf("only %d of %d bytes after Resume", total, size)
		}
	}
	var got [32]byte
	copy(got[:], h.Sum(nil))
	if got != sum {
		t.Fatal("bytes differ after Resume")
	}
}

// TestFINWhilePausedIsReadOnResume: with reads off, the peer's data and
// FIN stay in the kernel until Resume, then come in order: every byte, then
// the clean close.
func TestFINWhilePausedIsReadOnResume(t *testing.T) {
	p, addr := newPausedServer(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := <-p.sock
	c.Write([]byte("hello, paused world"))
	c.Close()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-p.closed:
		t.Fatalf("closed while paused, before its bytes were delivered: %v", err)
	case d := <-p.got:
		t.Fatalf("OnData while paused: %q", d)
	default:
	}
	s.Resume()
	var got []byte
	for {
		select {
		case d := <-p.got:
			got = append(got, d...)
			continue
		case err := <-p.closed:
			for len(p.got) > 0 {
				got = append(got, <-p.got...)
			}
			if string(got) != "hello, paused world" {
				t.Fatalf("got %q before the close", got)
			}
			if err != nil {
				t.Fatalf("close error %v, want a clean close", err)
			}
			return
		case <-time.After(20 * time.Second):
			t.Fatalf("no close after Resume (got %q)", got)
		}
	}
}

// TestResetWhilePausedIsReported: a reset that arrives while reads are off
// is still reported as a reset, not as a clean close.
func TestResetWhilePausedIsReported(t *testing.T) {
	p, addr := newPausedServer(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	<-p.sock
	c.Write([]byte("about to reset"))
	time.Sleep(50 * time.Millisecond)
	c.(*net.TCPConn).SetLinger(0)
	c.Close() // RST
	select {
	case err := <-p.closed:
		if !errors.Is(err, ErrReset) {
			t.Fatalf("close error %v, want ErrReset", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no close after the peer reset a paused socket")
	}
}

// TestCloseWriteWhilePausedLosesNothing: once this side has shut its
// writing, both directions shut would make the kernel report a hang-up that
// gnet answers by closing without reading, so reads come back on: what the
// peer sends before closing is held and delivered on Resume.
func TestCloseWriteWhilePausedLosesNothing(t *testing.T) {
	p, addr := newPausedServer(t, WithHalfOpen(true))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := <-p.sock
	await(t, s.CloseWrite())
	if _, err := io.ReadAll(c); err != nil { // our FIN reached the peer
		t.Fatal(err)
	}
	c.Write([]byte("sent after the server's half-close"))
	c.Close()
	time.Sleep(200 * time.Millisecond)
	s.Resume()
	var got []byte
	deadline := time.After(20 * time.Second)
	for {
		select {
		case d := <-p.got:
			got = append(got, d...)
		case err := <-p.closed:
			for len(p.got) > 0 {
				got = append(got, <-p.got...)
			}
			if string(got) != "sent after the server's half-close" || err != nil {
				t.Fatalf("got %q, close error %v", got, err)
			}
			return
		case <-deadline:
			t.Fatalf("no close (got %q)", got)
		}
	}
}

// TestPullReaderAppliesFlowControl: a socket without OnData that nobody is
// reading from stops reading once 64 KiB wait, so a peer sending 32 MiB is
// held back by TCP flow control instead of the socket failing with
// ErrBufferFull at its 256 KiB bound; reads asked for later get every byte.
func TestPullReaderAppliesFlowControl(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	const size = 32 << 20
	out, sum := randomStream(t, size)
	var sent atomic.Int64
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for off := 0; off < size; off += 64 << 10 {
			n, err := c.Write(out[off : off+64<<10])
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	s := await(t, Connect(t.Context(), ln.Addr().String(), withRuntime(r), WithMaxBuffered(256<<10)))
	defer s.Abort()
	held := stalled(&sent)
	if held >= size {
		t.Fatalf("the peer sent all %d bytes to a socket nobody read", size)
	}
	if n := s.BytesRead(); n > 256<<10 {
		t.Fatalf("socket read %d bytes nobody asked for", n)
	}
	t.Logf("peer held back after %d bytes; the socket had read %d", held, s.BytesRead())
	h := sha256.New()
	for got := 0; got < size; got += 128 << 10 { // reads within the bound
		b, err := s.ReadN(128 << 10).Await(t.Context())
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		h.Write(b)
	}
	var got [32]byte
	copy(got[:], h.Sum(nil))
	if got != sum {
		t.Fatal("bytes differ")
	}
}
