// Command ours runs goasync's side of the benchmark suite: the same servers
// as cmd/peers (and an HTTP client driver), written with the library. Each
// file registers the kinds it implements, so `ours -list` tells the
// orchestrator which exist.
//
//	ours -kind echo   -addr A [-reuseport]      tcp.Listen, a data handler echoing
//	ours -kind proxy  -addr A -backend B        inbound socket holding its outbound peer (SetData), with backpressure
//	ours -kind delay  -addr A -delay 5s         cl-async's delay server on timer futures
//
// Servers print "ready" once listening and run until SIGTERM or SIGINT.
// -cpuprofile and -memprofile write profiles when the process is stopped.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"syscall"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
)

// options are the command line, shared by every kind.
type options struct {
	addr, backend, url string
	reuseport          bool
	delay              time.Duration
	inflight           int
	dur, warm          time.Duration
}

// kind starts one server (it must return once listening) or runs one client
// to completion (printing its JSON result).
type kind struct {
	client bool
	run    func(o *options) error
}

var kinds = map[string]kind{}

func register(name string, k kind) { kinds[name] = k }

func main() {
	log.SetFlags(0)
	o := &options{}
	name := flag.String("kind", "", "what to run (see -list)")
	list := flag.Bool("list", false, "print the kinds this build implements")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:9000", "listen address")
	flag.StringVar(&o.backend, "backend", "", "backend address (proxy)")
	flag.StringVar(&o.url, "url", "", "server URL (httpclient)")
	flag.BoolVar(&o.reuseport, "reuseport", false, "SO_REUSEPORT (several processes on one port)")
	flag.DurationVar(&o.delay, "delay", 5*time.Second, "reply delay (delay server)")
	flag.IntVar(&o.inflight, "inflight", 64, "requests in flight (httpclient)")
	flag.DurationVar(&o.dur, "dur", 2*time.Second, "measured time (httpclient)")
	flag.DurationVar(&o.warm, "warmup", 300*time.Millisecond, "unmeasured time before (httpclient)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile here")
	memprof := flag.String("memprofile", "", "write a heap profile here when stopped")
	flag.Parse()
	if *list {
		var names []string
		for n := range kinds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Println(n)
		}
		return
	}
	k, ok := kinds[*name]
	if !ok {
		log.Fatalf("ours: unknown -kind %q (try -list)", *name)
	}
	if _, err := proc.RaiseNoFile(); err != nil {
		log.Printf("ours: raise RLIMIT_NOFILE: %v", err)
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	stopProfiles := func() {
		if *cpuprof != "" {
			pprof.StopCPUProfile()
		}
		if *memprof != "" {
			runtime.GC()
			if f, err := os.Create(*memprof); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}
	if k.client {
		err := k.run(o)
		stopProfiles()
		if err != nil {
			log.Fatalf("ours %s: %v", *name, err)
		}
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	if err := k.run(o); err != nil {
		log.Fatalf("ours %s: %v", *name, err)
	}
	proc.Ready()
	<-sig
	stopProfiles()
	os.Exit(0)
}
