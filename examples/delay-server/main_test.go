package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// Twenty clients are all held for the delay at once (the statistics show
// them as incoming), then each gets the canned answer.
func TestConnectionsPileUpThenFinish(t *testing.T) {
	const n, delay = 20, 2500 * time.Millisecond
	srv := extest.StartServer(t, run, "-delay", delay.String(), "-stats", "250ms")
	var wg sync.WaitGroup
	answers := make(chan string, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", "127.0.0.1:"+srv.Port)
			if err != nil {
				answers <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(extest.Wait))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			b, err := io.ReadAll(c)
			if err != nil {
				answers <- err.Error()
				return
			}
			answers <- string(b)
		}()
	}
	srv.Out.WaitFor(t, `incoming: 20\noutgoing: 0\nfinished: 0\n`)
	wg.Wait()
	if d := time.Since(start); d < delay {
		t.Fatalf("answers came after %v, before the %v delay", d, delay)
	}
	close(answers)
	for a := range answers {
		if a != string(response) {
			t.Fatalf("answer %q", a)
		}
	}
	srv.Out.WaitFor(t, `incoming: 0\noutgoing: 0\nfinished: 20\nrate: \d+\.\d{3} req/s\n`)
}

// Go's HTTP client, an independent peer, reads the answer as HTTP.
func TestHTTPClient(t *testing.T) {
	srv := extest.StartServer(t, run, "-delay", "100ms", "-stats", "0")
	start := time.Now()
	resp, err := http.Get("http://127.0.0.1:" + srv.Port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || string(body) != "omglolwtf" {
		t.Fatalf("%d %q %v", resp.StatusCode, body, err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("answered before the delay")
	}
	http.DefaultClient.CloseIdleConnections()
}

// A client that leaves before its answer is simply forgotten.
func TestClientLeavesEarly(t *testing.T) {
	srv := extest.StartServer(t, run, "-delay", "300ms", "-stats", "100ms")
	c, err := net.Dial("tcp", "127.0.0.1:"+srv.Port)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	srv.Out.WaitFor(t, `incoming: 1\n`)
	c.Close()
	// Wait for a statistics block printed after the 300ms delay has passed
	// (the server's timer then found the socket closed): nothing finished.
	left := time.Now()
	deadline := left.Add(extest.Wait)
	for {
		out := srv.Out.String()
		last := out[strings.LastIndex(out, "incoming:"):]
		if time.Since(left) > 500*time.Millisecond && strings.HasPrefix(last, "incoming: 0\n") {
			if !strings.HasPrefix(last, "incoming: 0\noutgoing: 0\nfinished: 0\n") {
				t.Fatalf("last statistics:\n%s", last)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed client is still counted:\n%s", last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
