package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
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

func (p *loopProbe) OnOpen(c *loop.Conn) {
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
func (p *loopProbe) OnData(*loop.Conn, []byte)     {}
func (p *loopProbe) OnEOF(*loop.Conn)              {}
func (p *loopProbe) OnWritable(*loop.Conn)         {}
func (p *loopProbe) OnError(c *loop.Conn, _ error) { _ = c.Close() }

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
	c, err := await[*loop.Conn](t, loop.Default().Dial(t.Context(), "tcp", ln.Addr().String(), p))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Loop().Execute(func() { _ = c.Close() })
	for i := 0; i < probeLookups; i++ {
		got := <-p.ran
		if got[1] == 0 || got[0] != got[1] {
			t.Fatalf("lookup started on loop goroutine %d settled on goroutine %d", got[0], got[1])
		}
	}
}

// chanExecutor runs functions on one goroutine of its own, like a loop.
type chanExecutor struct {
	fns  chan func()
	gid  chan uint64
	used atomic.Int32
}

func newChanExecutor(t *testing.T) *chanExecutor {
	e := &chanExecutor{fns: make(chan func(), 16), gid: make(chan uint64, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.gid <- loopmark.GoID()
		for fn := range e.fns {
			fn()
		}
	}()
	t.Cleanup(func() { close(e.fns); <-done })
	return e
}

func (e *chanExecutor) Execute(fn func()) { e.used.Add(1); e.fns <- fn }

func TestOnExecutor(t *testing.T) {
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1", "1.2.0.192.in-addr.arpa. 60 PTR a.test.")
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	e := newChanExecutor(t)
	want := <-e.gid
	// Hold the executor until both continuations are attached: a lookup
	// that settled before OnComplete would run it on this goroutine.
	gate := make(chan struct{})
	e.fns <- func() { <-gate }
	ran := make(chan uint64, 2)
	r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4), On(e)).OnComplete(func(_ []netip.Addr, err error) {
		if err != nil {
			t.Error(err)
		}
		ran <- loopmark.GoID()
	})
	r.LookupAddr(t.Context(), netip.MustParseAddr("192.0.2.1"), On(e)).OnComplete(func(_ []string, err error) {
		if err != nil {
			t.Error(err)
		}
		ran <- loopmark.GoID()
	})
	close(gate)
	for i := 0; i < 2; i++ {
		if got := <-ran; got != want {
			t.Fatalf("continuation ran on goroutine %d, not the executor's %d", got, want)
		}
	}
	if e.used.Load() != 2 {
		t.Fatalf("executor used %d times, want 2", e.used.Load())
	}
	// On(future.Inline): no hop at all.
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "b.test", WithFamily(FamilyV4), On(future.Inline)))
	if !errors.Is(err, ErrNotFound) || got != nil {
		t.Fatalf("got %v, %v", got, err)
	}
}
