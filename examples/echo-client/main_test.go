package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// goEcho is an independent echo-line server written with Go's net: it
// echoes lines, closes after "quit", and on the client's half-close sends
// the rest and closes, as the tutorial's ex8 server does.
func goEcho(t *testing.T) string {
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
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if line != "" {
						if _, werr := io.WriteString(c, line); werr != nil {
							return
						}
					}
					if err != nil || strings.TrimRight(line, "\r\n") == "quit" {
						return
					}
				}
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func seq(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.String()
}

func TestEchoClientSeq(t *testing.T) {
	port := goEcho(t)
	in := seq(2000)
	out, stderr, err := extest.Run(t, run, in, "-host", "127.0.0.1", "-port", port)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	if out != in {
		t.Fatalf("got %d bytes of echoes, want %d", len(out), len(in))
	}
	for _, want := range []string{"Connected to server 127.0.0.1:" + port, "End of input: shutting down the write side", "Server closed the connection."} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// A small window still gets everything through, a window at a time.
func TestEchoClientSmallWindow(t *testing.T) {
	port := goEcho(t)
	in := seq(3000) + "last line without newline"
	out, stderr, err := extest.Run(t, run, in, "-host", "127.0.0.1", "-port", port, "-window", "64")
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	if out != in+"\n" {
		t.Fatalf("got %d bytes of echoes, want %d", len(out), len(in)+1)
	}
}

// "quit" makes the server close; the client stops there, successfully.
func TestEchoClientQuit(t *testing.T) {
	port := goEcho(t)
	out, stderr, err := extest.Run(t, run, "hello\nquit\nnever sent back\n", "-host", "127.0.0.1", "-port", port)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	if out != "hello\nquit\n" {
		t.Fatalf("output %q", out)
	}
}

func TestEchoClientRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	_, _, err := extest.Run(t, run, "x\n", "-host", "127.0.0.1", "-port", port)
	if err == nil || !strings.Contains(err.Error(), "connection refused to 127.0.0.1:"+port) {
		t.Fatalf("error = %v", err)
	}
}

// The command, `seq 1 100000 | echo-client`, against a Go server:
// all 100000 lines come back, in order, within the bound of extest.Run.
func TestEchoClientSeq100000(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	port := goEcho(t)
	in := seq(100000)
	start := time.Now()
	out, stderr, err := extest.Run(t, run, in, "-host", "127.0.0.1", "-port", port)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	if out != in {
		n := bytes.Count([]byte(out), []byte("\n"))
		t.Fatalf("got %d lines back, want 100000", n)
	}
	t.Logf("100000 lines echoed in %v", time.Since(start))
}

// The pipeline with real processes: `seq 1 100000 | echo-client`
// against the echo-server example, both built as `go run` would; then a
// server with a small -max-buffer and a client whose -window fits in it.
func TestProcessPipelineSeq100000(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	server, client := extest.Build(t, "echo-server"), extest.Build(t, "echo-client")
	pipe := func(port, in string, args ...string) {
		t.Helper()
		cmd := exec.Command(client, append([]string{"-port", port}, args...)...) // host: the default, localhost
		cmd.Stdin = strings.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		timer := time.AfterFunc(extest.Wait, func() { cmd.Process.Kill() })
		defer timer.Stop()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("echo-client %v: %v\nstderr: %s", args, err, stderr.String())
		}
		if string(out) != in {
			t.Fatalf("echo-client %v: got %d lines back, want %d", args,
				bytes.Count(out, []byte("\n")), strings.Count(in, "\n"))
		}
	}
	port, _ := extest.StartProcess(t, server)
	pipe(port, seq(100000))

	small, _ := extest.StartProcess(t, server, "-max-buffer", "4096")
	pipe(small, seq(20000), "-window", "2048")
}
