package tlsrec

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"testing"
)

var versions = []struct {
	name string
	v    uint16
}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}}

// echoPeer serves one Go crypto/tls connection: it echoes until EOF, then
// closes.
func echoPeer(c net.Conn) error {
	defer c.Close()
	_, err := io.Copy(c, c)
	return err
}

// roundTrips writes messages of several sizes and reads each echo back.
func roundTrips(t *testing.T, rw io.ReadWriter) {
	t.Helper()
	for _, n := range []int{1, 7, 100, 4096, 16384, 16385, 100000} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		if _, err := rw.Write(msg); err != nil {
			t.Fatalf("write %d: %v", n, err)
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(rw, got); err != nil {
			t.Fatalf("read %d: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("echo of %d bytes differs", n)
		}
	}
}

func TestInteropEngineClientGoServer(t *testing.T) {
	p := testPKI(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			ours, peer := tcpPair(t)
			scfg := serverConfig(p.Localhost, v.v, v.v)
			scfg.NextProtos = []string{"h2", "echo/1"}
			srv := tls.Server(peer, scfg)
			done := make(chan error, 1)
			go func() { done <- echoPeer(srv) }()

			ccfg := p.ClientConfig("localhost", v.v, v.v)
			ccfg.NextProtos = []string{"echo/1"}
			lc := startLoopConn(t, ours, func(o Options) *Engine { return Client(ccfg, o) })
			defer lc.shutdown()
			if err := lc.handshake(); err != nil {
				t.Fatal(err)
			}
			st := lc.e.State()
			if st.Version != v.v || st.NegotiatedProtocol != "echo/1" || !st.HandshakeComplete ||
				len(st.PeerCertificates) != 1 || st.PeerCertificates[0].DNSNames[0] != "localhost" {
				t.Fatalf("state: version %x alpn %q complete %v certs %d", st.Version, st.NegotiatedProtocol,
					st.HandshakeComplete, len(st.PeerCertificates))
			}
			if tls.CipherSuiteName(st.CipherSuite) != tls.CipherSuiteName(srv.ConnectionState().CipherSuite) {
				t.Fatalf("cipher suites differ")
			}
			roundTrips(t, lc)
			lc.shutdown() // close_notify: the peer's copy ends cleanly
			if err := <-done; err != nil {
				t.Fatalf("peer: %v", err)
			}
		})
	}
}

func TestInteropGoClientEngineServer(t *testing.T) {
	p := testPKI(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			ours, peer := tcpPair(t)
			scfg := serverConfig(p.Localhost, v.v, v.v)
			scfg.NextProtos = []string{"http/1.1"}
			lc := startLoopConn(t, ours, func(o Options) *Engine { return Server(scfg, o) })
			defer lc.shutdown()
			ccfg := p.ClientConfig("localhost", v.v, v.v)
			ccfg.NextProtos = []string{"h2", "http/1.1"}
			cli := tls.Client(peer, ccfg)
			defer cli.Close()
			echoed := make(chan struct{})
			go func() { io.Copy(lc, lc); close(echoed) }() // the engine side echoes
			defer func() { cli.Close(); <-echoed }()
			if err := cli.Handshake(); err != nil {
				t.Fatal(err)
			}
			if err := lc.handshake(); err != nil {
				t.Fatal(err)
			}
			if got := lc.e.State().NegotiatedProtocol; got != "http/1.1" {
				t.Fatalf("ALPN %q", got)
			}
			if cli.ConnectionState().Version != v.v {
				t.Fatalf("version %x", cli.ConnectionState().Version)
			}
			roundTrips(t, cli)
		})
	}
}

// TestFirstDataWithFinished: application data that arrives in the same
// read as the client's Finished is decrypted at once when the handshake
// ends (Drain), without waiting for more input.
func TestFirstDataWithFinished(t *testing.T) {
	p := testPKI(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			ours, peer := tcpPair(t)
			lc := startLoopConn(t, ours, func(o Options) *Engine {
				return Server(serverConfig(p.Localhost, v.v, v.v), o)
			})
			defer lc.shutdown()
			// The Go client's first Write follows its Finished at once;
			// in TLS 1.3 they usually arrive in one read.
			cli := tls.Client(peer, p.ClientConfig("localhost", v.v, v.v))
			defer cli.Close()
			if _, err := cli.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 5)
			if _, err := io.ReadFull(lc, got); err != nil || string(got) != "hello" {
				t.Fatalf("%q %v", got, err)
			}
		})
	}
}

func ExampleClient() {
	// Engines are driven by a goasync socket: received ciphertext goes to
	// Receive, Output is written to the socket, Encrypt seals plaintext.
	e := Client(&tls.Config{ServerName: "example.com"}, Options{})
	fmt.Println(e.Established())
	// Output: false
}
