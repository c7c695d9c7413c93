package main

import (
	"flag"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
)

// DelayResult is what "load delay" prints.
type DelayResult struct {
	Rate           int     `json:"rate"`
	Opened         int64   `json:"opened"`
	Completed      int64   `json:"completed"`
	Failed         int64   `json:"failed"`
	PeakHeld       int64   `json:"peak_held"`
	DrainRate      float64 `json:"drain_rate"`
	BaseRSS        int64   `json:"base_rss"`
	PeakRSS        int64   `json:"peak_rss"`
	BytesPerHeld   float64 `json:"bytes_per_held"`
	FirstReplySecs float64 `json:"first_reply_seconds"`
}

// runDelay is cl-async's benchmark: open connections at -rate per second for
// -open; each sends one HTTP request and waits for the server's reply (sent
// after the server's delay) and close. It reports the peak number of
// connections held at once, the rate at which replies then complete, and the
// server's memory per held connection.
func runDelay(args []string) (any, error) {
	fs := flag.NewFlagSet("delay", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:9000", "server address")
	rate := fs.Int("rate", 2800, "new connections per second")
	open := fs.Duration("open", 5*time.Second, "how long to open connections")
	delay := fs.Duration("delay", 5*time.Second, "the server's reply delay (for time bounds)")
	pid := fs.Int("pid", 0, "server pid")
	src := fs.String("src", "", "source IP")
	_ = fs.Parse(args)
	total := int64(float64(*rate) * open.Seconds())
	if *rate < 1 || total < 1 || float64(*rate)*min(*open, *delay).Seconds() > 19000 {
		return nil, fmt.Errorf("bad flags: at most 19000 connections may be held by one process")
	}
	var base int64
	if *pid > 0 {
		var err error
		if base, err = proc.RSS(*pid); err != nil {
			return nil, err
		}
	}
	d := sourceDialer(*src)
	var opened, completed, failed, held, peak atomic.Int64
	var firstDone, lastDone atomic.Int64 // unix nanos
	var peakRSS atomic.Int64
	stop := make(chan struct{})
	var samp sync.WaitGroup
	if *pid > 0 {
		samp.Add(1)
		go func() { // sample the server's RSS
			defer samp.Done()
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if r, err := proc.RSS(*pid); err == nil && r > peakRSS.Load() {
						peakRSS.Store(r)
					}
				}
			}
		}()
	}
	var wg sync.WaitGroup
	deadline := time.Now().Add(*open + *delay + 15*time.Second)
	one := func() {
		defer wg.Done()
		c, err := d.Dial("tcp", *addr)
		if err != nil {
			failed.Add(1)
			return
		}
		defer c.Close()
		lingerZero(c)
		opened.Add(1)
		h := held.Add(1)
		for {
			p := peak.Load()
			if h <= p || peak.CompareAndSwap(p, h) {
				break
			}
		}
		defer held.Add(-1)
		_ = c.SetDeadline(deadline)
		if _, err := c.Write(httpReq); err != nil {
			failed.Add(1)
			return
		}
		n, err := io.Copy(io.Discard, c)
		if err != nil || n == 0 {
			failed.Add(1)
			return
		}
		now := time.Now().UnixNano()
		firstDone.CompareAndSwap(0, now)
		lastDone.Store(now)
		completed.Add(1)
	}
	start := time.Now()
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	var launched int64
	for launched < total {
		<-t.C
		want := int64(time.Since(start).Seconds() * float64(*rate))
		if want > total {
			want = total
		}
		for ; launched < want; launched++ {
			wg.Add(1)
			go one()
		}
	}
	t.Stop()
	wg.Wait()
	close(stop)
	samp.Wait()
	r := DelayResult{Rate: *rate, Opened: opened.Load(), Completed: completed.Load(), Failed: failed.Load(),
		PeakHeld: peak.Load(), BaseRSS: base, PeakRSS: peakRSS.Load()}
	if f, l := firstDone.Load(), lastDone.Load(); f > 0 && l > f {
		r.DrainRate = float64(r.Completed-1) / (float64(l-f) / 1e9)
		r.FirstReplySecs = float64(f-start.UnixNano()) / 1e9
	}
	if r.PeakHeld > 0 && r.PeakRSS > 0 {
		r.BytesPerHeld = float64(r.PeakRSS-base) / float64(r.PeakHeld)
	}
	return r, nil
}
