package http

import (
	"context"
	nethttp "net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// TestChainsSendFromContinuations keeps 16 chains of requests going, each
// sending its next request from the continuation of the previous one (on
// the connection's loop, where sends wait in the loop's send queue until
// the events being handled are done), half of them resending one request
// with Do and half with Get: every response arrives, with the right body,
// over no more connections than chains.
func TestChainsSendFromContinuations(t *testing.T) {
	var served atomic.Int64
	s := startServer(t, Func(func(r *nethttp.Request) *Response {
		served.Add(1)
		return Text(200, "hello "+r.URL.Query().Get("c"))
	}))
	c := &Client{MaxIdlePerHost: 16}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	const chains, each = 16, 50
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := range chains {
		want := "hello " + string(rune('a'+i))
		url := baseURL(s) + "/?c=" + string(rune('a'+i))
		req, err := nethttp.NewRequest(nethttp.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		left := each
		var next func()
		next = func() {
			send := func() *future.Future[*nethttp.Response] { return c.Do(ctx, req) }
			if i%2 == 1 {
				send = func() *future.Future[*nethttp.Response] { return c.Get(ctx, url) }
			}
			send().OnComplete(func(r *nethttp.Response, err error) {
				if err != nil {
					bad.Add(1)
					wg.Done()
					return
				}
				ReadAll(r).OnComplete(func(b []byte, err error) {
					if err != nil || string(b) != want {
						bad.Add(1)
					}
					if left--; left == 0 {
						wg.Done()
						return
					}
					next()
				})
			})
		}
		wg.Add(1)
		next()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("chains still running after 20 s")
	}
	if bad.Load() != 0 {
		t.Fatalf("%d failed or wrong responses", bad.Load())
	}
	if got := served.Load(); got != chains*each {
		t.Fatalf("server saw %d requests, want %d", got, chains*each)
	}
	if n := c.IdleConnections(s.Addr().String()); n > chains {
		t.Fatalf("%d idle connections for %d chains", n, chains)
	}
}
