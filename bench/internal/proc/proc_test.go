package proc

import (
	"os"
	"testing"
	"time"
)

func TestSelf(t *testing.T) {
	pid := os.Getpid()
	// Burn a little CPU so utime+stime is past one clock tick.
	end := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	cpu, err := CPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	if cpu <= 0 {
		t.Errorf("CPU = %v after 50ms of work", cpu)
	}
	rss, err := RSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 {
		t.Errorf("RSS = %d, less than 1 MiB for a Go test binary", rss)
	}
	if _, err := CPU(-1); err == nil {
		t.Error("no error for a bad pid")
	}
	if n, err := RaiseNoFile(); err != nil || n == 0 {
		t.Errorf("RaiseNoFile = %d, %v", n, err)
	}
}
