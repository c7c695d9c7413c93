package main

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// goDaytime is an independent daytime server written with Go's net.
func goDaytime(t *testing.T, line string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, line)
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func TestDaytimeClient(t *testing.T) {
	port := goDaytime(t, "Sat, 21 Nov 2026 21:00:00 UTC\r\n")
	out, stderr, err := extest.Run(t, run, "", "-host", "127.0.0.1", "-port", port)
	if err != nil {
		t.Fatalf("run: %v; stderr: %s", err, stderr)
	}
	want := regexp.MustCompile(`^Connected to server 127\.0\.0\.1:` + port +
		` via my local connection at 127\.0\.0\.1:\d+!\nSat, 21 Nov 2026 21:00:00 UTC\n$`)
	if !want.MatchString(out) {
		t.Fatalf("output:\n%s", out)
	}
}

// localhost is resolved through the hosts file, never a name server.
func TestDaytimeClientLocalhost(t *testing.T) {
	port := goDaytime(t, "now\n")
	out, stderr, err := extest.Run(t, run, "", "-port", port)
	if err != nil {
		t.Fatalf("run: %v; stderr: %s", err, stderr)
	}
	if !strings.HasSuffix(out, "!\nnow\n") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestDaytimeClientRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nothing listens there now
	_, _, err = extest.Run(t, run, "", "-host", "127.0.0.1", "-port", port)
	want := "connection refused to 127.0.0.1:" + port + ". Maybe the server isn't running?"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestDaytimeClientNoLine(t *testing.T) {
	port := goDaytime(t, "")
	_, _, err := extest.Run(t, run, "", "-host", "127.0.0.1", "-port", port)
	if err == nil || !strings.Contains(err.Error(), "closed the connection without sending the time") {
		t.Fatalf("error = %v", err)
	}
}
