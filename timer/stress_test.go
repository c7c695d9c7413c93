package timer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/stats"
)

// TestArmCancelFromManyGoroutines arms, cancels and fires timers from 8
// goroutines at once; afterwards no timer is armed, the gauge is back
// where it started and the scheduler goroutine has gone.
func TestArmCancelFromManyGoroutines(t *testing.T) {
	before := stats.Timers.Load()
	var fired, cancelled atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var fs []*future.Future[struct{}]
			for i := range 500 {
				d := time.Duration((g+i)%5) * time.Millisecond
				f := Delay(d)
				if i%2 == 0 && f.Cancel(nil) {
					cancelled.Add(1)
					continue
				}
				fs = append(fs, f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), long)
			defer cancel()
			for _, f := range fs {
				if _, err := f.Await(ctx); err == nil {
					fired.Add(1)
				} else {
					t.Errorf("timer failed: %v", err) // t.Fatal is for the test goroutine only
					return
				}
			}
		})
	}
	wg.Wait()
	if fired.Load()+cancelled.Load() != 8*500 {
		t.Fatalf("%d fired + %d cancelled, want %d", fired.Load(), cancelled.Load(), 8*500)
	}
	if n := stats.Timers.Load() - before; n != 0 {
		t.Fatalf("Timers gauge off by %d", n)
	}
	eventually(t, "scheduler idle", schedulerIdle)
}

// TestTimeoutRacingResult races results against their timeouts: each
// outcome is either the value, or ErrTimeout with the source cancelled.
func TestTimeoutRacingResult(t *testing.T) {
	const n = 2000
	ps := make([]*future.Promise[int], n)
	outs := make([]*future.Future[int], n)
	for i := range ps {
		ps[i] = future.New[int]()
		outs[i] = Timeout(ps[i].Future(), time.Duration(i%3)*100*time.Microsecond)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range ps {
			ps[i].Resolve(i)
		}
	})
	wg.Wait()
	for i, f := range outs {
		v, err := await(t, f)
		src, serr, _ := ps[i].Future().Result()
		switch {
		case err == nil:
			if v != i || serr != nil || src != i {
				t.Fatalf("%d: value %v but source %v, %v", i, v, src, serr)
			}
		case errors.Is(err, future.ErrTimeout):
			if serr == nil {
				// The source resolved just as the timer fired: the
				// timeout won the race for the output, which is allowed.
				continue
			}
			if !errors.Is(serr, future.ErrCanceled) {
				t.Fatalf("%d: timed out but source = %v", i, serr)
			}
		default:
			t.Fatalf("%d: unexpected %v", i, err)
		}
	}
	eventually(t, "scheduler idle", schedulerIdle)
}
