package main

import (
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/goasync/goasync/bench/internal/proc"
)

var hello = []byte("hello")

func netHTTP(addr string) error {
	ln, err := listen(addr, false)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(hello)
	})
	proc.Ready()
	return (&http.Server{Handler: mux}).Serve(ln)
}

func fastHTTP(addr string) error {
	ln, err := listen(addr, false)
	if err != nil {
		return err
	}
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain; charset=utf-8")
			_, _ = ctx.Write(hello)
		},
		Concurrency: 256 * 1024,
	}
	proc.Ready()
	return s.Serve(ln)
}

// copyProxy relays each accepted connection to backend with two goroutines
// running io.Copy: the plain Go proxy the tcp proxy is measured against.
func copyProxy(addr, backend string) error {
	ln, err := listen(addr, false)
	if err != nil {
		return err
	}
	proc.Ready()
	return acceptLoop(ln, func(in net.Conn) {
		out, err := net.Dial("tcp", backend)
		if err != nil {
			in.Close()
			return
		}
		var wg sync.WaitGroup
		wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer wg.Done()
			_, _ = io.Copy(dst, src)
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}
		go pipe(out, in)
		go pipe(in, out)
		wg.Wait()
		in.Close()
		out.Close()
	})
}
