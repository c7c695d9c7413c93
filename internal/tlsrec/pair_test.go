package tlsrec

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
)

// memPair is a client and a server engine connected in memory, with no
// socket: the test moves the bytes.
type memPair struct {
	c, s *Engine
}

// newMemPair handshakes a client and a server engine of TLS version v by
// shuttling their output until both handshakes have settled.
func newMemPair(t testing.TB, v uint16) *memPair {
	t.Helper()
	p := testPKI(t)
	mp := &memPair{
		c: Client(p.ClientConfig("localhost", v, v), Options{}),
		s: Server(serverConfig(p.Localhost, v, v), Options{}),
	}
	ch := mp.c.Handshake(context.Background())
	sh := mp.s.Handshake(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for {
		moved := mp.shuttle(t)
		_, cerr, cdone := ch.Result()
		_, serr, sdone := sh.Result()
		if cdone && sdone {
			if cerr != nil || serr != nil {
				t.Fatalf("handshake: client %v, server %v", cerr, serr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("handshake did not finish")
		}
		if !moved {
			time.Sleep(100 * time.Microsecond)
		}
	}
	// Whatever came with the Finished messages (TLS 1.3 session tickets).
	for mp.shuttle(t) {
	}
	for _, e := range []*Engine{mp.c, mp.s} {
		if out, err := e.Drain(nil); err != nil || len(out) > 0 {
			t.Fatalf("drain: %q %v", out, err)
		}
	}
	return mp
}

// shuttle moves pending output each way once; it reports whether any
// bytes moved. Plaintext received here is unexpected.
func (mp *memPair) shuttle(t testing.TB) bool {
	moved := false
	for _, d := range [][2]*Engine{{mp.c, mp.s}, {mp.s, mp.c}} {
		out := d[0].Output(nil)
		if len(out) == 0 {
			continue
		}
		moved = true
		plain, err := d[1].Receive(nil, out)
		if err != nil || len(plain) > 0 {
			t.Fatalf("shuttle: %q %v", plain, err)
		}
	}
	return moved
}

func (mp *memPair) close() {
	mp.c.Close()
	mp.s.Close()
}

var _ = tls.VersionTLS12
