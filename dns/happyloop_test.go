package dns

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
)

// TestHappyEyeballsOnALoopUsesItsTimers: a race started on a goasync loop
// starts its later attempts from that loop's timers, on the loop.
func TestHappyEyeballsOnALoopUsesItsTimers(t *testing.T) {
	rt, err := loop.New(loop.WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(context.Background())
	l := rt.Loop(0)
	onLoop := make(chan bool, 2)
	dial := func(_ context.Context, ip netip.Addr) *future.Future[int] {
		onLoop <- l.OnLoop()
		if ip.Is6() {
			return future.New[int]().Future() // never connects
		}
		return future.Resolved(4)
	}
	res := make(chan int, 1)
	addrs := []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")}
	l.Execute(func() {
		HappyEyeballs(context.Background(), addrs, dial, func(int) {}, 20*time.Millisecond).
			OnComplete(func(v int, err error) { res <- v })
	})
	for i := 0; i < 2; i++ {
		if !<-onLoop {
			t.Fatalf("attempt %d started off the loop", i+1)
		}
	}
	select {
	case v := <-res:
		if v != 4 {
			t.Fatalf("got %d", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the race never settled")
	}
}
