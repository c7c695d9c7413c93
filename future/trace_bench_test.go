package future

import (
	"context"
	"io"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/goasync/goasync/internal/logx"
)

// BenchmarkChain10TraceOff is BenchmarkChain10 with a Trace call on the
// root, as the library's operations make: with debug off (the default) it
// must cost what BenchmarkChain10 costs (compare ns/op; 0 extra allocs).
func BenchmarkChain10TraceOff(b *testing.B) {
	b.ReportAllocs()
	logx.Set(nil)
	ctx := context.Background()
	inc := func(v int) (int, error) { return v + 1, nil }
	for b.Loop() {
		p := New[int]()
		f := Trace(ctx, p.Future(), "root")
		for range 10 {
			f = f.Then(inc)
		}
		p.Resolve(0)
		if v, _, _ := f.Result(); v != 10 {
			b.Fatal(v)
		}
	}
}

// BenchmarkChain10TraceOn is the same chain traced, every step logged as
// JSON to io.Discard: what tracing costs when it is on.
func BenchmarkChain10TraceOn(b *testing.B) {
	b.ReportAllocs()
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	logx.Set(zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.DebugLevel)))
	defer logx.Set(nil)
	ctx := context.Background()
	inc := func(v int) (int, error) { return v + 1, nil }
	for b.Loop() {
		p := New[int]()
		f := Trace(ctx, p.Future(), "root")
		for range 10 {
			f = f.Then(inc)
		}
		p.Resolve(0)
		if v, _, _ := f.Result(); v != 10 {
			b.Fatal(v)
		}
	}
}

// BenchmarkTraceOffPerStep is exactly what tracing adds to one chaining
// step when it is off: the traced check when the step is made (Then's
// f.rec(), then logx.Debug() for the unhandled-rejection site), the one
// when its callback runs (begin) and the load that keeps the traced bit
// when it settles (unlockAs). The budget is 5 ns and
// 0 allocations; BenchmarkChain10 against the previous commit shows the
// same within the machine's noise.
func BenchmarkTraceOffPerStep(b *testing.B) {
	b.ReportAllocs()
	logx.Set(nil)
	up := New[int]().Future()
	out := New[int]().Future()
	var n uint32
	for b.Loop() {
		if up.rec() != nil {
			n++
		} else if logx.Debug() {
			n++
		}
		out.begin()
		n += out.word.Load() & tracedBit
	}
	if n != 0 {
		b.Fatal("traced with debug off")
	}
}
