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
//
// Each chain builds its *http.Request once and sends it again with Do
// (a request without a body may be resent once its round trip is over, as
// with net/http), the way the fasthttp driver reuses its Request and
// Response objects; its callbacks are method values made once. The
// environment variable OURS_CLIENT_NEWREQ=1 makes every request with Get
// instead (a fresh http.Request and URL parse per request).
func httpClient(o *options) error {
	if o.url == "" || o.inflight < 1 || o.inflight > 4096 || o.dur <= 0 || o.dur > 10*time.Minute {
		return fmt.Errorf("bad flags")
	}
	c := &ghttp.Client{MaxIdlePerHost: o.inflight, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	d := &driver{c: c, ctx: context.Background(), url: o.url, newReq: os.Getenv("OURS_CLIENT_NEWREQ") == "1"}
	start := time.Now()
	d.mstart, d.end = start.Add(o.warm), start.Add(o.warm+o.dur)
	d.wg.Add(o.inflight)
	for range o.inflight {
		ch := &chain{d: d}
		req, err := nethttp.NewRequestWithContext(d.ctx, nethttp.MethodGet, o.url, nil)
		if err != nil {
			return err
		}
		ch.req = req
		ch.onResp, ch.onBody = ch.gotResponse, ch.gotBody
		ch.step()
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.warm + o.dur + 20*time.Second):
		return fmt.Errorf("requests still pending 20s after the end")
	}
	r := clientResult{Client: "goasync", InFlight: o.inflight, Seconds: o.dur.Seconds(), Requests: d.reqs.Load(), Errors: d.errs.Load()}
	r.ReqPerSec = float64(r.Requests) / r.Seconds
	if p := d.firstErr.Load(); p != nil {
		r.FirstErr = *p
	}
	if r.Requests == 0 {
		return fmt.Errorf("no request succeeded: %s", r.FirstErr)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// driver is what the chains share.
type driver struct {
	c           *ghttp.Client
	ctx         context.Context
	url         string
	newReq      bool
	mstart, end time.Time
	reqs, errs  atomic.Int64
	firstErr    atomic.Pointer[string]
	wg          sync.WaitGroup
}

// chain is one request in flight, sent again as soon as its body is in.
type chain struct {
	d      *driver
	req    *nethttp.Request
	onResp func(*nethttp.Response, error)
	onBody func([]byte, error)
}

func (ch *chain) step() {
	if ch.d.newReq {
		ch.d.c.Get(ch.d.ctx, ch.d.url).OnComplete(ch.onResp)
		return
	}
	ch.d.c.Do(ch.d.ctx, ch.req).OnComplete(ch.onResp)
}

func (ch *chain) gotResponse(r *nethttp.Response, err error) {
	if err != nil {
		ch.gotBody(nil, err)
		return
	}
	if r.StatusCode != nethttp.StatusOK {
		r.Body.Close()
		ch.gotBody(nil, fmt.Errorf("status %d", r.StatusCode))
		return
	}
	ghttp.ReadAll(r).OnComplete(ch.onBody)
}

func (ch *chain) gotBody(_ []byte, err error) {
	d := ch.d
	now := time.Now()
	if err != nil {
		e := err.Error()
		d.firstErr.CompareAndSwap(nil, &e)
		if d.errs.Add(1) > 1000 {
			d.wg.Done()
			return
		}
	} else if now.After(d.mstart) && now.Before(d.end) {
		d.reqs.Add(1)
	}
	if now.After(d.end) {
		d.wg.Done()
		return
	}
	ch.step()
}
