package main

import (
	"io"
	nethttp "net/http"
	"strings"
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
	"github.com/goasync/goasync/internal/tlstest"
)

// -tls-cert/-tls-key serve the chat over HTTPS (checked with net/http's
// client trusting the test CA), and say so in the banner.
func TestTLSFlags(t *testing.T) {
	p := tlstest.Get(t)
	_, certFile, keyFile := p.Files(t, t.TempDir())
	srv := extest.StartServer(t, run, "-q", "-tls-cert", certFile, "-tls-key", keyFile)
	c := &nethttp.Client{Transport: &nethttp.Transport{TLSClientConfig: p.ClientConfig("localhost", 0, 0)}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://127.0.0.1:" + srv.Port + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !strings.Contains(string(b), "new EventSource(") {
		t.Fatalf("GET /: %d %.100s", resp.StatusCode, b)
	}
	if !strings.Contains(srv.Out.String(), "open https://localhost:"+srv.Port+"/") {
		t.Fatalf("banner: %q", srv.Out.String())
	}
	// A bad pair is refused at start.
	if _, _, err := extest.Run(t, run, "", "-tls-cert", certFile, "-tls-key", certFile); err == nil {
		t.Fatal("a certificate as its own key was accepted")
	}
}
