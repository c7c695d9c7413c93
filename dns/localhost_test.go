package dns

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/goasync/goasync/internal/loop"
)

// leakyServer is a test server whose zone answers every name these tests
// look up, with addresses no local source gives, so a query that leaks to it
// shows both in its log and in the result.
func leakyServer(t *testing.T) *testServer {
	srv := newTestServer(t)
	srv.add(
		"localhost. 60 A 192.0.2.7", "localhost. 60 AAAA 2001:db8::7",
		"dev.localhost. 60 A 192.0.2.8", "dev.localhost. 60 AAAA 2001:db8::8",
		"a.b.localhost. 60 A 192.0.2.9", "a.b.localhost. 60 AAAA 2001:db8::9",
		"localhost.corp.test. 60 A 192.0.2.10", "localhost.corp.test. 60 AAAA 2001:db8::10",
		"v4only.test. 60 A 192.0.2.11", "v4only.test. 60 AAAA 2001:db8::11",
		"v6only.test. 60 A 192.0.2.12", "v6only.test. 60 AAAA 2001:db8::12",
	)
	return srv
}

// A name in the hosts file is answered from the hosts file alone, for every
// family, as Go's resolver does: asking for the family the file does not
// list gives "not found" without a query.
func TestHostsFileAnswersEveryFamily(t *testing.T) {
	srv := leakyServer(t)
	hostsFile := "127.0.0.1 localhost\n10.1.1.2 v4only.test\n::12 v6only.test\n"
	r := newTestResolver(t, "", hostsFile, []netip.AddrPort{srv.addr})
	for _, tc := range []struct {
		host string
		fam  Family
		want []netip.Addr // nil: ErrNotFound
	}{
		{"localhost", FamilyAny, addrs("127.0.0.1")},
		{"localhost", FamilyV4, addrs("127.0.0.1")},
		{"localhost", FamilyV6, nil},
		{"LOCALHOST.", FamilyV6, nil},
		{"v4only.test", FamilyAny, addrs("10.1.1.2")},
		{"v4only.test", FamilyV6, nil},
		{"v6only.test", FamilyAny, addrs("::12")},
		{"v6only.test", FamilyV4, nil},
	} {
		f := r.Lookup(t.Context(), tc.host, WithFamily(tc.fam))
		got, err, ok := f.Result()
		if !ok {
			t.Errorf("%s %v: not settled at once (it waits for a query)", tc.host, tc.fam)
			got, err = await[[]netip.Addr](t, f)
		}
		if tc.want == nil {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s %v: got %v, %v; want ErrNotFound from the hosts file", tc.host, tc.fam, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s %v: got %v, %v; want %v", tc.host, tc.fam, got, err, tc.want)
		}
	}
	if q := srv.queries(); len(q) != 0 {
		t.Fatalf("names in the hosts file sent queries: %v", q)
	}
}

// localhost and every name under it are never sent to DNS (RFC 6761 section
// 6.3), whatever the search list says: without a hosts entry they are the
// loopback addresses.
func TestLocalhostNeverAskedOfDNS(t *testing.T) {
	srv := leakyServer(t)
	conf := "search corp.test\noptions ndots:5\n"
	r := newTestResolver(t, conf, "10.9.9.9 pinned.localhost\n", []netip.AddrPort{srv.addr})
	for _, tc := range []struct {
		host string
		fam  Family
		want []netip.Addr
	}{
		{"localhost", FamilyAny, addrs("::1", "127.0.0.1")},
		{"localhost", FamilyV4, addrs("127.0.0.1")},
		{"localhost", FamilyV6, addrs("::1")},
		{"LocalHost.", FamilyAny, addrs("::1", "127.0.0.1")},
		{"dev.localhost", FamilyAny, addrs("::1", "127.0.0.1")},
		{"a.b.LOCALHOST.", FamilyV6, addrs("::1")},
		{"a.b.localhost", FamilyV4, addrs("127.0.0.1")},
		{"pinned.localhost", FamilyAny, addrs("10.9.9.9")}, // the hosts file still comes first
	} {
		f := r.Lookup(t.Context(), tc.host, WithFamily(tc.fam))
		got, err, ok := f.Result()
		if !ok {
			t.Errorf("%s %v: not settled at once (it waits for a query)", tc.host, tc.fam)
			got, err = await[[]netip.Addr](t, f)
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s %v: got %v, %v; want %v", tc.host, tc.fam, got, err, tc.want)
		}
	}
	if q := srv.queries(); len(q) != 0 {
		t.Fatalf("localhost names sent queries: %v", q)
	}
	// Names that only look alike still go to DNS.
	for _, host := range []string{"localhost.corp.test.", "v4only.test."} {
		if _, err := await[[]netip.Addr](t, r.Lookup(t.Context(), host, WithFamily(FamilyV4))); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if q := srv.queries(); !slices.Equal(q, []string{"udp A localhost.corp.test.", "udp A v4only.test."}) {
		t.Fatalf("queries = %v", q)
	}
}

// The connect path (the AAAA and A lookups raced by HappyEyeballsLookup, as
// tcp.Connect does) reaches localhost over IPv4 with the usual container
// hosts file, without a query and without waiting for a name server that
// does not answer.
func TestConnectLocalhostSendsNoQuery(t *testing.T) {
	srv := leakyServer(t)
	srv.setBehave(func(mdns.ResponseWriter, *mdns.Msg) bool { return true }) // never answers
	r := newTestResolver(t, "", "127.0.0.1 localhost\n", []netip.AddrPort{srv.addr})
	p4, accepted := listenTCP(t, "tcp4", "127.0.0.1:0")
	d := newTCPDialer(p4, deadTCPPort(t, "tcp6", "[::1]:0"))
	start := time.Now()
	v6 := r.Lookup(t.Context(), "localhost", WithFamily(FamilyV6))
	v4 := r.Lookup(t.Context(), "localhost", WithFamily(FamilyV4))
	c, err := await[*loop.Conn](t, HappyEyeballsLookup(t.Context(), v6, v4, d.dial, release, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer release(c)
	el := time.Since(start)
	if got := netip.MustParseAddrPort(c.RemoteAddr().String()).Addr(); got != loop4 {
		t.Fatalf("connected to %v", got)
	}
	if n := d.started.Load(); n != 1 {
		t.Fatalf("%d connection attempts, want 1 (127.0.0.1 only)", n)
	}
	waitFor(t, func() bool { return accepted.Load() == 1 })
	if q := srv.queries(); len(q) != 0 {
		t.Fatalf("connecting to localhost sent queries: %v (after %v)", q, el)
	}
	t.Logf("connected to localhost in %v", el)
}
