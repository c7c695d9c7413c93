package tcp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// relayProxy starts a goasync server that connects every client to
// backend and relays the two with Relay; each relay's outcome goes to the
// returned channel.
func relayProxy(t *testing.T, backend string, opts ...Option) (string, chan error, chan Relayed) {
	t.Helper()
	r := newRuntime(t)
	errs, moved := make(chan error, 2000), make(chan Relayed, 2000)
	var lopts []ListenOption
	for _, o := range opts {
		lopts = append(lopts, o)
	}
	srv := listen(t, r, Handler{OnConnect: func(in *Socket) {
		in.Pause() // hold the client's bytes until the backend is there
		dopts := []DialOption{withRuntime(r)}
		for _, o := range opts {
			dopts = append(dopts, o)
		}
		Connect(context.Background(), backend, dopts...).
			OnComplete(func(out *Socket, err error) {
				if err != nil {
					in.Abort()
					errs <- err
					return
				}
				Relay(in, out).OnComplete(func(m Relayed, err error) {
					if err != nil {
						errs <- err
						return
					}
					moved <- m
				})
			})
	}}, lopts...)
	return srv.Addr().String(), errs, moved
}

// goBackend is an independent server on Go's net running serve per
// connection.
func goBackend(t *testing.T, serve func(c *net.TCPConn)) string {
	t.Helper()
	ln := goListener(t)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				serve(c.(*net.TCPConn))
			}()
		}
	}()
	return ln.Addr().String()
}

// relayMoved waits for one relay's outcome: it must have moved size bytes
// each way.
func relayMoved(t *testing.T, errs chan error, moved chan Relayed, size int64) {
	t.Helper()
	select {
	case m := <-moved:
		if m.AToB != size || m.BToA != size {
			t.Fatalf("relay moved %+v", m)
		}
	case err := <-errs:
		t.Fatalf("relay: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("relay future did not settle")
	}
}

func hashAll(r io.Reader) ([32]byte, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return [32]byte(h.Sum(nil)), n, err
}

// 20 MiB up, the uploader half-closes first, then 20 MiB down to a slow
// reader, through a small buffer bound: every byte arrives (hash-checked
// on both ends) and the relay reports what it moved.
func TestRelayUploadHalfCloseSlowDownload(t *testing.T) {
	const size = 20 << 20
	up, upSum := randomStream(t, size)
	down, downSum := randomStream(t, size)
	gotUp := make(chan [32]byte, 1)
	backend := goBackend(t, func(c *net.TCPConn) {
		sum, _, err := hashAll(c)
		if err != nil {
			t.Errorf("backend read: %v", err)
		}
		gotUp <- sum
		c.Write(down)
	})
	addr, errs, moved := relayProxy(t, backend, WithMaxBuffered(256<<10))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	c.(*net.TCPConn).SetReadBuffer(128 << 10)
	if _, err := c.Write(up); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
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
			t.Fatalf("download after %d bytes: %v", n, err)
		}
		if n%(1<<20) < m {
			time.Sleep(10 * time.Millisecond) // slow reader
		}
	}
	if n != size || [32]byte(h.Sum(nil)) != downSum {
		t.Fatalf("download: %d of %d bytes, hash match %v", n, size, [32]byte(h.Sum(nil)) == downSum)
	}
	if <-gotUp != upSum {
		t.Fatal("upload differs at the backend")
	}
	relayMoved(t, errs, moved, size)
}

// 20 MiB each way at once (the backend echoes), hash-checked.
func TestRelayFullDuplex(t *testing.T) {
	const size = 20 << 20
	out, sum := randomStream(t, size)
	backend := goBackend(t, func(c *net.TCPConn) {
		io.Copy(c, c)
		c.CloseWrite()
	})
	addr, errs, moved := relayProxy(t, backend)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	go func() {
		c.Write(out)
		c.(*net.TCPConn).CloseWrite()
	}()
	got, n, err := hashAll(c)
	if err != nil || n != size || got != sum {
		t.Fatalf("echo through the relay: %d of %d bytes, %v, hash match %v", n, size, err, got == sum)
	}
	relayMoved(t, errs, moved, size)
}

// A backend that resets mid-stream: the client is reset too (never a
// clean EOF after a cut), and the relay rejects naming the side and the
// reset.
func TestRelayPeerResetResetsTheOtherSide(t *testing.T) {
	backend := goBackend(t, func(c *net.TCPConn) {
		// Wait for the client's byte: both connects have finished then.
		// (Resetting at once can beat a dialer to its SO_ERROR check, and
		// the connect itself then reports ECONNRESET, with Go's net as
		// with the loops.)
		io.ReadFull(c, make([]byte, 1))
		c.Write(make([]byte, 1<<20))
		c.SetLinger(0)
	})
	addr, errs, moved := relayProxy(t, backend)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{1})
	c.SetDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read %d bytes then %v, want ECONNRESET", n, err)
	}
	select {
	case err := <-errs:
		var re *RelayError
		if !errors.As(err, &re) || re.Side != "b" || !errors.Is(err, ErrReset) {
			t.Fatalf("relay error %v", err)
		}
	case m := <-moved:
		t.Fatalf("relay succeeded after a reset: %+v", m)
	case <-time.After(20 * time.Second):
		t.Fatal("relay future did not settle")
	}
}

// Cancelling the relay's future aborts both sockets.
func TestRelayCancelAbortsBoth(t *testing.T) {
	a, pa := connectedPair(t)
	b, pb := connectedPair(t)
	f := Relay(a, b)
	pa.Write([]byte("ping"))
	pb.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(pb, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("relayed %q %v", buf, err)
	}
	f.Cancel(nil)
	if err := awaitErr(t, f); !errors.Is(err, future.ErrCanceled) {
		t.Fatalf("cancelled relay: %v", err)
	}
	for _, p := range []net.Conn{pa, pb} {
		p.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := p.Read(buf); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("peer after cancel: %v, want ECONNRESET", err)
		}
	}
}

// 1,000 relays at once, each carrying 64 KiB up and back, hash-checked.
func TestRelayThousandConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 1,000 concurrent relays skipped")
	}
	const conns, size = 1000, 64 << 10
	backend := goBackend(t, func(c *net.TCPConn) {
		io.Copy(c, c)
		c.CloseWrite()
	})
	addr, errs, moved := relayProxy(t, backend)
	var wg sync.WaitGroup
	fail := make(chan error, conns)
	sem := make(chan struct{}, 250) // bound connects in flight (the listen backlog)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", addr, 20*time.Second)
			if err != nil {
				fail <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			out := make([]byte, size)
			for j := range out {
				out[j] = byte(i + j)
			}
			go func() {
				c.Write(out)
				c.(*net.TCPConn).CloseWrite()
			}()
			got, n, err := hashAll(c)
			if err != nil || n != size || got != sha256.Sum256(out) {
				fail <- fmt.Errorf("conn %d: %d bytes, %v, hash match %v", i, n, err, got == sha256.Sum256(out))
			}
		}()
	}
	wg.Wait()
	close(fail)
	for err := range fail {
		t.Fatal(err)
	}
	for range conns {
		relayMoved(t, errs, moved, size)
	}
}
