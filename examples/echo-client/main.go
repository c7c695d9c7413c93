// Command echo-client is the IOLib tutorial's echo-line client (ex4, ex5b)
// on goasync: it sends the lines of its standard input to an echo server
// and prints every echo on standard output. At the end of the input it
// half-closes the connection (shuts down its write side, like ex5b) and
// keeps printing echoes until the server closes, so batch input works:
//
//	seq 1 100000 | go run ./examples/echo-client -host localhost -port 9999
//
// prints all 100000 lines. Messages about the connection go to standard
// error, so standard output holds exactly the echoes.
//
// Two goroutines, no callbacks: one reads standard input and writes to the
// socket, waiting on the Writable future for backpressure; main reads the
// echoes with ReadLine futures and Await. The writer keeps at most -window
// bytes unanswered, so a server with a per-client buffer limit (like
// echo-server's -max-buffer) is never pushed past it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/tcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("echo-client", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("echo-client", cli.Usage{
		Synopsis: []string{"echo-client [-host H] [-port N] [-window BYTES] < LINES"},
		Summary:  "Sends the lines of standard input to an echo server and prints the echoes on standard output.",
	}, stdout, stderr)
	host := fs.String("host", "localhost", "server host name or address")
	port := fs.Int("port", 9999, "server port")
	window := fs.Int("window", 32<<10, "bytes sent ahead of their echoes at most")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *window < 1 {
		return fs.Fail(fmt.Errorf("-window %d: must be positive", *window))
	}
	addr := net.JoinHostPort(*host, strconv.Itoa(*port))

	s, err := tcp.Connect(ctx, addr).Await(ctx)
	if errors.Is(err, tcp.ErrRefused) {
		return fmt.Errorf("connection refused to %s. Maybe the server isn't running?", addr)
	}
	if err != nil {
		return err
	}
	defer s.Abort() // a no-op once the socket is closed
	fmt.Fprintf(stderr, "Connected to server %s from my local connection at %s!\n", s.RemoteAddr(), s.LocalAddr())

	fc := &flowControl{window: int64(*window)}
	fc.cond = sync.NewCond(&fc.mu)
	sendErr := make(chan error, 1)
	go func() { sendErr <- send(ctx, s, stdin, fc, stderr) }()

	err = receive(ctx, s, stdout, fc)
	fc.stop()
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "Server closed the connection.")
	select {
	case err := <-sendErr:
		return err
	default:
		// The server closed first ("quit"): stdin is left unread.
		return nil
	}
}

// flowControl lets the writer run at most window bytes ahead of the
// echoes read so far.
type flowControl struct {
	mu       sync.Mutex
	cond     *sync.Cond
	window   int64
	sent     int64
	received int64
	stopped  bool
}

// wait blocks until n more bytes fit in the window; false if stopped.
func (f *flowControl) wait(n int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for !f.stopped && f.sent > f.received && f.sent-f.received+n > f.window {
		f.cond.Wait()
	}
	f.sent += n
	return !f.stopped
}

// got records that received bytes in all have come back.
func (f *flowControl) got(received int64) {
	f.mu.Lock()
	f.received = received
	f.mu.Unlock()
	f.cond.Signal()
}

func (f *flowControl) stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	f.cond.Broadcast()
}

// send copies whole lines from stdin to the socket, a window's share at a
// time, then half-closes.
func send(ctx context.Context, s *tcp.Socket, stdin io.Reader, fc *flowControl, stderr io.Writer) error {
	in := bufio.NewReaderSize(stdin, 64<<10)
	chunk := int(min(fc.window, 16<<10))
	var pending []byte
	buf := make([]byte, chunk)
	for {
		n, rerr := in.Read(buf)
		pending = append(pending, buf[:n]...)
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("reading standard input: %w", rerr)
		}
		if rerr == io.EOF && len(pending) > 0 && pending[len(pending)-1] != '\n' {
			pending = append(pending, '\n') // the last line, terminated
		}
		// Send the complete lines; keep a partial one for later.
		end := bytes.LastIndexByte(pending, '\n') + 1
		for off := 0; off < end; {
			part := min(end-off, chunk)
			if cut := bytes.LastIndexByte(pending[off:off+part], '\n'); cut >= 0 && off+part < end {
				part = cut + 1 // keep lines whole, so echoes can be counted
			}
			if !fc.wait(int64(part)) {
				return nil
			}
			s.Write(pending[off : off+part])
			if _, err := s.Writable().Await(ctx); err != nil {
				return nil // the receiver reports why the socket closed
			}
			off += part
		}
		pending = append(pending[:0], pending[end:]...)
		if rerr == io.EOF {
			break
		}
	}
	fmt.Fprintln(stderr, "End of input: shutting down the write side; waiting for the last echoes.")
	if _, err := s.CloseWrite().Await(ctx); err != nil {
		return nil
	}
	return nil
}

// receive prints echoes until the server closes the connection.
func receive(ctx context.Context, s *tcp.Socket, stdout io.Writer, fc *flowControl) error {
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	for {
		f := s.ReadLine()
		if _, _, ready := f.Result(); !ready {
			out.Flush() // about to wait: show what we have
		}
		line, err := f.Await(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading echoes: %w", err)
		}
		fc.got(s.BytesRead())
		out.Write(line)
		out.WriteByte('\n')
	}
}
