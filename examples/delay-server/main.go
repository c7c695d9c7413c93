// Command delay-server is cl-async's benchmark server on goasync: it
// answers each connection's request with a canned HTTP 200, but only after
// -delay (default 5s), so connections pile up; every second it prints how
// many are open (incoming, outgoing), how many were answered (finished) and
// the rate, from the library's own statistics.
//
//	go run ./examples/delay-server -port 9999 -delay 5s
//	wrk -c 1000 -d 30s http://localhost:9999/   # or httperf, ab, curl...
//
// The delay is a timer future started on the socket's event loop, so it
// completes there: no goroutine or thread per connection waits. The
// statistics come from a timer Interval; Ctrl-C arrives as a timer.Signal
// future.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/tcp"
	"github.com/goasync/goasync/timer"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	// The signal is a future like any other: when it resolves, stop.
	timer.Signal(ctx, os.Interrupt, syscall.SIGTERM).OnComplete(func(os.Signal, error) { cancel() })
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	cancel()
	cli.Exit("delay-server", err)
}

// response is the canned answer of cl-async's benchmark.
var response = []byte("HTTP/1.1 200 OK\r\n" +
	"Date: Wed, 03 Oct 2012 23:43:10 GMT\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Length: 9\r\n" +
	"\r\n" +
	"omglolwtf")

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("delay-server", cli.Usage{
		Synopsis: []string{"delay-server [-listen ADDR | -port N] [-delay D] [-stats D]"},
		Summary:  "Answers each connection with a canned HTTP 200 after -delay and prints connection statistics.",
	}, stdout, stderr)
	port := fs.Int("port", 9999, "TCP port to listen on (all interfaces); 0 picks a free one")
	listen := fs.Listen(port)
	delay := fs.Duration("delay", 5*time.Second, "how long each request waits for its answer")
	every := fs.Duration("stats", time.Second, "how often to print the statistics (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var finished atomic.Int64

	fmt.Fprintln(stdout, "Starting TCP server.")
	srv, err := tcp.Listen(listen(), tcp.Handler{
		OnData: func(s *tcp.Socket, _ []byte) {
			if s.Data() != nil {
				return // one answer per connection
			}
			s.SetData(true)
			// Started on the loop, the timer completes on the loop.
			timer.Delay(*delay).OnComplete(func(struct{}, error) {
				if s.Closed() {
					return // the client gave up
				}
				s.Write(response).OnComplete(func(_ struct{}, err error) {
					if err == nil {
						finished.Add(1)
					}
				})
				s.Close()
			})
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Listening on %s, answering after %v\n", srv.Addr(), *delay)

	if *every > 0 {
		last, lastTime := int64(0), time.Now()
		t := timer.Interval(*every, func() {
			st := goasync.ReadStats()
			now, n := time.Now(), finished.Load()
			rate := float64(n-last) / now.Sub(lastTime).Seconds()
			last, lastTime = n, now
			fmt.Fprintf(stdout, "incoming: %d\noutgoing: %d\nfinished: %d\nrate: %.3f req/s\n\n",
				st.ConnsIn, st.ConnsOut, n, rate)
		})
		defer t.Stop()
	}

	<-ctx.Done()
	closeCtx, cancel := context.WithTimeout(context.Background(), *delay+time.Second)
	defer cancel()
	err = srv.Close(closeCtx)
	fmt.Fprintln(stdout, "TCP server exited.")
	if err != nil {
		fmt.Fprintf(stdout, "Closed the connections still waiting: %v\n", err)
	}
	return nil
}
