package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// startDnsmasq runs Debian's dnsmasq on a loopback port with a few records
// of its own and no upstream, or skips the test when dnsmasq is not
// installed (.ci/run installs it).
func startDnsmasq(t *testing.T) netip.AddrPort {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/dnsmasq"); serr != nil {
			t.Skip("dnsmasq is not installed (apt-get install dnsmasq); .ci/run installs it")
		}
		bin = "/usr/sbin/dnsmasq"
	}
	// dnsmasq binds UDP and TCP on the port; a port the kernel just handed
	// out for UDP is almost always free for TCP too, and a clash makes
	// dnsmasq exit at once, so a few tries settle it.
	var out string
	for try := 0; try < 5; try++ {
		addr, ok, o := runDnsmasq(t, bin)
		if ok {
			return addr
		}
		out = o
	}
	t.Fatalf("dnsmasq did not start:\n%s", out)
	return netip.AddrPort{}
}

// runDnsmasq starts dnsmasq on a fresh port and waits until it accepts TCP
// connections. It reports false, with dnsmasq's output, if dnsmasq exited.
func runDnsmasq(t *testing.T, bin string) (netip.AddrPort, bool, string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := netip.MustParseAddrPort(pc.LocalAddr().String()).Port()
	pc.Close()
	args := []string{
		"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
		"--port=" + strconv.Itoa(int(port)), "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
		"--log-facility=-",
		"--address=/example.test/127.0.0.9",
		"--host-record=host.example.test,127.0.0.10,::10",
		"--cname=alias.example.test,host.example.test",
		"--ptr-record=10.0.0.127.in-addr.arpa,host.example.test",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root", "--group=root") // no unprivileged user needed for a loopback test
	}
	cmd := exec.Command(bin, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return addr, false, out.String()
		default:
		}
		c, err := net.DialTimeout("tcp", addr.String(), time.Second)
		if err == nil {
			c.Close()
			t.Cleanup(stop)
			return addr, true, ""
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("dnsmasq did not start listening on %v:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDnsmasq(t *testing.T) {
	addr := startDnsmasq(t)
	r := newTestResolver(t, "search example.test\n", "", []netip.AddrPort{addr})

	got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), "www.example.test", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("127.0.0.9")) {
		t.Fatalf("--address: got %v, %v", got, err)
	}
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "host.example.test"))
	if err != nil || !slices.Equal(got, addrs("::10", "127.0.0.10")) {
		t.Fatalf("--host-record, both families: got %v, %v", got, err)
	}
	got, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "alias", WithFamily(FamilyV4)))
	if err != nil || !slices.Equal(got, addrs("127.0.0.10")) {
		t.Fatalf("--cname through the search list: got %v, %v", got, err)
	}
	names, err := await[[]string](t, r.LookupAddr(t.Context(), netip.MustParseAddr("127.0.0.10")))
	if err != nil || !slices.Contains(names, "host.example.test.") {
		t.Fatalf("PTR: got %v, %v", names, err)
	}
	// No upstream: dnsmasq refuses names outside its records.
	_, err = await[[]netip.Addr](t, r.Lookup(t.Context(), "elsewhere.invalid.", WithFamily(FamilyV4)))
	var de *net.DNSError
	if err == nil || !errors.As(err, &de) {
		t.Fatalf("a name dnsmasq cannot answer: err = %v", err)
	}
	// Same answers as Go's own resolver pointed at the same dnsmasq.
	nr := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr.String())
	}}
	for _, host := range []string{"www.example.test.", "host.example.test.", "alias.example.test."} {
		want, err := nr.LookupNetIP(t.Context(), "ip4", host)
		if err != nil {
			t.Fatal(err)
		}
		got, err := await[[]netip.Addr](t, r.Lookup(t.Context(), host, WithFamily(FamilyV4)))
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: ours %v (%v), net.Resolver %v", host, got, err, want)
		}
	}
}
