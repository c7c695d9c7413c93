package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"
)

// echoListener serves a goroutine-per-connection echo on loopback.
func echoListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func TestEchoCountsRepliesAndServerCPU(t *testing.T) {
	addr := echoListener(t)
	for _, depth := range []string{"1", "16"} {
		res, err := runEcho([]string{"-addr", addr, "-conns", "8", "-depth", depth, "-dur", "200ms",
			"-warmup", "50ms", "-pid", strconv.Itoa(os.Getpid())})
		if err != nil {
			t.Fatal(err)
		}
		r := res.(EchoResult)
		if r.Messages == 0 || r.MsgPerSec <= 0 || r.P99us < r.P50us {
			t.Errorf("depth %s: %+v", depth, r)
		}
	}
}

func TestIdleOpensAndMeasures(t *testing.T) {
	addr := echoListener(t)
	res, err := runIdle([]string{"-addr", addr, "-n", "100", "-mode", "echo", "-pid", strconv.Itoa(os.Getpid()), "-settle", "1ms"})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(IdleResult); r.Conns != 100 || r.RSS <= 0 {
		t.Errorf("%+v", r)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }))
	defer srv.Close()
	if _, err := runIdle([]string{"-addr", srv.Listener.Addr().String(), "-n", "20", "-mode", "http", "-settle", "1ms"}); err != nil {
		t.Fatal(err)
	}
	if _, err := runIdle([]string{"-addr", "127.0.0.1:1", "-n", "1", "-limit", "5s"}); err == nil {
		t.Error("no error for a refused connection")
	}
}

func TestHTTPClients(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }))
	defer srv.Close()
	for _, c := range []string{"nethttp", "fasthttp"} {
		res, err := runHTTPClient([]string{"-url", srv.URL + "/", "-client", c, "-inflight", "8", "-dur", "200ms", "-warmup", "50ms"})
		if err != nil {
			t.Fatal(c, err)
		}
		if r := res.(ClientResult); r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %+v", c, r)
		}
	}
}

func TestDelayHoldsThenDrains(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 512)
				if _, err := c.Read(buf); err != nil {
					return
				}
				time.Sleep(300 * time.Millisecond)
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			}()
		}
	}()
	res, err := runDelay([]string{"-addr", ln.Addr().String(), "-rate", "200", "-open", "500ms", "-delay", "300ms",
		"-pid", strconv.Itoa(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	r := res.(DelayResult)
	if r.Completed != r.Opened || r.Opened < 90 || r.Failed != 0 || r.PeakHeld < 30 {
		t.Errorf("%+v", r)
	}
}
