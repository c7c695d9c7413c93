package main

import (
	"net"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// zoneServer is an independent DNS server (miekg/dns) on 127.0.0.1 with a
// small zone; every test sends its queries there with -server, never to
// the machine's name servers.
type zoneServer struct {
	addr    string
	mu      sync.Mutex
	queries []string
}

func startZone(t *testing.T) *zoneServer {
	zone := map[string][]string{}
	for _, rr := range []string{
		"www.example.test. 60 IN A 192.0.2.1",
		"www.example.test. 60 IN A 192.0.2.2",
		"www.example.test. 60 IN AAAA 2001:db8::1",
		"v4only.example.test. 60 IN A 192.0.2.9",
		"1.2.0.192.in-addr.arpa. 60 IN PTR www.example.test.",
		reverse("2001:db8::1") + " 60 IN PTR six.example.test.",
	} {
		f := strings.Fields(rr)
		key := strings.ToLower(f[0]) + " " + f[3]
		zone[key] = append(zone[key], rr)
	}
	z := &zoneServer{}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z.addr = pc.LocalAddr().String()
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, q *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		question := q.Question[0]
		name := strings.ToLower(question.Name)
		z.mu.Lock()
		z.queries = append(z.queries, mdns.TypeToString[question.Qtype]+" "+name)
		z.mu.Unlock()
		known := false
		for key, rrs := range zone {
			if strings.HasPrefix(key, name+" ") {
				known = true
			}
			if key == name+" "+mdns.TypeToString[question.Qtype] {
				for _, s := range rrs {
					rr, _ := mdns.NewRR(s)
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		if !known {
			m.Rcode = mdns.RcodeNameError
		}
		soa, _ := mdns.NewRR("example.test. 60 IN SOA ns.example.test. admin.example.test. 1 60 60 60 60")
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, soa)
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return z
}

func reverse(ip string) string {
	name, err := mdns.ReverseAddr(ip)
	if err != nil {
		panic(err)
	}
	return name
}

func (z *zoneServer) asked(q string) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, s := range z.queries {
		if s == q {
			return true
		}
	}
	return false
}

func TestLookupAllAddresses(t *testing.T) {
	z := startZone(t)
	out, stderr, err := extest.Run(t, run, "", "-server", z.addr, "www.example.test", "v4only.example.test")
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	want := "www.example.test has IPv6 address 2001:db8::1\n" +
		"www.example.test has address 192.0.2.1\n" +
		"www.example.test has address 192.0.2.2\n" +
		"v4only.example.test has address 192.0.2.9\n"
	if out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}
	if !z.asked("AAAA www.example.test.") || !z.asked("A www.example.test.") {
		t.Fatal("the test server was not asked")
	}
}

func TestLookupFamilies(t *testing.T) {
	z := startZone(t)
	out, _, err := extest.Run(t, run, "", "-4", "-server", z.addr, "www.example.test")
	if err != nil || out != "www.example.test has address 192.0.2.1\nwww.example.test has address 192.0.2.2\n" {
		t.Fatalf("-4: %q, %v", out, err)
	}
	out, _, err = extest.Run(t, run, "", "-6", "-server", z.addr, "www.example.test")
	if err != nil || out != "www.example.test has IPv6 address 2001:db8::1\n" {
		t.Fatalf("-6: %q, %v", out, err)
	}
	if _, _, err := extest.Run(t, run, "", "-4", "-6", "x"); err == nil {
		t.Fatal("-4 -6 accepted")
	}
}

func TestLookupReverse(t *testing.T) {
	z := startZone(t)
	out, _, err := extest.Run(t, run, "", "-server", z.addr, "-x", "192.0.2.1")
	if err != nil || out != "192.0.2.1 domain name pointer www.example.test.\n" {
		t.Fatalf("-x 192.0.2.1: %q, %v", out, err)
	}
	out, _, err = extest.Run(t, run, "", "-server", z.addr, "-x", "2001:db8::1")
	if err != nil || out != "2001:db8::1 domain name pointer six.example.test.\n" {
		t.Fatalf("-x 2001:db8::1: %q, %v", out, err)
	}
	if _, _, err := extest.Run(t, run, "", "-server", z.addr, "-x", "not-an-ip"); err == nil {
		t.Fatal("-x not-an-ip accepted")
	}
}

// A failed name is reported on stderr, the others still print, and the
// exit status says something failed.
func TestLookupNotFound(t *testing.T) {
	z := startZone(t)
	out, stderr, err := extest.Run(t, run, "", "-server", z.addr, "nope.example.test", "v4only.example.test")
	if err == nil || err.Error() != "1 of 2 lookups failed" {
		t.Fatalf("error = %v", err)
	}
	if out != "v4only.example.test has address 192.0.2.9\n" {
		t.Fatalf("output %q", out)
	}
	if !strings.Contains(stderr, "nope.example.test: ") || !strings.Contains(stderr, "no such host") {
		t.Fatalf("stderr %q", stderr)
	}
}

func TestLookupUsage(t *testing.T) {
	if _, _, err := extest.Run(t, run, "", "-server", "127.0.0.1:1"); err == nil {
		t.Fatal("no error without hosts")
	}
	if _, _, err := extest.Run(t, run, "", "-server", "nameserver.test", "x"); err == nil {
		t.Fatal("a -server that is not an IP was accepted")
	}
}
