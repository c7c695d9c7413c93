package tlsrec

import (
	"bytes"
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"
)

var (
	fuzzPairsOnce sync.Once
	fuzzPairs     []*memPair
)

// FuzzReceiveSplits encrypts a message derived from the input and feeds
// the records to the peer engine in splits chosen by the input (1 byte to
// whole), both directions, TLS 1.2 and 1.3: the plaintext must come out
// whole and in order, with no error.
func FuzzReceiveSplits(f *testing.F) {
	f.Add([]byte("hello"), []byte{1})
	f.Add(bytes.Repeat([]byte("x"), 20000), []byte{7, 200, 1, 13})
	f.Add([]byte{}, []byte{0})
	f.Add(bytes.Repeat([]byte("record"), 6000), []byte{255, 255, 3})
	f.Fuzz(func(t *testing.T, msg, splits []byte) {
		fuzzPairsOnce.Do(func() {
			for _, v := range versions {
				fuzzPairs = append(fuzzPairs, newMemPair(t, v.v))
			}
		})
		for _, mp := range fuzzPairs {
			for _, d := range [][2]*Engine{{mp.s, mp.c}, {mp.c, mp.s}} {
				ct, err := d[0].Encrypt(nil, msg)
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				for i, off := 0, 0; off < len(ct); i++ {
					step := len(ct)
					if len(splits) > 0 {
						// 1..255 bytes, or 256*k bytes for larger splits.
						s := int(splits[i%len(splits)])
						if s == 0 {
							s = len(ct)
						} else if s > 200 {
							s = (s - 200) * 256
						}
						step = s
					}
					end := min(off+step, len(ct))
					if got, err = d[1].Receive(got, ct[off:end]); err != nil {
						t.Fatal(err)
					}
					off = end
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("got %d bytes, want %d", len(got), len(msg))
				}
			}
		}
	})
}

// clientHello returns the first flight of a Go client of version v.
func clientHello(t testing.TB, v uint16) []byte {
	t.Helper()
	e := Client(&tls.Config{ServerName: "localhost", MinVersion: v, MaxVersion: v}, Options{HandshakeTimeout: -1})
	defer e.Close()
	e.Handshake(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for e.Pending() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no ClientHello")
		}
		time.Sleep(100 * time.Microsecond)
	}
	return e.Output(nil)
}

// TestHelloReady: the gate opens exactly when the whole ClientHello is
// there, also when the hello is spread over several records.
func TestHelloReady(t *testing.T) {
	for _, v := range versions {
		hello := clientHello(t, v.v)
		for i := range len(hello) {
			if helloReady(hello[:i]) {
				t.Fatalf("%s: ready after %d of %d bytes", v.name, i, len(hello))
			}
		}
		if !helloReady(hello) {
			t.Fatalf("%s: not ready with the whole hello", v.name)
		}
		// The same message in records of 100 bytes of payload.
		body := hello[recordHeaderLen:]
		var split []byte
		for len(body) > 0 {
			n := min(100, len(body))
			split = append(split, recordTypeHandshake, 3, 1, 0, byte(n))
			split = append(split, body[:n]...)
			body = body[n:]
		}
		for i := range len(split) {
			if helloReady(split[:i]) {
				t.Fatalf("%s split: ready after %d of %d bytes", v.name, i, len(split))
			}
		}
		if !helloReady(split) {
			t.Fatalf("%s split: not ready", v.name)
		}
	}
	for _, garbage := range []string{"GET / HTTP/1.1\r\n", "\x16\x03\x01\xff\xff", "\x16\x03\x01\x00\x04\x02\x00\x00\x00"} {
		if !helloReady([]byte(garbage)) {
			t.Errorf("%q: not ready (crypto/tls should reject it at once)", garbage)
		}
	}
}

// FuzzHelloReady: the gate never panics and is monotone: once open for a
// prefix, it stays open for every longer input.
func FuzzHelloReady(f *testing.F) {
	f.Add(clientHello(f, tls.VersionTLS13))
	f.Add(clientHello(f, tls.VersionTLS12))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Add([]byte{0x16, 3, 1, 0, 4, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		open := false
		for i := 0; i <= len(data); i++ {
			r := helloReady(data[:i])
			if open && !r {
				t.Fatalf("open at a shorter prefix, closed at %d", i)
			}
			open = r
		}
	})
}
