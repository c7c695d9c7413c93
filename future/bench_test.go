package future

import (
	"context"
	"errors"
	"testing"
)

// BenchmarkThenResolve is create + Then + resolve: the headline
// figure (at most 2 allocs/op).
func BenchmarkThenResolve(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p := New[int]()
		f := p.Future().Then(func(v int) (int, error) { return v + 1, nil })
		p.Resolve(1)
		if v, _, _ := f.Result(); v != 2 {
			b.Fatal(v)
		}
	}
}

// BenchmarkResolveAwait is New + Resolve + Await (at most 1 alloc/op).
func BenchmarkResolveAwait(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		p := New[int]()
		p.Resolve(1)
		if v, err := p.Future().Await(ctx); v != 1 || err != nil {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkAll16 joins 16 resolved promises; subtract the 16 New
// allocations to get what All adds (at most 3).
func BenchmarkAll16(b *testing.B) {
	b.ReportAllocs()
	ps := make([]*Promise[int], 16)
	fs := make([]*Future[int], 16)
	for b.Loop() {
		for i := range ps {
			ps[i] = New[int]()
			fs[i] = ps[i].Future()
		}
		all := All(fs...)
		for i, p := range ps {
			p.Resolve(i)
		}
		if v, _, _ := all.Result(); len(v) != 16 {
			b.Fatal(v)
		}
	}
}

// BenchmarkNew16 is the baseline for BenchmarkAll16: the 16 promises alone.
func BenchmarkNew16(b *testing.B) {
	b.ReportAllocs()
	ps := make([]*Promise[int], 16)
	for b.Loop() {
		for i := range ps {
			ps[i] = New[int]()
		}
		for i, p := range ps {
			p.Resolve(i)
		}
	}
}

// BenchmarkChain10 is one promise with a chain of ten Then steps.
func BenchmarkChain10(b *testing.B) {
	b.ReportAllocs()
	inc := func(v int) (int, error) { return v + 1, nil }
	for b.Loop() {
		p := New[int]()
		f := p.Future()
		for range 10 {
			f = f.Then(inc)
		}
		p.Resolve(0)
		if v, _, _ := f.Result(); v != 10 {
			b.Fatal(v)
		}
	}
}

var errBench = errors.New("bench")

// BenchmarkRejectCatch is create + Catch + reject.
func BenchmarkRejectCatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		p := New[int]()
		f := p.Future().Catch(func(error) (int, error) { return 7, nil })
		p.Reject(errBench)
		if v, _, _ := f.Result(); v != 7 {
			b.Fatal(v)
		}
	}
}

// BenchmarkGo is a round trip through the blocking-work pool.
func BenchmarkGo(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if v, err := Go(func() (int, error) { return 1, nil }).Await(ctx); v != 1 || err != nil {
			b.Fatal(v, err)
		}
	}
}
