package timer

import (
	"context"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// BenchmarkDelayArmCancel arms a timer and cancels it: the cost of a
// timeout that does not fire, the common case.
func BenchmarkDelayArmCancel(b *testing.B) {
	b.ReportAllocs()
	keep := Delay(time.Hour) // keeps the scheduler goroutine running
	defer keep.Cancel(nil)
	for b.Loop() {
		Delay(time.Hour).Cancel(nil)
	}
}

// BenchmarkAfterFuncArmStop is the standard library's figure for the
// same work, for comparison.
func BenchmarkAfterFuncArmStop(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		time.AfterFunc(time.Hour, func() {}).Stop()
	}
}

// BenchmarkTimeoutSettledFirst wraps a future in a Timeout that the
// result beats.
func BenchmarkTimeoutSettledFirst(b *testing.B) {
	b.ReportAllocs()
	keep := Delay(time.Hour)
	defer keep.Cancel(nil)
	for b.Loop() {
		p := future.New[int]()
		f := Timeout(p.Future(), time.Hour)
		p.Resolve(1)
		if v, _, _ := f.Result(); v != 1 {
			b.Fatal(v)
		}
	}
}

// BenchmarkDelayFire arms a zero delay and waits for it to fire on the
// scheduler goroutine: one full arm, fire, cross-goroutine wake-up.
func BenchmarkDelayFire(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if _, err := Delay(0).Await(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAfterFuncFire is the standard library's figure for the same.
func BenchmarkAfterFuncFire(b *testing.B) {
	b.ReportAllocs()
	done := make(chan struct{})
	for b.Loop() {
		time.AfterFunc(0, func() { done <- struct{}{} })
		<-done
	}
}

// BenchmarkDelayFire1000 arms 1000 short timers at once and waits for all:
// firing in bulk from one goroutine.
func BenchmarkDelayFire1000(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	fs := make([]*future.Future[struct{}], 1000)
	for b.Loop() {
		for i := range fs {
			fs[i] = Delay(time.Microsecond)
		}
		if _, err := future.All(fs...).Await(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAfterFuncFire1000 is the standard library's figure: one
// goroutine per firing.
func BenchmarkAfterFuncFire1000(b *testing.B) {
	b.ReportAllocs()
	done := make(chan struct{}, 1000)
	for b.Loop() {
		for range 1000 {
			time.AfterFunc(time.Microsecond, func() { done <- struct{}{} })
		}
		for range 1000 {
			<-done
		}
	}
}
