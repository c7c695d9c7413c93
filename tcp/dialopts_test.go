package tcp

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/dns"
)

// WithResolver: Connect resolves with the given resolver (here its hosts
// file names a host nobody else knows; its only server is a dead loopback
// port, so nothing leaves the machine).
func TestConnectWithResolver(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("hi\n"))
			c.Close()
		}
	}()
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1 only-in-my-hosts.test\n"), 0o644)
	res := dns.NewResolver(dns.WithHostsFile(hosts), dns.WithServers(netip.MustParseAddrPort("127.0.0.1:1")), dns.WithTimeout(time.Second))
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := await(t, Connect(context.Background(), "only-in-my-hosts.test:"+port, withRuntime(r), WithResolver(res)))
	if got := string(await(t, s.ReadLine())); got != "hi" {
		t.Fatalf("read %q", got)
	}
}

// WithLocalAddr: the connection comes from the given address; a bad one,
// or one of the other family, fails the connect with a clear error.
func TestConnectWithLocalAddr(t *testing.T) {
	r := newRuntime(t)
	ln := goListener(t)
	from := make(chan net.Addr, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			from <- c.RemoteAddr()
			c.Close()
		}
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r), WithLocalAddr("127.0.0.2:0")))
	defer s.Close()
	got := (<-from).(*net.TCPAddr)
	if !got.IP.Equal(net.IPv4(127, 0, 0, 2)) {
		t.Fatalf("peer saw us from %v, want 127.0.0.2", got)
	}
	if la := s.LocalAddr().(*net.TCPAddr); !la.IP.Equal(net.IPv4(127, 0, 0, 2)) {
		t.Fatalf("LocalAddr %v", la)
	}
	if err := awaitErr(t, Connect(context.Background(), ln.Addr().String(), withRuntime(r), WithLocalAddr("nonsense"))); err == nil ||
		!strings.Contains(err.Error(), "local address") {
		t.Fatalf("bad local address: %v", err)
	}
	if err := awaitErr(t, Connect(context.Background(), "[::1]:1", withRuntime(r), WithLocalAddr("127.0.0.1:0"))); err == nil ||
		!strings.Contains(err.Error(), "family") {
		t.Fatalf("local address of the other family: %v", err)
	}
}
