// Command benchserver serves the "hello" handler used by http/bench/wrk.sh
// with either this package's server or net/http's, so both can be measured
// by the same load generator on the same machine.
//
//	benchserver -impl ours -addr 127.0.0.1:8080
//	benchserver -impl nethttp -addr 127.0.0.1:8081
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	nethttp "net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	ahttp "github.com/goasync/goasync/http"
	"github.com/goasync/goasync/tcp"
)

func main() {
	impl := flag.String("impl", "ours", "ours or nethttp")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	loops := flag.Int("loops", 1, "event loops (ours)")
	reuse := flag.Bool("reuse", false, "ahttp.WithRequestReuse (ours; off by default)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile (every allocation sampled) to this file on exit")
	flag.Parse()
	if *memprofile != "" {
		runtime.MemProfileRate = 1
		defer func() {
			f, err := os.Create(*memprofile)
			if err != nil {
				log.Fatal(err)
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				log.Fatal(err)
			}
		}()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	switch *impl {
	case "ours":
		// The "hello" handler through the Router, as users write it.
		h := ahttp.NewRouter()
		h.Handle("GET /hello", ahttp.Func(func(r *nethttp.Request) *ahttp.Response { return ahttp.Text(200, "hello") }))
		h.Handle("GET /{$}", ahttp.Func(func(r *nethttp.Request) *ahttp.Response { return ahttp.Text(200, "hello") }))
		opts := []ahttp.ServerOption{ahttp.WithTCPOptions(tcp.WithLoops(*loops))}
		if *reuse {
			opts = append(opts, ahttp.WithRequestReuse())
		}
		s, err := ahttp.Listen(*addr, h, opts...)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listening", s.Addr())
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	case "nethttp":
		srv := &nethttp.Server{Addr: *addr, Handler: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "hello")
		})}
		go func() {
			<-stop
			_ = srv.Close()
		}()
		fmt.Println("listening", *addr)
		if err := srv.ListenAndServe(); err != nethttp.ErrServerClosed {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown -impl %q", *impl)
	}
}
