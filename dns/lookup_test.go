package dns

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/goasync/goasync/future"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func TestLookupA(t *testing.T) {
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1", "a.test. 60 A 192.0.2.2", "a.test. 60 AAAA 2001:db8::1")
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})

	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if err != nil {
		t.Fatal(err)
	}
	if want := addrs("192.0.2.1", "192.0.2.2"); !slices.Equal(got, want) {
		t.Fatalf("v4: got %v, want %v", got, want)
	}
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "A.Test.", WithFamily(FamilyV6)))
	if err != nil {
		t.Fatal(err)
	}
	if want := addrs("2001:db8::1"); !slices.Equal(got, want) {
		t.Fatalf("v6: got %v, want %v", got, want)
	}
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test"))
	if err != nil {
		t.Fatal(err)
	}
	if want := addrs("2001:db8::1", "192.0.2.1", "192.0.2.2"); !slices.Equal(got, want) {
		t.Fatalf("any: got %v, want %v", got, want)
	}
}

func TestLookupCNAME(t *testing.T) {
	srv := newTestServer(t)
	srv.add(
		"www.test. 60 CNAME web.test.",
		"web.test. 60 CNAME a.test.",
		"a.test. 60 A 192.0.2.1",
	)
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "www.test", WithFamily(FamilyV4)))
	if err != nil {
		t.Fatal(err)
	}
	if want := addrs("192.0.2.1"); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if q := srv.queries(); len(q) != 1 {
		t.Fatalf("a chain inside one reply needs one query, server saw %v", q)
	}
}

// TestLookupCNAMEAcrossQueries: the server answers with the CNAME only (as a
// server does for a target outside its zone), so the resolver asks again for
// the target.
func TestLookupCNAMEAcrossQueries(t *testing.T) {
	srv := newTestServer(t)
	srv.noSOA = true
	srv.add("alias.test. 60 CNAME real.test.", "real.test. 60 A 192.0.2.7")
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		if strings.EqualFold(q.Question[0].Name, "alias.test.") {
			m := new(mdns.Msg)
			m.SetReply(q)
			rr, _ := mdns.NewRR("alias.test. 60 CNAME real.test.")
			m.Answer = append(m.Answer, rr)
			_ = w.WriteMsg(m)
			return true
		}
		return false
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "alias.test", WithFamily(FamilyV4)))
	if err != nil {
		t.Fatal(err)
	}
	if want := addrs("192.0.2.7"); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	want := []string{"udp A alias.test.", "udp A real.test."}
	if q := srv.queries(); !slices.Equal(q, want) {
		t.Fatalf("queries %v, want %v", q, want)
	}
}

func TestLookupCNAMELoop(t *testing.T) {
	srv := newTestServer(t)
	srv.noSOA = true
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		// every name is an alias of the other: a loop across queries
		m := new(mdns.Msg)
		m.SetReply(q)
		target := "loop1.test."
		if strings.EqualFold(q.Question[0].Name, "loop1.test.") {
			target = "loop2.test."
		}
		rr, _ := mdns.NewRR(q.Question[0].Name + " 60 CNAME " + target)
		m.Answer = append(m.Answer, rr)
		_ = w.WriteMsg(m)
		return true
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "loop1.test", WithFamily(FamilyV4)))
	if !errors.Is(err, ErrServerFailure) {
		t.Fatalf("err = %v, want ErrServerFailure", err)
	}
	if n := len(srv.queries()); n > maxCNAMEHops+1 {
		t.Fatalf("%d queries: the loop limit did not hold", n)
	}
}

func TestLookupNXDOMAIN(t *testing.T) {
	srv := newTestServer(t)
	srv.setNX("missing.test")
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "missing.test"))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound || de.Name != "missing.test" {
		t.Fatalf("err = %#v, want a *net.DNSError with IsNotFound for missing.test", err)
	}
	// NODATA: the name exists, without AAAA.
	srv.add("v4only.test. 60 A 192.0.2.3")
	_, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "v4only.test", WithFamily(FamilyV6)))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("NODATA: err = %v, want ErrNotFound", err)
	}
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "v4only.test"))
	if err != nil || !slices.Equal(got, addrs("192.0.2.3")) {
		t.Fatalf("any with only A: got %v, %v", got, err)
	}
}

func TestLookupSERVFAIL(t *testing.T) {
	srv := newTestServer(t)
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		m := new(mdns.Msg)
		m.SetRcode(q, mdns.RcodeServerFailure)
		_ = w.WriteMsg(m)
		return true
	})
	r := newTestResolver(t, "options attempts:2\n", "", []netip.AddrPort{srv.addr})
	_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if !errors.Is(err, ErrServerFailure) {
		t.Fatalf("err = %v, want ErrServerFailure", err)
	}
	var de *net.DNSError
	if !errors.As(err, &de) || de.IsNotFound || !de.IsTemporary {
		t.Fatalf("err = %#v", err)
	}
	if n := len(srv.queries()); n != 2 {
		t.Fatalf("server saw %d queries, want 2 (attempts:2, one server)", n)
	}
}

func TestLookupTruncatedFallsBackToTCP(t *testing.T) {
	srv := newTestServer(t)
	var many []string
	for i := 1; i <= 40; i++ {
		many = append(many, "big.test. 60 A 198.51.100."+strconv.Itoa(i))
	}
	srv.add(many...)
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		if w.RemoteAddr().Network() != "udp" {
			return false
		}
		m := new(mdns.Msg)
		m.SetReply(q)
		m.Truncated = true
		_ = w.WriteMsg(m)
		return true
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr})
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "big.test", WithFamily(FamilyV4)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 40 || got[0] != netip.MustParseAddr("198.51.100.1") {
		t.Fatalf("got %d addresses %v", len(got), got)
	}
	want := []string{"udp A big.test.", "tcp A big.test."}
	if q := srv.queries(); !slices.Equal(q, want) {
		t.Fatalf("queries %v, want %v", q, want)
	}
}

// deadServer returns a loopback UDP address where nothing listens: queries
// to it are refused at once (ICMP port unreachable).
func deadServer(t *testing.T) netip.AddrPort {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(pc.LocalAddr().String())
	pc.Close()
	return ap
}

// silentServer returns a loopback UDP address that receives queries and
// never answers.
func silentServer(t *testing.T) netip.AddrPort {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

func TestLookupDeadFirstServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first func(*testing.T) netip.AddrPort
	}{
		{"refused", deadServer},
		{"silent", silentServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			srv.add("a.test. 60 A 192.0.2.1")
			r := newTestResolver(t, "", "", []netip.AddrPort{tc.first(t), srv.addr}, WithTimeout(300*time.Millisecond))
			got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, addrs("192.0.2.1")) {
				t.Fatalf("got %v", got)
			}
		})
	}
}

func TestLookupTimeout(t *testing.T) {
	r := newTestResolver(t, "options attempts:1\n", "", []netip.AddrPort{silentServer(t)}, WithTimeout(200*time.Millisecond))
	start := time.Now()
	_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if !errors.Is(err, future.ErrTimeout) {
		t.Fatalf("err = %v, want future.ErrTimeout", err)
	}
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsTimeout || !de.Timeout() {
		t.Fatalf("err = %#v, want a *net.DNSError with IsTimeout", err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("timed out after %v, before the 200ms timeout", el)
	}
}

// TestTCPReplyInPieces: over TCP the reply's length prefix and body may
// arrive in separate segments; the exchange waits for the whole message.
func TestTCPReplyInPieces(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			served <- err
			return
		}
		q := make([]byte, int(hdr[0])<<8|int(hdr[1]))
		if _, err := io.ReadFull(c, q); err != nil {
			served <- err
			return
		}
		var m mdns.Msg
		if err := m.Unpack(q); err != nil {
			served <- err
			return
		}
		reply := new(mdns.Msg)
		reply.SetReply(&m)
		rr, _ := mdns.NewRR("a.test. 60 A 192.0.2.1")
		reply.Answer = append(reply.Answer, rr)
		b, _ := reply.Pack()
		framed := append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)
		for _, piece := range [][]byte{framed[:1], framed[1:5], framed[5:]} {
			if _, err := c.Write(piece); err != nil {
				served <- err
				return
			}
			time.Sleep(30 * time.Millisecond)
		}
		served <- nil
	}()
	server := netip.MustParseAddrPort(ln.Addr().String())
	r := newTestResolver(t, "options use-vc\n", "", []netip.AddrPort{server})
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.1")) {
		t.Fatalf("got %v, %v", got, err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
