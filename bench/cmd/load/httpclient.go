package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// ClientResult is what "load httpclient" prints (and what cmd/ours prints
// for our client).
type ClientResult struct {
	Client    string  `json:"client"`
	InFlight  int     `json:"inflight"`
	Seconds   float64 `json:"seconds"`
	Requests  int64   `json:"requests"`
	ReqPerSec float64 `json:"req_per_sec"`
	Errors    int64   `json:"errors"`
}

// runHTTPClient measures an HTTP client library: inflight goroutines each
// loop GET url over keep-alive connections for dur after warmup.
func runHTTPClient(args []string) (any, error) {
	fs := flag.NewFlagSet("httpclient", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:9000/", "server URL")
	client := fs.String("client", "nethttp", "nethttp or fasthttp")
	inflight := fs.Int("inflight", 64, "requests in flight")
	dur := fs.Duration("dur", 2*time.Second, "measured time")
	warm := fs.Duration("warmup", 300*time.Millisecond, "unmeasured time before")
	_ = fs.Parse(args)
	if *inflight < 1 || *inflight > 4096 || *dur <= 0 || *dur > 10*time.Minute {
		return nil, fmt.Errorf("bad flags")
	}
	var do func() error
	switch *client {
	case "nethttp":
		tr := &http.Transport{MaxIdleConns: *inflight, MaxIdleConnsPerHost: *inflight, MaxConnsPerHost: *inflight,
			DisableCompression: true}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		defer tr.CloseIdleConnections()
		do = func() error {
			resp, err := c.Get(*url)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
	case "fasthttp":
		c := &fasthttp.Client{MaxConnsPerHost: *inflight, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
		defer c.CloseIdleConnections()
		do = func() error {
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(*url)
			if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
				return err
			}
			if resp.StatusCode() != 200 {
				return fmt.Errorf("status %d", resp.StatusCode())
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("unknown -client %q", *client)
	}
	return driveClient(*client, *inflight, *warm, *dur, do)
}

// driveClient runs do from inflight goroutines and counts completions that
// end inside the measured window.
func driveClient(name string, inflight int, warm, dur time.Duration, do func() error) (ClientResult, error) {
	start := time.Now()
	mstart := start.Add(warm)
	end := mstart.Add(dur)
	var reqs, errs atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := do()
				now := time.Now()
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, &err)
					if errs.Load() > 1000 {
						return
					}
				} else if now.After(mstart) && now.Before(end) {
					reqs.Add(1)
				}
				if now.After(end) {
					return
				}
			}
		}()
	}
	wg.Wait()
	r := ClientResult{Client: name, InFlight: inflight, Seconds: dur.Seconds(), Requests: reqs.Load(), Errors: errs.Load()}
	r.ReqPerSec = float64(r.Requests) / r.Seconds
	if r.Requests == 0 {
		if e := firstErr.Load(); e != nil {
			return r, fmt.Errorf("no request succeeded: %v", *e)
		}
	}
	return r, nil
}
