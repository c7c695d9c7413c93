package dns

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/loop"
)

func newOneLoop(t *testing.T) *loop.Loop {
	t.Helper()
	return newLoops(t, 1).Loop(0)
}

// newLoops starts a runtime of n loops, shut down when the test ends.
func newLoops(t *testing.T, n int) *loop.Runtime {
	t.Helper()
	rt, err := loop.New(loop.WithLoops(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return rt
}

// While the loop is busy, everything handed over joins one batch: one task,
// run on the loop, in the order handed over.
func TestHandoffBatchesWhileLoopBusy(t *testing.T) {
	l := newOneLoop(t)
	release := make(chan struct{})
	l.Execute(func() { <-release })
	var h handoff
	const n = 100
	var got []int
	var firstSawMore bool
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		h.run(l, func() {
			if !l.OnLoop() {
				t.Error("handed-over function ran off the loop")
			}
			if i == 0 {
				h.mu.Lock()
				firstSawMore = h.queued || len(h.batch) > 0
				h.mu.Unlock()
			}
			got = append(got, i)
			if i == n-1 {
				close(done)
			}
		})
	}
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch did not run")
	}
	if firstSawMore {
		t.Error("functions handed over while the loop was busy did not all join the first batch")
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("ran out of order: %v", got)
		}
	}
	if len(got) != n {
		t.Fatalf("ran %d of %d", len(got), n)
	}
}

// From many goroutines at once: each function runs once, on the loop, and
// each goroutine's functions run in the order it handed them over.
func TestHandoffConcurrent(t *testing.T) {
	l := newOneLoop(t)
	var h handoff
	const goroutines, each = 8, 300
	last := make([]int, goroutines) // loop only
	var wg sync.WaitGroup
	wg.Add(goroutines * each)
	for g := 0; g < goroutines; g++ {
		last[g] = -1
		go func() {
			for i := 0; i < each; i++ {
				h.run(l, func() {
					defer wg.Done()
					if !l.OnLoop() {
						t.Error("handed-over function ran off the loop")
					}
					if last[g] != i-1 {
						t.Errorf("goroutine %d: function %d ran after %d", g, i, last[g])
					}
					last[g] = i
				})
			}
		}()
	}
	wg.Wait()
}

// Handed to a loop that has stopped, a function still runs (on the caller,
// as loop.Execute promises), so the lookup it starts settles.
func TestHandoffStoppedLoop(t *testing.T) {
	rt, err := loop.New(loop.WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	l := rt.Loop(0)
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var h handoff
	ran := 0
	for i := 0; i < 3; i++ {
		h.run(l, func() { ran++ })
	}
	if ran != 3 {
		t.Fatalf("%d of 3 functions ran", ran)
	}
}
