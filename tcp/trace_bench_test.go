package tcp

import (
	"io"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/goasync/goasync/internal/logx"
)

// BenchmarkEchoTracing is the echo benchmark with the library logger off
// (the default: tracing costs a flag check) and at debug level writing
// JSON to io.Discard (every socket event and step is encoded, nothing is
// kept): the ratio of the two is what following the pipelines costs.
func BenchmarkEchoTracing(b *testing.B) {
	b.Run("off", func(b *testing.B) {
		r := newRuntime(b)
		srv := listen(b, r, echoHandler())
		b.ReportAllocs()
		echoClients(b, srv.Addr().String())
	})
	b.Run("debug", func(b *testing.B) {
		enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
		logx.Set(zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), zapcore.DebugLevel)))
		defer logx.Set(nil)
		r := newRuntime(b)
		srv := listen(b, r, echoHandler())
		b.ReportAllocs()
		echoClients(b, srv.Addr().String())
	})
}
