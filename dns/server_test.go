package dns

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// testServer is an in-process DNS server (miekg/dns) on 127.0.0.1, UDP and
// TCP on the same random port. Its zone is built by the test; behave hooks
// let a test take over a reply.
type testServer struct {
	t    testing.TB
	addr netip.AddrPort
	udp  *mdns.Server
	tcp  *mdns.Server

	mu     sync.Mutex
	zone   map[string][]mdns.RR // lower-case FQDN -> records of every type
	nx     map[string]bool      // names that answer NXDOMAIN
	log    []string             // "udp A a.test." per query received
	behave func(w mdns.ResponseWriter, q *mdns.Msg) bool
	soaTTL uint32
	noSOA  bool
}

// newTestServer starts a server and stops it when the test ends.
func newTestServer(t *testing.T) *testServer { return newTestServerTB(t) }

// newTestServerTB is newTestServer for tests and benchmarks.
func newTestServerTB(t testing.TB) *testServer {
	t.Helper()
	s := &testServer{t: t, zone: map[string][]mdns.RR{}, nx: map[string]bool{}, soaTTL: 30}
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if i > 20 {
			t.Fatalf("no free port for UDP and TCP: %v", err)
		}
	}
	s.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	h := mdns.HandlerFunc(s.serve)
	s.udp = &mdns.Server{PacketConn: pc, Handler: h}
	s.tcp = &mdns.Server{Listener: ln, Handler: h}
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
	}
	t.Cleanup(func() {
		_ = s.udp.Shutdown()
		_ = s.tcp.Shutdown()
	})
	return s
}

// add puts records in the zone, in presentation format ("a.test. 60 A 192.0.2.1").
func (s *testServer) add(rrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, text := range rrs {
		rr, err := mdns.NewRR(text)
		if err != nil {
			s.t.Fatalf("bad test record %q: %v", text, err)
		}
		name := strings.ToLower(rr.Header().Name)
		s.zone[name] = append(s.zone[name], rr)
	}
}

func (s *testServer) setNX(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		s.nx[strings.ToLower(mdns.Fqdn(n))] = true
	}
}

func (s *testServer) setBehave(fn func(w mdns.ResponseWriter, q *mdns.Msg) bool) {
	s.mu.Lock()
	s.behave = fn
	s.mu.Unlock()
}

// queries returns the log of queries received so far.
func (s *testServer) queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *testServer) serve(w mdns.ResponseWriter, q *mdns.Msg) {
	if len(q.Question) != 1 {
		return
	}
	qq := q.Question[0]
	s.mu.Lock()
	s.log = append(s.log, w.RemoteAddr().Network()+" "+mdns.TypeToString[qq.Qtype]+" "+strings.ToLower(qq.Name))
	behave := s.behave
	s.mu.Unlock()
	if behave != nil && behave(w, q) {
		return
	}
	_ = w.WriteMsg(s.answer(q))
}

// answer builds the authoritative-style reply from the zone: records of the
// type, a CNAME chain inside the zone, NXDOMAIN for names marked nx and for
// names not in the zone, NODATA (with SOA) for known names without the type.
func (s *testServer) answer(q *mdns.Msg) *mdns.Msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	qq := q.Question[0]
	m := new(mdns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	name := strings.ToLower(qq.Name)
	for hops := 0; hops < 10; hops++ {
		if s.nx[name] {
			m.Rcode = mdns.RcodeNameError
			break
		}
		rrs, ok := s.zone[name]
		if !ok {
			if hops == 0 {
				m.Rcode = mdns.RcodeNameError
			}
			break
		}
		var next string
		found := false
		for _, rr := range rrs {
			if rr.Header().Rrtype == qq.Qtype {
				m.Answer = append(m.Answer, rr)
				found = true
			}
		}
		if found {
			break
		}
		for _, rr := range rrs {
			if c, ok := rr.(*mdns.CNAME); ok && qq.Qtype != mdns.TypeCNAME {
				m.Answer = append(m.Answer, c)
				next = strings.ToLower(c.Target)
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	hasType := false
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == qq.Qtype {
			hasType = true
		}
	}
	if !hasType && !s.noSOA {
		soa, _ := mdns.NewRR("test. 3600 IN SOA ns.test. admin.test. 1 3600 600 86400 " + strconv.Itoa(int(s.soaTTL)))
		soa.Header().Ttl = 3600
		m.Ns = append(m.Ns, soa)
	}
	return m
}

// testFiles writes a resolv.conf and a hosts file into a temporary directory.
func testFiles(t *testing.T, resolvConf, hostsFile string) (confPath, hostsPath string) {
	return testFilesTB(t, resolvConf, hostsFile)
}

// testFilesTB is testFiles for tests and benchmarks.
func testFilesTB(t testing.TB, resolvConf, hostsFile string) (confPath, hostsPath string) {
	t.Helper()
	dir := t.TempDir()
	confPath = filepath.Join(dir, "resolv.conf")
	hostsPath = filepath.Join(dir, "hosts")
	if err := os.WriteFile(confPath, []byte(resolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hostsPath, []byte(hostsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	return confPath, hostsPath
}

// newTestResolver returns a resolver that only ever talks to servers, with
// its own resolv.conf and hosts files (never the machine's).
func newTestResolver(t *testing.T, resolvConf, hostsFile string, servers []netip.AddrPort, opts ...ResolverOption) *Resolver {
	t.Helper()
	if len(servers) == 0 {
		t.Fatal("a test resolver needs its own servers")
	}
	confPath, hostsPath := testFiles(t, resolvConf, hostsFile)
	all := []ResolverOption{
		WithConfigFile(confPath),
		WithHostsFile(hostsPath),
		WithServers(servers...),
		WithTimeout(2 * time.Second),
	}
	return NewResolver(append(all, opts...)...)
}

// await waits for f with a generous bound, so a bug fails the test instead
// of hanging it.
func await[T any](t *testing.T, f interface {
	Await(context.Context) (T, error)
}) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return f.Await(ctx)
}

// lockedBuffer collects a child process's output safely.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
