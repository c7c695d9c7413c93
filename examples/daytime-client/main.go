// Command daytime-client is the IOLib tutorial's daytime client (ex1 to
// ex3) on goasync: it connects, says which local address it connects
// from, and prints the line of time the server sends.
//
// Where the Lisp client blocks in connect and read-line, this one chains
// futures: Connect, then ReadLine on the socket, then print. Only main
// waits (Await) for the end of the chain. A refused connection, the
// tutorial's socket-connection-refused-error, is caught with errors.Is on
// the rejection instead of handler-case.
//
//	go run ./examples/daytime-client -host localhost -port 9999
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/tcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("daytime-client", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("daytime-client", cli.Usage{
		Synopsis: []string{"daytime-client [-host H] [-port N]"},
		Summary:  "Connects to a daytime server and prints the line of time it sends.",
	}, stdout, stderr)
	host := fs.String("host", "localhost", "server host name or address")
	port := fs.Int("port", 9999, "server port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addr := net.JoinHostPort(*host, strconv.Itoa(*port))

	daytime := future.Compose(tcp.Connect(ctx, addr), func(s *tcp.Socket) *future.Future[string] {
		fmt.Fprintf(stdout, "Connected to server %s via my local connection at %s!\n",
			s.RemoteAddr(), s.LocalAddr())
		line := future.Then(s.ReadLine(), func(b []byte) (string, error) { return string(b), nil })
		return line.Finally(func() { s.Close() })
	})
	daytime = daytime.Catch(func(err error) (string, error) {
		switch {
		case errors.Is(err, tcp.ErrRefused):
			return "", fmt.Errorf("connection refused to %s:%d. Maybe the server isn't running?", *host, *port)
		case errors.Is(err, io.EOF):
			return "", fmt.Errorf("the server at %s closed the connection without sending the time", addr)
		}
		return "", err
	})

	t, err := daytime.Await(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, t)
	return nil
}
