package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func dial(t *testing.T, addr string) net.Conn {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func TestEchoServer(t *testing.T) {
	o := &options{addr: freeAddr(t)}
	if err := echoServer(o); err != nil {
		t.Fatal(err)
	}
	c := dial(t, o.addr)
	defer c.Close()
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4)
	for range 100 {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo: %q, %v", got, err)
		}
	}
}

// TestProxyRelaysBothWaysThroughHalfClose sends 2 MiB through the proxy to
// a Go net echo backend, half-closes, and expects every byte back before
// EOF. (2 MiB stays under the paused-socket buffer bound of the tcp
// package, 4 MiB; see the final report about bulk transfers.)
func TestProxyRelaysBothWaysThroughHalfClose(t *testing.T) {
	be, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	go func() {
		for {
			c, err := be.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
				_ = c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	o := &options{addr: freeAddr(t), backend: be.Addr().String()}
	if err := proxyServer(o); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		data := make([]byte, 2<<20)
		_, _ = rand.Read(data)
		c := dial(t, o.addr)
		go func() {
			_, _ = c.Write(data)
			_ = c.(*net.TCPConn).CloseWrite()
		}()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatalf("run %d: read: %v after %d bytes", i, err, len(got))
		}
		if sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("run %d: got %d bytes, different from the %d sent", i, len(got), len(data))
		}
	}
}

func TestDelayServerRepliesAfterTheDelay(t *testing.T) {
	o := &options{addr: freeAddr(t), delay: 200 * time.Millisecond}
	if err := delayServer(o); err != nil {
		t.Fatal(err)
	}
	c := dial(t, o.addr)
	defer c.Close()
	t0 := time.Now()
	if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 150*time.Millisecond {
		t.Errorf("replied after %v, before the 200ms delay", d)
	}
	if !bytes.Equal(got, delayResponse) {
		t.Errorf("reply %q", got)
	}
}

func TestHTTPServerAnswersNetHTTP(t *testing.T) {
	o := &options{addr: freeAddr(t)}
	if err := httpServer(o); err != nil {
		t.Fatal(err)
	}
	cl := &http.Client{Timeout: 10 * time.Second}
	for range 3 {
		resp, err := cl.Get("http://" + o.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello" {
			t.Fatalf("%d %q", resp.StatusCode, b)
		}
	}
}

func TestHTTPClientDriver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }))
	defer srv.Close()
	o := &options{url: srv.URL + "/", inflight: 8, dur: 200 * time.Millisecond, warm: 50 * time.Millisecond}
	if err := httpClient(o); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OURS_CLIENT_NEWREQ", "1") // Get per request instead of a reused request
	if err := httpClient(o); err != nil {
		t.Fatal(err)
	}
	o.url = "http://" + freeAddr(t) + "/"
	if err := httpClient(o); err == nil {
		t.Error("no error when every request is refused")
	}
}
