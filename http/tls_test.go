package http

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/tlstest"
)

// tlsInfo answers with the request's TLS state.
var tlsInfo = HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
	if r.TLS == nil {
		return future.Resolved(Text(500, "no TLS state"))
	}
	return future.Resolved(Text(200, fmt.Sprintf("%s %s %s", tls.VersionName(r.TLS.Version), r.TLS.NegotiatedProtocol, r.URL.Path)))
})

func startTLSServer(t *testing.T, h Handler) (*Server, string) {
	t.Helper()
	p := tlstest.Get(t)
	s := startServer(t, h, WithTLS(tlstest.ServerConfig(p.Localhost, 0, 0)))
	return s, "https://" + s.Addr().String()
}

// net/http's client against our HTTPS server: ALPN http/1.1, Request.TLS,
// keep-alive over one TLS connection.
func TestHTTPSServerGoClient(t *testing.T) {
	p := tlstest.Get(t)
	_, url := startTLSServer(t, tlsInfo)
	// The client offers h2 and http/1.1; the server picks http/1.1.
	tr := &nethttp.Transport{TLSClientConfig: p.ClientConfig("", 0, 0), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &nethttp.Client{Transport: tr, Timeout: 30 * time.Second}
	reused := 0
	for i := range 5 {
		trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
			if ci.Reused {
				reused++
			}
		}}
		req, _ := nethttp.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", fmt.Sprintf("%s/r%d", url, i), nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("TLS 1.3 http/1.1 /r%d", i); string(b) != want || resp.TLS == nil {
			t.Fatalf("%q, want %q", b, want)
		}
	}
	if reused != 4 {
		t.Fatalf("%d of 4 requests reused the connection", reused)
	}
}

// Our client against net/http's TLS server, and against ours; the pools
// of http and https are apart.
func TestHTTPSClient(t *testing.T) {
	p := tlstest.Get(t)
	gs := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		fmt.Fprintf(w, "go %s %v", r.URL.Path, r.TLS != nil)
	}))
	gs.TLS = tlstest.ServerConfig(p.Localhost, 0, 0)
	gs.StartTLS()
	defer gs.Close()
	_, ours := startTLSServer(t, tlsInfo)

	c := &Client{TLSClientConfig: p.ClientConfig("", 0, 0)}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var states []*tls.ConnectionState
	for _, tc := range []struct{ url, want string }{
		{gs.URL + "/a", "go /a true"},
		{gs.URL + "/b", "go /b true"},
		{ours + "/c", "TLS 1.3 http/1.1 /c"},
	} {
		resp, err := c.Get(ctx, tc.url).Await(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != tc.want || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "http/1.1" ||
			!resp.TLS.HandshakeComplete || len(resp.TLS.PeerCertificates) == 0 {
			t.Fatalf("%s: %q %v", tc.url, b, err)
		}
		states = append(states, resp.TLS)
	}
	// The responses of one connection share its state (as net/http's
	// Transport does); another connection has its own.
	if states[0] != states[1] || states[1] == states[2] {
		t.Fatalf("connection states: /a %p, /b %p (same connection), /c %p (another)", states[0], states[1], states[2])
	}
	host := strings.TrimPrefix(gs.URL, "https://")
	if n := c.IdleConnections("https://" + host); n != 1 {
		t.Fatalf("%d idle https connections, want 1 (reused)", n)
	}
	if n := c.IdleConnections(host); n != 0 {
		t.Fatalf("%d idle http connections for an https host", n)
	}
	// Verification is on: a client that does not trust the CA fails with
	// the standard error.
	_, err := (&Client{}).Get(ctx, ours+"/").Await(ctx)
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Fatalf("untrusted: %v", err)
	}
}

// Redirects across schemes: http to https is followed; https to http is
// followed without the credentials.
func TestHTTPSRedirects(t *testing.T) {
	p := tlstest.Get(t)
	auth := make(chan string, 4)
	var secure string
	plain := startServer(t, HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		if r.URL.Path == "/up" {
			resp := Text(301, "")
			resp.Header = nethttp.Header{"Location": {secure + "/landed"}}
			return future.Resolved(resp)
		}
		auth <- r.Header.Get("Authorization")
		return future.Resolved(Text(200, "plain"))
	}))
	plainURL := baseURL(plain)
	_, secure = startTLSServer(t, HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		if r.URL.Path == "/down" {
			resp := Text(302, "")
			resp.Header = nethttp.Header{"Location": {plainURL + "/landed"}}
			return future.Resolved(resp)
		}
		auth <- r.Header.Get("Authorization")
		return future.Resolved(Text(200, "secure"))
	}))
	c := &Client{TLSClientConfig: p.ClientConfig("", 0, 0)}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	req, _ := nethttp.NewRequest("GET", secure+"/down", nil)
	req.Header.Set("Authorization", "Bearer x")
	resp, err := c.Do(ctx, req).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain" || <-auth != "" {
		t.Fatalf("https to http: %q, or the credentials went along", b)
	}

	resp, err = c.Get(ctx, plainURL+"/up").Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "secure" || resp.TLS == nil {
		t.Fatalf("http to https: %q", b)
	}
	<-auth
}

// curl --cacert against our HTTPS server.
func TestHTTPSCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skipf("curl is not installed: %v", err)
	}
	p := tlstest.Get(t)
	caFile, _, _ := p.Files(t, t.TempDir())
	s, _ := startTLSServer(t, tlsInfo)
	port := s.Addr().String()[strings.LastIndex(s.Addr().String(), ":")+1:]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "--cacert", caFile,
		"--resolve", "localhost:"+port+":127.0.0.1",
		"https://localhost:"+port+"/one", "https://localhost:"+port+"/two").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	if string(out) != "TLS 1.3 http/1.1 /oneTLS 1.3 http/1.1 /two" {
		t.Fatalf("%q", out)
	}
}
