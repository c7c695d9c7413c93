package futures

import (
	"context"
	"syscall"
	"testing"
	"time"

	cheb "github.com/chebyrash/promise"
	jiz "github.com/jizhuozhi/go-future"
	reugn "github.com/reugn/async"

	"github.com/goasync/goasync/future"
)

func inc(v int) (int, error) { return v + 1, nil }

// cpuNow returns the CPU time the whole process has used, all threads.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs op b.N times and reports, beside ns/op, cpu-ns/op: the
// process CPU time per operation, every goroutine and the GC included. On
// a machine shared with other work, wall-clock ns/op grows with the time
// the benchmark waits for a CPU; cpu-ns/op does not, so it is the steadier
// base for comparing libraries.
func measure(b *testing.B, op func()) {
	b.ReportAllocs()
	start := cpuNow()
	for b.Loop() {
		op()
	}
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

func incErr(v int, err error) (int, error) { return v + 1, err }

func check(b *testing.B, v int, err error, want int) {
	if err != nil || v != want {
		b.Fatalf("got %v, %v; want %v", v, err, want)
	}
}

// BenchmarkThenResolve: create a promise, chain one step, resolve it, read
// the chained result. The headline comparison.
func BenchmarkThenResolve(b *testing.B) {
	ctx := context.Background()
	b.Run("goasync", func(b *testing.B) {
		measure(b, func() {
			p := future.New[int]()
			f := p.Future().Then(inc)
			p.Resolve(1)
			v, err := f.Await(ctx)
			check(b, v, err, 2)
		})
	})
	b.Run("jizhuozhi", func(b *testing.B) {
		measure(b, func() {
			p := jiz.NewPromise[int]()
			f := jiz.Then(p.Future(), incErr)
			p.Set(1, nil)
			v, err := f.Get()
			check(b, v, err, 2)
		})
	})
	b.Run("chebyrash", func(b *testing.B) {
		measure(b, func() {
			p := cheb.New(func(resolve func(int), _ func(error)) { resolve(1) })
			f := cheb.Then(p, ctx, inc)
			v, err := f.Await(ctx)
			check(b, *v, err, 2)
		})
	})
	b.Run("reugn", func(b *testing.B) {
		measure(b, func() {
			p := reugn.NewPromise[int]()
			f := p.Future().Map(inc)
			p.Success(1)
			v, err := f.Join()
			check(b, v, err, 2)
		})
	})
}

// BenchmarkResolveAwait: create a promise, resolve it, wait for it.
func BenchmarkResolveAwait(b *testing.B) {
	ctx := context.Background()
	b.Run("goasync", func(b *testing.B) {
		measure(b, func() {
			p := future.New[int]()
			p.Resolve(1)
			v, err := p.Future().Await(ctx)
			check(b, v, err, 1)
		})
	})
	b.Run("jizhuozhi", func(b *testing.B) {
		measure(b, func() {
			p := jiz.NewPromise[int]()
			p.Set(1, nil)
			v, err := p.Future().Get()
			check(b, v, err, 1)
		})
	})
	b.Run("chebyrash", func(b *testing.B) {
		measure(b, func() {
			p := cheb.New(func(resolve func(int), _ func(error)) { resolve(1) })
			v, err := p.Await(ctx)
			check(b, *v, err, 1)
		})
	})
	b.Run("reugn", func(b *testing.B) {
		measure(b, func() {
			p := reugn.NewPromise[int]()
			p.Success(1)
			v, err := p.Future().Join()
			check(b, v, err, 1)
		})
	})
}

// BenchmarkChain10: one promise, ten chained steps, resolve, read.
func BenchmarkChain10(b *testing.B) {
	ctx := context.Background()
	b.Run("goasync", func(b *testing.B) {
		measure(b, func() {
			p := future.New[int]()
			f := p.Future()
			for range 10 {
				f = f.Then(inc)
			}
			p.Resolve(0)
			v, err := f.Await(ctx)
			check(b, v, err, 10)
		})
	})
	b.Run("jizhuozhi", func(b *testing.B) {
		measure(b, func() {
			p := jiz.NewPromise[int]()
			f := p.Future()
			for range 10 {
				f = jiz.Then(f, incErr)
			}
			p.Set(0, nil)
			v, err := f.Get()
			check(b, v, err, 10)
		})
	})
	b.Run("chebyrash", func(b *testing.B) {
		measure(b, func() {
			f := cheb.New(func(resolve func(int), _ func(error)) { resolve(0) })
			for range 10 {
				f = cheb.Then(f, ctx, inc)
			}
			v, err := f.Await(ctx)
			check(b, *v, err, 10)
		})
	})
	b.Run("reugn", func(b *testing.B) {
		measure(b, func() {
			p := reugn.NewPromise[int]()
			f := p.Future()
			for range 10 {
				f = f.Map(inc)
			}
			p.Success(0)
			v, err := f.Join()
			check(b, v, err, 10)
		})
	})
}

// BenchmarkAll16: join sixteen promises, resolve them, read the slice.
func BenchmarkAll16(b *testing.B) {
	const n = 16
	ctx := context.Background()
	b.Run("goasync", func(b *testing.B) {
		ps := make([]*future.Promise[int], n)
		fs := make([]*future.Future[int], n)
		measure(b, func() {
			for i := range ps {
				ps[i] = future.New[int]()
				fs[i] = ps[i].Future()
			}
			all := future.All(fs...)
			for i, p := range ps {
				p.Resolve(i)
			}
			vs, err := all.Await(ctx)
			check(b, len(vs), err, n)
		})
	})
	b.Run("jizhuozhi", func(b *testing.B) {
		ps := make([]*jiz.Promise[int], n)
		fs := make([]*jiz.Future[int], n)
		measure(b, func() {
			for i := range ps {
				ps[i] = jiz.NewPromise[int]()
				fs[i] = ps[i].Future()
			}
			all := jiz.AllOf(fs...)
			for i, p := range ps {
				p.Set(i, nil)
			}
			vs, err := all.Get()
			check(b, len(vs), err, n)
		})
	})
	b.Run("chebyrash", func(b *testing.B) {
		ps := make([]*cheb.Promise[int], n)
		measure(b, func() {
			for i := range ps {
				ps[i] = cheb.New(func(resolve func(int), _ func(error)) { resolve(i) })
			}
			vs, err := cheb.All(ctx, ps...).Await(ctx)
			check(b, len(*vs), err, n)
		})
	})
	b.Run("reugn", func(b *testing.B) {
		ps := make([]reugn.Promise[int], n)
		fs := make([]reugn.Future[int], n)
		measure(b, func() {
			for i := range ps {
				ps[i] = reugn.NewPromise[int]()
				fs[i] = ps[i].Future()
			}
			all := reugn.FutureSeq(fs)
			for i, p := range ps {
				p.Success(i)
			}
			vs, err := all.Join()
			check(b, len(vs), err, n)
		})
	})
}

// BenchmarkHandoff: the promise is resolved by another goroutine (a
// long-lived worker fed through a channel) while the benchmark goroutine
// waits: the cost of crossing goroutines, as when a loop completes work
// awaited by a caller.
func BenchmarkHandoff(b *testing.B) {
	ctx := context.Background()
	b.Run("goasync", func(b *testing.B) {
		work := make(chan *future.Promise[int])
		defer close(work)
		go func() {
			for p := range work {
				p.Resolve(1)
			}
		}()
		measure(b, func() {
			p := future.New[int]()
			f := p.Future().Then(inc)
			work <- p
			v, err := f.Await(ctx)
			check(b, v, err, 2)
		})
	})
	b.Run("jizhuozhi", func(b *testing.B) {
		work := make(chan *jiz.Promise[int])
		defer close(work)
		go func() {
			for p := range work {
				p.Set(1, nil)
			}
		}()
		measure(b, func() {
			p := jiz.NewPromise[int]()
			f := jiz.Then(p.Future(), incErr)
			work <- p
			v, err := f.Get()
			check(b, v, err, 2)
		})
	})
	b.Run("reugn", func(b *testing.B) {
		work := make(chan reugn.Promise[int])
		defer close(work)
		go func() {
			for p := range work {
				p.Success(1)
			}
		}()
		measure(b, func() {
			p := reugn.NewPromise[int]()
			f := p.Future().Map(inc)
			work <- p
			v, err := f.Join()
			check(b, v, err, 2)
		})
	})
}

// BenchmarkGoAwait: run a function on another goroutine and wait for its
// result (goasync: the blocking-work pool; jizhuozhi: Async, a goroutine
// per call; chebyrash: New, whose executor runs on a new goroutine).
func BenchmarkGoAwait(b *testing.B) {
	ctx := context.Background()
	one := func() (int, error) { return 1, nil }
	b.Run("goasync", func(b *testing.B) {
		measure(b, func() {
			v, err := future.Go(one).Await(ctx)
			check(b, v, err, 1)
		})
	})
	b.Run("jizhuozhi", func(b *testing.B) {
		measure(b, func() {
			v, err := jiz.Async(one).Get()
			check(b, v, err, 1)
		})
	})
	b.Run("chebyrash", func(b *testing.B) {
		measure(b, func() {
			v, err := cheb.New(func(resolve func(int), _ func(error)) { resolve(1) }).Await(ctx)
			check(b, *v, err, 1)
		})
	})
}
