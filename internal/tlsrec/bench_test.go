package tlsrec

import (
	"context"
	"crypto/tls"
	"testing"
)

// BenchmarkRecord seals a message on one engine and opens it on the other
// (the loop's work per message, no socket).
func BenchmarkRecord(b *testing.B) {
	for _, size := range []int{64, 1024, 16384} {
		b.Run(byteSize(size), func(b *testing.B) {
			mp := newMemPair(b, tls.VersionTLS13)
			defer mp.close()
			msg := make([]byte, size)
			var ct, pt []byte
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if ct, err = mp.s.Encrypt(ct[:0], msg); err != nil {
					b.Fatal(err)
				}
				if pt, err = mp.c.Receive(pt[:0], ct); err != nil || len(pt) != size {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandshake: full TLS 1.3 handshakes (ECDSA P-256 certificate,
// X25519MLKEM768 key exchange) between two engines in memory, each
// handshake on the blocking-work pool.
func BenchmarkHandshake(b *testing.B) {
	p := testPKI(b)
	scfg := serverConfig(p.Localhost, tls.VersionTLS13, tls.VersionTLS13)
	ccfg := p.ClientConfig("localhost", tls.VersionTLS13, tls.VersionTLS13)
	sig := make(chan struct{}, 1)
	opts := Options{OnOutput: func() {
		select {
		case sig <- struct{}{}:
		default:
		}
	}}
	b.ReportAllocs()
	for b.Loop() {
		mp := &memPair{c: Client(ccfg, opts), s: Server(scfg, opts)}
		ch := mp.c.Handshake(context.Background())
		sh := mp.s.Handshake(context.Background())
		for {
			if mp.shuttle(b) {
				continue
			}
			_, cerr, cd := ch.Result()
			_, serr, sd := sh.Result()
			if cd && sd {
				if cerr != nil || serr != nil {
					b.Fatal(cerr, serr)
				}
				break
			}
			select {
			case <-sig:
			case <-ch.Done():
			case <-sh.Done():
			}
		}
		mp.close()
	}
}

func byteSize(n int) string {
	switch {
	case n >= 1024:
		return itoa(n/1024) + "KiB"
	default:
		return itoa(n) + "B"
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
