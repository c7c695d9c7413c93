package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// quoteServer is a real replica on loopback: AAPL and MSFT have prices,
// SLOW answers after 10 s (or when the client hangs up) (past the client's timeout), anything else is
// unknown.
func quoteServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	prices := map[string]string{"AAPL": "41.50", "MSFT": "12.25", "SLOW": "1.00"}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				sym := strings.TrimSpace(strings.TrimPrefix(line, "PRICE "))
				if sym == "SLOW" {
					// Answer after 10 s, or give up when the client
					// hangs up first (it times out).
					c.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, err := r.ReadByte(); err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
						return
					}
				}
				if p, ok := prices[sym]; ok {
					fmt.Fprintf(c, "%s %s\n", sym, p)
				} else {
					fmt.Fprintf(c, "ERR unknown symbol\n")
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

type setup struct {
	dead, good, status, hosts, cache string
}

func newSetup(t *testing.T) setup {
	st := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		fmt.Fprintln(w, "open")
	}))
	t.Cleanup(st.Close)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	cache := filepath.Join(dir, "cache")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 exchange.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache, []byte("SLOW 0.99\nMSFT 12.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return setup{dead: closedPort(t), good: quoteServer(t), status: st.URL + "/status", hosts: hosts, cache: cache}
}

func (s setup) args(extra ...string) []string {
	return append([]string{"-quotes", s.dead + "," + s.good, "-symbols", "AAPL,SLOW,ZZZ",
		"-status", s.status, "-name", "exchange.test", "-hosts", s.hosts, "-cache", s.cache,
		"-timeout", "1s", "-attempts", "3"}, extra...)
}

// wantBoard checks what both versions of the program must print.
func wantBoard(t *testing.T, s setup, out string) {
	t.Helper()
	for _, re := range []string{
		// AAPL: the first replica refuses, the second answers.
		`(?m)^AAPL 41\.50 \(` + regexp.QuoteMeta(s.good) + `\)$`,
		// SLOW: refused, timed out, refused: the cache answers.
		`(?m)^SLOW 0\.99 \(cache, after: .*3 attempt.*refused\)$`,
		// ZZZ: refused, then unknown, which is not retried; no cache entry.
		`(?m)^error: ZZZ: .*2 attempt.*unknown symbol$`,
		`(?m)^exchange exchange\.test at \[127\.0\.0\.1\], status 200 open$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output lacks %s:\n%s", re, out)
		}
	}
}

func TestFanoutWithRetryTimeoutAndFallback(t *testing.T) {
	s := newSetup(t)
	start := time.Now()
	out, errOut, err := extest.Run(t, run, "", s.args()...)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	wantBoard(t, s, out)
	// The symbols ran at once: the run took about one SLOW chain
	// (a refusal, a 1 s timeout, two backoffs, a refusal), not the sum of all three.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("run took %v", d)
	}
}

// The same program on goroutines and net.Conn (goroutines_test.go) prints
// the same board.
func TestGoroutineVersionAgrees(t *testing.T) {
	s := newSetup(t)
	var out strings.Builder
	if err := runGoroutines(&out, strings.Split(s.dead+","+s.good, ","), strings.Split("AAPL,SLOW,ZZZ", ","),
		s.status, "exchange.test", s.hosts, s.cache, time.Second, 3, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	wantBoard(t, s, out.String())
}

// With -log the run's debug log is zap JSON that goasync-trace draws: the
// fan-out's pipelines, each symbol's retry with its attempts, the failed
// and timed-out ones marked.
func TestFanoutTraceRendersAsTimeline(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build goasync-trace")
	}
	s := newSetup(t)
	logPath := filepath.Join(t.TempDir(), "fanout.json")
	if _, errOut, err := extest.Run(t, run, "", s.args("-log", logPath)...); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	bin := filepath.Join(t.TempDir(), "goasync-trace")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/goasync/goasync/cmd/goasync-trace").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	html := filepath.Join(t.TempDir(), "fanout.html")
	out, err := exec.Command(bin, "-html", html, logPath).CombinedOutput()
	if err != nil {
		t.Fatalf("goasync-trace: %v\n%s", err, out)
	}
	text := string(out)
	t.Logf("timeline:\n%s", text)
	for _, re := range []string{
		`(?m)^trace fanout  \d+ steps`,
		`(?m)^[ !] quote SLOW +\|`,
		`(?m)attempt 2/3 .*future: timeout`,
		`(?m)attempt 1/3 .*failed: .*refused`,
		`(?m)all3 \(joins 3\)`,
		`(?m)GET http://127\.0\.0\.1:\d+/status`,
		`(?m)lookup exchange\.test .* ok`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("timeline lacks %s", re)
		}
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("no HTML timeline: %v", err)
	}
}
