// Command http09 is the CL Cookbook's HTTP/0.9 file server and client on
// goasync. HTTP/0.9 is the first HTTP: the client sends one request line,
// "GET /path/to/file" (optionally followed by " HTTP/0.9" and a blank
// line), and the server answers with the bytes of the file and closes.
//
// Server:
//
//	go run ./examples/http09 -serve DIR -port 9999
//
// It serves the files under DIR and nothing outside it: names are opened
// through an os.Root, which refuses "..", absolute names and symbolic
// links that lead out of DIR. A bad request line gets
// "HTTP/0.9 400 Invalid HTTP Request.", a missing file
// "HTTP/0.9 404 Not found.". Files are read on the blocking-work pool
// (future.Go), which writes them in chunks and waits on the socket's
// Writable future between chunks, so a slow client holds at most a
// watermark's worth of the file in memory.
//
// Client:
//
//	go run ./examples/http09 -get /hosts -host localhost -port 9999
//
// It prints the server's answer on standard output and exits with status 1
// when the server answered with an error line.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/tcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("http09", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fl := cli.New("http09", cli.Usage{
		Synopsis: []string{"http09 -serve DIR [-listen ADDR | -port N]", "http09 -get PATH [-host H] [-port N]"},
		Summary:  "An HTTP/0.9 file server (-serve) and client (-get).",
	}, stdout, stderr)
	serve := fl.String("serve", "", "server: serve the files under this directory")
	get := fl.String("get", "", "client: the path to request, e.g. /index.html")
	host := fl.String("host", "localhost", "client: server host")
	port := fl.Int("port", 9999, "server: port to listen on (all interfaces, 0 picks one); client: server port")
	listen := fl.Listen(port)
	if err := fl.Parse(args); err != nil {
		return err
	}
	switch {
	case *serve != "" && *get != "":
		return fl.Fail(errors.New("-serve and -get exclude each other"))
	case *serve != "":
		return runServer(ctx, *serve, listen(), stdout)
	case *get != "":
		return runClient(ctx, *get, net.JoinHostPort(*host, strconv.Itoa(*port)), stdout, stderr)
	}
	return fl.Fail(errors.New("say -serve DIR (server) or -get PATH (client)"))
}

// ---------------------------------------------------------------- server

const (
	badRequest = "HTTP/0.9 400 Invalid HTTP Request.\r\n"
	notFound   = "HTTP/0.9 404 Not found.\r\n"
	maxLine    = 8 << 10
	chunk      = 64 << 10
)

func runServer(ctx context.Context, dir, addr string, stdout io.Writer) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("-serve: %w", err)
	}
	defer root.Close()
	srv, err := tcp.Listen(addr, tcp.Handler{
		OnConnect: func(s *tcp.Socket) { handle(s, root, stdout) },
	},
		tcp.WithMaxBuffered(maxLine),        // the most a request line may take
		tcp.WithReadTimeout(10*time.Second), // and a client that sends nothing is dropped
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "> Started server; Listening on %s, serving %s\n", srv.Addr(), dir)
	<-ctx.Done()
	fmt.Fprintln(stdout, "> Shutting down.")
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Close(closeCtx); err != nil {
		fmt.Fprintf(stdout, "> Closed the connections still open: %v\n", err)
	}
	return nil
}

// handle reads the request line (and, for "GET /x HTTP/0.9", the header
// lines up to the blank one), then answers.
func handle(s *tcp.Socket, root *os.Root, stdout io.Writer) {
	who := s.RemoteAddr()
	request := future.Compose(s.ReadLine(), func(line []byte) *future.Future[string] {
		fmt.Fprintf(stdout, "> Received request from host %s: %q\n", who, line)
		name, versioned, ok := parseRequest(string(line))
		if !ok || len(line) > maxLine {
			return future.Rejected[string](errBadRequest)
		}
		if !versioned {
			return future.Resolved(name)
		}
		return future.Then(skipHeaders(s), func(struct{}) (string, error) { return name, nil })
	})
	request.OnComplete(func(name string, err error) {
		switch {
		case errors.Is(err, errBadRequest) || errors.Is(err, tcp.ErrBufferFull):
			fmt.Fprintf(stdout, "> Bad request from %s\n", who)
			s.WriteString(badRequest)
			s.Close()
		case err != nil:
			fmt.Fprintf(stdout, "> Client %s went away: %v\n", who, err)
			s.Abort()
		default:
			future.Go(func() (int64, error) { return serveFile(s, root, name) }).
				OnComplete(func(n int64, err error) {
					if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotFile) {
						fmt.Fprintf(stdout, "> %s: not found\n", name)
						s.WriteString(notFound)
					} else if err != nil {
						fmt.Fprintf(stdout, "> %s: %v\n", name, err)
						s.WriteString(notFound)
					} else {
						fmt.Fprintf(stdout, "> Served %s (%d bytes) to %s\n", name, n, who)
					}
					s.Close()
				})
		}
	})
}

var (
	errBadRequest = errors.New("bad request line")
	errNotFile    = errors.New("not a regular file")
)

// parseRequest accepts "GET /path" and "GET /path HTTP/0.9" (or any
// HTTP/x.y) and returns the file name relative to the root.
func parseRequest(line string) (name string, versioned, ok bool) {
	f := strings.Split(line, " ")
	if len(f) < 2 || len(f) > 3 || f[0] != "GET" || !strings.HasPrefix(f[1], "/") {
		return "", false, false
	}
	if len(f) == 3 {
		if !strings.HasPrefix(f[2], "HTTP/") {
			return "", false, false
		}
		versioned = true
	}
	if strings.ContainsAny(f[1], "\x00\\") {
		return "", false, false
	}
	name = strings.TrimPrefix(path.Clean(f[1]), "/")
	if name == "" {
		name = "."
	}
	return name, versioned, true
}

// skipHeaders reads lines up to the first empty one.
func skipHeaders(s *tcp.Socket) *future.Future[struct{}] {
	return future.Compose(s.ReadLine(), func(line []byte) *future.Future[struct{}] {
		if len(line) == 0 {
			return future.Resolved(struct{}{})
		}
		return skipHeaders(s)
	})
}

// serveFile runs on the blocking-work pool: it opens name under root and
// writes it to s in chunks, waiting for each to leave user space.
func serveFile(s *tcp.Socket, root *os.Root, name string) (int64, error) {
	f, err := root.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.IsDir() {
		f.Close()
		if f, err = root.Open(path.Join(name, "index.html")); err != nil {
			return 0, err
		}
		defer f.Close()
	} else if !st.Mode().IsRegular() {
		return 0, errNotFile
	}
	buf := make([]byte, chunk)
	var sent int64
	for {
		n, rerr := f.Read(buf)
		if n > 0 {
			s.Write(buf[:n]) // copies what it cannot send at once
			sent += int64(n)
			if _, err := s.Writable().Await(context.Background()); err != nil {
				return sent, err
			}
		}
		if rerr == io.EOF {
			return sent, nil
		}
		if rerr != nil {
			return sent, rerr
		}
	}
}

// ---------------------------------------------------------------- client

func runClient(ctx context.Context, p, addr string, stdout, stderr io.Writer) error {
	body := new(bytes.Buffer)
	done := future.New[struct{}]()
	h := tcp.Handler{
		OnData: func(_ *tcp.Socket, data []byte) { body.Write(data) },
		OnClose: func(_ *tcp.Socket, err error) {
			if err != nil {
				done.Reject(err)
				return
			}
			done.Resolve(struct{}{})
		},
	}
	fmt.Fprintf(stderr, "> Sending request to %s...\n", addr)
	request := "GET " + p + " HTTP/0.9\r\n\r\n"
	s, err := tcp.Send(ctx, addr, []byte(request), tcp.WithHandler(h)).Await(ctx)
	if errors.Is(err, tcp.ErrRefused) {
		return fmt.Errorf("connection refused to %s. Maybe the server isn't running?", addr)
	}
	if err != nil {
		return err
	}
	defer s.Abort()
	if _, err := done.Future().Await(ctx); err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	// OnData and OnClose ran on the socket's loop before done resolved, so
	// body is complete and no longer written to.
	fmt.Fprintln(stderr, "> Received response:")
	stdout.Write(body.Bytes())
	if first, _, _ := strings.Cut(body.String(), "\r\n"); strings.HasPrefix(first, "HTTP/0.9 4") {
		return fmt.Errorf("the server answered %q", first)
	}
	return nil
}
