package dns

import (
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	"golang.org/x/net/dns/dnsmessage"
)

// FuzzReply feeds arbitrary bytes to the reply check as the reply to a known
// query. It must never panic, and whatever it accepts must really be a reply
// to that query: miekg/dns, an independent parser, must read the same id,
// the response bit and the same single question.
func FuzzReply(f *testing.F) {
	const id = 0x1234
	q, err := question("www.example.test", dnsmessage.TypeA)
	if err != nil {
		f.Fatal(err)
	}
	soa := "test. 300 IN SOA ns.test. admin.test. 1 3600 600 86400 45"
	f.Add(replyTo(id, "www.example.test.", mdns.TypeA, 0, []string{"www.example.test. 60 A 192.0.2.1"}, nil))
	f.Add(replyTo(id, "www.example.test.", mdns.TypeA, 0, []string{"www.example.test. 60 CNAME b.test.", "b.test. 60 A 192.0.2.1"}, nil))
	f.Add(replyTo(id, "www.example.test.", mdns.TypeA, 3, nil, []string{soa}))
	f.Add(replyTo(id, "www.example.test.", mdns.TypeA, 2, nil, nil))
	f.Add(replyTo(id+1, "www.example.test.", mdns.TypeA, 0, nil, nil))
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := checkReply(msg, id, q)
		if err == errIgnore {
			return
		}
		var m mdns.Msg
		// miekg/dns rejects some messages that dnsmessage reads (and the
		// other way round) in the sections after the question; the header
		// and question must agree whenever we accepted.
		if uerr := m.Unpack(msg); uerr != nil && m.Id == 0 && len(m.Question) == 0 {
			// miekg gave up before the question: compare by hand.
			if len(msg) < 12 || msg[0] != 0x12 || msg[1] != 0x34 || msg[2]&0x80 == 0 {
				t.Fatalf("accepted (%v, %+v) a message without our id and response bit", err, r)
			}
			return
		}
		if m.Id != id || !m.Response {
			t.Fatalf("accepted a message with id %d response %v", m.Id, m.Response)
		}
		if len(m.Question) > 0 {
			if len(m.Question) != 1 || !strings.EqualFold(m.Question[0].Name, "www.example.test.") ||
				m.Question[0].Qtype != mdns.TypeA || m.Question[0].Qclass != mdns.ClassINET {
				t.Fatalf("accepted a reply to another question: %v", m.Question)
			}
		}
		if err == nil && r.kind == replyAnswer && len(r.addrs) == 0 && len(r.names) == 0 {
			t.Fatalf("an answer without records: %+v", r)
		}
	})
}

// FuzzParseConfig: resolv.conf parsing never panics and always yields a
// usable configuration.
func FuzzParseConfig(f *testing.F) {
	f.Add("nameserver 192.0.2.1\nsearch a.test b.test\noptions ndots:2 timeout:1 attempts:3 rotate\n")
	f.Add("domain x\noptions ndots:99999999999999999999\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseConfig(strings.NewReader(text))
		if err != nil {
			return // a line longer than the scanner's limit
		}
		if len(c.Servers) == 0 || len(c.Servers) > maxNameservers && len(c.Servers) != len(defaultServers()) {
			t.Fatalf("servers %v", c.Servers)
		}
		if c.Ndots < 0 || c.Ndots > maxNdots || c.Timeout <= 0 || c.Timeout > maxTimeout || c.Attempts <= 0 || c.Attempts > maxAttempts {
			t.Fatalf("out of range: %+v", c)
		}
		for _, d := range c.Search {
			if !validName(d) {
				t.Fatalf("invalid search domain %q", d)
			}
		}
	})
}

// FuzzParseHosts: hosts parsing never panics and only keeps valid names.
func FuzzParseHosts(f *testing.F) {
	f.Add("127.0.0.1 localhost\n::1 localhost ip6-localhost # c\n")
	f.Add("fe80::1%eth0 zoned\n10.0.0.1\n")
	f.Fuzz(func(t *testing.T, text string) {
		h, err := parseHosts(strings.NewReader(text))
		if err != nil {
			return
		}
		for name, as := range h.byName {
			if !validName(name) || name != strings.ToLower(name) || len(as) == 0 {
				t.Fatalf("bad entry %q: %v", name, as)
			}
		}
	})
}

// FuzzLookupName: any host string gives an error or a valid query name, never
// a panic.
func FuzzLookupName(f *testing.F) {
	f.Add("www.example.test.")
	f.Add("[::1]")
	f.Add("1.2.3.4")
	f.Fuzz(func(t *testing.T, host string) {
		if _, ok := parseIPLiteral(host); ok {
			return
		}
		name, abs, ok := normalize(host)
		if !ok {
			return
		}
		for _, c := range candidates(name, abs, []string{"a.test"}, 1) {
			if _, err := question(c, dnsmessage.TypeA); err != nil {
				t.Fatalf("valid name %q gave a bad question: %v", c, err)
			}
		}
	})
}
