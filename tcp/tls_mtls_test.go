package tcp

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/tlstest"
)

// Client certificates (mutual TLS), TLS 1.2 and 1.3, against Go peers:
// our server with ClientAuth RequireAndVerifyClientCert accepts a Go
// client with a certificate of its CA (OnConnect sees it verified) and
// turns away one without a certificate or with one of another CA (no
// OnConnect; the client reads an error); our client presents its
// certificate to a Go server that requires one.
func TestTLSClientCertificates(t *testing.T) {
	p := tlstest.Get(t)
	good := p.CA.Leaf(t, time.Time{}, time.Time{}, "client.test")
	foreign := p.OtherCA.Leaf(t, time.Time{}, time.Time{}, "client.test")
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		scfg := tlstest.ServerConfig(p.Localhost, v, v)
		scfg.ClientAuth = tls.RequireAndVerifyClientCert
		scfg.ClientCAs = p.CA.Pool

		// Our server, Go clients.
		var connects atomic.Int32
		peers := make(chan tls.ConnectionState, 4)
		srv := tlsListen(t, scfg, Handler{
			OnConnect: func(s *Socket) {
				connects.Add(1)
				peers <- s.ConnectionState()
			},
			OnData: func(s *Socket, data []byte) { s.Write(data) },
		}, WithHandshakeTimeout(5*time.Second))
		dial := func(certs ...tls.Certificate) (*tls.Conn, error) {
			ccfg := p.ClientConfig("localhost", v, v)
			ccfg.Certificates = certs
			c, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			tc := tls.Client(c, ccfg)
			t.Cleanup(func() { tc.Close() })
			if err := tc.Handshake(); err != nil {
				return tc, err
			}
			// In TLS 1.3 the server's verdict on the client's
			// certificate comes after the client's handshake: a round
			// trip shows it.
			if _, err := tc.Write([]byte("ping\n")); err != nil {
				return tc, err
			}
			line, err := bufio.NewReader(tc).ReadString('\n')
			if err == nil && line != "ping\n" {
				t.Fatalf("%x: echo %q", v, line)
			}
			return tc, err
		}

		if _, err := dial(good); err != nil {
			t.Fatalf("%x: client with a certificate: %v", v, err)
		}
		st := <-peers
		if len(st.PeerCertificates) != 1 || st.PeerCertificates[0].Subject.CommonName != "client.test" || len(st.VerifiedChains) == 0 {
			t.Fatalf("%x: server sees peer certificates %v, verified chains %d", v, st.PeerCertificates, len(st.VerifiedChains))
		}
		if _, err := dial(); err == nil {
			t.Fatalf("%x: client without a certificate was served", v)
		}
		if _, err := dial(foreign); err == nil {
			t.Fatalf("%x: client with a certificate of another CA was served", v)
		}
		if n := connects.Load(); n != 1 {
			t.Fatalf("%x: OnConnect ran %d times, want 1 (refused clients never reach the handler)", v, n)
		}

		// Our client, a Go server that requires a client certificate.
		seen := make(chan []string, 1)
		addr := goTLSServer(t, scfg, func(c *tls.Conn) {
			if err := c.Handshake(); err != nil {
				seen <- nil
				return
			}
			var names []string
			for _, crt := range c.ConnectionState().PeerCertificates {
				names = append(names, crt.Subject.CommonName)
			}
			seen <- names
			goEcho(c)
		})
		ccfg := p.ClientConfig("localhost", v, v)
		ccfg.Certificates = []tls.Certificate{good}
		s, err := tlsAwait(t, Connect(context.Background(), addr, WithTLS(ccfg)))
		if err != nil {
			t.Fatalf("%x: our client with a certificate: %v", v, err)
		}
		s.WriteString("hi\n")
		if line, err := tlsAwait(t, s.ReadLine()); err != nil || string(line) != "hi" {
			t.Fatalf("%x: %q %v", v, line, err)
		}
		if names := <-seen; len(names) != 1 || names[0] != "client.test" {
			t.Fatalf("%x: Go server saw client certificates %v", v, names)
		}
		s.Close()
	}
}
