package dns

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goasync/goasync/internal/loop"
)

// TestMain shuts the shared runtime down after the tests and then checks
// that no goroutine is left behind.
func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := loop.ShutdownDefault(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runtime shutdown:", err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(
			// the blocking-work pool of future.Go keeps idle workers for a while
			goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"),
			goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
			goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
