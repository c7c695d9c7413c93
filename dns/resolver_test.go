package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/stats"
)

func TestIPLiteralNeedsNoQuery(t *testing.T) {
	srv := newTestServer(t)
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	for _, tc := range []struct {
		host string
		fam  Family
		want string
	}{
		{"192.0.2.5", FamilyAny, "192.0.2.5"},
		{"192.0.2.5", FamilyV4, "192.0.2.5"},
		{"2001:db8::5", FamilyV6, "2001:db8::5"},
		{"[2001:db8::5]", FamilyAny, "2001:db8::5"},
	} {
		f := r.Lookup(t.Context(), tc.host, WithFamily(tc.fam))
		got, err, ok := f.Result()
		if !ok {
			t.Fatalf("%s: an IP literal must resolve at once", tc.host)
		}
		if err != nil || !slices.Equal(got, addrs(tc.want)) {
			t.Fatalf("%s: got %v, %v", tc.host, got, err)
		}
	}
	_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "192.0.2.5", WithFamily(FamilyV6)))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("v4 literal asked as v6: err = %v, want ErrNotFound", err)
	}
	if q := srv.queries(); len(q) != 0 {
		t.Fatalf("IP literals sent queries: %v", q)
	}
}

func TestInvalidName(t *testing.T) {
	srv := newTestServer(t)
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	for _, host := range []string{"", ".", "a..b", "bad name", string(long), "a/b", "-\x00-"} {
		_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), host))
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: err = %v, want ErrInvalidName", host, err)
		}
	}
	if q := srv.queries(); len(q) != 0 {
		t.Fatalf("invalid names sent queries: %v", q)
	}
}

func TestHostsFileOverride(t *testing.T) {
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1", "other.test. 60 A 192.0.2.2")
	hostsFile := "# test hosts\n10.1.1.1  a.test  alias.test   # comment\n::10 a.test\n10.1.1.2\tsix.only\n"
	r := newTestResolver(t, "", hostsFile, []netip.AddrPort{srv.addr})
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "A.test"))
	if err != nil || !slices.Equal(got, addrs("10.1.1.1", "::10")) {
		t.Fatalf("a.test: got %v, %v", got, err)
	}
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "alias.test.", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("10.1.1.1")) {
		t.Fatalf("alias.test: got %v, %v", got, err)
	}
	if q := srv.queries(); len(q) != 0 {
		t.Fatalf("names in the hosts file sent queries: %v", q)
	}
	names, err := await[[]string](t, r.LookupAddr(t.Context(), netip.MustParseAddr("10.1.1.1")))
	if err != nil || !slices.Equal(names, []string{"a.test.", "alias.test."}) {
		t.Fatalf("reverse from hosts: got %v, %v", names, err)
	}
	// Names not in the file go to the server.
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "other.test", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.2")) {
		t.Fatalf("other.test: got %v, %v", got, err)
	}
	// WithServer skips the hosts file.
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4), WithServer(srv.addr)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.1")) {
		t.Fatalf("a.test WithServer: got %v, %v", got, err)
	}
}

func TestHostsFileReload(t *testing.T) {
	srv := newTestServer(t)
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	confPath, hostsPath := testFiles(t, "", "10.0.0.1 h.test\n")
	r := NewResolver(WithConfigFile(confPath), WithHostsFile(hostsPath), WithServers(srv.addr), withClock(clock))
	got, _ := await[[]netip.Addr](t, r.Lookup(t.Context(), "h.test"))
	if !slices.Equal(got, addrs("10.0.0.1")) {
		t.Fatalf("got %v", got)
	}
	if err := os.WriteFile(hostsPath, []byte("10.0.0.2 h.test\n# now longer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(reloadInterval + time.Second)
	mu.Unlock()
	got, _ = await[[]netip.Addr](t, r.Lookup(t.Context(), "h.test"))
	if !slices.Equal(got, addrs("10.0.0.2")) {
		t.Fatalf("after the file changed: got %v", got)
	}
}

func TestSearchDomainsAndNdots(t *testing.T) {
	srv := newTestServer(t)
	srv.add("host.corp.test. 60 A 192.0.2.10", "www.host. 60 A 192.0.2.11", "a.b.other.test. 60 A 192.0.2.12")
	conf := "domain ignored.test\nsearch corp.test other.test\noptions ndots:2\n"
	r := newTestResolver(t, conf, "", []netip.AddrPort{srv.addr})

	// No dot: the search list first.
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "host", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.10")) {
		t.Fatalf("host: got %v, %v", got, err)
	}
	if q := srv.queries(); !slices.Equal(q, []string{"udp A host.corp.test."}) {
		t.Fatalf("host: queries %v", q)
	}
	// One dot, ndots 2: search list first, the name as it is last.
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "www.host", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.11")) {
		t.Fatalf("www.host: got %v, %v", got, err)
	}
	want := []string{"udp A host.corp.test.", "udp A www.host.corp.test.", "udp A www.host.other.test.", "udp A www.host."}
	if q := srv.queries(); !slices.Equal(q, want) {
		t.Fatalf("www.host: queries %v, want %v", q, want)
	}
	// Two dots: as it is first.
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "a.b", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.12")) {
		t.Fatalf("a.b: got %v, %v", got, err)
	}
	if q := srv.queries()[len(want):]; !slices.Equal(q, []string{"udp A a.b.corp.test.", "udp A a.b.other.test."}) {
		t.Fatalf("a.b: queries %v", q)
	}
	// Absolute names skip the search list.
	_, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "host.", WithFamily(FamilyV4)))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("host.: err = %v", err)
	}
}

func TestCacheExpiryAndNegativeCaching(t *testing.T) {
	srv := newTestServer(t)
	srv.soaTTL = 30
	srv.add("a.test. 60 A 192.0.2.1")
	srv.setNX("nx.test")
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr}, withClock(clock))
	lookup := func(host string) error {
		_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), host, WithFamily(FamilyV4)))
		return err
	}
	for i := 0; i < 3; i++ {
		if err := lookup("a.test"); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(lookup("nx.test"), ErrNotFound) {
			t.Fatal("nx.test found")
		}
	}
	if n := len(srv.queries()); n != 2 {
		t.Fatalf("%d queries for 3 rounds, want 2 (positive and negative answers cached)", n)
	}
	advance(31 * time.Second) // past the SOA minimum, within the A record's TTL
	_ = lookup("a.test")
	_ = lookup("nx.test")
	if n := len(srv.queries()); n != 3 {
		t.Fatalf("after 31s: %d queries, want 3 (only the negative answer expired)", n)
	}
	advance(30 * time.Second) // past the A record's 60s
	_ = lookup("a.test")
	if n := len(srv.queries()); n != 4 {
		t.Fatalf("after 61s: %d queries, want 4", n)
	}
}

func TestCacheTTLClamp(t *testing.T) {
	srv := newTestServer(t)
	srv.add("zero.test. 0 A 192.0.2.1", "long.test. 86400 A 192.0.2.2")
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr}, withClock(clock), WithTTLBounds(5*time.Second, 10*time.Second))
	for i := 0; i < 2; i++ {
		for _, h := range []string{"zero.test", "long.test"} {
			if _, err := await[[]netip.Addr](t, r.Lookup(t.Context(), h, WithFamily(FamilyV4))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(srv.queries()); n != 2 {
		t.Fatalf("%d queries, want 2: TTL 0 raised to the 5s minimum", n)
	}
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	_, _ = await[[]netip.Addr](t, r.Lookup(t.Context(), "long.test", WithFamily(FamilyV4)))
	if n := len(srv.queries()); n != 3 {
		t.Fatalf("%d queries, want 3: a day-long TTL is capped at 10s", n)
	}
}

func TestCacheSizeBound(t *testing.T) {
	c := newCache(8, 0, time.Hour, time.Hour, time.Now)
	for i := 0; i < 100; i++ {
		c.put(cacheKey{name: "n" + strconv.Itoa(i), qtype: 1}, &reply{kind: replyAnswer, ttl: 60, hasTTL: true, addrs: addrs("192.0.2.1")})
		if c.len() > 8 {
			t.Fatalf("cache grew to %d entries, bound 8", c.len())
		}
	}
	if _, ok := c.get(cacheKey{name: "n99", qtype: 1}); !ok {
		t.Fatal("the newest entry was evicted")
	}
}

func TestRotate(t *testing.T) {
	s1, s2 := newTestServer(t), newTestServer(t)
	for _, s := range []*testServer{s1, s2} {
		s.add("a.test. 60 A 192.0.2.1", "b.test. 60 A 192.0.2.1", "c.test. 60 A 192.0.2.1", "d.test. 60 A 192.0.2.1")
	}
	r := newTestResolver(t, "options rotate\n", "", []netip.AddrPort{s1.addr, s2.addr})
	for _, h := range []string{"a.test", "b.test", "c.test", "d.test"} {
		if _, err := await[[]netip.Addr](t, r.Lookup(t.Context(), h, WithFamily(FamilyV4))); err != nil {
			t.Fatal(err)
		}
	}
	if n1, n2 := len(s1.queries()), len(s2.queries()); n1 != 2 || n2 != 2 {
		t.Fatalf("rotate: servers saw %d and %d queries, want 2 and 2", n1, n2)
	}
	// Without rotate the first server gets everything.
	s3, s4 := newTestServer(t), newTestServer(t)
	s3.add("a.test. 60 A 192.0.2.1", "b.test. 60 A 192.0.2.1")
	r = newTestResolver(t, "", "", []netip.AddrPort{s3.addr, s4.addr})
	for _, h := range []string{"a.test", "b.test"} {
		if _, err := await[[]netip.Addr](t, r.Lookup(t.Context(), h, WithFamily(FamilyV4))); err != nil {
			t.Fatal(err)
		}
	}
	if n3, n4 := len(s3.queries()), len(s4.queries()); n3 != 2 || n4 != 0 {
		t.Fatalf("no rotate: servers saw %d and %d queries, want 2 and 0", n3, n4)
	}
}

func TestConcurrentLookupsShareOneQuery(t *testing.T) {
	srv := newTestServer(t)
	srv.add("slow.test. 60 A 192.0.2.1")
	release := make(chan struct{})
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		<-release
		return false
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	const n = 20
	fs := make([]*future.Future[[]netip.Addr], n)
	for i := range fs {
		fs[i] = r.Lookup(t.Context(), "slow.test", WithFamily(FamilyV4))
	}
	// Wait until the one query reached the server, then let it answer.
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.queries()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for _, f := range fs {
		got, err := await[[]netip.Addr](t, f)
		if err != nil || !slices.Equal(got, addrs("192.0.2.1")) {
			t.Fatalf("got %v, %v", got, err)
		}
	}
	if q := srv.queries(); len(q) != 1 {
		t.Fatalf("%d identical concurrent lookups sent %d queries, want 1", n, len(q))
	}
}

func TestCancelStopsTheQuery(t *testing.T) {
	r := newTestResolver(t, "", "", []netip.AddrPort{silentServer(t)}, WithTimeout(30*time.Second))
	before := stats.Sockets.Load()
	ctx, cancel := context.WithCancel(t.Context())
	f := r.Lookup(ctx, "a.test")
	// Let the sockets open, then give up.
	deadline := time.Now().Add(10 * time.Second)
	for stats.Sockets.Load() < before+2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	_, err := await[[]netip.Addr](t, f)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	expectNothingLeft(t, r, before, deadline)
}

// expectNothingLeft waits until deadline for the query sockets opened since
// the count before to close, then checks that r has no flight left.
func expectNothingLeft(t *testing.T, r *Resolver, before int64, deadline time.Time) {
	t.Helper()
	for stats.Sockets.Load() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := stats.Sockets.Load(); n > before {
		t.Fatalf("%d query sockets still open after the lookups were cancelled", n-before)
	}
	r.mu.Lock()
	left := len(r.flights)
	r.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d flights left after cancel", left)
	}
}

func TestOneWaiterLeavingKeepsTheQuery(t *testing.T) {
	srv := newTestServer(t)
	srv.add("slow.test. 60 A 192.0.2.1")
	release := make(chan struct{})
	var seen atomic.Int32
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		seen.Add(1)
		<-release
		return false
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	ctx, cancel := context.WithCancel(t.Context())
	f1 := r.Lookup(ctx, "slow.test", WithFamily(FamilyV4))
	f2 := r.Lookup(t.Context(), "slow.test", WithFamily(FamilyV4))
	deadline := time.Now().Add(10 * time.Second)
	for seen.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if _, err := await[[]netip.Addr](t, f1); !errors.Is(err, context.Canceled) {
		t.Fatalf("f1: %v", err)
	}
	close(release)
	got, err := await[[]netip.Addr](t, f2)
	if err != nil || !slices.Equal(got, addrs("192.0.2.1")) {
		t.Fatalf("f2: got %v, %v", got, err)
	}
}

func TestLookupAddrPTR(t *testing.T) {
	srv := newTestServer(t)
	srv.add("1.2.0.192.in-addr.arpa. 60 PTR a.test.",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 PTR six.test.")
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	names, err := await[[]string](t, r.LookupAddr(t.Context(), netip.MustParseAddr("192.0.2.1")))
	if err != nil || !slices.Equal(names, []string{"a.test."}) {
		t.Fatalf("v4 PTR: got %v, %v", names, err)
	}
	names, err = await[[]string](t, r.LookupAddr(t.Context(), netip.MustParseAddr("2001:db8::1")))
	if err != nil || !slices.Equal(names, []string{"six.test."}) {
		t.Fatalf("v6 PTR: got %v, %v", names, err)
	}
	_, err = await[[]string](t, r.LookupAddr(t.Context(), netip.MustParseAddr("192.0.2.200")))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing PTR: err = %v", err)
	}
}

func TestPackageLevelLookupWithResolver(t *testing.T) {
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1", "1.2.0.192.in-addr.arpa. 60 PTR a.test.")
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	got, err := await[[]netip.Addr](t, Lookup(t.Context(), "a.test", WithResolver(r), WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.1")) {
		t.Fatalf("got %v, %v", got, err)
	}
	names, err := await[[]string](t, LookupAddr(t.Context(), netip.MustParseAddr("192.0.2.1"), WithResolver(r)))
	if err != nil || !slices.Equal(names, []string{"a.test."}) {
		t.Fatalf("got %v, %v", names, err)
	}
	// An IP literal through the Default resolver sends nothing anywhere.
	got, err = await[[]netip.Addr](t, Lookup(t.Context(), "127.0.0.1"))
	if err != nil || !slices.Equal(got, addrs("127.0.0.1")) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestUseVCSendsOverTCP(t *testing.T) {
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1")
	r := newTestResolver(t, "options use-vc\n", "", []netip.AddrPort{srv.addr})
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.1")) {
		t.Fatalf("got %v, %v", got, err)
	}
	if q := srv.queries(); !slices.Equal(q, []string{"tcp A a.test."}) {
		t.Fatalf("queries %v, want one over TCP", q)
	}
}

func TestRuntimeStoppedFailsLookups(t *testing.T) {
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1")
	rt, err := loop.New(loop.WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	tr := &loopTransport{rt: func() *loop.Runtime { return rt }}
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr}, withTransport(tr))
	if _, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	r.FlushCache()
	_, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if !errors.Is(err, loop.ErrClosed) {
		t.Fatalf("err = %v, want loop.ErrClosed", err)
	}
}

// TestDebugLog: with a debug logger installed, a lookup can be followed in
// the log: the query, the ignored forgery, the reply and the named future.
func TestDebugLog(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1")
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		m := srv.answer(q)
		m.Id++
		_ = w.WriteMsg(m)
		return false
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	if _, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4))); err != nil {
		t.Fatal(err)
	}
	named := logs.FilterMessage("future settled").FilterField(zap.String("name", "dns.Lookup a.test v4"))
	if named.Len() != 1 || named.All()[0].ContextMap()["stage"] != "resolve" {
		t.Errorf("named lookup future: %v", named.All())
	}
	for _, msg := range []string{"dns query", "dns datagram ignored: not a reply to the query", "dns reply"} {
		if logs.FilterMessage(msg).Len() == 0 {
			t.Errorf("no %q entry; log: %v", msg, logs.All())
		}
	}
	q := logs.FilterMessage("dns query").All()
	if len(q) > 0 && q[0].ContextMap()["name"] != "a.test" {
		t.Errorf("query entry fields: %v", q[0].ContextMap())
	}
}

// Lookups cancelled at every moment of their life (before the hand-off,
// while joining flights, while the query waits, while the reply lands)
// all settle, and leave no flight and no query socket behind.
func TestCancelAtAnyMomentLeavesNothing(t *testing.T) {
	srv := newTestServer(t)
	var n atomic.Int32
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		if n.Add(1)%3 == 0 {
			return true // some queries never get a reply
		}
		return false
	})
	srv.add("any.test. 60 A 192.0.2.1")
	srv.add("any.test. 60 AAAA 2001:db8::1")
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr}, WithTimeout(30*time.Second), WithCacheSize(0))
	before := stats.Sockets.Load()
	const lookups = 300
	fs := make([]*future.Future[[]netip.Addr], 0, lookups)
	for i := 0; i < lookups; i++ {
		ctx, cancel := context.WithCancel(t.Context())
		name := fmt.Sprintf("h%d.any.test", i%7) // shared flights too
		f := r.Lookup(ctx, name)
		time.AfterFunc(time.Duration(i%5)*100*time.Microsecond, cancel)
		fs = append(fs, f)
	}
	for i, f := range fs {
		select {
		case <-f.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("lookup %d never settled", i)
		}
	}
	expectNothingLeft(t, r, before, time.Now().Add(10*time.Second))
}
