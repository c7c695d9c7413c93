package tcp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/loop"
)

const bulkSize = 64 << 20

// randomStream is a deterministic-size stream of random bytes with its hash.
func randomStream(t testing.TB, n int) ([]byte, [32]byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b, sha256.Sum256(b)
}

// sendAll writes b through s in 1 MiB chunks, waiting for the low
// watermark in between, then half-closes.
func sendAll(t testing.TB, s *Socket, b []byte) {
	t.Helper()
	for off := 0; off < len(b); off += 1 << 20 {
		s.Write(b[off:min(off+1<<20, len(b))])
		await(t, s.Writable())
	}
	await(t, s.CloseWrite())
}

// hashingHandler hashes everything received and reports it at close.
type hashResult struct {
	sum [32]byte
	n   int
	err error
}

func hashingHandler(done chan<- hashResult) Handler {
	var h hash.Hash = sha256.New()
	n := 0
	return Handler{
		OnData: func(_ *Socket, d []byte) { h.Write(d); n += len(d) },
		OnClose: func(_ *Socket, err error) {
			var r hashResult
			copy(r.sum[:], h.Sum(nil))
			r.n, r.err = n, err
			done <- r
		},
	}
}

// goPeer serves one connection on ln: it sends its own stream while
// hashing what it receives, and half-closes when done.
func goPeer(t testing.TB, ln net.Listener, out []byte) <-chan hashResult {
	res := make(chan hashResult, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- hashResult{err: err}
			return
		}
		defer c.Close()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Write(out)
			switch cc := c.(type) {
			case *net.TCPConn:
				cc.CloseWrite()
			case *net.UnixConn:
				cc.CloseWrite()
			}
		}()
		h := sha256.New()
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		n, err := io.Copy(h, c)
		wg.Wait()
		var r hashResult
		copy(r.sum[:], h.Sum(nil))
		r.n, r.err = int(n), err
		res <- r
	}()
	return res
}

func bulkBothWays(t *testing.T, r *loop.Runtime, ln net.Listener, addr string) {
	up, upSum := randomStream(t, bulkSize)
	down, downSum := randomStream(t, bulkSize)
	peer := goPeer(t, ln, down)
	mine := make(chan hashResult, 1)
	// Half-open: the peer may finish sending (FIN) while we still send.
	s := await(t, Connect(context.Background(), addr, withRuntime(r), WithHalfOpen(true), WithHandler(hashingHandler(mine))))
	sendAll(t, s, up)
	p := <-peer
	if p.err != nil || p.n != bulkSize || p.sum != upSum {
		t.Fatalf("peer received %d bytes (err %v), hash match %v", p.n, p.err, p.sum == upSum)
	}
	m := <-mine
	if m.err != nil || m.n != bulkSize || m.sum != downSum {
		t.Fatalf("we received %d bytes (err %v), hash match %v", m.n, m.err, m.sum == downSum)
	}
	if s.BytesWritten() != bulkSize || s.BytesRead() != bulkSize {
		t.Fatalf("counters: wrote %d read %d", s.BytesWritten(), s.BytesRead())
	}
}

func TestBulk64MiBClientTCP(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	bulkBothWays(t, r, ln, ln.Addr().String())
}

func TestBulk64MiBClientUnix(t *testing.T) {
	r := newRuntime(t)
	path := filepath.Join(t.TempDir(), "peer.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	bulkBothWays(t, r, ln, "unix://"+path)
}

// goClientThroughEcho pushes 64 MiB through our echo server from Go's net
// client and checks the hash of what comes back.
func goClientThroughEcho(t *testing.T, network, addr string) {
	data, sum := randomStream(t, bulkSize)
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res := make(chan hashResult, 1)
	go func() {
		h := sha256.New()
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		n, err := io.Copy(h, c)
		var r hashResult
		copy(r.sum[:], h.Sum(nil))
		r.n, r.err = int(n), err
		res <- r
	}()
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	switch cc := c.(type) {
	case *net.TCPConn:
		cc.CloseWrite()
	case *net.UnixConn:
		cc.CloseWrite()
	}
	got := <-res
	if got.err != nil || got.n != bulkSize || got.sum != sum {
		t.Fatalf("echo: %d bytes (err %v), hash match %v", got.n, got.err, got.sum == sum)
	}
}

func TestBulk64MiBServerTCP(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	goClientThroughEcho(t, "tcp", srv.Addr().String())
}

func TestBulk64MiBServerUnix(t *testing.T) {
	r := newRuntime(t)
	path := filepath.Join(t.TempDir(), "echo.sock")
	srv, err := Listen("unix://"+path, echoHandler(), withRuntime(r))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	goClientThroughEcho(t, "unix", path)
}
