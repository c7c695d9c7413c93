package tcp_test

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/goasync/goasync/internal/tlstest"
	"github.com/goasync/goasync/tcp"
)

// A TLS echo server and a client that verifies it: WithTLS on both sides,
// Go's crypto/tls doing the work.
func ExampleWithTLS() {
	pki := tlstest.Get(nil) // a test CA; use your certificate and the system roots
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) { s.Write(data) },
	}, tcp.WithTLS(&tls.Config{Certificates: []tls.Certificate{pki.Localhost}}))
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())

	ctx := context.Background()
	s, err := tcp.Connect(ctx, srv.Addr().String(), tcp.WithTLS(&tls.Config{RootCAs: pki.CA.Pool})).Await(ctx)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.WriteString("hello\n")
	line, err := s.ReadLine().Await(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line), "over", tls.VersionName(s.ConnectionState().Version))
	// Output: hello over TLS 1.3
}

// StartTLS upgrades a plaintext connection, as SMTP's STARTTLS does.
func ExampleSocket_StartTLS() {
	pki := tlstest.Get(nil)
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{OnData: func(s *tcp.Socket, data []byte) {
		if string(data) == "STARTTLS\n" && !s.ConnectionState().HandshakeComplete {
			s.WriteString("go ahead\n")
			s.StartTLS(&tls.Config{Certificates: []tls.Certificate{pki.Localhost}})
			return
		}
		s.Write(data)
	}})
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())

	ctx := context.Background()
	s, err := tcp.Connect(ctx, srv.Addr().String()).Await(ctx)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.WriteString("STARTTLS\n")
	reply, _ := s.ReadLine().Await(ctx)
	if _, err := s.StartTLS(&tls.Config{RootCAs: pki.CA.Pool}).Await(ctx); err != nil {
		panic(err)
	}
	s.WriteString("secret\n")
	echo, _ := s.ReadLine().Await(ctx)
	fmt.Println(string(reply), "/", string(echo), s.ConnectionState().HandshakeComplete)
	// Output: go ahead / secret true
}
