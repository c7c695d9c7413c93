package tlsrec

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"
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
