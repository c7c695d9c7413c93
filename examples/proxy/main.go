// Command proxy is a TCP proxy on goasync: every connection accepted on
// -listen (or on -port, all interfaces) is relayed to -to.
//
// It shows the cl-async idiom of per-socket data: each inbound socket keeps
// its outbound peer in its socket data (SetData), and every event finds the
// other side there. Both sides are half-open sockets: when one side shuts
// down its writing, the proxy shuts down the other side's writing too, and
// the connection lives on in the other direction until that ends as well.
//
// Backpressure passes through: when the side being written to has more than
// its high watermark queued (its reader is slow), the proxy pauses the
// side it reads from until the queue drains (the Writable future). A paused
// socket stops reading, so its sender is held back by TCP flow control;
// -max-buffer bounds what a socket holds where reads cannot be stopped
// (see the tcp package's Pause): past it the connection is closed rather
// than let memory grow.
//
// Each connection is logged with zap fields (id, client, backend, bytes each
// way, duration); -v adds debug entries for pauses and the library's own
// socket trace.
//
//	go run ./examples/proxy -port 9999 -to localhost:8080
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/tcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 9999, "TCP port to listen on, all interfaces (0 picks a free one)")
	listen := fs.String("listen", "", "address to listen on, host:port (overrides -port)")
	to := fs.String("to", "", "backend address, host:port (required)")
	maxBuf := fs.Int("max-buffer", tcp.DefaultMaxBuffered, "bytes a paused side may take from its sender")
	verbose := fs.Bool("v", false, "log debug entries: pauses, and the library's socket trace")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		return fmt.Errorf("-to ADDR is required")
	}
	addr := *listen
	if addr == "" {
		addr = fmt.Sprintf(":%d", *port)
	}

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
	srv, err := tcp.Listen(addr, tcp.Handler{
		OnConnect: p.accept,
		// relay writes the bytes on at once (Write copies what the kernel
		// does not take), so they can stay in the read buffer.
		BorrowData: true,
		OnData:     func(in *tcp.Socket, data []byte) { in.Data().(*conn).relay(in, data) },
		OnEOF:      func(in *tcp.Socket) { in.Data().(*conn).eof(in) },
		OnClose:    func(in *tcp.Socket, err error) { in.Data().(*conn).closed(in, err) },
	}, tcp.WithHalfOpen(true), tcp.WithMaxBuffered(*maxBuf))
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
	log   *zap.Logger
	start time.Time
	in    *tcp.Socket

	mu      sync.Mutex
	out     *tcp.Socket // nil until connected
	eofSeen map[*tcp.Socket]bool
}

// accept runs for each inbound socket: it holds the client's bytes (Pause)
// until the backend is connected.
func (p *proxy) accept(in *tcp.Socket) {
	c := &conn{
		log: p.log.With(zap.Uint64("conn", in.ID()), zap.Stringer("client", in.RemoteAddr()),
			zap.String("backend", p.to)),
		start: time.Now(), in: in,
		eofSeen: map[*tcp.Socket]bool{},
	}
	in.SetData(c)
	in.Pause()
	c.log.Info("accepted")
	outHandler := tcp.Handler{
		BorrowData: true,
		OnData:     func(out *tcp.Socket, data []byte) { c.relay(out, data) },
		OnEOF:      func(out *tcp.Socket) { c.eof(out) },
		OnClose:    func(out *tcp.Socket, err error) { c.closed(out, err) },
	}
	tcp.Connect(p.ctx, p.to, tcp.WithHandler(outHandler), tcp.WithHalfOpen(true),
		tcp.WithMaxBuffered(p.maxBuf)).
		OnComplete(func(out *tcp.Socket, err error) {
			if err != nil {
				c.log.Warn("backend unreachable; closing the client", zap.Error(err))
				in.Close()
				return
			}
			c.mu.Lock()
			c.out = out
			clientDone := c.eofSeen[in] // the client half-closed before we got here
			c.mu.Unlock()
			c.log.Debug("backend connected", zap.Stringer("via", out.LocalAddr()))
			if in.Closed() {
				out.Close()
				return
			}
			if clientDone {
				out.CloseWrite()
			}
			in.Resume()
		})
}

// peer returns the other side of s.
func (c *conn) peer(s *tcp.Socket) *tcp.Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == c.in {
		return c.out
	}
	return c.in
}

// relay writes data from src to its peer; when the peer's queue is above
// its high watermark, src pauses until the queue drains.
func (c *conn) relay(src *tcp.Socket, data []byte) {
	dst := c.peer(src)
	if dst == nil {
		return
	}
	dst.Write(data)
	w := dst.Writable()
	if _, _, ready := w.Result(); ready {
		return
	}
	src.Pause()
	c.log.Debug("backpressure: pausing a side until its peer drains",
		zap.Uint64("paused", src.ID()), zap.Int("queued", dst.Buffered()))
	w.OnComplete(func(struct{}, error) { src.Resume() })
}

// eof: src's sender shut down its writing, so the proxy shuts down the
// peer's writing too. tcp calls OnEOF only after every byte received before
// the FIN reached OnData (bytes a paused socket holds are delivered after
// Resume, and the FIN after them), so those bytes are already queued on
// the peer, and CloseWrite sends them before the FIN. A client that half-closes before the backend is
// connected is passed on by accept once it is.
func (c *conn) eof(src *tcp.Socket) {
	c.mu.Lock()
	if c.eofSeen[src] {
		c.mu.Unlock()
		return
	}
	c.eofSeen[src] = true
	both := len(c.eofSeen) == 2
	dst := c.in
	if src == c.in {
		dst = c.out
	}
	c.mu.Unlock()
	c.log.Debug("half-close passed on", zap.Uint64("from", src.ID()))
	if dst != nil {
		dst.CloseWrite()
	}
	if both {
		c.in.Close()
		dst.Close()
	}
}

// closed: when either side ends cleanly, the other one finishes what it
// has queued and closes too; when a side fails (reset, timeout, buffer
// full), the other one is reset, so its peer never takes a cut stream for
// a complete one. The inbound side logs the connection's summary.
func (c *conn) closed(s *tcp.Socket, err error) {
	if p := c.peer(s); p != nil {
		if err != nil {
			p.Abort()
		} else {
			p.Close()
		}
	}
	if s != c.in {
		if err != nil {
			c.log.Info("backend side closed", zap.Error(err))
		}
		return
	}
	fields := []zap.Field{zap.Int64("bytes_up", c.in.BytesRead()), zap.Int64("bytes_down", c.in.BytesWritten()),
		zap.Duration("duration", time.Since(c.start))}
	if err != nil {
		fields = append(fields, zap.Error(err))
	}
	c.log.Info("closed", fields...)
}
