package tlsrec

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net"
	"testing"
)

// stream is a deterministic pseudo-random byte source of n bytes.
func stream(seed uint64, n int64) io.Reader {
	return io.LimitReader(rngReader{rand.NewChaCha8([32]byte{byte(seed)})}, n)
}

type rngReader struct{ r *rand.ChaCha8 }

func (r rngReader) Read(p []byte) (int, error) { return r.r.Read(p) }

func hashOf(r io.Reader) ([]byte, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return h.Sum(nil), n, err
}

// halfCloser is a TLS connection that can send close_notify and go on
// reading.
type halfCloser interface {
	io.ReadWriter
	closeWrite() error
}

type goHalf struct{ *tls.Conn }

func (g goHalf) closeWrite() error {
	if err := g.Conn.CloseWrite(); err != nil {
		return err
	}
	return g.NetConn().(*net.TCPConn).CloseWrite()
}

// exchange sends size bytes each way at once, each side half-closing
// after its last byte, and checks both streams by hash.
func exchange(t *testing.T, a, b halfCloser, size int64) {
	t.Helper()
	type result struct {
		sum []byte
		n   int64
		err error
	}
	send := func(w halfCloser, seed uint64, errc chan<- error) {
		_, err := io.CopyBuffer(w, stream(seed, size), make([]byte, 64<<10))
		if err == nil {
			err = w.closeWrite()
		}
		errc <- err
	}
	recv := func(r io.Reader, out chan<- result) {
		sum, n, err := hashOf(r)
		out <- result{sum, n, err}
	}
	errc := make(chan error, 2)
	res := make(chan result, 2)
	go send(a, 1, errc)
	go send(b, 2, errc)
	go recv(a, res)
	rb := make(chan result, 1)
	go recv(b, rb)
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	want1, _, _ := hashOf(stream(1, size))
	want2, _, _ := hashOf(stream(2, size))
	ga, gb := <-res, <-rb
	if ga.err != nil || gb.err != nil {
		t.Fatalf("receive: %v / %v", ga.err, gb.err)
	}
	if ga.n != size || !bytes.Equal(ga.sum, want2) || gb.n != size || !bytes.Equal(gb.sum, want1) {
		t.Fatalf("streams differ: %d and %d bytes of %d", ga.n, gb.n, size)
	}
}

func (lc *loopConn) asHalf() halfCloser { return lcHalf{lc} }

type lcHalf struct{ *loopConn }

func (l lcHalf) closeWrite() error { return l.loopConn.closeWrite() }

// 64 MiB each way, both at once, hash-checked; each side half-closes with
// close_notify after its last byte and still reads the other's stream.
func TestBulkBothWays(t *testing.T) {
	size := int64(64 << 20)
	if testing.Short() {
		size = 4 << 20
	}
	p := testPKI(t)
	cases := []struct {
		name   string
		v      uint16
		client bool // the engine is the client
	}{{"TLS1.3/engine-client", tls.VersionTLS13, true}, {"TLS1.2/engine-server", tls.VersionTLS12, false}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ours, peer := tcpPair(t)
			var lc *loopConn
			var goSide *tls.Conn
			if c.client {
				goSide = tls.Server(peer, serverConfig(p.Localhost, c.v, c.v))
				lc = startLoopConn(t, ours, func(o Options) *Engine { return Client(p.ClientConfig("localhost", c.v, c.v), o) })
			} else {
				goSide = tls.Client(peer, p.ClientConfig("localhost", c.v, c.v))
				lc = startLoopConn(t, ours, func(o Options) *Engine { return Server(serverConfig(p.Localhost, c.v, c.v), o) })
			}
			defer lc.shutdown()
			defer goSide.Close()
			exchange(t, lc.asHalf(), goHalf{goSide}, size)
		})
	}
}
