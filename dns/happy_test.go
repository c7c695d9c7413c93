package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/stats"
)

func TestDialOrder(t *testing.T) {
	in := addrs("192.0.2.1", "192.0.2.2", "2001:db8::1", "::ffff:192.0.2.3", "2001:db8::2", "2001:db8::3")
	want := addrs("2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3", "::ffff:192.0.2.3")
	if got := DialOrder(in); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := DialOrder(addrs("192.0.2.1")); !slices.Equal(got, addrs("192.0.2.1")) {
		t.Fatalf("one address: %v", got)
	}
}

// nopHandler is a connection handler that ignores everything.
type nopHandler struct{}

func (nopHandler) OnOpen(*loop.Conn)             {}
func (nopHandler) OnData(*loop.Conn, []byte)     {}
func (nopHandler) OnEOF(*loop.Conn)              {}
func (nopHandler) OnWritable(*loop.Conn)         {}
func (nopHandler) OnError(c *loop.Conn, _ error) { _ = c.Close() }

// tcpDialer dials real TCP connections on the goasync runtime, to the port
// given for each family, and counts attempts per address.
type tcpDialer struct {
	port4, port6 uint16
	started      atomic.Int32
	order        chan netip.Addr
}

func newTCPDialer(port4, port6 uint16) *tcpDialer {
	return &tcpDialer{port4: port4, port6: port6, order: make(chan netip.Addr, 16)}
}

func (d *tcpDialer) dial(ctx context.Context, ip netip.Addr) *future.Future[*loop.Conn] {
	d.started.Add(1)
	d.order <- ip
	port := d.port4
	if ip.Is6() {
		port = d.port6
	}
	return loop.Default().Dial(ctx, "tcp", netip.AddrPortFrom(ip, port).String(), nopHandler{})
}

// release closes c on its loop.
func release(c *loop.Conn) { c.Loop().Execute(func() { _ = c.Close() }) }

func listenTCP(t *testing.T, network, addr string) (uint16, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, addr, err)
	}
	var accepted atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				_, _ = c.Read(make([]byte, 1)) // until the client closes
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return netip.MustParseAddrPort(ln.Addr().String()).Port(), &accepted
}

func deadTCPPort(t *testing.T, network, addr string) uint16 {
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, addr, err)
	}
	p := netip.MustParseAddrPort(ln.Addr().String()).Port()
	ln.Close()
	return p
}

// blackholeTCP returns a port on [::1] where connects hang: a listener
// whose accept queue is full and never drained, so the kernel drops SYNs.
func blackholeTCP(t *testing.T) uint16 {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: netip.IPv6Loopback().As16()}); err != nil {
		t.Skip(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Skip(err)
	}
	sa, _ := unix.Getsockname(fd)
	port := uint16(sa.(*unix.SockaddrInet6).Port)
	// Fill the queue: connections that complete the handshake and are never
	// accepted.
	for i := 0; i < 4; i++ {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(netip.IPv6Loopback(), port).String(), 200*time.Millisecond)
		if err != nil {
			break // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	return port
}

var loop4, loop6 = netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()

func TestHappyEyeballsIPv6First(t *testing.T) {
	p4, acc4 := listenTCP(t, "tcp4", "127.0.0.1:0")
	p6, acc6 := listenTCP(t, "tcp6", "[::1]:0")
	d := newTCPDialer(p4, p6)
	// A long delay: IPv6 connects on loopback long before it ends, so the
	// IPv4 attempt never starts.
	c, err := await[*loop.Conn](t, HappyEyeballs(t.Context(), []netip.Addr{loop4, loop6}, d.dial, release, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer release(c)
	if got := <-d.order; got != loop6 {
		t.Fatalf("first attempt to %v, want ::1", got)
	}
	if n := d.started.Load(); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
	waitFor(t, func() bool { return acc6.Load() == 1 })
	if acc4.Load() != 0 {
		t.Fatal("IPv4 was dialled although IPv6 connected first")
	}
}

func TestHappyEyeballsFailureStartsNextAtOnce(t *testing.T) {
	p4, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	d := newTCPDialer(p4, deadTCPPort(t, "tcp6", "[::1]:0"))
	start := time.Now()
	c, err := await[*loop.Conn](t, HappyEyeballs(t.Context(), []netip.Addr{loop6, loop4}, d.dial, release, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer release(c)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("IPv4 won after %v: the refused IPv6 attempt did not start it at once", el)
	}
	if got := netip.MustParseAddrPort(c.RemoteAddr().String()).Addr(); got != loop4 {
		t.Fatalf("connected to %v", got)
	}
}

func TestHappyEyeballsSlowIPv6(t *testing.T) {
	p4, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	d := newTCPDialer(p4, blackholeTCP(t))
	base := stats.ConnsOut.Load()
	const delay = 150 * time.Millisecond
	start := time.Now()
	c, err := await[*loop.Conn](t, HappyEyeballs(t.Context(), []netip.Addr{loop4, loop6}, d.dial, release, delay))
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if got := netip.MustParseAddrPort(c.RemoteAddr().String()).Addr(); got != loop4 {
		t.Fatalf("connected to %v; the blackholed IPv6 cannot have won", got)
	}
	if el < delay {
		t.Fatalf("IPv4 started after %v, before the %v attempt delay", el, delay)
	}
	if <-d.order != loop6 || <-d.order != loop4 {
		t.Fatal("attempts not in IPv6, IPv4 order")
	}
	release(c)
	waitFor(t, func() bool { return stats.ConnsOut.Load() <= base })
}

func TestHappyEyeballsAllFail(t *testing.T) {
	d := newTCPDialer(deadTCPPort(t, "tcp4", "127.0.0.1:0"), deadTCPPort(t, "tcp6", "[::1]:0"))
	_, err := await[*loop.Conn](t, HappyEyeballs(t.Context(), []netip.Addr{loop4, loop6}, d.dial, release, 0))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want connection refused", err)
	}
	if n := d.started.Load(); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	_, err = await[*loop.Conn](t, HappyEyeballs(t.Context(), nil, d.dial, release, 0))
	if err == nil {
		t.Fatal("no addresses: no error")
	}
}

// TestHappyEyeballsLoserReleased: with the minimum delay both attempts run;
// the one that loses is cancelled or, if it connected anyway, closed.
func TestHappyEyeballsLoserReleased(t *testing.T) {
	p4, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	p6, _ := listenTCP(t, "tcp6", "[::1]:0")
	base := stats.ConnsOut.Load()
	for i := 0; i < 10; i++ {
		d := newTCPDialer(p4, p6)
		c, err := await[*loop.Conn](t, HappyEyeballs(t.Context(), []netip.Addr{loop4, loop6, loop4, loop6}, d.dial, release, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		release(c)
	}
	waitFor(t, func() bool { return stats.ConnsOut.Load() <= base })
}

func TestHappyEyeballsCancel(t *testing.T) {
	d := newTCPDialer(0, blackholeTCP(t))
	ctx, cancel := context.WithCancel(t.Context())
	f := HappyEyeballs(ctx, []netip.Addr{loop6}, d.dial, release, 0)
	<-d.order
	cancel()
	if _, err := await[*loop.Conn](t, f); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// answer returns a lookup future that resolves (or, with err, rejects)
// after d.
func answer(d time.Duration, addrs []netip.Addr, err error) *future.Future[[]netip.Addr] {
	p := future.New[[]netip.Addr]()
	time.AfterFunc(d, func() {
		if err != nil {
			p.Reject(err)
			return
		}
		p.Resolve(addrs)
	})
	return p.Future()
}

// A slow AAAA answer does not hold IPv4 back for long: connecting starts
// ResolutionDelay after the A answer, long before the AAAA one.
func TestHappyEyeballsLookupSlowAAAA(t *testing.T) {
	p4, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	p6, _ := listenTCP(t, "tcp6", "[::1]:0")
	d := newTCPDialer(p4, p6)
	start := time.Now()
	v6 := answer(3*time.Second, []netip.Addr{loop6}, nil)
	v4 := answer(0, []netip.Addr{loop4}, nil)
	c, err := await[*loop.Conn](t, HappyEyeballsLookup(t.Context(), v6, v4, d.dial, release, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer release(c)
	el := time.Since(start)
	if got := netip.MustParseAddrPort(c.RemoteAddr().String()).Addr(); got != loop4 {
		t.Fatalf("connected to %v", got)
	}
	if el < ResolutionDelay || el > 2*time.Second {
		t.Fatalf("connected after %v: want the %v resolution delay, not the slow AAAA answer", el, ResolutionDelay)
	}
}

// An AAAA answer within the resolution delay comes first in the attempts,
// although the A answer arrived before it.
func TestHappyEyeballsLookupAAAAWithinDelay(t *testing.T) {
	p4, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	p6, _ := listenTCP(t, "tcp6", "[::1]:0")
	d := newTCPDialer(p4, p6)
	v6 := answer(10*time.Millisecond, []netip.Addr{loop6}, nil)
	v4 := answer(0, []netip.Addr{loop4}, nil)
	c, err := await[*loop.Conn](t, HappyEyeballsLookup(t.Context(), v6, v4, d.dial, release, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer release(c)
	if got := <-d.order; got != loop6 {
		t.Fatalf("first attempt to %v, want ::1", got)
	}
}

// The IPv6 answer starts connecting at once; IPv4 addresses that come later
// join the attempts (here they win: IPv6 is refused).
func TestHappyEyeballsLookupLateIPv4Joins(t *testing.T) {
	p4, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	d := newTCPDialer(p4, deadTCPPort(t, "tcp6", "[::1]:0"))
	v6 := answer(0, []netip.Addr{loop6}, nil)
	v4 := answer(200*time.Millisecond, []netip.Addr{loop4}, nil)
	c, err := await[*loop.Conn](t, HappyEyeballsLookup(t.Context(), v6, v4, d.dial, release, 0))
	if err != nil {
		t.Fatalf("the IPv4 address that came after the IPv6 attempt failed was not tried: %v", err)
	}
	defer release(c)
	if <-d.order != loop6 || <-d.order != loop4 {
		t.Fatal("attempts not in IPv6, IPv4 order")
	}
}

// An AAAA query that fails does not delay IPv4; when both lookups fail the
// race fails with the lookup error.
func TestHappyEyeballsLookupFailures(t *testing.T) {
	p4, _ := listenTCP(t, "tcp4", "127.0.0.1:0")
	d := newTCPDialer(p4, 0)
	nodata := &net.DNSError{Err: "no such host", Name: "x.test", IsNotFound: true}
	c, err := await[*loop.Conn](t, HappyEyeballsLookup(t.Context(), answer(0, nil, nodata), answer(0, []netip.Addr{loop4}, nil), d.dial, release, 0))
	if err != nil {
		t.Fatal(err)
	}
	release(c)
	_, err = await[*loop.Conn](t, HappyEyeballsLookup(t.Context(), answer(0, nil, nodata), answer(20*time.Millisecond, nil, nodata), d.dial, release, 0))
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("err = %v, want the lookups' *net.DNSError", err)
	}
}

// Cancelling the race cancels lookups still running.
func TestHappyEyeballsLookupCancel(t *testing.T) {
	d := newTCPDialer(0, 0)
	v6 := future.New[[]netip.Addr]()
	v4 := future.New[[]netip.Addr]()
	f := HappyEyeballsLookup(t.Context(), v6.Future(), v4.Future(), d.dial, release, 0)
	f.Cancel(nil)
	for _, l := range []*future.Future[[]netip.Addr]{v6.Future(), v4.Future()} {
		if _, err := await[[]netip.Addr](t, l); !errors.Is(err, future.ErrCanceled) {
			t.Fatalf("lookup err = %v, want cancelled", err)
		}
	}
	if n := d.started.Load(); n != 0 {
		t.Fatalf("%d attempts started", n)
	}
}
