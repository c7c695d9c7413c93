package http

import (
	"context"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/tcp"
)

// The client resolves with its own Resolver and dials with the caller's
// tcp options (here a source address), against Go's server.
func TestClientResolverAndDialOptions(t *testing.T) {
	from := make(chan string, 4)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		from <- host
		io.WriteString(w, "hello "+r.Host)
	}))
	defer srv.Close()
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1 api.internal.test\n"), 0o644)
	c := &Client{
		Resolver:    dns.NewResolver(dns.WithHostsFile(hosts), dns.WithServers(netip.MustParseAddrPort("127.0.0.1:1")), dns.WithTimeout(time.Second)),
		DialOptions: []tcp.DialOption{tcp.WithLocalAddr("127.0.0.3:0"), tcp.WithKeepAlive(30 * time.Second)},
	}
	defer c.CloseIdleConnections()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, "http://api.internal.test:"+port+"/").Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, err := ReadAll(resp).Await(ctx)
	if err != nil || string(body) != "hello api.internal.test:"+port {
		t.Fatalf("body %q %v", body, err)
	}
	if got := <-from; got != "127.0.0.3" {
		t.Fatalf("server saw the client from %s, want 127.0.0.3", got)
	}
}
