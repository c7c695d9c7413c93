package dns

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/net/dns/dnsmessage"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want Config
	}{
		{"empty: glibc defaults", "", Config{Servers: defaultServers(), Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"full", `# comment
nameserver 192.0.2.53
nameserver 2001:db8::53 ; trailing comment
nameserver fe80::1%eth0
nameserver 192.0.2.54
domain ignored.test
search a.test B.test.
options ndots:3 timeout:2 attempts:4 rotate use-vc edns0 unknown:9
`, Config{
			Servers: []netip.AddrPort{
				netip.MustParseAddrPort("192.0.2.53:53"),
				netip.MustParseAddrPort("[2001:db8::53]:53"),
				netip.MustParseAddrPort("[fe80::1%eth0]:53"),
			},
			Search: []string{"a.test", "b.test"}, Ndots: 3, Timeout: 2 * time.Second, Attempts: 4, Rotate: true, UseTCP: true,
		}},
		{"domain after search wins", "search a.test\ndomain c.test\nnameserver 192.0.2.1\n", Config{
			Servers: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:53")},
			Search:  []string{"c.test"}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2,
		}},
		{"limits", "nameserver 192.0.2.1\noptions ndots:99 timeout:0 attempts:100 timeout:600\n", Config{
			Servers: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:53")},
			Ndots:   15, Timeout: 30 * time.Second, Attempts: 5,
		}},
		{"junk", "nameserver\nnameserver not-an-ip\noptions ndots:-1 ndots:x timeout:\nsearch .\nwhatever 1 2 3\n", Config{
			Servers: defaultServers(), Ndots: 1, Timeout: 5 * time.Second, Attempts: 2,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(strings.NewReader(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Servers, tc.want.Servers) || !slices.Equal(got.Search, tc.want.Search) ||
				got.Ndots != tc.want.Ndots || got.Timeout != tc.want.Timeout || got.Attempts != tc.want.Attempts ||
				got.Rotate != tc.want.Rotate || got.UseTCP != tc.want.UseTCP {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestReadConfigMissingFile(t *testing.T) {
	c, err := ReadConfig(t.TempDir() + "/nope")
	if err != nil || c.Ndots != 1 || len(c.Servers) != 2 {
		t.Fatalf("got %+v, %v; want the defaults", c, err)
	}
}

func TestParseHosts(t *testing.T) {
	h, err := parseHosts(strings.NewReader(`# comment
127.0.0.1 localhost
::1 localhost ip6-localhost
192.0.2.1   Web.Test  www.test.  # alias
192.0.2.1   web.test
bogus line here
::ffff:192.0.2.2 mapped.test
fe80::1%lo zoned.test
192.0.2.3 bad..name good.test
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fam  Family
		want []netip.Addr
	}{
		{"localhost", FamilyAny, addrs("127.0.0.1", "::1")},
		{"localhost", FamilyV4, addrs("127.0.0.1")},
		{"localhost", FamilyV6, addrs("::1")},
		{"web.test", FamilyAny, addrs("192.0.2.1")},
		{"www.test", FamilyAny, addrs("192.0.2.1")},
		{"mapped.test", FamilyV4, addrs("192.0.2.2")},
		{"zoned.test", FamilyV6, addrs("fe80::1%lo")},
		{"good.test", FamilyAny, addrs("192.0.2.3")},
		{"bogus", FamilyAny, nil},
		{"missing.test", FamilyAny, nil},
	} {
		got, listed := h.lookup(tc.name, tc.fam)
		if !slices.Equal(got, tc.want) || listed != (tc.want != nil) {
			t.Errorf("%s/%v: got %v, %v, want %v", tc.name, tc.fam, got, listed, tc.want)
		}
	}
	if got, listed := h.lookup("web.test", FamilyV6); got != nil || !listed {
		t.Errorf("web.test/v6: got %v, %v; want no address but listed", got, listed)
	}
	if got := h.lookupAddr(netip.MustParseAddr("192.0.2.1")); !slices.Equal(got, []string{"web.test", "www.test"}) {
		t.Errorf("reverse: got %v", got)
	}
	if got := h.lookupAddr(netip.MustParseAddr("fe80::1")); !slices.Equal(got, []string{"zoned.test"}) {
		t.Errorf("reverse of a zoned address: got %v", got)
	}
}

func TestCandidates(t *testing.T) {
	search := []string{"a.test", "b.test"}
	for _, tc := range []struct {
		name  string
		abs   bool
		ndots int
		want  []string
	}{
		{"host", false, 1, []string{"host.a.test", "host.b.test", "host"}},
		{"www.host", false, 1, []string{"www.host", "www.host.a.test", "www.host.b.test"}},
		{"www.host", false, 2, []string{"www.host.a.test", "www.host.b.test", "www.host"}},
		{"host", true, 1, []string{"host"}},
		{"host", false, 0, []string{"host", "host.a.test", "host.b.test"}},
	} {
		if got := candidates(tc.name, tc.abs, search, tc.ndots); !slices.Equal(got, tc.want) {
			t.Errorf("%s abs=%v ndots=%d: got %v, want %v", tc.name, tc.abs, tc.ndots, got, tc.want)
		}
		first, ok := firstCandidate(tc.name, tc.abs, search, tc.ndots)
		if ok && first != tc.want[0] {
			t.Errorf("firstCandidate(%s) = %s, want %s", tc.name, first, tc.want[0])
		}
	}
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 50)
	if got := candidates(long, false, []string{"toolong.example.test"}, 1); !slices.Equal(got, []string{long}) {
		t.Errorf("a candidate longer than 253 bytes was kept: %v", got)
	}
}

func TestReverseName(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"192.0.2.1", "1.2.0.192.in-addr.arpa"},
		{"10.0.100.255", "255.100.0.10.in-addr.arpa"},
		{"::ffff:10.0.0.1", "1.0.0.10.in-addr.arpa"},
		{"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
	} {
		got := reverseName(netip.MustParseAddr(tc.ip))
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.ip, got, tc.want)
		}
		// miekg/dns, an independent implementation, agrees.
		if ref, _ := mdns.ReverseAddr(tc.ip); ref != tc.want+"." {
			t.Errorf("%s: miekg says %s, we say %s", tc.ip, ref, got)
		}
	}
}

func TestBuildQueryParsesWithMiekg(t *testing.T) {
	q, err := question("www.example.test", dnsmessage.TypeAAAA)
	if err != nil {
		t.Fatal(err)
	}
	for _, tcp := range []bool{false, true} {
		b, err := buildQuery(nil, 0xbeef, q, tcp)
		if err != nil {
			t.Fatal(err)
		}
		if tcp {
			if n := int(b[0])<<8 | int(b[1]); n != len(b)-2 {
				t.Fatalf("length prefix %d for a %d-byte message", n, len(b)-2)
			}
			b = b[2:]
		}
		var m mdns.Msg
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if m.Id != 0xbeef || !m.RecursionDesired || len(m.Question) != 1 ||
			m.Question[0].Name != "www.example.test." || m.Question[0].Qtype != mdns.TypeAAAA {
			t.Fatalf("query as miekg reads it: %v", &m)
		}
		if opt := m.IsEdns0(); opt == nil || opt.UDPSize() != ednsUDPSize {
			t.Fatalf("no EDNS(0) with UDP size %d: %v", ednsUDPSize, &m)
		}
	}
}

// replyTo builds a reply with miekg/dns to the query (id, name, type).
func replyTo(id uint16, name string, qt uint16, rcode int, answer, ns []string) []byte {
	m := new(mdns.Msg)
	m.SetQuestion(name, qt)
	m.Id = id
	m.Response = true
	m.Rcode = rcode
	for _, s := range answer {
		rr, _ := mdns.NewRR(s)
		m.Answer = append(m.Answer, rr)
	}
	for _, s := range ns {
		rr, _ := mdns.NewRR(s)
		m.Ns = append(m.Ns, rr)
	}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

func TestCheckReply(t *testing.T) {
	q, _ := question("a.test", dnsmessage.TypeA)
	const id = 4242
	soa := "test. 300 IN SOA ns.test. admin.test. 1 3600 600 86400 45"
	for _, tc := range []struct {
		name    string
		msg     []byte
		err     error
		kind    replyKind
		addrs   []netip.Addr
		ttl     uint32
		hasTTL  bool
		target  string
		wantHop int
	}{
		{"answer", replyTo(id, "a.test.", mdns.TypeA, 0, []string{"a.test. 60 A 192.0.2.1", "a.test. 30 A 192.0.2.2"}, nil),
			nil, replyAnswer, addrs("192.0.2.1", "192.0.2.2"), 30, true, "a.test", 0},
		{"question case differs", replyTo(id, "A.TeSt.", mdns.TypeA, 0, []string{"A.TEST. 60 A 192.0.2.1"}, nil),
			nil, replyAnswer, addrs("192.0.2.1"), 60, true, "a.test", 0},
		{"cname chain out of order", replyTo(id, "a.test.", mdns.TypeA, 0, []string{"b.test. 20 A 192.0.2.9", "a.test. 60 CNAME b.test.", "other.test. 60 A 192.0.2.10"}, nil),
			nil, replyAnswer, addrs("192.0.2.9"), 20, true, "b.test", 1},
		{"records of other owners are ignored", replyTo(id, "a.test.", mdns.TypeA, 0, []string{"evil.test. 60 A 203.0.113.1"}, []string{soa}),
			nil, replyNoData, nil, 45, true, "a.test", 0},
		{"nxdomain with soa", replyTo(id, "a.test.", mdns.TypeA, mdns.RcodeNameError, nil, []string{soa}),
			nil, replyNXDomain, nil, 45, true, "a.test", 0},
		{"nxdomain without soa is not cached", replyTo(id, "a.test.", mdns.TypeA, mdns.RcodeNameError, nil, nil),
			nil, replyNXDomain, nil, 0, false, "a.test", 0},
		{"cname to follow", replyTo(id, "a.test.", mdns.TypeA, 0, []string{"a.test. 60 CNAME far.test."}, nil),
			nil, replyFollow, nil, 60, true, "far.test", 1},
		{"servfail", replyTo(id, "a.test.", mdns.TypeA, mdns.RcodeServerFailure, nil, nil),
			nil, replyServFail, nil, 0, false, "", 0},
		{"refused", replyTo(id, "a.test.", mdns.TypeA, mdns.RcodeRefused, nil, nil),
			nil, replyServFail, nil, 0, false, "", 0},
		{"wrong id", replyTo(id+1, "a.test.", mdns.TypeA, 0, []string{"a.test. 60 A 192.0.2.1"}, nil), errIgnore, 0, nil, 0, false, "", 0},
		{"wrong name", replyTo(id, "b.test.", mdns.TypeA, 0, []string{"b.test. 60 A 192.0.2.1"}, nil), errIgnore, 0, nil, 0, false, "", 0},
		{"wrong type", replyTo(id, "a.test.", mdns.TypeAAAA, 0, nil, nil), errIgnore, 0, nil, 0, false, "", 0},
		{"empty", nil, errIgnore, 0, nil, 0, false, "", 0},
		{"short", []byte{0x10, 0x92, 0x81}, errIgnore, 0, nil, 0, false, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := checkReply(tc.msg, id, q)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if r.kind != tc.kind || !slices.Equal(r.addrs, tc.addrs) || r.hasTTL != tc.hasTTL || (r.hasTTL && r.ttl != tc.ttl) {
				t.Fatalf("got %+v", r)
			}
			if tc.target != "" && r.target != tc.target {
				t.Fatalf("target %q, want %q", r.target, tc.target)
			}
			if r.hops != tc.wantHop {
				t.Fatalf("hops %d, want %d", r.hops, tc.wantHop)
			}
		})
	}
	// A query is not a reply.
	b, _ := buildQuery(nil, id, q, false)
	if _, err := checkReply(b, id, q); err != errIgnore {
		t.Fatalf("our own query accepted as a reply: %v", err)
	}
	// A reply whose records are cut short is malformed.
	full := replyTo(id, "a.test.", mdns.TypeA, 0, []string{"a.test. 60 A 192.0.2.1"}, nil)
	if _, err := checkReply(full[:len(full)-2], id, q); err != errMalformed {
		t.Fatalf("truncated record: err = %v, want errMalformed", err)
	}
	// The TC bit asks for TCP.
	m := new(mdns.Msg)
	m.SetQuestion("a.test.", mdns.TypeA)
	m.Id, m.Response, m.Truncated = id, true, true
	tb, _ := m.Pack()
	if r, err := checkReply(tb, id, q); err != nil || r.kind != replyTruncated {
		t.Fatalf("TC: got %+v, %v", r, err)
	}
}

func TestValidName(t *testing.T) {
	good := []string{"a", "a.b", "xn--bcher-kva.test", "_sip._tcp.example.test", "1.2.3", strings.Repeat("a", 63) + ".test"}
	bad := []string{"", "a..b", ".a", "a b", strings.Repeat("a", 64) + ".test", "a/b", "é.test", strings.Repeat("a.", 127) + "ab"}
	for _, s := range good {
		if !validName(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range bad {
		if validName(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
