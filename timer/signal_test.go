package timer

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/loopmark"
)

func kill(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
}

func TestOnSignalAndFree(t *testing.T) {
	got := make(chan os.Signal, 4)
	h := OnSignal(func(s os.Signal) { got <- s }, syscall.SIGUSR1)
	for range 2 {
		kill(t, syscall.SIGUSR1)
		select {
		case s := <-got:
			if s != syscall.SIGUSR1 {
				t.Fatalf("handler got %v", s)
			}
		case <-time.After(long):
			t.Fatal("handler never saw SIGUSR1")
		}
	}
	h.Free()
	h.Free() // a second Free is harmless
	// With the handler freed, a second handler still works and the first
	// sees nothing.
	other := make(chan os.Signal, 1)
	h2 := OnSignal(func(s os.Signal) { other <- s }, syscall.SIGUSR1)
	defer h2.Free()
	kill(t, syscall.SIGUSR1)
	select {
	case <-other:
	case <-time.After(long):
		t.Fatal("second handler never saw SIGUSR1")
	}
	select {
	case s := <-got:
		t.Fatalf("freed handler received %v", s)
	default:
	}
}

func TestFreeInsideHandler(t *testing.T) {
	done := make(chan struct{})
	var h *SignalHandler
	ready := make(chan struct{})
	h = OnSignal(func(os.Signal) {
		<-ready
		h.Free() // must not wait for its own goroutine
		close(done)
	}, syscall.SIGUSR2)
	close(ready)
	kill(t, syscall.SIGUSR2)
	select {
	case <-done:
	case <-time.After(long):
		t.Fatal("Free inside the handler deadlocked")
	}
	h.Free()
}

func TestSignalHandlerOnLoop(t *testing.T) {
	l := newLoop()
	defer l.stop()
	ids := make(chan uint64, 1)
	var h *SignalHandler
	l.run(func() {
		h = OnSignal(func(os.Signal) { ids <- loopmark.GoID() }, syscall.SIGUSR1)
	})
	defer h.Free()
	kill(t, syscall.SIGUSR1)
	select {
	case id := <-ids:
		if id != l.id.Load() {
			t.Fatalf("handler ran on %d, loop is %d", id, l.id.Load())
		}
	case <-time.After(long):
		t.Fatal("handler never ran")
	}
}

func TestSignalFuture(t *testing.T) {
	f := Signal(context.Background(), syscall.SIGUSR1)
	kill(t, syscall.SIGUSR1)
	s, err := await(t, f)
	if err != nil || s != syscall.SIGUSR1 {
		t.Fatalf("Signal = %v, %v", s, err)
	}
	cause := errors.New("stopped waiting")
	ctx, cancel := context.WithCancelCause(context.Background())
	g := Signal(ctx, syscall.SIGUSR2)
	cancel(cause)
	if _, err := await(t, g); err != cause {
		t.Fatalf("Signal after ctx end = %v", err)
	}
	h := Signal(context.Background(), syscall.SIGUSR2)
	h.Cancel(nil)
	// The handlers behind g and h are freed: their goroutines exit, which
	// goleak checks at the end of the package.
}
