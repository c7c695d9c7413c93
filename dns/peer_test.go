package dns

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/panjf2000/gnet/v2"

	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/runtime"
)

// TestSameAnswersAsNetResolver asks Go's own resolver (an independent
// implementation) and ours the same questions on the same server.
func TestSameAnswersAsNetResolver(t *testing.T) {
	srv := newTestServer(t)
	srv.add(
		"multi.test. 60 A 192.0.2.1", "multi.test. 60 A 192.0.2.2",
		"multi.test. 60 AAAA 2001:db8::1", "multi.test. 60 AAAA 2001:db8::2",
		"www.test. 60 CNAME multi.test.",
		"only6.test. 60 AAAA 2001:db8::6",
	)
	nr := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.addr.String())
	}}
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	for _, host := range []string{"multi.test.", "www.test.", "only6.test."} {
		for _, fam := range []struct {
			network string
			f       Family
		}{{"ip4", FamilyV4}, {"ip6", FamilyV6}} {
			want, werr := nr.LookupNetIP(t.Context(), fam.network, host)
			got, gerr := await[[]netip.Addr](t, r.Lookup(t.Context(), host, WithFamily(fam.f)))
			if (werr == nil) != (gerr == nil) || !slices.Equal(got, want) {
				t.Errorf("%s %s: ours %v (%v), net.Resolver %v (%v)", host, fam.network, got, gerr, want, werr)
			}
		}
	}
}

const probeLookups = 8

// loopProbe is a connection handler that starts a lookup on its loop and
// records on which goroutine the lookup's continuation ran.
type loopProbe struct {
	r      *Resolver
	onLoop uint64
	ran    chan [2]uint64
}

func (p *loopProbe) OnOpen(c gnet.Conn) {
	p.onLoop = loopmark.GoID()
	// Several lookups: their query sockets land on loops chosen by the
	// runtime, so without the hop back a match by chance is unlikely.
	for i := 0; i < probeLookups; i++ {
		p.r.Lookup(context.Background(), "l"+strconv.Itoa(i)+".test", WithFamily(FamilyV4)).OnComplete(func(_ []netip.Addr, err error) {
			_, marked := loopmark.Current()
			id := loopmark.GoID()
			if !marked || err != nil {
				id = 0
			}
			p.ran <- [2]uint64{p.onLoop, id}
		})
	}
}
func (p *loopProbe) OnTraffic(c gnet.Conn) gnet.Action { return gnet.None }
func (p *loopProbe) OnClose(gnet.Conn, error)          {}

// TestLookupOnLoopSettlesOnThatLoop: a lookup started on an event loop
// delivers its result on the same loop goroutine (the goroutine rule).
func TestLookupOnLoopSettlesOnThatLoop(t *testing.T) {
	srv := newTestServer(t)
	for i := 0; i < probeLookups; i++ {
		srv.add("l" + strconv.Itoa(i) + ".test. 60 A 192.0.2.1")
	}
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	p := &loopProbe{r: r, ran: make(chan [2]uint64, probeLookups)}
	c, err := await[gnet.Conn](t, runtime.Default().Dial(t.Context(), "tcp", ln.Addr().String(), p))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < probeLookups; i++ {
		got := <-p.ran
		if got[1] == 0 || got[0] != got[1] {
			t.Fatalf("lookup started on loop goroutine %d settled on goroutine %d", got[0], got[1])
		}
	}
}
