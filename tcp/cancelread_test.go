package tcp

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/timer"
)

// connectedPair connects a goasync socket to a Go net peer and returns
// both.
func connectedPair(t *testing.T, opts ...Option) (*Socket, net.Conn) {
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
	s := await(t, Connect(context.Background(), ln.Addr().String(), append([]Option{withRuntime(r)}, opts...)...))
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
