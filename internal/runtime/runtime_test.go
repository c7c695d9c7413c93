package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/stats"
)

func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_ = ShutdownDefault(ctx)
	cancel()
	if code == 0 {
		if err := goleak.Find(
			goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
			goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func newRT(t *testing.T) *Runtime {
	t.Helper()
	r, err := New(WithLoops(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return r
}

// recorder is a Handler that records events and echoes if asked.
type recorder struct {
	mu      sync.Mutex
	opened  chan gnet.Conn
	data    chan []byte
	closed  chan error
	echo    bool
	awaitOn chan error // result of Await called inside OnOpen
}

func newRecorder(echo bool) *recorder {
	return &recorder{opened: make(chan gnet.Conn, 16), data: make(chan []byte, 64), closed: make(chan error, 16), echo: echo, awaitOn: make(chan error, 16)}
}

func (h *recorder) OnOpen(c gnet.Conn) {
	_, err := future.New[int]().Future().Await(context.Background())
	h.awaitOn <- err
	h.opened <- c
}

func (h *recorder) OnTraffic(c gnet.Conn) gnet.Action {
	b, _ := c.Next(-1)
	if h.echo {
		_, _ = c.Write(b)
		return gnet.None
	}
	h.data <- append([]byte(nil), b...)
	return gnet.None
}

func (h *recorder) OnClose(c gnet.Conn, err error) { h.closed <- err }

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

func TestDialTCPAgainstGoServer(t *testing.T) {
	r := newRT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hello"))
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	h := newRecorder(false)
	f := r.Dial(context.Background(), "tcp", ln.Addr().String(), h)
	c, err := f.Await(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if recv(t, h.opened) != c {
		t.Fatal("OnOpen saw another conn")
	}
	if err := recv(t, h.awaitOn); !errors.Is(err, future.ErrAwaitOnLoop) {
		t.Fatalf("Await on a loop = %v, want ErrAwaitOnLoop", err)
	}
	if got := string(recv(t, h.data)); got != "hello" {
		t.Fatalf("data %q", got)
	}
	if s := stats.Read(); s.Sockets < 1 || s.Loops < 2 {
		t.Fatalf("stats %+v", s)
	}
	c.Close()
	recv(t, h.closed)
}

func TestListenAndDialEachOther(t *testing.T) {
	r := newRT(t)
	srvH := newRecorder(true)
	l, err := r.Listen("tcp", "127.0.0.1:0", srvH)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	// Go's net as the client.
	gc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	gc.Write([]byte("ping"))
	buf := make([]byte, 4)
	gc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(gc, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q %v", buf, err)
	}
	gc.Close()
	recv(t, srvH.closed)
	if l.Count() != 0 {
		t.Fatalf("count %d", l.Count())
	}
}

func TestDialUDPAndUnix(t *testing.T) {
	r := newRT(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h := newRecorder(false)
	c, err := r.Dial(context.Background(), "udp", pc.LocalAddr().String(), h).Await(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	c.AsyncWrite([]byte("dgram"), func(_ gnet.Conn, err error) error { done <- err; return nil })
	if err := recv(t, done); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "dgram" {
		t.Fatalf("udp read %q %v", buf[:n], err)
	}
	pc.WriteTo([]byte("reply"), from)
	if got := string(recv(t, h.data)); got != "reply" {
		t.Fatalf("udp reply %q", got)
	}
	c.Close()

	path := filepath.Join(t.TempDir(), "s.sock")
	uln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	go func() {
		c, err := uln.Accept()
		if err == nil {
			c.Write([]byte("unix!"))
			c.Close()
		}
	}()
	uh := newRecorder(false)
	if _, err := r.Dial(context.Background(), "unix", path, uh).Await(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := string(recv(t, uh.data)); got != "unix!" {
		t.Fatalf("unix data %q", got)
	}
	recv(t, uh.closed)
}

func TestDialRejectsNamesAndBadInput(t *testing.T) {
	r := newRT(t)
	h := newRecorder(false)
	for _, c := range []struct{ network, addr string }{
		{"tcp", "localhost:80"}, {"tcp", "127.0.0.1"}, {"tcp4", "[::1]:80"}, {"tcp6", "127.0.0.1:80"},
		{"sctp", "127.0.0.1:80"}, {"unix", ""},
	} {
		if _, err := r.Dial(context.Background(), c.network, c.addr, h).Await(context.Background()); err == nil {
			t.Errorf("Dial(%s, %q) succeeded", c.network, c.addr)
		}
	}
	if _, err := r.Dial(context.Background(), "tcp", "127.0.0.1:1", nil).Await(context.Background()); err == nil {
		t.Error("Dial with a nil handler succeeded")
	}
}

func TestDialRefused(t *testing.T) {
	r := newRT(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := r.Dial(context.Background(), "tcp", addr, newRecorder(false)).Await(context.Background())
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("err = %v, want ECONNREFUSED", err)
	}
}

// hangingAddr is a listener with a full accept queue: connects hang.
func hangingAddr(t *testing.T) string {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	unix.Listen(fd, 0)
	sa, _ := unix.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr
}

func TestDialHonoursContext(t *testing.T) {
	r := newRT(t)
	addr := hangingAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Dial(ctx, "tcp", addr, newRecorder(false)).Await(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("too slow")
	}
}

func TestShutdownSettlesPendingDials(t *testing.T) {
	r, err := New(WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	addr := hangingAddr(t)
	f := r.Dial(context.Background(), "tcp", addr, newRecorder(false))
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Await(ctx); !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("pending dial after shutdown: %v, want ErrClosed", err)
	}
	if _, err := r.Dial(ctx, "tcp", addr, newRecorder(false)).Await(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("dial after shutdown: %v", err)
	}
	if _, err := r.Listen("tcp", "127.0.0.1:0", newRecorder(false)); !errors.Is(err, ErrClosed) {
		t.Fatalf("listen after shutdown: %v", err)
	}
}

func TestShutdownClosesOpenConnections(t *testing.T) {
	r, err := New(WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	srvH := newRecorder(true)
	l, err := r.Listen("tcp", "127.0.0.1:0", srvH)
	if err != nil {
		t.Fatal(err)
	}
	h := newRecorder(false)
	if _, err := r.Dial(context.Background(), "tcp", l.Addr().String(), h).Await(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, srvH.opened)
	hookRan := make(chan struct{})
	r.OnStop(func() { close(hookRan) })
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, h.closed)
	recv(t, srvH.closed)
	recv(t, hookRan)
}

func TestLoopExecutorRunsInOrderOnTheLoop(t *testing.T) {
	r := newRT(t)
	srvH := newRecorder(true)
	l, err := r.Listen("tcp", "127.0.0.1:0", srvH)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	gc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	c := recv(t, srvH.opened)
	ex := LoopExecutor(c)
	var got []int
	onLoop := true
	done := make(chan struct{})
	for i := 0; i < 100; i++ {
		ex.Execute(func() {
			got = append(got, i)
			cur, ok := loopmark.Current()
			onLoop = onLoop && ok && any(cur) == any(ex) // the mark names this very loop
			if i == 99 {
				close(done)
			}
		})
	}
	recv(t, done)
	for i, v := range got {
		if v != i {
			t.Fatalf("order broken at %d: %v", i, got[:i+1])
		}
	}
	if !onLoop {
		t.Fatal("executor ran a function off the loop")
	}
}

func TestWriteWatchReportsWritable(t *testing.T) {
	r := newRT(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	// Fill fds[0] until EAGAIN.
	chunk := make([]byte, 64<<10)
	for {
		if _, err := unix.Write(fds[0], chunk); err != nil {
			break
		}
	}
	fired := make(chan struct{}, 4)
	w, err := r.NewWriteWatch(func() { fired <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Release()
	if err := w.Arm(fds[0]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fired:
		t.Fatal("watch fired while the socket was full")
	case <-time.After(100 * time.Millisecond):
	}
	buf := make([]byte, 1<<20)
	for {
		if _, err := unix.Read(fds[1], buf); err != nil {
			break
		}
	}
	recv(t, fired)
	w.Detach()
}

func TestDefaultRuntimeIsLazyAndRestartable(t *testing.T) {
	d := Default()
	if d != Default() {
		t.Fatal("Default returns different runtimes")
	}
	if err := ShutdownDefault(context.Background()); err != nil {
		t.Fatal(err)
	}
	if Default() == d {
		t.Fatal("Default after shutdown returns the stopped runtime")
	}
}

// Loop marks are keyed by OS thread id: they must go with their loops, a
// listener's when it closes, the client engine's at shutdown.
func TestLoopMarksGoWithTheirLoops(t *testing.T) {
	if loopmark.Active() {
		t.Skip("another runtime's loops are marked")
	}
	r, err := New(WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	srvH := newRecorder(true)
	l, err := r.Listen("tcp", "127.0.0.1:0", srvH, WithListenLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	h := newRecorder(false)
	if _, err := r.Dial(context.Background(), "tcp", l.Addr().String(), h).Await(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, srvH.opened)
	if !loopmark.Active() {
		t.Fatal("no loop marked after callbacks ran")
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv(t, h.closed) // the server's close reached the client loop, still marked
	if !loopmark.Active() {
		t.Fatal("the client loop lost its mark when the listener closed")
	}
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if loopmark.Active() {
		t.Fatal("loop marks left after shutdown")
	}
}

// Dials given up at once (Cancel) race with connects that complete: a
// connection that completes after its future was given up is closed, never
// leaked (the Handler sees it only if its OnOpen already ran, and then also
// its OnClose).
func TestCanceledDialsLeakNothing(t *testing.T) {
	r := newRT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	accepted, ended := 0, 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted++
			mu.Unlock()
			go func() {
				io.Copy(io.Discard, c)
				c.Close()
				mu.Lock()
				ended++
				mu.Unlock()
			}()
		}
	}()
	h := newRecorder(false)
	h.opened = make(chan gnet.Conn, 200)
	h.awaitOn = make(chan error, 200)
	h.closed = make(chan error, 200)
	won := 0
	for i := 0; i < 100; i++ {
		f := r.Dial(context.Background(), "tcp", ln.Addr().String(), h)
		time.Sleep(time.Duration(i%10) * 50 * time.Microsecond) // hit every stage of the dial
		if !f.Cancel(errors.New("gave up")) {
			c, err := f.Await(context.Background())
			if err == nil {
				won++
				c.Close()
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	var a, e int
	for {
		mu.Lock()
		a, e = accepted, ended
		mu.Unlock()
		// A dial given up while its OnOpen ran is opened and closed in the
		// Handler: opens and closes balance, and every won dial was opened.
		if a == e && len(h.opened) == len(h.closed) && len(h.opened) >= won {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("accepted %d, ended %d; handler opened %d closed %d, dials won %d", a, e, len(h.opened), len(h.closed), won)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d of 100 dials completed before their cancel; %d reached the server", won, a)
}

// TestDialUDPOffAndOnLoop covers both UDP paths: off the loops the socket is
// made and registered on the calling goroutine, so the future is already
// settled when Dial returns; on a loop Dial goes through the blocking-work
// pool (an inline registration would wait on the loop itself). Both sockets
// talk to a Go UDP peer; a canceled context rejects without a socket.
func TestDialUDPOffAndOnLoop(t *testing.T) {
	r := newRT(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	addr := pc.LocalAddr().String()

	off := newRecorder(false)
	f := r.Dial(context.Background(), "udp4", addr, off)
	c, err, ok := f.Result()
	if !ok || err != nil {
		t.Fatalf("off-loop UDP dial not settled at return: ok=%v err=%v", ok, err)
	}

	on := newRecorder(false)
	type res struct {
		f      *future.Future[gnet.Conn]
		onLoop bool
	}
	got := make(chan res, 1)
	LoopExecutor(c).Execute(func() {
		got <- res{f: r.Dial(context.Background(), "udp", addr, on), onLoop: loopmark.OnLoop()}
	})
	rs := recv(t, got)
	if !rs.onLoop {
		t.Fatal("executor task did not run on a marked loop")
	}
	c2, err := rs.f.Await(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	buf := make([]byte, 16)
	for i, cc := range []gnet.Conn{c, c2} {
		msg := fmt.Sprintf("dgram%d", i)
		done := make(chan error, 1)
		cc.AsyncWrite([]byte(msg), func(_ gnet.Conn, err error) error { done <- err; return nil })
		if err := recv(t, done); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, from, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("udp read %q %v, want %q", buf[:n], err, msg)
		}
		if from.String() != cc.LocalAddr().String() {
			t.Fatalf("datagram from %v, socket is %v", from, cc.LocalAddr())
		}
		pc.WriteTo([]byte("re"+msg), from)
	}
	if got := string(recv(t, off.data)); got != "redgram0" {
		t.Fatalf("off-loop socket got %q", got)
	}
	if got := string(recv(t, on.data)); got != "redgram1" {
		t.Fatalf("on-loop socket got %q", got)
	}
	c.Close()
	c2.Close()
	recv(t, off.closed)
	recv(t, on.closed)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Dial(ctx, "udp", addr, newRecorder(false)).Await(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("dial with a canceled context = %v, want context.Canceled", err)
	}
}
