package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
)

// IdleResult is what "load idle" prints.
type IdleResult struct {
	Conns       int     `json:"conns"`
	Mode        string  `json:"mode"`
	OpenSeconds float64 `json:"open_seconds"`
	BaseRSS     int64   `json:"base_rss"`
	RSS         int64   `json:"rss"`
	PerConn     float64 `json:"bytes_per_conn"`
}

var httpReq = []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: goasync-bench\r\n\r\n")

// roundTrip does the one exchange each idle connection makes.
func roundTrip(c net.Conn, mode string) error {
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	defer c.SetDeadline(time.Time{})
	switch mode {
	case "echo":
		msg := bytes.Repeat([]byte("x"), 64)
		if _, err := c.Write(msg); err != nil {
			return err
		}
		_, err := io.ReadFull(c, msg)
		return err
	case "http":
		if _, err := c.Write(httpReq); err != nil {
			return err
		}
		br := bufio.NewReaderSize(c, 1024)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && br.Buffered() > 0 {
			err = errors.New("unexpected bytes after the response")
		}
		return err
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// openConns opens n connections from the given source addresses (round
// robin) with a few dialing goroutines, each connection making one round
// trip. It stops at the first error or after limit.
func openConns(addr string, n int, srcs []string, mode string, workers int, limit time.Duration) ([]net.Conn, error) {
	if len(srcs) == 0 {
		srcs = []string{""}
	}
	dialers := make([]*net.Dialer, len(srcs))
	for i, s := range srcs {
		dialers[i] = sourceDialer(s)
	}
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	deadline := time.Now().Add(limit)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || firstErr.Load() != nil {
					return
				}
				if time.Now().After(deadline) {
					err := fmt.Errorf("opened only %d connections in %v", i, limit)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				c, err := dialers[i%len(dialers)].Dial("tcp", addr)
				if err == nil {
					lingerZero(c)
					err = roundTrip(c, mode)
					if err != nil {
						c.Close()
					}
				}
				if err != nil {
					err = fmt.Errorf("connection %d: %w", i, err)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		closeAll(conns)
		return nil, *e
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// runIdle opens n connections, one round trip each, and reports the growth
// of the server's RSS per connection. With -hold it instead prints
// {"opened":n} and keeps the connections until standard input closes (the
// long mode's orchestrator measures several servers itself).
func runIdle(args []string) (any, error) {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:9000", "server address")
	n := fs.Int("n", 15000, "connections")
	mode := fs.String("mode", "echo", "round trip: echo (64 B) or http (GET)")
	pid := fs.Int("pid", 0, "server pid")
	src := fs.String("src", "", "comma-separated source IPs")
	workers := fs.Int("workers", 32, "dialing goroutines")
	settle := fs.Duration("settle", 300*time.Millisecond, "wait before reading RSS")
	hold := fs.Bool("hold", false, "print {\"opened\":n} and hold until stdin closes")
	limit := fs.Duration("limit", 60*time.Second, "time limit for opening")
	_ = fs.Parse(args)
	if *n < 1 || *n > 19500 {
		return nil, fmt.Errorf("-n must be 1..19500 (one process may open at most 20000 files)")
	}
	var base int64
	if *pid > 0 {
		var err error
		if base, err = proc.RSS(*pid); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	conns, err := openConns(*addr, *n, splitList(*src), *mode, *workers, *limit)
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	open := time.Since(t0).Seconds()
	if *hold {
		fmt.Printf("{\"opened\":%d,\"open_seconds\":%.3f}\n", *n, open)
		_, _ = io.Copy(io.Discard, os.Stdin)
		return map[string]any{"closed": *n}, nil
	}
	time.Sleep(*settle)
	r := IdleResult{Conns: *n, Mode: *mode, OpenSeconds: open, BaseRSS: base}
	if *pid > 0 {
		if r.RSS, err = proc.RSS(*pid); err != nil {
			return nil, err
		}
		r.PerConn = float64(r.RSS-base) / float64(*n)
	}
	return r, nil
}
