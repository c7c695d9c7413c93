package main

import (
	"crypto/tls"
	"fmt"
	"net"
	nethttp "net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/http"
	"github.com/goasync/goasync/tcp"
)

// runServer is the child process: a TLS echo server. With
// TLSBENCH_CPUPROFILE=file it profiles its first 3 seconds.
func runServer(kind, addr, certFile, keyFile string) error {
	if path := os.Getenv("TLSBENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path + "." + kind)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		time.AfterFunc(3*time.Second, func() { pprof.StopCPUProfile(); f.Close() })
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	switch kind {
	case "ours":
		srv, err := tcp.Listen(addr, tcp.Handler{
			BorrowData: true, // Write copies what the kernel does not take
			OnData:     func(s *tcp.Socket, data []byte) { s.Write(data) },
		}, tcp.WithTLS(cfg), tcp.WithMulticore(true))
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stdout, "listening", srv.Addr())
		select {}
	case "go":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stdout, "listening", ln.Addr())
		for {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			go func() {
				tc := tls.Server(c, cfg)
				defer tc.Close()
				buf := make([]byte, 4096)
				for {
					n, err := tc.Read(buf)
					if n > 0 {
						if _, werr := tc.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	case "ours-http":
		h := http.HandlerFunc(func(*nethttp.Request) *future.Future[*http.Response] {
			return http.Reply(http.Text(200, "hello"))
		})
		srv, err := http.Listen(addr, h, http.WithTLS(cfg))
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stdout, "listening", srv.Addr())
		select {}
	case "go-http":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stdout, "listening", ln.Addr())
		hs := &nethttp.Server{Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("hello"))
		}), TLSConfig: cfg}
		return hs.ServeTLS(ln, "", "")
	}
	return fmt.Errorf("unknown server %q", kind)
}
