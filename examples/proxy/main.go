// Command proxy is a TCP proxy on goasync: every connection accepted on
// -listen (or on -port, all interfaces) is relayed to -to with tcp.Relay.
//
// Relay does the work a hand-written proxy gets wrong: it copies both ways
// with backpressure (a side whose peer reads slowly pauses the side it
// reads from, so TCP flow control holds the sender back, even after a
// half-close), passes each half-close on, and resets the other side when
// one fails, so a client never takes a cut download for a complete one.
// Its future says what was moved and why it ended.
//
// It keeps cl-async's idiom of per-socket data: each inbound socket holds
// its connection record (backend socket, start time, log fields) in its
// socket data (SetData).
//
// Each connection is logged with zap fields (id, client, backend, bytes each
// way, duration); -v adds the library's own socket trace.
//
//	go run ./examples/proxy -port 9999 -to localhost:8080
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/tcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("proxy", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("proxy", cli.Usage{
		Synopsis: []string{"proxy [-listen ADDR | -port N] -to HOST:PORT [-max-buffer BYTES] [-v]"},
		Summary:  "Relays every connection it accepts to the backend -to.",
	}, stdout, stderr)
	port := fs.Int("port", 9999, "TCP port to listen on, all interfaces (0 picks a free one)")
	listen := fs.Listen(port)
	to := fs.String("to", "", "backend address, host:port (required)")
	maxBuf := fs.Int("max-buffer", tcp.DefaultMaxBuffered, "bytes a paused side may take from its sender")
	verbose := fs.Bool("v", false, "log debug entries: pauses, and the library's socket trace")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		return fs.Fail(fmt.Errorf("-to ADDR is required"))
	}
	addr := listen()

	level := zapcore.InfoLevel
	if *verbose {
		level = zapcore.DebugLevel
	}
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
		zapcore.Lock(zapcore.AddSync(stderr)), level))
	if *verbose {
		goasync.SetLogger(log.Named("goasync"))
		defer goasync.SetLogger(nil)
	}

	p := &proxy{ctx: ctx, to: *to, log: log, maxBuf: *maxBuf}
	srv, err := tcp.Listen(addr, tcp.Handler{OnConnect: p.accept}, tcp.WithMaxBuffered(*maxBuf))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Listening on %s, relaying to %s\n", srv.Addr(), *to)

	<-ctx.Done()
	fmt.Fprintln(stdout, "Shutting down: waiting up to 5s for connections to finish.")
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(closeCtx); err != nil {
		fmt.Fprintf(stdout, "Closed the connections still open: %v\n", err)
	}
	return nil
}

type proxy struct {
	ctx    context.Context
	to     string
	log    *zap.Logger
	maxBuf int
}

// conn is one proxied connection: the inbound socket's data.
type conn struct {
	out   *tcp.Socket
	start time.Time
	log   *zap.Logger
}

// accept runs for each inbound socket: it holds the client's bytes (Pause)
// until the backend is connected, then relays the two.
func (p *proxy) accept(in *tcp.Socket) {
	log := p.log.With(zap.Uint64("conn", in.ID()), zap.Stringer("client", in.RemoteAddr()), zap.String("backend", p.to))
	start := time.Now()
	in.Pause()
	log.Info("accepted")
	tcp.Connect(p.ctx, p.to, tcp.WithMaxBuffered(p.maxBuf)).OnComplete(func(out *tcp.Socket, err error) {
		if err != nil {
			log.Warn("backend unreachable; resetting the client", zap.Error(err))
			in.Abort() // a reset: the client must not take this for an empty reply
			return
		}
		in.SetData(&conn{out: out, start: start, log: log})
		tcp.Relay(in, out).OnComplete(func(m tcp.Relayed, err error) {
			fields := []zap.Field{zap.Int64("bytes_up", m.AToB), zap.Int64("bytes_down", m.BToA),
				zap.Duration("duration", time.Since(start))}
			var re *tcp.RelayError
			if errors.As(err, &re) {
				fields = append(fields, zap.Int64("bytes_up", re.AToB), zap.Int64("bytes_down", re.BToA),
					zap.String("failed_side", map[string]string{"a": "client", "b": "backend"}[re.Side]), zap.Error(re.Err))
			}
			log.Info("closed", fields...)
		})
	})
}
