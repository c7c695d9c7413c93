// Command fanout is a chained-futures client: it asks quote servers for
// the price of several symbols at once, retrying each on the next replica
// with exponential backoff, bounding each attempt with a timeout, falling
// back to a cache when every replica fails, and joining the board with a
// DNS lookup and an HTTP status call of other types.
//
// The quote protocol is one line each way over TCP: "PRICE SYM" is
// answered "SYM 41.50", or "ERR unknown symbol".
//
//	go run ./examples/fanout -quotes 127.0.0.1:7001,127.0.0.1:7002 \
//	    -symbols AAPL,MSFT -status http://127.0.0.1:8080/status -name localhost
//
// With -log FILE the library logs every step of every pipeline as zap
// JSON, which cmd/goasync-trace draws as timelines:
//
//	go run ./cmd/goasync-trace -html trace.html FILE
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/http"
	"github.com/goasync/goasync/tcp"
	"github.com/goasync/goasync/timer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

// errUnknown is the server's answer for a symbol it does not list:
// another replica would say the same, so it is not retried.
var errUnknown = errors.New("unknown symbol")

// quote is one symbol's price and where it came from.
type quote struct {
	sym, price, from string
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	replicas := fs.String("quotes", "127.0.0.1:7001", "quote server replicas, comma-separated host:port")
	symbols := fs.String("symbols", "AAPL,MSFT", "symbols to quote, comma-separated")
	status := fs.String("status", "", "URL of the exchange's status page (HTTP)")
	name := fs.String("name", "localhost", "host name of the exchange, looked up with the dns package")
	hosts := fs.String("hosts", "/etc/hosts", "hosts file for the lookup")
	cacheFile := fs.String("cache", "", `file of last known prices ("SYM PRICE" lines), the fallback`)
	timeout := fs.Duration("timeout", 300*time.Millisecond, "bound on each attempt")
	attempts := fs.Int("attempts", 3, "attempts per symbol")
	deadline := fs.Duration("deadline", 5*time.Second, "bound on the whole run")
	logFile := fs.String("log", "", "write the library's debug log (zap JSON) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		goasync.SetLogger(zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), f, zapcore.DebugLevel)))
		defer goasync.SetLogger(nil)
	}
	cache, err := readCache(*cacheFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *deadline)
	defer cancel()
	ctx = future.WithTraceID(ctx, "fanout")
	c := &client{replicas: strings.Split(*replicas, ","), timeout: *timeout, attempts: *attempts, cache: cache}

	// Fan out: one pipeline per symbol, joined with AllSettled.
	var quotes []*future.Future[quote]
	for _, sym := range strings.Split(*symbols, ",") {
		quotes = append(quotes, c.quote(ctx, sym))
	}
	board := future.AllSettled(quotes...)
	// Join with results of other types: no `any`, no type switches.
	res := dns.NewResolver(dns.WithHostsFile(*hosts))
	lookup := future.Trace(ctx, res.Lookup(ctx, *name, dns.WithFamily(dns.FamilyV4)), "lookup "+*name)
	all, err := future.All3(board, lookup, c.status(ctx, *status)).Await(ctx)
	if err != nil {
		return err
	}
	for _, r := range all.V1 {
		if r.Err != nil {
			fmt.Fprintf(stdout, "error: %v\n", r.Err)
			continue
		}
		fmt.Fprintf(stdout, "%s %s (%s)\n", r.Value.sym, r.Value.price, r.Value.from)
	}
	fmt.Fprintf(stdout, "exchange %s at %v, status %s\n", *name, all.V2, all.V3)
	return nil
}

type client struct {
	replicas []string
	timeout  time.Duration
	attempts int
	cache    map[string]string
}

// quote asks replica after replica, each attempt bounded by the timeout,
// and falls back to the cache when all fail.
func (c *client) quote(ctx context.Context, sym string) *future.Future[quote] {
	b := timer.Backoff{Attempts: c.attempts, Initial: 20 * time.Millisecond,
		RetryIf: func(err error) bool { return !errors.Is(err, errUnknown) }}
	q := timer.Retry(ctx, b, func(ctx context.Context, i int) *future.Future[quote] {
		addr := c.replicas[i%len(c.replicas)]
		return timer.Timeout(c.ask(ctx, addr, sym), c.timeout)
	}).Named("quote " + sym)
	return q.OrElse(func(err error) *future.Future[quote] {
		if p, ok := c.cache[sym]; ok {
			return future.Resolved(quote{sym, p, "cache, after: " + err.Error()})
		}
		return future.Rejected[quote](fmt.Errorf("%s: %w", sym, err))
	})
}

// ask is one exchange with one replica: connect, send, read a line.
func (c *client) ask(ctx context.Context, addr, sym string) *future.Future[quote] {
	conn := future.Trace(ctx, tcp.Connect(ctx, addr), "connect "+addr)
	return future.Compose(conn, func(s *tcp.Socket) *future.Future[quote] {
		s.WriteString("PRICE " + sym + "\n")
		q := future.Then(s.ReadLine(), func(line []byte) (quote, error) {
			f := strings.Fields(string(line))
			switch {
			case len(f) == 2 && f[0] == sym:
				return quote{sym, f[1], addr}, nil
			case len(f) > 0 && f[0] == "ERR":
				return quote{}, fmt.Errorf("%s: %w", sym, errUnknown)
			}
			return quote{}, fmt.Errorf("bad reply %q", line)
		})
		return q.Finally(func() { s.Close() })
	})
}

// status fetches the exchange's status line over HTTP ("" without URL).
func (c *client) status(ctx context.Context, url string) *future.Future[string] {
	if url == "" {
		return future.Resolved("unknown")
	}
	resp := future.Trace(ctx, http.Get(ctx, url), "GET "+url)
	return future.Compose(resp, func(r *nethttp.Response) *future.Future[string] {
		return future.Then(http.ReadAll(r), func(b []byte) (string, error) {
			return strconv.Itoa(r.StatusCode) + " " + strings.TrimSpace(string(b)), nil
		})
	}).OrElse(func(err error) *future.Future[string] {
		return future.Resolved("unreachable (" + err.Error() + ")")
	})
}

func readCache(path string) (map[string]string, error) {
	m := map[string]string{}
	if path == "" {
		return m, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " "); ok {
			m[k] = v
		}
	}
	return m, sc.Err()
}
