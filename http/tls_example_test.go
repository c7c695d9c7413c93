package http_test

import (
	"context"
	"crypto/tls"
	"fmt"
	nethttp "net/http"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/http"
	"github.com/goasync/goasync/internal/tlstest"
)

// An HTTPS server and a client that fetches from it, verifying its
// certificate.
func ExampleWithTLS() {
	pki := tlstest.Get(nil) // a test CA; use your certificate and the system roots
	srv, err := http.Listen("127.0.0.1:0", http.HandlerFunc(func(r *nethttp.Request) *future.Future[*http.Response] {
		return http.Reply(http.Text(200, "hello over "+tls.VersionName(r.TLS.Version)))
	}), http.WithTLS(&tls.Config{Certificates: []tls.Certificate{pki.Localhost}}))
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())

	c := &http.Client{TLSClientConfig: &tls.Config{RootCAs: pki.CA.Pool}}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	resp, err := c.Get(ctx, "https://"+srv.Addr().String()+"/").Await(ctx)
	if err != nil {
		panic(err)
	}
	body, _ := http.ReadAll(resp).Await(ctx)
	fmt.Println(resp.StatusCode, string(body), resp.TLS.NegotiatedProtocol)
	// Output: 200 hello over TLS 1.3 http/1.1
}
