package main

import (
	nethttp "net/http"

	ghttp "github.com/goasync/goasync/http"
	"github.com/goasync/goasync/tcp"
)

func init() {
	register("http", kind{run: httpServer})
}

// httpServer answers "hello" (the same reply as the peers: text/plain, 5
// bytes) through the Router, as users write it, at / and /hello.
func httpServer(o *options) error {
	hello := ghttp.Func(func(*nethttp.Request) *ghttp.Response { return ghttp.Text(200, "hello") })
	h := ghttp.NewRouter()
	h.Handle("GET /{$}", hello)
	h.Handle("GET /hello", hello)
	_, err := ghttp.Listen(o.addr, h, ghttp.WithTCPOptions(tcp.WithMulticore(true), tcp.WithReusePort(o.reuseport)))
	return err
}
