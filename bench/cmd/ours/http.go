package main

import (
	nethttp "net/http"

	ghttp "github.com/goasync/goasync/http"
	"github.com/goasync/goasync/tcp"
)

func init() {
	register("http", kind{run: httpServer})
}

// httpServer answers every request with "hello" (the same handler as the
// peers: text/plain, 5 bytes).
func httpServer(o *options) error {
	h := ghttp.Func(func(*nethttp.Request) *ghttp.Response { return ghttp.Text(200, "hello") })
	_, err := ghttp.Listen(o.addr, h, ghttp.WithTCPOptions(tcp.WithMulticore(true), tcp.WithReusePort(o.reuseport)))
	return err
}
