module github.com/goasync/goasync/bench

go 1.26.8

replace github.com/goasync/goasync => ../

require (
	github.com/chebyrash/promise v0.0.0-20230709133807-42ec49ba1459
	github.com/goasync/goasync v0.0.0-00010101000000-000000000000
	github.com/jizhuozhi/go-future v0.1.5
	github.com/panjf2000/gnet/v2 v2.10.0
	github.com/reugn/async v0.10.0
	github.com/valyala/fasthttp v1.70.0
	golang.org/x/image v0.47.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/andybalholm/brotli v1.2.1 // indirect
	github.com/klauspost/compress v1.18.5 // indirect
	github.com/panjf2000/ants/v2 v2.12.1 // indirect
	github.com/sourcegraph/conc v0.3.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)
