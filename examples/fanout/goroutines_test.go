package main

// The same fan-out client written on goroutines and net.Conn, kept here
// for the comparison in docs/future.md (it is tested to print the same
// board as the futures version).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"os"
	"strings"
	"sync"
	"time"
)

func runGoroutines(w io.Writer, replicas, symbols []string, statusURL, name, hostsPath, cachePath string,
	timeout time.Duration, attempts int, deadline time.Duration) error {
	cache, err := readCache(cachePath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	type result struct {
		q   quote
		err error
	}
	results := make([]result, len(symbols))
	var addrs []string
	var status string
	var lookupErr error
	var wg sync.WaitGroup
	for i, sym := range symbols {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := quoteWithRetry(ctx, replicas, sym, timeout, attempts)
			if err != nil {
				if p, ok := cache[sym]; ok {
					q, err = quote{sym, p, "cache, after: " + err.Error()}, nil
				} else {
					err = fmt.Errorf("%s: %w", sym, err)
				}
			}
			results[i] = result{q, err}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		addrs, lookupErr = lookupHosts(hostsPath, name)
	}()
	go func() {
		defer wg.Done()
		status = getStatus(ctx, statusURL)
	}()
	wg.Wait()
	if lookupErr != nil {
		return lookupErr
	}
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(w, "error: %v\n", r.err)
			continue
		}
		fmt.Fprintf(w, "%s %s (%s)\n", r.q.sym, r.q.price, r.q.from)
	}
	fmt.Fprintf(w, "exchange %s at [%s], status %s\n", name, strings.Join(addrs, " "), status)
	return nil
}

func quoteWithRetry(ctx context.Context, replicas []string, sym string, timeout time.Duration, attempts int) (quote, error) {
	wait := 20 * time.Millisecond
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(wait - time.Duration(rand.Float64()*0.5*float64(wait)))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return quote{}, context.Cause(ctx)
			}
			wait *= 2
		}
		var q quote
		q, err = askConn(ctx, replicas[i%len(replicas)], sym, timeout)
		if err == nil {
			return q, nil
		}
		if errors.Is(err, errUnknown) || ctx.Err() != nil {
			return quote{}, fmt.Errorf("retry gave up after %d attempt(s): %w", i+1, err)
		}
	}
	return quote{}, fmt.Errorf("retry gave up after %d attempt(s): %w", attempts, err)
}

func askConn(ctx context.Context, addr, sym string, timeout time.Duration) (quote, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return quote{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := fmt.Fprintf(c, "PRICE %s\n", sym); err != nil {
		return quote{}, err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		if ctx.Err() != nil {
			return quote{}, fmt.Errorf("timeout: %w", ctx.Err())
		}
		return quote{}, err
	}
	f := strings.Fields(line)
	switch {
	case len(f) == 2 && f[0] == sym:
		return quote{sym, f[1], addr}, nil
	case len(f) > 0 && f[0] == "ERR":
		return quote{}, fmt.Errorf("%s: %w", sym, errUnknown)
	}
	return quote{}, fmt.Errorf("bad reply %q", line)
}

func getStatus(ctx context.Context, url string) string {
	req, err := nethttp.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "unreachable (" + err.Error() + ")"
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		return "unreachable (" + err.Error() + ")"
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "unreachable (" + err.Error() + ")"
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// lookupHosts reads name's IPv4 addresses from a hosts file (Go's
// resolver has no way to take another hosts file).
func lookupHosts(path, name string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.SplitN(line, "#", 2)[0])
		for _, h := range f[min(1, len(f)):] {
			if h == name && net.ParseIP(f[0]).To4() != nil {
				out = append(out, f[0])
			}
		}
	}
	if out == nil {
		return nil, fmt.Errorf("%s: no such host", name)
	}
	return out, nil
}
