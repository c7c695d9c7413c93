package tlsrec

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// dialBadServer runs a Go crypto/tls server with cert and returns the
// engine client's handshake error.
func dialBadServer(t *testing.T, cert tls.Certificate, name string) error {
	t.Helper()
	p := testPKI(t)
	ours, peer := tcpPair(t)
	srv := tls.Server(peer, serverConfig(cert, 0, 0))
	done := make(chan struct{})
	go func() { srv.Handshake(); srv.Close(); close(done) }()
	lc := startLoopConn(t, ours, func(o Options) *Engine { return Client(p.ClientConfig(name, 0, 0), o) })
	err := lc.handshake()
	lc.shutdown()
	<-done
	if err == nil {
		t.Fatal("handshake succeeded")
	}
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Fatalf("%v (%T) is not a *tls.CertificateVerificationError", err, err)
	}
	return err
}

func TestRejectUnknownCA(t *testing.T) {
	err := dialBadServer(t, testPKI(t).Untrusted, "localhost")
	var uae x509.UnknownAuthorityError
	if !errors.As(err, &uae) {
		t.Fatalf("%v: not an x509.UnknownAuthorityError", err)
	}
}

func TestRejectWrongHost(t *testing.T) {
	err := dialBadServer(t, testPKI(t).A, "localhost")
	var he x509.HostnameError
	if !errors.As(err, &he) || he.Host != "localhost" {
		t.Fatalf("%v: not an x509.HostnameError for localhost", err)
	}
}

func TestRejectExpired(t *testing.T) {
	err := dialBadServer(t, testPKI(t).Expired, "localhost")
	var cie x509.CertificateInvalidError
	if !errors.As(err, &cie) || cie.Reason != x509.Expired {
		t.Fatalf("%v: not an x509.CertificateInvalidError (Expired)", err)
	}
}

// serveEngine starts an engine server over a fresh loopback pair and
// returns it with the raw client side.
func serveEngine(t *testing.T, timeout time.Duration) (*loopConn, net.Conn) {
	t.Helper()
	ours, peer := tcpPair(t)
	lc := startLoopConn(t, ours, func(o Options) *Engine {
		o.HandshakeTimeout = timeout
		return Server(serverConfig(testPKI(t).Localhost, 0, 0), o)
	})
	t.Cleanup(func() { peer.Close(); lc.shutdown() })
	return lc, peer
}

func TestRejectGarbage(t *testing.T) {
	lc, peer := serveEngine(t, 0)
	peer.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	err := lc.handshake()
	var rhe tls.RecordHeaderError
	if !errors.As(err, &rhe) {
		t.Fatalf("%v (%T): not a tls.RecordHeaderError", err, err)
	}
}

// A client that sends half its ClientHello and closes: the handshake
// fails at once with an EOF, without waiting for the timeout.
func TestStopMidHelloThenClose(t *testing.T) {
	lc, peer := serveEngine(t, time.Minute)
	hello := clientHello(t, tls.VersionTLS13)
	peer.Write(hello[:len(hello)/2])
	time.Sleep(20 * time.Millisecond)
	peer.(*net.TCPConn).CloseWrite()
	start := time.Now()
	err := lc.handshake()
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v, want EOF", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the handshake waited for its timeout")
	}
}

// A client that sends its whole ClientHello and then nothing: the server
// answers, waits, and gives up at the handshake timeout.
func TestStopAfterHello(t *testing.T) {
	lc, peer := serveEngine(t, 500*time.Millisecond)
	peer.Write(clientHello(t, tls.VersionTLS13))
	start := time.Now()
	err := lc.handshake()
	if !errors.Is(err, ErrHandshakeTimeout) || !errors.Is(err, future.ErrTimeout) {
		t.Fatalf("%v, want the handshake timeout", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%v: not a net.Error timeout", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 10*time.Second {
		t.Fatalf("timed out after %v", d)
	}
	// The server did answer the hello.
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(peer, buf); err != nil || buf[0] != recordTypeHandshake {
		t.Fatalf("no ServerHello: %v %x", err, buf)
	}
}

// A ClientHello trickled one byte a second is cut off by the handshake
// timeout.
func TestTrickleBoundedByTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 seconds")
	}
	lc, peer := serveEngine(t, 2500*time.Millisecond)
	hello := clientHello(t, tls.VersionTLS13)
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for _, b := range hello {
			if _, err := peer.Write([]byte{b}); err != nil {
				return
			}
			n++
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	start := time.Now()
	err := lc.handshake()
	elapsed := time.Since(start)
	close(stop)
	n := <-sent
	if !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("%v, want the handshake timeout", err)
	}
	if elapsed < 2*time.Second || elapsed > 15*time.Second || n > 5 {
		t.Fatalf("cut off after %v and %d bytes", elapsed, n)
	}
}

// Hostile servers, seen from an engine client.
func TestClientAgainstGarbageServer(t *testing.T) {
	ours, peer := tcpPair(t)
	defer peer.Close()
	go func() {
		buf := make([]byte, 4096)
		peer.Read(buf)
		peer.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
	}()
	lc := startLoopConn(t, ours, func(o Options) *Engine {
		return Client(testPKI(t).ClientConfig("localhost", 0, 0), o)
	})
	defer lc.shutdown()
	err := lc.handshake()
	var rhe tls.RecordHeaderError
	if !errors.As(err, &rhe) || !strings.HasPrefix(string(rhe.RecordHeader[:]), "HTTP/") {
		t.Fatalf("%v (%T)", err, err)
	}
}

func TestClientAgainstSilentServer(t *testing.T) {
	ours, peer := tcpPair(t)
	defer peer.Close()
	lc := startLoopConn(t, ours, func(o Options) *Engine {
		o.HandshakeTimeout = 300 * time.Millisecond
		return Client(testPKI(t).ClientConfig("localhost", 0, 0), o)
	})
	defer lc.shutdown()
	if err := lc.handshake(); !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("%v, want the handshake timeout", err)
	}
}

// Close during a handshake rejects it with ErrClosed.
func TestCloseDuringHandshake(t *testing.T) {
	lc, peer := serveEngine(t, time.Minute)
	peer.Write(clientHello(t, tls.VersionTLS12))
	time.Sleep(50 * time.Millisecond)
	lc.onLoop(func() { lc.e.Close() })
	if err := lc.handshake(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("%v, want ErrClosed", err)
	}
}
