package dns

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/goasync/goasync/future"
)

// spoofThenAnswer makes the server send bad replies first and the genuine
// one after a pause; the lookup must come out with the genuine answer.
func spoofThenAnswer(t *testing.T, spoof func(w mdns.ResponseWriter, q *mdns.Msg)) {
	t.Helper()
	srv := newTestServer(t)
	srv.add("a.test. 60 A 192.0.2.1")
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		spoof(w, q)
		time.Sleep(50 * time.Millisecond) // the spoof is delivered first
		_ = w.WriteMsg(srv.answer(q))
		return true
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr}, WithTimeout(5*time.Second))
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if err != nil {
		t.Fatal(err)
	}
	if want := addrs("192.0.2.1"); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v: a spoofed reply was accepted", got, want)
	}
}

// forged is a reply to q claiming a.test is at 203.0.113.66.
func forged(q *mdns.Msg) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(q)
	rr, _ := mdns.NewRR(q.Question[0].Name + " 60 A 203.0.113.66")
	m.Answer = append(m.Answer, rr)
	return m
}

func TestSpoofWrongID(t *testing.T) {
	spoofThenAnswer(t, func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := forged(q)
		m.Id = q.Id + 1
		_ = w.WriteMsg(m)
	})
}

func TestSpoofWrongQuestion(t *testing.T) {
	spoofThenAnswer(t, func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := forged(q)
		m.Question[0].Name = "evil.test."
		_ = w.WriteMsg(m)
		m = forged(q)
		m.Question[0].Qtype = mdns.TypeAAAA
		_ = w.WriteMsg(m)
		m = forged(q)
		m.Question = append(m.Question, mdns.Question{Name: "x.test.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET})
		_ = w.WriteMsg(m)
		m = forged(q)
		m.Response = false
		_ = w.WriteMsg(m)
	})
}

// TestSpoofWrongSource sends a reply that is right in every field (id,
// question) but comes from another socket: the connected query socket must
// never see it.
func TestSpoofWrongSource(t *testing.T) {
	other, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	spoofThenAnswer(t, func(w mdns.ResponseWriter, q *mdns.Msg) {
		b, err := forged(q).Pack()
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := other.WriteTo(b, w.RemoteAddr()); err != nil {
			t.Error(err)
		}
	})
}

func TestSpoofGarbage(t *testing.T) {
	spoofThenAnswer(t, func(w mdns.ResponseWriter, q *mdns.Msg) {
		_, _ = w.Write([]byte{1, 2, 3})
		_, _ = w.Write(make([]byte, 600))
	})
}

// TestMalformedReply: a reply whose header and question match but whose
// answer section is cut short. The resolver gives up on that server at once
// and asks the next one.
func TestMalformedReply(t *testing.T) {
	bad := newTestServer(t)
	bad.add("a.test. 60 A 192.0.2.99")
	bad.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		b, _ := bad.answer(q).Pack()
		_, _ = w.Write(b[:len(b)-3])
		return true
	})
	good := newTestServer(t)
	good.add("a.test. 60 A 192.0.2.1")

	r := newTestResolver(t, "options attempts:1\n", "", []netip.AddrPort{bad.addr}, WithTimeout(5*time.Second))
	start := time.Now()
	_, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if !isServerFailure(err) {
		t.Fatalf("err = %v, want ErrServerFailure", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("a malformed reply took %v: it was waited out instead of rejected", el)
	}

	r = newTestResolver(t, "", "", []netip.AddrPort{bad.addr, good.addr}, WithTimeout(5*time.Second))
	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "a.test", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("192.0.2.1")) {
		t.Fatalf("got %v, %v; want the second server's answer", got, err)
	}
}

// TestFreshPortAndIDPerQuery checks the two unpredictable values every UDP
// query must carry: each query comes from a socket of its own (a source port
// the kernel picked at random) and carries a random id. Lookups run one
// after the other and concurrently (from the test goroutine, so runtime.Dial
// takes its inline UDP path; queries started on a loop, as a CNAME chase is,
// take the pool path and are covered by the CNAME tests). Ports and ids are
// random, so a repeat is possible by chance; the test allows a few.
func TestFreshPortAndIDPerQuery(t *testing.T) {
	srv := newTestServer(t)
	var mu sync.Mutex
	ports := map[string]int{}
	ids := map[uint16]int{}
	srv.setBehave(func(w mdns.ResponseWriter, q *mdns.Msg) bool {
		mu.Lock()
		ports[w.RemoteAddr().String()]++
		ids[q.Id]++
		mu.Unlock()
		m := new(mdns.Msg)
		m.SetReply(q)
		rr, _ := mdns.NewRR(q.Question[0].Name + " 60 A 192.0.2.7")
		m.Answer = append(m.Answer, rr)
		_ = w.WriteMsg(m)
		return true
	})
	r := newTestResolver(t, "", "", []netip.AddrPort{srv.addr}, WithCacheSize(0), WithTimeout(5*time.Second))
	const n = 40
	for i := 0; i < n/2; i++ {
		if _, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "seq"+strconv.Itoa(i)+".test", WithFamily(FamilyV4))); err != nil {
			t.Fatal(err)
		}
	}
	fs := make([]*future.Future[[]netip.Addr], 0, n/2)
	for i := 0; i < n/2; i++ {
		fs = append(fs, r.Lookup(t.Context(), "par"+strconv.Itoa(i)+".test", WithFamily(FamilyV4)))
	}
	for _, f := range fs {
		if _, err := await[[]netip.Addr](t, f); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ports) < n-3 {
		t.Fatalf("%d queries came from only %d source addresses: %v", n, len(ports), ports)
	}
	if len(ids) < n-3 {
		t.Fatalf("%d queries carried only %d distinct ids: %v", n, len(ids), ids)
	}
}
