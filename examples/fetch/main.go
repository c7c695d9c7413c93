// Command fetch is an HTTP client on goasync: it fetches all its URLs at
// once and prints, for each, the status, the body's length and the time it
// took, in the order given.
//
//	go run ./examples/fetch http://localhost:4242/ http://localhost:9999/
//	go run ./examples/fetch -host localhost -port 4242 / /source?room=x
//	go run ./examples/fetch -v http://localhost:4242/   # with the debug trace
//
// Each URL is one pipeline of futures: Get (connect, send, read the head),
// then ReadAll (the body, collected without blocking a goroutine), then the
// line to print. A failure is caught at the end of its own pipeline, so the
// others go on, and future.All joins the pipelines. -v installs a zap
// logger at debug level: every named step logs when it settles, with its
// id and duration, and every socket event is traced.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/http"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("fetch", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// result is the outcome of one URL.
type result struct {
	url     string
	status  int
	length  int
	elapsed time.Duration
	err     error
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("fetch", cli.Usage{
		Synopsis: []string{"fetch [-v] [-timeout D] [-host H -port P] URL|/PATH..."},
		Summary:  "Fetches every URL at once and prints, for each, the status, the body's length and the time it took.",
	}, stdout, stderr)
	host := fs.String("host", "localhost", "host for arguments given as /PATH")
	port := fs.Int("port", 9999, "port for arguments given as /PATH")
	timeout := fs.Duration("timeout", 30*time.Second, "bound on each fetch, body included")
	verbose := fs.Bool("v", false, "print the zap debug trace of every pipeline step")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fs.Fail(errors.New("no URL to fetch"))
	}
	if *verbose {
		log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
			zapcore.Lock(zapcore.AddSync(stderr)), zapcore.DebugLevel))
		goasync.SetLogger(log)
		defer goasync.SetLogger(nil)
	}

	client := &http.Client{Timeout: *timeout}
	defer client.CloseIdleConnections()
	base := "http://" + net.JoinHostPort(*host, strconv.Itoa(*port))
	pipelines := make([]*future.Future[result], fs.NArg())
	for i, u := range fs.Args() {
		if strings.HasPrefix(u, "/") {
			u = base + u
		}
		pipelines[i] = fetch(ctx, client, u)
	}
	results, err := future.All(pipelines...).Await(ctx)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if r.err != nil {
			failed++
			fmt.Fprintf(stdout, "ERR  %s: %v\n", r.url, r.err)
			continue
		}
		fmt.Fprintf(stdout, "%d  %8d bytes  %10s  %s\n", r.status, r.length, r.elapsed.Round(time.Microsecond), r.url)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d fetches failed", failed, len(results))
	}
	return nil
}

// fetch is the pipeline of one URL; it never rejects: a failure becomes
// the result's err.
func fetch(ctx context.Context, c *http.Client, u string) *future.Future[result] {
	start := time.Now()
	head := c.Get(ctx, u).Named("get " + u)
	body := future.Compose(head, func(resp *nethttp.Response) *future.Future[result] {
		return future.Then(http.ReadAll(resp).Named("body "+u), func(b []byte) (result, error) {
			return result{url: u, status: resp.StatusCode, length: len(b), elapsed: time.Since(start)}, nil
		})
	})
	return body.Catch(func(err error) (result, error) {
		return result{url: u, err: err, elapsed: time.Since(start)}, nil
	})
}
