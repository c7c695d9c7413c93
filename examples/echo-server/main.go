// Command echo-server is the IOLib tutorial's echo-line server (ex5 to ex8)
// on goasync: every line a client sends comes back to it; the line "quit"
// is echoed and then the connection closes.
//
// Like the tutorial's ex8, it serves every client at once from event loops,
// with nonblocking I/O and a per-client buffer limit (-max-buffer, default
// 64 KiB). The limit is exact: the server holds, for one client, its
// unfinished line plus the echoes the kernel has not taken yet, and never
// more than -max-buffer bytes of them. A line longer than the limit
// (counting its newline) is refused with an error line; a client that stops
// reading its echoes while it keeps sending is disconnected once they pass
// the limit. (ex8 stops reading such a client instead. tcp's Pause stops
// reading too, as examples/proxy shows, but one read can bring in up to
// 64 KiB before it takes effect, and this server promises an exact limit,
// so it disconnects.)
//
// A client that half-closes (shuts down its write side at the end of its
// input, as the tutorial's ex5b client does) still gets every echo before
// the server closes the connection.
//
//	go run ./examples/echo-server -port 9999 -max-buffer 65536
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/tcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("echo-server", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// client is the per-socket state, kept with SetData.
type client struct {
	partial []byte // the unfinished last line
	done    bool   // "quit" seen or the client was refused: ignore its input
}

// server holds the flags every handler needs.
type server struct {
	max     int
	verbose bool
	out     io.Writer
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("echo-server", cli.Usage{
		Synopsis: []string{"echo-server [-listen ADDR | -port N] [-max-buffer BYTES] [-v]"},
		Summary:  "Echoes every line a client sends; the line \"quit\" closes the connection.",
	}, stdout, stderr)
	port := fs.Int("port", 9999, "TCP port to listen on (all interfaces); 0 picks a free one")
	listen := fs.Listen(port)
	maxBuf := fs.Int("max-buffer", 64<<10, "bytes the server holds at most for one client")
	verbose := fs.Bool("v", false, "print every line read")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *maxBuf < 2 {
		return fs.Fail(fmt.Errorf("-max-buffer %d: must be at least 2 (one byte and a newline)", *maxBuf))
	}
	e := &server{max: *maxBuf, verbose: *verbose, out: stdout}

	srv, err := tcp.Listen(listen(), tcp.Handler{
		OnConnect: e.onConnect,
		OnData:    e.onData,
		OnEOF:     e.onEOF,
		OnClose:   e.onClose,
	},
		// Keep writing after the client's FIN: it waits for its echoes.
		tcp.WithHalfOpen(true),
		// Bytes the socket itself may hold for us (only while paused: this
		// server never pauses, so it never needs more).
		tcp.WithMaxBuffered(*maxBuf),
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Listening on %s (max %d bytes per client)\n", srv.Addr(), e.max)

	<-ctx.Done()
	fmt.Fprintln(stdout, "Shutting down: waiting up to 5s for clients to finish.")
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(closeCtx); err != nil {
		fmt.Fprintf(stdout, "Closed the clients still connected: %v\n", err)
	}
	return nil
}

func (e *server) onConnect(s *tcp.Socket) {
	s.SetData(&client{})
	fmt.Fprintf(e.out, "Accepted a client from %s\n", s.RemoteAddr())
}

// onData echoes every complete line of data, in one write per chunk.
func (e *server) onData(s *tcp.Socket, data []byte) {
	c := s.Data().(*client)
	if c.done {
		return
	}
	var echo []byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(c.partial)+len(data)+1 > e.max { // it cannot fit with its newline
				e.refuse(s, c, echo)
				return
			}
			c.partial = append(c.partial, data...)
			break
		}
		if len(c.partial)+i+1 > e.max {
			e.refuse(s, c, echo)
			return
		}
		line := data[:i+1]
		if len(c.partial) > 0 {
			line = append(c.partial, line...)
			c.partial = c.partial[:0]
		}
		data = data[i+1:]
		echo = append(echo, line...)
		if e.verbose {
			fmt.Fprintf(e.out, "Read line from %s: %s", s.RemoteAddr(), line)
		}
		if string(bytes.TrimRight(line, "\r\n")) == "quit" {
			c.done = true
			s.Write(echo)
			fmt.Fprintf(e.out, "Client %s said quit; closing after the echo.\n", s.RemoteAddr())
			s.Close()
			return
		}
	}
	if len(echo) == 0 {
		return
	}
	s.Write(echo)
	if held := len(c.partial) + s.Buffered(); held > e.max {
		c.done = true
		fmt.Fprintf(e.out, "Client %s does not read its echoes: %d bytes held, limit %d; disconnecting.\n",
			s.RemoteAddr(), held, e.max)
		s.Abort()
	}
}

// refuse answers a line longer than the limit with an error line, after
// the echoes already due, and closes.
func (e *server) refuse(s *tcp.Socket, c *client, echo []byte) {
	c.done = true
	fmt.Fprintf(e.out, "Client %s sent a line longer than %d bytes; closing.\n", s.RemoteAddr(), e.max)
	s.Write(echo)
	s.WriteString(fmt.Sprintf("error: line longer than %d bytes\n", e.max))
	s.Close()
}

// onEOF runs when the client half-closed: its last, unterminated line is
// echoed as it is, then Close sends everything queued and closes.
func (e *server) onEOF(s *tcp.Socket) {
	c := s.Data().(*client)
	fmt.Fprintf(e.out, "Client %s produced end-of-file; sending the rest and closing.\n", s.RemoteAddr())
	if !c.done && len(c.partial) > 0 {
		s.Write(c.partial)
	}
	c.done = true
	s.Close()
}

func (e *server) onClose(s *tcp.Socket, err error) {
	if err != nil {
		fmt.Fprintf(e.out, "Client %s: %v\n", s.RemoteAddr(), err)
		return
	}
	fmt.Fprintf(e.out, "Closed the connection to %s (%d bytes in, %d out).\n",
		s.RemoteAddr(), s.BytesRead(), s.BytesWritten())
}
