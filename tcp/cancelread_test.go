package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/timer"
)

// connectedPair connects a goasync socket to a Go net peer and returns
// both.
func connectedPair(t *testing.T, opts ...DialOption) (*Socket, net.Conn) {
	t.Helper()
	r := newRuntime(t)
	ln := goListener(t)
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			acc <- c
		}
		close(acc)
	}()
	s := await(t, Connect(context.Background(), ln.Addr().String(), append([]DialOption{withRuntime(r)}, opts...)...))
	peer, ok := <-acc
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { peer.Close(); s.Abort() })
	return s, peer
}

// A read cut short by timer.Timeout must not take the bytes it waited
// for: the next read gets them (issue 11, item 1).
func TestTimedOutReadLeavesTheStream(t *testing.T) {
	s, peer := connectedPair(t)
	err := awaitErr(t, timer.Timeout(s.ReadLine(), 30*time.Millisecond))
	if !errors.Is(err, future.ErrTimeout) {
		t.Fatalf("timed-out read: %v", err)
	}
	if _, err := peer.Write([]byte("first\nsecond\n")); err != nil {
		t.Fatal(err)
	}
	if got := string(await(t, s.ReadLine())); got != "first" {
		t.Fatalf("read after a timed-out read got %q, want %q", got, "first")
	}
	if got := string(await(t, s.ReadLine())); got != "second" {
		t.Fatalf("second read got %q", got)
	}
}

// Cancel, WithContext and Race's loser leave the stream untouched too, and
// reads queued behind a cancelled one move up.
func TestCancelledReadsLeaveTheStream(t *testing.T) {
	s, peer := connectedPair(t)

	// Cancel on a ReadN in the middle of the queue.
	a, b, c := s.ReadN(3), s.ReadN(100), s.ReadN(2)
	b.Cancel(nil)
	// WithContext over a read whose context ends.
	ctx, cancel := context.WithCancel(context.Background())
	d := future.WithContext(ctx, s.ReadLine())
	cancel()
	if err := awaitErr(t, d); !errors.Is(err, context.Canceled) {
		t.Fatalf("WithContext read: %v", err)
	}
	// Race: the loser read is cancelled once the winner settles.
	win := future.New[[]byte]()
	race := future.Race(win.Future(), s.ReadLine())
	win.Resolve([]byte("winner"))
	if got := string(await(t, race)); got != "winner" {
		t.Fatalf("race: %q", got)
	}
	if _, err := peer.Write([]byte("abcdeline\n")); err != nil {
		t.Fatal(err)
	}
	if got := string(await(t, a)); got != "abc" {
		t.Fatalf("a = %q", got)
	}
	if got := string(await(t, c)); got != "de" {
		t.Fatalf("c (queued behind a cancelled read) = %q, want %q", got, "de")
	}
	if got := string(await(t, s.ReadLine())); got != "line" {
		t.Fatalf("next line = %q, want %q", got, "line")
	}
}

// A read at the head of the queue that waits for more than is buffered
// is cancelled: the read behind it is served from the buffer at once.
func TestCancelledHeadReadLetsTheNextOneServe(t *testing.T) {
	s, peer := connectedPair(t)
	head := s.ReadN(1000)
	next := s.ReadLine()
	if _, err := peer.Write([]byte("short\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the bytes are buffered behind head
	head.Cancel(nil)
	if got := string(await(t, next)); got != "short" {
		t.Fatalf("next = %q", got)
	}
}

// A connect that runs out of its connect timeout says so, still matching
// ErrTimeout and context.DeadlineExceeded; it and a refused connect are
// logged at debug level without naming anything (issue 11, item 5).
func TestConnectTimeoutSaysSoAndFailuresAreLogged(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	logx.Set(zap.New(core))
	t.Cleanup(func() { logx.Set(nil) })
	r := newRuntime(t)

	err := awaitErr(t, Connect(context.Background(), fullBacklog(t), withRuntime(r), WithConnectTimeout(50*time.Millisecond)))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("connect: %v", err)
	}
	if !strings.Contains(err.Error(), "connect timeout") {
		t.Fatalf("connect error %q does not say \"connect timeout\"", err)
	}

	ln := goListener(t)
	refused := ln.Addr().String()
	ln.Close()
	if err := awaitErr(t, Connect(context.Background(), refused, withRuntime(r))); !errors.Is(err, ErrRefused) {
		t.Fatalf("refused connect: %v", err)
	}
	for _, want := range []string{"connect timeout", "refused"} {
		found := false
		for _, e := range logs.FilterMessage("tcp connect failed").All() {
			if strings.Contains(fmt.Sprint(e.ContextMap()["error"]), want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no debug line for the failed connect (%s); lines: %v", want, logs.All())
		}
	}
}

// Cancelling the other futures a socket hands out leaves it consistent:
// a cancelled Writable wait leaves its list, a cancelled Write does not
// unsend (its bytes and those of later writes arrive, in order), and a
// cancelled Connect leaves no socket behind.
func TestCancelledWritesAndDialsLeaveConsistentState(t *testing.T) {
	s, peer := connectedPair(t, WithWatermarks(64<<10, 16<<10))
	big := make([]byte, 8<<20) // more than the kernel takes at once: queued
	for i := range big {
		big[i] = byte(i)
	}
	w1 := s.Write(big)
	if _, _, done := w1.Result(); done {
		t.Skip("the kernel took 8 MiB at once; nothing was queued")
	}
	wa := s.Writable()
	wa.Cancel(nil)
	s.mu.Lock()
	left := len(s.writable)
	s.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d Writable waits left after cancel", left)
	}
	w1.Cancel(nil)
	w2 := s.WriteString("tail")
	go func() { s.Close() }()
	got := readAllTimeout(t, peer, 30*time.Second)
	if len(got) != len(big)+4 || string(got[len(big):]) != "tail" {
		t.Fatalf("peer got %d bytes (want %d ending in tail)", len(got), len(big)+4)
	}
	for i := range big {
		if got[i] != big[i] {
			t.Fatalf("byte %d differs", i)
		}
	}
	await(t, w2)

	r := newRuntime(t)
	base := ReadStats()
	f := Connect(context.Background(), fullBacklog(t), withRuntime(r))
	time.Sleep(20 * time.Millisecond)
	f.Cancel(nil)
	if err := awaitErr(t, f); !errors.Is(err, future.ErrCanceled) {
		t.Fatalf("cancelled connect: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if st := ReadStats(); st.Outgoing != base.Outgoing {
		t.Fatalf("a cancelled connect left a socket: %+v (before %+v)", st, base)
	}
}
