package tcp

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/tlsrec"
	"github.com/goasync/goasync/internal/tlstest"
)

// 1,000 Go crypto/tls clients at once against one TLS echo server.
func TestTLSThousandConcurrent(t *testing.T) {
	n := 1000
	if v := os.Getenv("TLS_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	p := tlstest.Get(t)
	// The handshake timeout is generous: under the race detector on a
	// busy machine, 1,000 handshakes at once take seconds.
	srv := tlsListen(t, tlstest.ServerConfig(p.Localhost, 0, 0), Handler{
		OnData: func(s *Socket, data []byte) { s.Write(data) },
	}, WithHandshakeTimeout(2*time.Minute))
	ccfg := p.ClientConfig("localhost", 0, 0)
	warm, err := tls.Dial("tcp", srv.Addr().String(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	tlsWaitFor(t, func() bool { return srv.Count() == 0 })
	fds := openFDs()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	open := make(chan struct{}, n)
	release := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := tls.Dialer{Config: ccfg}
			c, err := d.DialContext(ctx, "tcp", srv.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(120 * time.Second))
			msg := bytes.Repeat([]byte{byte(i)}, 1000+i)
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				errs <- err
				return
			}
			open <- struct{}{}
			<-release // all are open at once
		}()
	}
	for i := range n {
		select {
		case <-open:
		case err := <-errs:
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("timed out with %d of %d connections open (server counts %d)", i, n, srv.Count())
		}
	}
	if c := srv.Count(); c != n {
		t.Errorf("server counts %d connections, want %d", c, n)
	}
	close(release)
	wg.Wait()
	tlsWaitFor(t, func() bool { return srv.Count() == 0 })
	if got := openFDs(); got > fds+5 {
		t.Errorf("%d descriptors open, %d before", got, fds)
	}
}

// 5,000 connections that send half a ClientHello and stop: the server
// keeps serving others, holds no goroutine for them, and its memory stays
// bounded; the handshake timeout ends them.
func TestTLSUnfinishedHandshakes(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	p := tlstest.Get(t)
	hello := clientHelloBytes(t)
	srv := tlsListen(t, tlstest.ServerConfig(p.Localhost, 0, 0), Handler{
		OnData: func(s *Socket, data []byte) { s.Write(data) },
	}, WithHandshakeTimeout(30*time.Second))

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.Write(hello[:len(hello)/2])
	}
	tlsWaitFor(t, func() bool { return srv.Count() == n })

	// Another client is served at once.
	start := time.Now()
	c, err := tls.Dial("tcp", srv.Addr().String(), p.ClientConfig("localhost", 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("%q %v", buf, err)
	}
	c.Close()
	served := time.Since(start)

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perConn := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(n)
	extra := runtime.NumGoroutine() - goroutines
	t.Logf("%d unfinished handshakes: %d goroutines more, %d bytes of heap each (both ends); another client served in %v",
		n, extra, perConn, served)
	if extra > 20 {
		t.Errorf("%d goroutines for unfinished handshakes", extra)
	}
	if perConn > 64<<10 {
		t.Errorf("%d bytes per unfinished handshake", perConn)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	tlsWaitFor(t, func() bool { return srv.Count() == 0 })
}

// clientHelloBytes is a Go client's first flight.
func clientHelloBytes(t *testing.T) []byte {
	t.Helper()
	e := tlsrec.Client(&tls.Config{ServerName: "localhost"}, tlsrec.Options{})
	defer e.Close()
	e.Handshake(context.Background())
	tlsWaitFor(t, func() bool { return e.Pending() > 0 })
	return e.Output(nil)
}

func tlsWaitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
