package loop

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Background set fires in deadline order off every loop, Stop
// disarms, a panicking timer does not stop the others, and its goroutine
// is gone once nothing has been armed for a while.
func TestBackgroundTimers(t *testing.T) {
	bg := Background()
	var mu sync.Mutex
	var order []int
	done := make(chan struct{})
	delays := []int{30, 10, 20}
	for _, ms := range delays {
		bg.AfterFunc(time.Duration(ms)*time.Millisecond, func() {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, ms)
			if len(order) == len(delays) {
				close(done)
			}
		})
	}
	bg.AfterFunc(5*time.Millisecond, func() { panic("a timer panics") })
	stopped := bg.AfterFunc(15*time.Millisecond, func() { t.Error("a stopped timer fired") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop reported the wrong state")
	}
	moved := bg.NewTimer(func() { t.Error("a timer moved an hour later fired") })
	moved.Reset(time.Millisecond)
	moved.Reset(time.Hour)
	wait(t, done, 5*time.Second, "background timers")
	mu.Lock()
	if order[0] != 10 || order[1] != 20 || order[2] != 30 {
		t.Fatalf("fired in order %v", order)
	}
	mu.Unlock()
	if n := bg.Pending(); n != 1 {
		t.Fatalf("%d background timers pending, want 1 (the moved one)", n)
	}
	moved.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for backgroundGoroutineRuns() {
		if time.Now().After(deadline) {
			t.Fatal("the background timer goroutine did not exit with nothing armed")
		}
		time.Sleep(time.Millisecond)
	}
}

func backgroundGoroutineRuns() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*timers).serve")
}
