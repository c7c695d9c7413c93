package tlsrec

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"runtime"
	"testing"
)

// TestTemporaryErrorContract pins the crypto/tls behaviour the engine
// rests on, for the Go release in use (see docs/tls.md):
//
//  1. a read error that is a net.Error with Temporary() true is returned
//     by tls.Conn.Read without being recorded: the partial record stays in
//     the raw input buffer and the next Read completes it;
//  2. any other read error is sticky: it is returned again by every later
//     Read, even once bytes are available.
//
// If a Go upgrade changes either, this test fails and the engine must not
// ship on that release.
func TestTemporaryErrorContract(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			mp := newMemPair(t, v.v)
			defer mp.close()
			msg := bytes.Repeat([]byte("contract "), 100) // one record
			ct, err := mp.s.Encrypt(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64<<10)

			// 1: half a record, then a would-block error, then the rest.
			half := len(ct) / 2
			mp.c.p.feed(ct[:half])
			n, err := mp.c.conn.Read(buf)
			if n != 0 || err != errWouldBlock {
				t.Fatalf("%s: Read over half a record = %d, %v; want 0 and the would-block error itself", runtime.Version(), n, err)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Temporary() {
				t.Fatal("the would-block error is not a temporary net.Error")
			}
			mp.c.p.feed(ct[half:])
			n, err = mp.c.conn.Read(buf)
			if err != nil || !bytes.Equal(buf[:n], msg) {
				t.Fatalf("%s: crypto/tls lost its partial record after a temporary error: %d bytes, %v", runtime.Version(), n, err)
			}

			// 2: a permanent error is sticky.
			permanent := errors.New("permanent transport error")
			mp.c.p.fail(permanent)
			if _, err := mp.c.conn.Read(buf); err != permanent {
				t.Fatalf("Read = %v, want the permanent error", err)
			}
			mp.c.p.mu.Lock()
			mp.c.p.err = nil // the transport recovers, crypto/tls must not
			mp.c.p.mu.Unlock()
			ct, _ = mp.s.Encrypt(nil, []byte("after"))
			mp.c.p.feed(ct)
			if _, err := mp.c.conn.Read(buf); err != permanent {
				t.Fatalf("%s: a non-temporary read error is no longer sticky (Read = %v); the engine's reasoning about crypto/tls no longer holds", runtime.Version(), err)
			}
		})
	}
}

// TestReceiveSplits feeds records 1, 7 and 4096 bytes at a time, several
// records pipelined in one feed, and checks every byte of plaintext.
func TestReceiveSplits(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			mp := newMemPair(t, v.v)
			defer mp.close()
			for _, step := range []int{1, 7, 4096, 1 << 30} {
				var want, ct []byte
				for i := range 20 {
					msg := bytes.Repeat([]byte{byte('a' + i)}, 1+i*1500)
					want = append(want, msg...)
					var err error
					if ct, err = mp.s.Encrypt(ct, msg); err != nil {
						t.Fatal(err)
					}
				}
				var got []byte
				for off := 0; off < len(ct); off += step {
					end := min(off+step, len(ct))
					var err error
					if got, err = mp.c.Receive(got, ct[off:end]); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("step %d: %d bytes of plaintext, want %d", step, len(got), len(want))
				}
			}
		})
	}
}

// TestCloseNotify: Close queues close_notify; the peer reads io.EOF.
// CloseWrite does the same but the closing side can still read.
func TestCloseNotify(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			mp := newMemPair(t, v.v)
			defer mp.close()
			if err := mp.c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if _, err := mp.c.Encrypt(nil, []byte("x")); err == nil {
				t.Fatal("Encrypt after CloseWrite succeeded")
			}
			if _, err := mp.s.Receive(nil, mp.c.Output(nil)); err.Error() != "EOF" {
				t.Fatalf("server read %v, want EOF", err)
			}
			// The half-closed client still reads.
			ct, err := mp.s.Encrypt(nil, []byte("reply"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := mp.c.Receive(nil, ct); err != nil || string(got) != "reply" {
				t.Fatalf("%q %v", got, err)
			}
			if err := mp.s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := mp.c.Receive(nil, mp.s.Output(nil)); err.Error() != "EOF" {
				t.Fatalf("client read %v", err)
			}
			if err := mp.s.Close(); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

var _ = tls.VersionTLS12

// Feed buffers records without decrypting; Drain then decrypts them ahead
// of what Receive brings next.
func TestFeedThenDrain(t *testing.T) {
	mp := newMemPair(t, tls.VersionTLS13)
	defer mp.close()
	a, _ := mp.s.Encrypt(nil, []byte("first "))
	b, _ := mp.s.Encrypt(nil, []byte("second"))
	mp.c.Feed(a[:3])
	mp.c.Feed(a[3:])
	got, err := mp.c.Drain(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = mp.c.Receive(got, b); err != nil || string(got) != "first second" {
		t.Fatalf("%q %v", got, err)
	}
}
