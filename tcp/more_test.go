package tcp

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/future"
)

// swapResolve replaces the resolve hook for one test: fn answers for both
// families, and each lookup keeps the addresses of its own.
func swapResolve(t *testing.T, fn func(ctx context.Context, host string) *future.Future[[]netip.Addr]) {
	old := resolve
	resolve = func(ctx context.Context, host string, fam dns.Family, _ ...dns.Option) *future.Future[[]netip.Addr] {
		return future.Then(fn(ctx, host), func(all []netip.Addr) ([]netip.Addr, error) {
			var out []netip.Addr
			for _, a := range all {
				if (fam == dns.FamilyV4) == (a.Is4() || a.Is4In6()) {
					out = append(out, a)
				}
			}
			return out, nil
		})
	}
	t.Cleanup(func() { resolve = old })
}

func TestConnectDNSFailureIsErrDNS(t *testing.T) {
	r := newRuntime(t)
	swapResolve(t, func(context.Context, string) *future.Future[[]netip.Addr] {
		return future.Rejected[[]netip.Addr](&net.DNSError{Err: "no such host", Name: "nowhere.test", IsNotFound: true})
	})
	err := awaitErr(t, Connect(context.Background(), "nowhere.test:80", withRuntime(r)))
	var de *net.DNSError
	if !errors.Is(err, ErrDNS) || !errors.As(err, &de) {
		t.Fatalf("err = %v, want ErrDNS wrapping the *net.DNSError", err)
	}
}

// Two addresses, only one listening: Happy Eyeballs ends on the one that
// answers.
func TestConnectTriesEveryAddress(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	port := srv.Addr().(*net.TCPAddr).Port
	dead, _ := net.Listen("tcp", "127.0.0.2:0")
	deadIP := netip.MustParseAddr("127.0.0.2")
	if dead != nil {
		dead.Close()
	}
	swapResolve(t, func(context.Context, string) *future.Future[[]netip.Addr] {
		return future.Resolved([]netip.Addr{deadIP, netip.MustParseAddr("127.0.0.1")})
	})
	s := await(t, Connect(context.Background(), net.JoinHostPort("twohomed.test", itoa(port)), withRuntime(r)))
	defer s.Abort()
	if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.1" {
		t.Fatalf("connected to %s", got)
	}
}

func TestRuntimeShutdownSettlesSocketFutures(t *testing.T) {
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
	defer peer.Close()
	rd := s.ReadN(1)
	wr := s.Write(make([]byte, 32<<20)) // the peer does not read: it waits
	wb := s.Writable()
	cl := s.Close()
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*future.Future[struct{}]{"write": wr, "writable": wb, "close": cl} {
		if err := awaitErr(t, f); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after shutdown: %v, want ErrClosed", name, err)
		}
	}
	if err := awaitErr(t, rd); !errors.Is(err, ErrClosed) {
		t.Errorf("read after shutdown: %v, want ErrClosed", err)
	}
	if err := awaitErr(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r))); !errors.Is(err, ErrClosed) {
		t.Errorf("connect after shutdown: %v", err)
	}
}

func TestWriteTimeout(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r), WithWriteTimeout(300*time.Millisecond)))
	peer := <-accepted
	defer peer.Close() // never reads
	err := awaitErr(t, s.Write(make([]byte, 32<<20)))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

// Writes from many goroutines at once: each write stays contiguous and
// every byte arrives.
func TestConcurrentWriters(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	got := make(chan [32]byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Each record is 1 KiB of one byte value; check contiguity.
		h := sha256.New()
		buf := make([]byte, 1024)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				break
			}
			for _, b := range buf {
				if b != buf[0] {
					got <- [32]byte{}
					return
				}
			}
			h.Write(buf[:1])
		}
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		got <- sum
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r)))
	const writers, each = 8, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fs []*future.Future[struct{}]
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rec := make([]byte, 1024)
			for i := range rec {
				rec[i] = byte(w)
			}
			for i := 0; i < each; i++ {
				f := s.Write(rec)
				mu.Lock()
				fs = append(fs, f)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	await(t, future.All(fs...))
	await(t, s.Close())
	sum := <-got
	if sum == ([32]byte{}) {
		t.Fatal("a write was split by another")
	}
	if s.BytesWritten() != writers*each*1024 {
		t.Fatalf("wrote %d", s.BytesWritten())
	}
}

func TestListenOnBusyPortFails(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t) // Go's listener does not set SO_REUSEPORT
	if _, err := Listen(ln.Addr().String(), Handler{}, withRuntime(r)); err == nil {
		t.Fatal("Listen on a busy port succeeded")
	}
}

func TestServerCloseOnLoopFailsFast(t *testing.T) {
	r := newRuntime(t)
	res := make(chan error, 1)
	var sp atomic.Pointer[Server]
	srv := listen(t, r, Handler{OnConnect: func(*Socket) { res <- sp.Load().Close(context.Background()) }})
	sp.Store(srv)
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-res:
		if !errors.Is(err, future.ErrAwaitOnLoop) {
			t.Fatalf("Close on a loop = %v, want ErrAwaitOnLoop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close on a loop blocked")
	}
}

// A name whose AAAA answer does not come connects over IPv4 about 50ms
// after the A answer (RFC 8305's resolution delay), without waiting for it.
func TestConnectDoesNotWaitForSlowAAAA(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	port := srv.Addr().(*net.TCPAddr).Port
	old := resolve
	aaaa := future.New[[]netip.Addr]() // answered only when the test ends
	resolve = func(ctx context.Context, host string, fam dns.Family, _ ...dns.Option) *future.Future[[]netip.Addr] {
		if fam == dns.FamilyV4 {
			return future.Resolved([]netip.Addr{netip.MustParseAddr("127.0.0.1")})
		}
		return aaaa.Future()
	}
	t.Cleanup(func() {
		resolve = old
		aaaa.Resolve([]netip.Addr{netip.IPv6Loopback()})
	})
	start := time.Now()
	s := await(t, Connect(context.Background(), net.JoinHostPort("slowaaaa.test", itoa(port)), withRuntime(r)))
	defer s.Abort()
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("connected after %v: Connect waited for the AAAA answer", el)
	}
	if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.1" {
		t.Fatalf("connected to %s", got)
	}
}
