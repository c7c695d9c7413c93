package tlsrec

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// 5,000 server handshakes that received half a ClientHello and nothing
// more hold no goroutine and little memory, and a real handshake still
// completes meanwhile. Closing them rejects every handshake.
func TestUnfinishedHandshakesCostNoWorker(t *testing.T) {
	const n = 5000
	p := testPKI(t)
	scfg := serverConfig(p.Localhost, 0, 0)
	hello := clientHello(t, tls.VersionTLS13)
	half := hello[:len(hello)/2]

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	engines := make([]*Engine, n)
	for i := range engines {
		e := Server(scfg, Options{HandshakeTimeout: time.Minute})
		e.Handshake(context.Background())
		e.Receive(nil, half)
		engines[i] = e
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perConn := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d stalled handshakes: %d goroutines more, %d bytes of heap each", n, runtime.NumGoroutine()-goroutines, perConn)
	if g := runtime.NumGoroutine() - goroutines; g > 10 {
		t.Fatalf("%d goroutines for stalled handshakes", g)
	}
	if perConn > 32<<10 {
		t.Fatalf("%d bytes per stalled handshake", perConn)
	}

	mp := newMemPair(t, tls.VersionTLS13) // others are still served
	mp.close()

	for _, e := range engines {
		e.Close()
		if _, err, ok := e.Handshake(context.Background()).Result(); !ok || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("handshake after Close: %v %v", ok, err)
		}
	}
	runtime.KeepAlive(engines)
}

// Servers that received a whole ClientHello, answered it and wait for a
// client that never sends its next flight give their admission slot back:
// with 2 slots, 6 such stalled handshakes do not hold up a real one (on
// the blocking-work pool each held a worker until its timeout). Closing
// them ends their goroutines, and no slot stays taken.
func TestStalledAfterHelloHoldsNoSlot(t *testing.T) {
	saved := handshakes.max
	handshakes.mu.Lock()
	handshakes.max = 2
	handshakes.mu.Unlock()
	defer func() {
		handshakes.mu.Lock()
		handshakes.max = saved
		handshakes.mu.Unlock()
	}()
	p := testPKI(t)
	for _, v := range versions {
		scfg := serverConfig(p.Localhost, v.v, v.v)
		hello := clientHello(t, v.v)
		stalled := make([]*Engine, 6)
		for i := range stalled {
			e := Server(scfg, Options{HandshakeTimeout: time.Minute})
			e.Handshake(context.Background())
			if _, err := e.Receive(nil, hello); err != nil {
				t.Fatal(err)
			}
			stalled[i] = e
		}
		// Each answers its hello (the server's flight), then waits.
		deadline := time.Now().Add(10 * time.Second)
		for _, e := range stalled {
			for e.Pending() == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s: a stalled server never answered its hello", v.name)
				}
				time.Sleep(time.Millisecond)
			}
		}
		start := time.Now()
		newMemPair(t, v.v).close() // fails after 20 s if no slot comes free
		t.Logf("%s: a handshake behind %d stalled ones (2 slots) took %v", v.name, len(stalled), time.Since(start))
		for _, e := range stalled {
			e.Close()
			if _, err, ok := waitResult(e.Handshake(context.Background())); !ok || !errors.Is(err, net.ErrClosed) {
				t.Fatalf("%s: stalled handshake after Close: %v %v", v.name, ok, err)
			}
		}
	}
	handshakes.mu.Lock()
	active, queued := handshakes.active, len(handshakes.q)
	handshakes.mu.Unlock()
	if active != 0 || queued != 0 {
		t.Fatalf("%d slots taken, %d queued after every handshake ended", active, queued)
	}
}

func waitResult(f *future.Future[struct{}]) (struct{}, error, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := f.Await(ctx)
	return v, err, ctx.Err() == nil
}
