package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/tlstest"
)

// A client that sends its whole ClientHello and then closes: the
// handshake ends at once and frees its pool worker, instead of holding it
// until the handshake timeout.
func TestTLSPeerCloseEndsHandshake(t *testing.T) {
	p := tlstest.Get(t)
	srv := tlsListen(t, tlstest.ServerConfig(p.Localhost, 0, 0), Handler{}, WithHandshakeTimeout(time.Minute))
	hello := clientHelloBytes(t)
	tlsWaitFor(t, func() bool { return runtime.NumGoroutine() < 1000 })
	base := runtime.NumGoroutine()
	for range 20 {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write(hello)
		// Wait for the server's answer: its handshake worker is running.
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 5)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before: handshake workers wait for a peer that left", runtime.NumGoroutine(), base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cutConn passes writes through until cut is set; then it writes half of
// the next write and closes: a TLS record truncated by a FIN.
type cutConn struct {
	net.Conn
	cut bool
}

func (c *cutConn) Write(b []byte) (int, error) {
	if !c.cut {
		return c.Conn.Write(b)
	}
	c.Conn.Write(b[:len(b)/2])
	c.Conn.(*net.TCPConn).CloseWrite()
	return len(b), nil
}

// A FIN inside a record is a truncation, not a clean end: reads fail with
// io.ErrUnexpectedEOF.
func TestTLSTruncatedRecord(t *testing.T) {
	p := tlstest.Get(t)
	ln := goListener(t)
	ready := make(chan *cutConn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		cc := &cutConn{Conn: c}
		tc := tls.Server(cc, tlstest.ServerConfig(p.Localhost, tls.VersionTLS13, 0))
		if tc.Handshake() != nil {
			return
		}
		buf := make([]byte, 1)
		tc.Read(buf) // the client's go-ahead
		cc.cut = true
		tc.Write(make([]byte, 1000))
		ready <- cc
	}()
	s, err := tlsAwait(t, Connect(context.Background(), ln.Addr().String(), WithTLS(p.ClientConfig("localhost", 0, 0))))
	if err != nil {
		t.Fatal(err)
	}
	s.WriteString("x")
	_, err = tlsAwait(t, s.ReadN(1000))
	if cc := <-ready; cc != nil {
		defer cc.Close()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v, want io.ErrUnexpectedEOF", err)
	}
}

// A client that sends its request and half-closes before the server's
// handshake has ended (as HTTP/1.0 clients and scripts do) is served: the
// FIN is delivered after the request, not in its place.
func TestTLSRequestAndFINBeforeHandshakeEnds(t *testing.T) {
	p := tlstest.Get(t)
	scfg := tlstest.ServerConfig(p.Localhost, tls.VersionTLS13, 0)
	scfg.VerifyConnection = func(tls.ConnectionState) error {
		time.Sleep(300 * time.Millisecond) // the FIN arrives first
		return nil
	}
	var got []byte
	srv := tlsListen(t, scfg, Handler{
		OnData: func(s *Socket, data []byte) { got = append(got, data...) },
		OnEOF: func(s *Socket) {
			s.Write(append([]byte("got "), got...))
			s.Close()
		},
	}, WithHalfOpen(true))
	c, err := tls.Dial("tcp", srv.Addr().String(), p.ClientConfig("localhost", 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("request"))
	c.CloseWrite()
	c.NetConn().(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, err := io.ReadAll(c)
	if err != nil || string(reply) != "got request" {
		t.Fatalf("%q %v", reply, err)
	}
}
