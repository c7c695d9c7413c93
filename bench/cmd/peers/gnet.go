package main

import (
	"bytes"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/goasync/goasync/bench/internal/proc"
)

// gnetEchoServer echoes every byte back: the raw gnet peer of the echo
// benchmarks.
type gnetEchoServer struct {
	gnet.BuiltinEventEngine
}

func (s *gnetEchoServer) OnBoot(gnet.Engine) gnet.Action {
	proc.Ready()
	return gnet.None
}

func (s *gnetEchoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

func gnetEcho(addr string, reuseport bool) error {
	return gnet.Run(&gnetEchoServer{}, "tcp://"+addr,
		gnet.WithMulticore(true), gnet.WithReusePort(reuseport), gnet.WithTCPNoDelay(gnet.TCPNoDelay))
}

// gnetHTTPServer is a minimal HTTP/1.1 responder on raw gnet: it answers every
// complete request head (GET without a body) with a fixed "hello" response,
// in order, so pipelined requests work. It is a ceiling, not a real server.
type gnetHTTPServer struct {
	gnet.BuiltinEventEngine
	resp atomic.Pointer[[]byte]
}

var crlf2 = []byte("\r\n\r\n")

func (s *gnetHTTPServer) build() {
	b := []byte("HTTP/1.1 200 OK\r\nDate: " + time.Now().UTC().Format(http.TimeFormat) +
		"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello")
	s.resp.Store(&b)
}

func (s *gnetHTTPServer) OnBoot(gnet.Engine) gnet.Action {
	s.build()
	go func() {
		for range time.Tick(time.Second) {
			s.build()
		}
	}()
	proc.Ready()
	return gnet.None
}

func (s *gnetHTTPServer) OnTraffic(c gnet.Conn) gnet.Action {
	data, _ := c.Peek(-1)
	used, n := 0, 0
	for {
		i := bytes.Index(data[used:], crlf2)
		if i < 0 {
			break
		}
		used += i + 4
		n++
	}
	if used > 0 {
		_, _ = c.Discard(used)
	}
	if len(data)-used > 64<<10 {
		return gnet.Close // a head this large is not a benchmark request
	}
	if n == 0 {
		return gnet.None
	}
	resp := *s.resp.Load()
	if n == 1 {
		_, _ = c.Write(resp)
		return gnet.None
	}
	out := make([]byte, 0, n*len(resp))
	for range n {
		out = append(out, resp...)
	}
	_, _ = c.Write(out)
	return gnet.None
}

func gnetHTTP(addr string) error {
	return gnet.Run(&gnetHTTPServer{}, "tcp://"+addr, gnet.WithMulticore(true), gnet.WithTCPNoDelay(gnet.TCPNoDelay))
}
