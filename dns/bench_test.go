package dns

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/goasync/goasync/future"
)

// benchServer answers every A query with one address, for any name, so each
// benchmark iteration can ask a name never asked before (uncached).
func benchServer(b *testing.B) *testServer {
	b.Helper()
	srv := newTestServerTB(b)
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		m := new(mdns.Msg)
		m.SetReply(q)
		if q.Question[0].Qtype == mdns.TypeA {
			m.Answer = append(m.Answer, &mdns.A{
				Hdr: mdns.RR_Header{Name: q.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60},
				A:   net.IPv4(192, 0, 2, 1),
			})
		}
		_ = w.WriteMsg(m)
		return true
	})
	return srv
}

const benchConcurrency = 64

// runConcurrent runs b.N lookups, benchConcurrency at a time.
func runConcurrent(b *testing.B, lookup func(i int) error) {
	var next atomic.Int64
	b.SetParallelism(1)
	sem := make(chan struct{}, benchConcurrency)
	errs := make(chan error, 1)
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			if err := lookup(int(next.Add(1))); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	for i := 0; i < benchConcurrency; i++ {
		sem <- struct{}{}
	}
	b.StopTimer()
	// CPU time of the whole process (client and in-process server) per
	// lookup: unlike ns/op it does not depend on how busy the machine is.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// processCPU returns the user+system CPU time of the process in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

var benchSeq atomic.Int64

func benchName() string {
	return "h" + strconv.FormatInt(benchSeq.Add(1), 10) + ".bench.test"
}

// BenchmarkLookupUncached64 is our resolver, every lookup a new name (no
// cache hit, no shared query), 64 in flight.
func BenchmarkLookupUncached64(b *testing.B) {
	srv := benchServer(b)
	confPath, hostsPath := testFilesTB(b, "", "")
	r := NewResolver(WithConfigFile(confPath), WithHostsFile(hostsPath), WithServers(srv.addr), WithCacheSize(0))
	ctx := context.Background()
	v4 := WithFamily(FamilyV4)
	b.ReportAllocs()
	runConcurrent(b, func(int) error {
		// Wait on Done rather than Await: Await's on-loop check reads the
		// goroutine id from a stack trace, a cost of the harness, not of the
		// lookup.
		f := r.Lookup(ctx, benchName(), v4)
		<-f.Done()
		_, err, _ := f.Result()
		return err
	})
}

// BenchmarkLookupUncachedInline64 is BenchmarkLookupUncached64 with
// On(future.Inline): no check whether the caller runs on an event loop.
func BenchmarkLookupUncachedInline64(b *testing.B) {
	srv := benchServer(b)
	confPath, hostsPath := testFilesTB(b, "", "")
	r := NewResolver(WithConfigFile(confPath), WithHostsFile(hostsPath), WithServers(srv.addr), WithCacheSize(0))
	ctx := context.Background()
	v4, inline := WithFamily(FamilyV4), On(future.Inline)
	b.ReportAllocs()
	runConcurrent(b, func(int) error {
		f := r.Lookup(ctx, benchName(), v4, inline)
		<-f.Done()
		_, err, _ := f.Result()
		return err
	})
}

// BenchmarkNetResolverUncached64 is Go's resolver (PreferGo) pointed at the
// same server, same load.
func BenchmarkNetResolverUncached64(b *testing.B) {
	srv := benchServer(b)
	var d net.Dialer
	nr := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, srv.addr.String())
	}}
	ctx := context.Background()
	b.ReportAllocs()
	runConcurrent(b, func(int) error {
		_, err := nr.LookupNetIP(ctx, "ip4", benchName()+".")
		return err
	})
}

// BenchmarkLookupCached is a lookup answered from the cache.
func BenchmarkLookupCached(b *testing.B) {
	srv := benchServer(b)
	confPath, hostsPath := testFilesTB(b, "", "")
	r := NewResolver(WithConfigFile(confPath), WithHostsFile(hostsPath), WithServers(srv.addr))
	ctx := context.Background()
	if _, err := r.Lookup(ctx, "cached.bench.test", WithFamily(FamilyV4)).Await(ctx); err != nil {
		b.Fatal(err)
	}
	opts := []Option{WithFamily(FamilyV4)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := r.Lookup(ctx, "cached.bench.test", opts...)
		if _, err, ok := f.Result(); !ok || err != nil {
			b.Fatal("not answered from the cache", err)
		}
	}
}

// BenchmarkLookupCachedAny is a cached lookup of both families (two cache
// entries merged into one slice).
func BenchmarkLookupCachedAny(b *testing.B) {
	srv := newTestServerTB(b)
	srv.add("both.bench.test. 60 A 192.0.2.1", "both.bench.test. 60 AAAA 2001:db8::1")
	confPath, hostsPath := testFilesTB(b, "", "")
	r := NewResolver(WithConfigFile(confPath), WithHostsFile(hostsPath), WithServers(srv.addr))
	ctx := context.Background()
	if _, err := r.Lookup(ctx, "both.bench.test").Await(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := r.Lookup(ctx, "both.bench.test")
		if v, err, ok := f.Result(); !ok || err != nil || len(v) != 2 {
			b.Fatal("not answered from the cache", err)
		}
	}
}
