package timer_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/timer"
)

var errBusy = errors.New("busy")

// Retry with exponential backoff: a flaky operation is tried until it
// succeeds, up to Attempts tries.
func ExampleRetry() {
	calls := 0
	flaky := func(ctx context.Context, attempt int) *future.Future[string] {
		calls++
		if attempt < 2 {
			return future.Rejected[string](errBusy)
		}
		return future.Resolved("done")
	}
	f := timer.Retry(context.Background(), timer.Backoff{Attempts: 5, Initial: time.Millisecond}, flaky)
	v, err := f.Await(context.Background())
	fmt.Println(v, err, calls)
	// Output: done <nil> 3
}

// Retry on another host: the attempt number picks the host; RetryOn
// retries only the errors worth it (errors.Is), and the final error wraps
// the last one.
func ExampleRetry_anotherHost() {
	hosts := []string{"a.example", "b.example"}
	call := func(ctx context.Context, attempt int) *future.Future[string] {
		h := hosts[attempt%len(hosts)]
		return future.Rejected[string](fmt.Errorf("%s: %w", h, errBusy))
	}
	b := timer.Backoff{Attempts: 2, Initial: time.Millisecond, RetryIf: timer.RetryOn(errBusy)}
	_, err := timer.Retry(context.Background(), b, call).Await(context.Background())
	var re *timer.RetryError
	fmt.Println(errors.As(err, &re), re.Attempts, errors.Is(err, errBusy))
	fmt.Println(err)
	// Output:
	// true 2 true
	// timer: retry gave up after 2 attempt(s): b.example: busy
}

// Timeout then fallback: bound a call with timer.Timeout, and recover
// from the timeout (or any failure) with OrElse.
func ExampleTimeout_fallback() {
	never := future.New[string]().Future() // a host that never answers
	v, err := timer.Timeout(never, 10*time.Millisecond).
		OrElse(func(err error) *future.Future[string] {
			if errors.Is(err, future.ErrTimeout) {
				return future.Resolved("from cache")
			}
			return future.Rejected[string](err)
		}).Await(context.Background())
	fmt.Println(v, err)
	// Output: from cache <nil>
}

// Retry with a timeout on each attempt and a deadline on the whole:
// the attempt is wrapped in timer.Timeout, the whole bounded by ctx.
func ExampleRetry_timeoutPerAttempt() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	op := func(ctx context.Context, attempt int) *future.Future[int] {
		if attempt == 0 {
			return timer.Timeout(future.New[int]().Future(), 5*time.Millisecond) // hangs: times out
		}
		return timer.Timeout(future.Resolved(42), 5*time.Millisecond)
	}
	v, err := timer.Retry(ctx, timer.Backoff{Initial: time.Millisecond}, op).Await(ctx)
	fmt.Println(v, err)
	// Output: 42 <nil>
}
