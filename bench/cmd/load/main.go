// Command load is the benchmark suite's load generator. Every mode is bounded
// in time and in count, talks to loopback only, and prints one JSON object on
// standard output.
//
//	load echo       -addr A -conns 50 -size 64 -depth 1 -dur 2s [-pid P]
//	load idle       -addr A -n 15000 -mode echo|http -pid P
//	load httpclient -url U -client nethttp|fasthttp -inflight 64 -dur 2s
//	load delay      -addr A -rate 3000 -open 5s -pid P
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: load echo|idle|httpclient|delay [flags]")
	}
	if _, err := proc.RaiseNoFile(); err != nil {
		log.Printf("load: raise RLIMIT_NOFILE: %v", err)
	}
	var (
		res any
		err error
	)
	args := os.Args[2:]
	switch os.Args[1] {
	case "echo":
		res, err = runEcho(args)
	case "idle":
		res, err = runIdle(args)
	case "httpclient":
		res, err = runHTTPClient(args)
	case "delay":
		res, err = runDelay(args)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		log.Fatalf("load %s: %v", os.Args[1], err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		log.Fatal(err)
	}
}

// percentile returns the p-th percentile (0..100) of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

// sourceDialer returns a dialer bound to the given source IP ("" = any) whose
// sockets close with SO_LINGER 0 (no TIME_WAIT: runs follow each other quickly
// and would otherwise exhaust loopback's ephemeral ports).
func sourceDialer(src string) *net.Dialer {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	return d
}

// lingerZero makes Close of c send RST instead of entering TIME_WAIT.
func lingerZero(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cpuOf returns the CPU time of pid, or 0 when pid is 0 or unreadable.
func cpuOf(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	d, err := proc.CPU(pid)
	if err != nil {
		return 0
	}
	return d
}

// errno unwraps a syscall error number, for messages.
func errno(err error) string {
	if e, ok := err.(syscall.Errno); ok {
		return e.Error()
	}
	return fmt.Sprint(err)
}
