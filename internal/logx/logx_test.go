package logx

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestDebugFollowsTheLogger(t *testing.T) {
	defer Set(nil)
	if Debug() || L() == nil {
		t.Fatal("the default logger is not a no-op")
	}
	core, logs := observer.New(zapcore.DebugLevel)
	Set(zap.New(core))
	if !Debug() {
		t.Fatal("a debug logger does not turn Debug on")
	}
	L().Debug("hello")
	if logs.Len() != 1 {
		t.Fatalf("%d entries", logs.Len())
	}
	info, _ := observer.New(zapcore.InfoLevel)
	Set(zap.New(info))
	if Debug() {
		t.Fatal("an info logger turns Debug on")
	}
	Set(nil)
	if Debug() || L() == nil {
		t.Fatal("Set(nil) did not restore the no-op logger")
	}
}

func BenchmarkDebug(b *testing.B) {
	n := 0
	for b.Loop() {
		if Debug() {
			n++
		}
	}
	if n != 0 {
		b.Fatal(n)
	}
}
