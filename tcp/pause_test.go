package tcp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// collector records what a server socket delivers, safely.
type collector struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	sock chan *Socket
	errc chan error
}

func newCollector() *collector {
	return &collector{sock: make(chan *Socket, 1), errc: make(chan error, 1)}
}

func (c *collector) handler(pause bool, d time.Duration) Handler {
	return Handler{
		OnConnect: func(s *Socket) {
			if pause {
				s.PauseFor(d)
			}
			c.sock <- s
		},
		OnData: func(_ *Socket, b []byte) {
			c.mu.Lock()
			c.buf.Write(b)
			c.mu.Unlock()
		},
		OnClose: func(_ *Socket, err error) { c.errc <- err },
	}
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Len()
}

func (c *collector) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestPauseHoldsDataUntilResume(t *testing.T) {
	r := newRuntime(t)
	col := newCollector()
	srv := listenBuffered(t, r, col.handler(true, 0))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-col.sock
	data := pattern(300 << 10)
	for off := 0; off < len(data); off += 10 << 10 {
		c.Write(data[off : off+10<<10])
	}
	// Every byte reached the socket, none was delivered.
	waitFor(t, "bytes to arrive", func() bool { return s.BytesRead() == int64(len(data)) })
	if n := col.len(); n != 0 {
		t.Fatalf("paused socket delivered %d bytes", n)
	}
	if !s.Paused() {
		t.Fatal("Paused() is false")
	}
	s.Resume()
	waitFor(t, "delivery after resume", func() bool { return col.len() == len(data) })
	if !bytes.Equal(col.bytes(), data) {
		t.Fatal("bytes out of order after resume")
	}
}

func TestPauseBufferBoundClosesWithErrBufferFull(t *testing.T) {
	r := newRuntime(t)
	col := newCollector()
	srv := listenBuffered(t, r, col.handler(true, 0), WithMaxBuffered(64<<10))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-col.sock
	go c.Write(make([]byte, 256<<10))
	select {
	case err := <-col.errc:
		if !errors.Is(err, ErrBufferFull) {
			t.Fatalf("close error = %v, want ErrBufferFull", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("socket not closed past its buffer bound")
	}
	if col.len() != 0 {
		t.Fatalf("paused socket delivered %d bytes", col.len())
	}
}

func TestTimedPauseResumesByItself(t *testing.T) {
	r := newRuntime(t)
	col := newCollector()
	srv := listenBuffered(t, r, col.handler(true, 300*time.Millisecond))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-col.sock
	start := time.Now()
	c.Write([]byte("later"))
	waitFor(t, "bytes to arrive", func() bool { return s.BytesRead() == 5 })
	waitFor(t, "timed resume", func() bool { return col.len() == 5 })
	if time.Since(start) < 250*time.Millisecond {
		t.Fatalf("delivered after %v, before the pause ended", time.Since(start))
	}
	if string(col.bytes()) != "later" || s.Paused() {
		t.Fatalf("got %q paused=%v", col.bytes(), s.Paused())
	}
}

func TestPausedReadsWaitForResume(t *testing.T) {
	r := newRuntime(t)
	col := newCollector()
	srv := listenBuffered(t, r, Handler{OnConnect: func(s *Socket) { s.Pause(); col.sock <- s }})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-col.sock
	rd := s.ReadN(4)
	c.Write([]byte("abcd"))
	waitFor(t, "bytes to arrive", func() bool { return s.BytesRead() == 4 })
	if _, _, ok := rd.Result(); ok {
		t.Fatal("read settled while paused")
	}
	s.Resume()
	if got := string(await(t, rd)); got != "abcd" {
		t.Fatalf("read %q", got)
	}
}

func TestWatermarksAndWritable(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	s := await(t, Connect(t.Context(), ln.Addr().String(), withRuntime(r), WithWatermarks(256<<10, 64<<10)))
	defer s.Abort()
	peer := <-accepted
	defer peer.Close()
	// The peer does not read: writes pile up past the high watermark.
	big := make([]byte, 8<<20)
	w := s.Write(big)
	wr := s.Writable()
	if _, _, ok := wr.Result(); ok {
		t.Fatalf("Writable resolved with %d bytes queued", s.Buffered())
	}
	if _, _, ok := w.Result(); ok {
		t.Fatal("write resolved before the bytes left user space")
	}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := peer.Read(buf); err != nil {
				return
			}
		}
	}()
	await(t, wr)
	await(t, w)
	if s.Buffered() != 0 || s.BytesWritten() != int64(len(big)) {
		t.Fatalf("queued %d, written %d", s.Buffered(), s.BytesWritten())
	}
}

func TestMaxQueuedRejectsWrite(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	release := make(chan struct{})
	defer close(release)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			<-release
			c.Close()
		}
	}()
	s := await(t, Connect(t.Context(), ln.Addr().String(), withRuntime(r), WithMaxQueued(1<<20)))
	defer s.Abort()
	s.Write(make([]byte, 16<<20)) // kernel buffers take part, the rest is queued
	err := awaitErr(t, s.Write(make([]byte, 2<<20)))
	if !errors.Is(err, ErrBufferFull) {
		t.Fatalf("err = %v, want ErrBufferFull", err)
	}
	if s.Closed() {
		t.Fatal("a refused write closed the socket")
	}
}

func TestPeerCloseWhilePausedComesAfterTheData(t *testing.T) {
	r := newRuntime(t)
	col := newCollector()
	srv := listenBuffered(t, r, col.handler(true, 0))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-col.sock
	c.Write([]byte("abc"))
	c.Close()
	waitFor(t, "the close to be held", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.eofDue
	})
	select {
	case err := <-col.errc:
		t.Fatalf("OnClose ran while paused: %v", err)
	default:
	}
	s.Resume()
	select {
	case err := <-col.errc:
		if err != nil {
			t.Fatalf("close error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no close after resume")
	}
	if got := string(col.bytes()); got != "abc" {
		t.Fatalf("delivered %q before the close", got)
	}
}

func TestCloseWhilePausedCompletes(t *testing.T) {
	r := newRuntime(t)
	col := newCollector()
	srv := listenBuffered(t, r, col.handler(true, 0))
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-col.sock
	c.Write([]byte("held"))
	waitFor(t, "bytes to arrive", func() bool { return s.BytesRead() == 4 })
	await(t, s.Close())
	if err := <-col.errc; err != nil {
		t.Fatalf("close error %v", err)
	}
}

// The peer half-closes while our paused server still has output queued:
// the output drains, and the close waits for Resume to deliver the bytes
// that came before the FIN.
func TestPausedDrainAfterPeerFINKeepsHeldBytes(t *testing.T) {
	r := newRuntime(t)
	col := newCollector()
	big := pattern(8 << 20)
	srv := listenBuffered(t, r, Handler{
		OnConnect: func(s *Socket) {
			s.Pause()
			s.Write(big)
			col.sock <- s
		},
		OnData: func(_ *Socket, b []byte) {
			col.mu.Lock()
			col.buf.Write(b)
			col.mu.Unlock()
		},
		OnClose: func(_ *Socket, err error) { col.errc <- err },
	})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-col.sock
	c.Write([]byte("abc"))
	c.(*net.TCPConn).CloseWrite()
	got := readFullConn(t, c, len(big))
	if !bytes.Equal(got, big) {
		t.Fatal("queued output corrupted")
	}
	waitFor(t, "the drained close to be held", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.eofDue && s.queued == 0
	})
	select {
	case err := <-col.errc:
		t.Fatalf("closed while paused: %v", err)
	default:
	}
	s.Resume()
	if err := <-col.errc; err != nil {
		t.Fatalf("close error %v", err)
	}
	if string(col.bytes()) != "abc" {
		t.Fatalf("delivered %q", col.bytes())
	}
	if b := readAllTimeout(t, c, 10*time.Second); len(b) != 0 {
		t.Fatalf("extra %d bytes", len(b))
	}
}

func readFullConn(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	return b
}
