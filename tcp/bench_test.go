package tcp

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
)

const (
	benchConns    = 50
	benchMsg      = 64
	benchInFlight = 16
)

// echoClients drives b.N 64-byte messages through the echo server at addr
// over 50 Go net connections, 16 messages in flight on each (written in
// one batch, then read back), and reports messages per second. The same
// client measures every server, so the ratios compare the servers.
func echoClients(b *testing.B, addr string) {
	conns := make([]net.Conn, benchConns)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	rounds := (b.N + benchConns*benchInFlight - 1) / (benchConns * benchInFlight)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			out := make([]byte, benchMsg*benchInFlight)
			in := make([]byte, len(out))
			c.SetDeadline(time.Now().Add(5 * time.Minute))
			for r := 0; r < rounds; r++ {
				if _, err := c.Write(out); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, in); err != nil {
					errs <- err
					return
				}
			}
		}(c)
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	msgs := rounds * benchConns * benchInFlight
	b.ReportMetric(float64(msgs)/el.Seconds(), "msgs/s")
}

// BenchmarkEcho compares echo servers under the same client: this
// package, raw gnet, and Go's net with a goroutine per connection.
func BenchmarkEcho(b *testing.B) {
	b.Run("goasync", func(b *testing.B) {
		r := newRuntime(b)
		srv := listen(b, r, echoHandler())
		b.ReportAllocs()
		echoClients(b, srv.Addr().String())
	})
	b.Run("gnet", func(b *testing.B) {
		addr := startGnetEcho(b)
		b.ReportAllocs()
		echoClients(b, addr)
	})
	b.Run("gonet", func(b *testing.B) {
		ln := goListener(b)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 64<<10)
					for {
						n, err := c.Read(buf)
						if err != nil {
							return
						}
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
				}()
			}
		}()
		b.ReportAllocs()
		echoClients(b, ln.Addr().String())
	})
}

type gnetEcho struct {
	gnet.BuiltinEventEngine
	eng    gnet.Engine
	booted chan struct{}
}

func (e *gnetEcho) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	close(e.booted)
	return gnet.None
}

func (e *gnetEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

// startGnetEcho runs a raw gnet echo server with the same loop count as
// the test runtime (2).
func startGnetEcho(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := &gnetEcho{booted: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = gnet.Run(e, "tcp://"+addr, gnet.WithNumEventLoop(2), gnet.WithReusePort(true), gnet.WithLogger(zap.NewNop().Sugar()))
	}()
	select {
	case <-e.booted:
	case <-done:
		b.Fatal("gnet did not start")
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = e.eng.Stop(ctx)
		<-done
	})
	return addr
}

// BenchmarkRoundTrip is one request/response at a time through our client
// and our server: Write, then a ReadN future awaited.
func BenchmarkRoundTrip(b *testing.B) {
	r := newRuntime(b)
	srv := listen(b, r, echoHandler())
	s := await(b, Connect(context.Background(), srv.Addr().String(), withRuntime(r)))
	defer s.Abort()
	msg := make([]byte, benchMsg)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Write(msg)
		if _, err := s.ReadN(benchMsg).Await(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite measures Write of 64 bytes to a Go peer that discards
// them: the path that writes straight to the kernel allocates nothing.
func BenchmarkWrite(b *testing.B) {
	r := newRuntime(b)
	ln := goListener(b)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	s := await(b, Connect(context.Background(), ln.Addr().String(), withRuntime(r)))
	defer s.Abort()
	msg := make([]byte, benchMsg)
	b.ReportAllocs()
	b.SetBytes(benchMsg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := s.Write(msg)
		if i%1024 == 0 { // keep the queue bounded when the peer lags
			if _, err := f.Await(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
}
