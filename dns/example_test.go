package dns_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	mdns "github.com/miekg/dns"

	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/future"
)

// An IP literal resolves at once, without a query.
func ExampleLookup() {
	addrs, err := dns.Lookup(context.Background(), "2001:db8::1").Await(context.Background())
	fmt.Println(addrs, err)
	// Output: [2001:db8::1] <nil>
}

// A resolver with its own hosts file; names found there need no server.
func ExampleResolver_Lookup() {
	dir, _ := os.MkdirTemp("", "dns-example")
	defer os.RemoveAll(dir)
	hosts := filepath.Join(dir, "hosts")
	_ = os.WriteFile(hosts, []byte("192.0.2.10 app.internal app\n2001:db8::10 app.internal\n"), 0o644)

	r := dns.NewResolver(dns.WithHostsFile(hosts), dns.WithConfig(*dns.DefaultConfig()))
	ctx := context.Background()
	all, _ := r.Lookup(ctx, "app.internal").Await(ctx)
	v4, _ := r.Lookup(ctx, "APP", dns.WithFamily(dns.FamilyV4)).Await(ctx)
	names, _ := r.LookupAddr(ctx, netip.MustParseAddr("192.0.2.10")).Await(ctx)
	fmt.Println(all, v4, names)
	// Output: [192.0.2.10 2001:db8::10] [192.0.2.10] [app.internal. app.]
}

// localhost is never asked of a name server: a hosts file that lists it
// answers alone (here for IPv4 only, as in most containers, so there is no
// IPv6 address), and names under localhost that it does not list are the
// loopback addresses.
func ExampleResolver_Lookup_localhost() {
	dir, _ := os.MkdirTemp("", "dns-example")
	defer os.RemoveAll(dir)
	hosts := filepath.Join(dir, "hosts")
	_ = os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644)

	r := dns.NewResolver(dns.WithHostsFile(hosts), dns.WithConfig(*dns.DefaultConfig()))
	ctx := context.Background()
	all, _ := r.Lookup(ctx, "localhost").Await(ctx)
	_, err := r.Lookup(ctx, "localhost", dns.WithFamily(dns.FamilyV6)).Await(ctx)
	dev, _ := r.Lookup(ctx, "dev.localhost").Await(ctx)
	fmt.Println(all, errors.Is(err, dns.ErrNotFound), dev)
	// Output: [127.0.0.1] true [::1 127.0.0.1]
}

// Chaining a lookup: the addresses of a name served by a DNS server (here
// one started in the example), then a decision on them, without blocking.
func ExampleLookup_server() {
	// A tiny DNS server on a loopback port that knows one name.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(q)
		if q.Question[0].Name == "db.example.test." && q.Question[0].Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR("db.example.test. 60 A 192.0.2.7")
			m.Answer = append(m.Answer, rr)
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	defer srv.Shutdown()

	server := netip.MustParseAddrPort(pc.LocalAddr().String())
	r := dns.NewResolver(dns.WithHostsFile(""), dns.WithConfig(dns.Config{Servers: []netip.AddrPort{server}}))
	ctx := context.Background()

	first := future.Then(r.Lookup(ctx, "db.example.test", dns.WithFamily(dns.FamilyV4)),
		func(addrs []netip.Addr) (netip.Addr, error) { return addrs[0], nil })
	fmt.Println(first.Await(ctx))

	_, err := r.Lookup(ctx, "nope.example.test", dns.WithFamily(dns.FamilyV4)).Await(ctx)
	var de *net.DNSError
	fmt.Println(errors.Is(err, dns.ErrNotFound), errors.As(err, &de) && de.IsNotFound)
	// Output:
	// 192.0.2.7 <nil>
	// true true
}

// DialOrder interleaves the families, IPv6 first (RFC 8305 section 4).
func ExampleDialOrder() {
	addrs := []netip.Addr{
		netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"),
	}
	fmt.Println(dns.DialOrder(addrs))
	// Output: [2001:db8::1 192.0.2.1 2001:db8::2 192.0.2.2]
}

// HappyEyeballs with a dial function of your own: here plain net.Dialer
// calls on the blocking-work pool. Nothing listens on [::1] at the port, so
// the IPv6 attempt fails and IPv4 is tried at once instead of after 250ms.
func ExampleHappyEyeballs() {
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := netip.MustParseAddrPort(ln.Addr().String()).Port()
	ctx := context.Background()

	dial := func(ctx context.Context, ip netip.Addr) *future.Future[net.Conn] {
		return future.Go(func() (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", netip.AddrPortFrom(ip, port).String())
		})
	}
	closeConn := func(c net.Conn) { c.Close() }
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}

	c, err := dns.HappyEyeballs(ctx, addrs, dial, closeConn, 0).Await(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println(netip.MustParseAddrPort(c.RemoteAddr().String()).Addr())
	// Output: 127.0.0.1
}
