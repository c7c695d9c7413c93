// Command daytime-server is the IOLib tutorial's daytime server (ex1 to
// ex4) on goasync: every client gets the current time as one line, then
// the connection closes.
//
// There is no accept loop and no thread per client: the server's Handler
// runs on an event loop, writes the time and asks for a graceful Close,
// which sends the line before the socket closes.
//
//	go run ./examples/daytime-server -port 9999
package main

import (
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
	cli.Exit("daytime-server", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run serves until ctx ends, then closes the server gracefully.
func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("daytime-server", cli.Usage{
		Synopsis: []string{"daytime-server [-listen ADDR | -port N]"},
		Summary:  "Sends every client the current time as one line, then closes the connection.",
	}, stdout, stderr)
	port := fs.Int("port", 9999, "TCP port to listen on (all interfaces); 0 picks a free one")
	listen := fs.Listen(port)
	if err := fs.Parse(args); err != nil {
		return err
	}

	srv, err := tcp.Listen(listen(), tcp.Handler{
		OnConnect: func(s *tcp.Socket) {
			who := s.RemoteAddr()
			fmt.Fprintf(stdout, "Got a connection from %s! Sending the time...\n", who)
			s.WriteString(time.Now().Format(time.RFC1123) + "\n")
			// Close waits until the line left user space, then closes.
			s.Close().OnComplete(func(_ struct{}, err error) {
				if err != nil {
					fmt.Fprintf(stdout, "Client %s: %v\n", who, err)
					return
				}
				fmt.Fprintf(stdout, "Sent the time to %s and closed the connection.\n", who)
			})
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Listening on %s\n", srv.Addr())

	<-ctx.Done()
	fmt.Fprintln(stdout, "Shutting down.")
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Close(closeCtx)
}
