package main

import (
	"context"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync/future"
	ghttp "github.com/goasync/goasync/http"
)

func init() {
	register("httpclient", kind{client: true, run: httpClient})
}

// clientResult matches what `load httpclient` prints.
type clientResult struct {
	Client    string  `json:"client"`
	InFlight  int     `json:"inflight"`
	Seconds   float64 `json:"seconds"`
	Requests  int64   `json:"requests"`
	ReqPerSec float64 `json:"req_per_sec"`
	Errors    int64   `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
}

// httpClient keeps o.inflight GET requests in flight with goasync's client:
// o.inflight chains, each starting its next request from the continuation
// of the previous one (on the event loop, no goroutine per request), and
// counts the responses completed inside the measured window.
func httpClient(o *options) error {
	if o.url == "" || o.inflight < 1 || o.inflight > 4096 || o.dur <= 0 || o.dur > 10*time.Minute {
		return fmt.Errorf("bad flags")
	}
	c := &ghttp.Client{MaxIdlePerHost: o.inflight, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	start := time.Now()
	mstart, end := start.Add(o.warm), start.Add(o.warm+o.dur)
	var reqs, errs atomic.Int64
	var firstErr atomic.Pointer[string]
	var wg sync.WaitGroup
	var step func()
	step = func() {
		body := future.Compose(c.Get(ctx, o.url), func(r *nethttp.Response) *future.Future[[]byte] {
			if r.StatusCode != nethttp.StatusOK {
				r.Body.Close()
				return future.Rejected[[]byte](fmt.Errorf("status %d", r.StatusCode))
			}
			return ghttp.ReadAll(r)
		})
		body.OnComplete(func(_ []byte, err error) {
			now := time.Now()
			if err != nil {
				e := err.Error()
				firstErr.CompareAndSwap(nil, &e)
				if errs.Add(1) > 1000 {
					wg.Done()
					return
				}
			} else if now.After(mstart) && now.Before(end) {
				reqs.Add(1)
			}
			if now.After(end) {
				wg.Done()
				return
			}
			step()
		})
	}
	wg.Add(o.inflight)
	for range o.inflight {
		step()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.warm + o.dur + 20*time.Second):
		return fmt.Errorf("requests still pending 20s after the end")
	}
	r := clientResult{Client: "goasync", InFlight: o.inflight, Seconds: o.dur.Seconds(), Requests: reqs.Load(), Errors: errs.Load()}
	r.ReqPerSec = float64(r.Requests) / r.Seconds
	if p := firstErr.Load(); p != nil {
		r.FirstErr = *p
	}
	if r.Requests == 0 {
		return fmt.Errorf("no request succeeded: %s", r.FirstErr)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
