package dns

import (
	"context"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/goasync/goasync/internal/loop"
)

// A lookup whose candidate ended with a flight started on another loop
// goes on, for its next search-list candidate, on the loop that flight
// landed on, and makes its new queries there (under -race, checkLoops
// panics on a query made for another loop), and still settles on its own
// caller's loop.
func TestLookupContinuesOnTheFlightsLoop(t *testing.T) {
	rt := newLoops(t, 2)
	srv := newTestServer(t)
	srv.add("host. 60 A 192.0.2.7")
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		if q.Question[0].Name == "host.s1.test." && q.Question[0].Qtype == mdns.TypeA {
			time.Sleep(100 * time.Millisecond) // both lookups join this flight
		}
		return false // NXDOMAIN for host.s1.test, the record for host
	})
	r := newTestResolver(t, "search s1.test\n", "", []netip.AddrPort{srv.addr},
		withTransport(&loopTransport{rt: func() *loop.Runtime { return rt }}))

	type outcome struct {
		addrs  []netip.Addr
		err    error
		onLoop bool
	}
	start := func(l *loop.Loop, fam Family) chan outcome {
		out := make(chan outcome, 1)
		l.Execute(func() {
			r.Lookup(context.Background(), "host", WithFamily(fam)).OnComplete(func(a []netip.Addr, err error) {
				out <- outcome{a, err, l.OnLoop()}
			})
		})
		return out
	}
	// a asks A on loop 0; b asks A (joining a's slow flight) and AAAA (its
	// own, answered at once) on loop 1, so b's first candidate ends on
	// loop 0, where b then makes its AAAA query for "host".
	a := start(rt.Loop(0), FamilyV4)
	time.Sleep(20 * time.Millisecond) // a's flight for host.s1.test is in the air
	b := start(rt.Loop(1), FamilyAny)
	for i, ch := range []chan outcome{a, b} {
		select {
		case o := <-ch:
			if o.err != nil || len(o.addrs) != 1 || o.addrs[0] != netip.MustParseAddr("192.0.2.7") {
				t.Fatalf("lookup %d: %v, %v", i, o.addrs, o.err)
			}
			if !o.onLoop {
				t.Fatalf("lookup %d settled off its caller's loop", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("lookup %d never settled", i)
		}
	}
}
