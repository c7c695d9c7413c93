// Command tlsbench compares goasync's TLS (crypto/tls driven on the event
// loop, internal/tlsrec) with Go's net + crypto/tls (one goroutine per
// connection), side by side in one run:
//
//	go run ./cmd/tlsbench                     # all scenarios, 3 rounds, 3 s each
//	go run ./cmd/tlsbench -only echo -dur 2s -rounds 2
//	go run ./cmd/tlsbench -idle 10000         # idle memory at 10,000 connections
//	go run ./cmd/tlsbench -baseline /tmp/old  # A/B: /tmp/old's ours server as "base" in the same rounds
//
// Scenarios (the load is Go crypto/tls clients in this process, the same
// for both servers; each server runs alone in a child process, pinned to
// CPU 0 with taskset when the machine has it, and its CPU time and RSS are
// read from /proc):
//
//	echo        request/response echo of 64 bytes over 50 connections:
//	            messages per second and per server CPU-second
//	handshake   full TLS 1.3 handshakes (no resumption) from 16 concurrent
//	            dialers: handshakes per second and per server CPU-second
//	idle        N handshaken idle connections: server RSS growth per
//	            connection
//	https       HTTPS keep-alive GETs from 64 concurrent net/http client
//	            goroutines: goasync's http server with WithTLS against
//	            net/http's server over TLS (the "go" rows)
//
// Rounds alternate the two servers and the medians are reported with the
// ratio ours/go.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	nethttp "net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
	"github.com/goasync/goasync/internal/tlstest"
)

func main() {
	serve := flag.String("serve", "", "run a TLS echo server: ours or go (used by the driver)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (with -serve)")
	certFile := flag.String("cert", "", "certificate (with -serve)")
	keyFile := flag.String("key", "", "key (with -serve)")
	only := flag.String("only", "echo,handshake,idle,https", "scenarios to run")
	dur := flag.Duration("dur", 3*time.Second, "measured time per scenario and round")
	rounds := flag.Int("rounds", 3, "rounds (servers alternate)")
	conns := flag.Int("conns", 50, "connections of the echo scenario")
	dialers := flag.Int("dialers", 16, "concurrent dialers of the handshake scenario")
	idle := flag.Int("idle", 10000, "connections of the idle scenario")
	baseline := flag.String("baseline", "", "a tlsbench binary built from another tree: its ours server runs as \"base\" in the same rounds (A/B of a change)")
	flag.Parse()
	if *serve != "" {
		if err := runServer(*serve, *addr, *certFile, *keyFile); err != nil {
			log.Fatalf("tlsbench -serve %s: %v", *serve, err)
		}
		return
	}
	if _, err := proc.RaiseNoFile(); err != nil {
		log.Printf("raise RLIMIT_NOFILE: %v", err)
	}
	b, err := newBench()
	if err != nil {
		log.Fatal(err)
	}
	b.baseline = *baseline
	defer os.RemoveAll(b.dir)
	for _, sc := range strings.Split(*only, ",") {
		var fn func(s *server) (result, error)
		switch sc {
		case "echo":
			fn = func(s *server) (result, error) { return b.echo(s, *conns, *dur) }
		case "handshake":
			fn = func(s *server) (result, error) { return b.handshakes(s, *dialers, *dur) }
		case "idle":
			fn = func(s *server) (result, error) { return b.idle(s, *idle) }
		case "https":
			fn = func(s *server) (result, error) { return b.https(s, 64, *dur) }
		default:
			log.Fatalf("unknown scenario %q", sc)
		}
		b.httpMode = sc == "https"
		if err := b.compare(sc, *rounds, fn); err != nil {
			log.Fatalf("%s: %v", sc, err)
		}
	}
}

// fatalTB lets tlstest report through log.
type fatalTB struct{}

func (fatalTB) Helper()           {}
func (fatalTB) Fatal(args ...any) { log.Fatal(args...) }

type bench struct {
	httpMode          bool // the servers are HTTPS servers
	dir               string
	certFile, keyFile string
	client            *tls.Config
	baseline          string // -baseline: the binary of the "base" server
}

func newBench() (*bench, error) {
	dir, err := os.MkdirTemp("", "tlsbench")
	if err != nil {
		return nil, err
	}
	p := tlstest.Get(fatalTB{})
	_, cert, key := p.Files(fatalTB{}, dir)
	cfg := p.ClientConfig("localhost", tls.VersionTLS13, tls.VersionTLS13)
	return &bench{dir: dir, certFile: cert, keyFile: key, client: cfg}, nil
}

// server is a running server child process.
type server struct {
	kind string
	cmd  *exec.Cmd
	addr string
}

func (b *bench) start(kind string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := []string{self, "-serve", kind, "-cert", b.certFile, "-key", b.keyFile}
	if kind == "base" { // the ours server of the baseline binary
		argv[0], argv[2] = b.baseline, "ours"
	}
	if b.httpMode {
		argv[2] += "-http"
	}
	if ts, err := exec.LookPath("taskset"); err == nil {
		argv = append([]string{ts, "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
			go io.Copy(io.Discard, out)
			return &server{kind: kind, cmd: cmd, addr: a}, nil
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, errors.New("server did not start")
}

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func (s *server) cpu() time.Duration {
	d, _ := proc.CPU(s.cmd.Process.Pid)
	return d
}

// result of one measurement.
type result struct {
	rate   float64 // per second
	perCPU float64 // per server CPU-second
	bytes  float64 // idle: bytes per connection
}

func (b *bench) compare(name string, rounds int, fn func(*server) (result, error)) error {
	res := map[string][]result{}
	for r := range rounds {
		// Each server takes each place in the round in turn (with two
		// servers they alternate), so that whatever favours a place (the
		// first after a pause, the last) does not favour one server.
		order := []string{"ours", "go"}
		if b.baseline != "" {
			order = []string{"ours", "go", "base"}
		}
		k := r % len(order)
		order = append(order[k:], order[:k]...)
		for _, kind := range order {
			s, err := b.start(kind)
			if err != nil {
				return err
			}
			x, err := fn(s)
			s.stop()
			if err != nil {
				return fmt.Errorf("%s: %w", kind, err)
			}
			res[kind] = append(res[kind], x)
		}
	}
	med := func(kind string, f func(result) float64) float64 {
		v := make([]float64, 0, len(res[kind]))
		for _, x := range res[kind] {
			v = append(v, f(x))
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	show := func(label string, f func(result) float64, lowerBetter bool) {
		o, g := med("ours", f), med("go", f)
		ratio := o / g
		note := "ours/go"
		fmt.Printf("%-10s %-28s ours %12.0f   go %12.0f   %s %.2fx", name, label, o, g, note, ratio)
		if lowerBetter {
			fmt.Printf(" (lower is better)")
		}
		fmt.Println()
		if b.baseline != "" {
			base := med("base", f)
			fmt.Printf("%-10s %-28s base %12.0f   ours/base %.2fx   base/go %.2fx\n", name, label, base, o/base, base/g)
		}
	}
	switch name {
	case "idle":
		show("bytes per idle connection", func(r result) float64 { return r.bytes }, true)
	case "echo":
		show("messages/s", func(r result) float64 { return r.rate }, false)
		show("messages per server CPU-s", func(r result) float64 { return r.perCPU }, false)
	case "https":
		show("requests/s", func(r result) float64 { return r.rate }, false)
		show("requests per server CPU-s", func(r result) float64 { return r.perCPU }, false)
	case "handshake":
		show("handshakes/s", func(r result) float64 { return r.rate }, false)
		show("handshakes per server CPU-s", func(r result) float64 { return r.perCPU }, false)
	}
	return nil
}

// echo: conns connections, each a loop of write 64 bytes, read them back.
func (b *bench) echo(s *server, conns int, dur time.Duration) (result, error) {
	cs := make([]*tls.Conn, conns)
	for i := range cs {
		c, err := tls.Dial("tcp", s.addr, b.client)
		if err != nil {
			return result{}, err
		}
		defer c.Close()
		cs[i] = c
	}
	msgs, bufs := make([][]byte, conns), make([][]byte, conns)
	for i := range cs {
		msgs[i], bufs[i] = make([]byte, 64), make([]byte, 64)
	}
	return runLoad(s, conns, 300*time.Millisecond, dur, func(w int) error {
		if _, err := cs[w].Write(msgs[w]); err != nil {
			return err
		}
		_, err := io.ReadFull(cs[w], bufs[w])
		return err
	})
}

// runLoad runs op in a loop on each of workers goroutines (op gets the
// worker's number), lets them warm up for warm, then counts the
// operations done in dur and the server's CPU time meanwhile. The first
// error of any worker is the result.
func runLoad(s *server, workers int, warm, dur time.Duration, op func(w int) error) (result, error) {
	var count atomic.Int64
	var measuring atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := op(w); err != nil {
					errc <- err
					return
				}
				if measuring.Load() {
					count.Add(1)
				}
			}
		}()
	}
	time.Sleep(warm)
	cpu0, n0, t0 := s.cpu(), count.Load(), time.Now()
	measuring.Store(true)
	time.Sleep(dur)
	n, el, cpu := count.Load()-n0, time.Since(t0), s.cpu()-cpu0
	close(stop)
	wg.Wait()
	select {
	case err := <-errc:
		return result{}, err
	default:
	}
	return result{rate: float64(n) / el.Seconds(), perCPU: float64(n) / cpu.Seconds()}, nil
}

// handshakes: dialers goroutines each dial, handshake (full TLS 1.3, no
// session cache), write one byte, read it back, close.
func (b *bench) handshakes(s *server, dialers int, dur time.Duration) (result, error) {
	var count atomic.Int64
	deadline := time.Now().Add(dur)
	cpu0, t0 := s.cpu(), time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, dialers)
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			one := []byte{1}
			for time.Now().Before(deadline) {
				c, err := tls.Dial("tcp", s.addr, b.client)
				if err != nil {
					errc <- err
					return
				}
				_, err = c.Write(one)
				if err == nil {
					_, err = io.ReadFull(c, one)
				}
				c.Close()
				if err != nil {
					errc <- err
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	el, cpu := time.Since(t0), s.cpu()-cpu0
	select {
	case err := <-errc:
		return result{}, err
	default:
	}
	n := count.Load()
	return result{rate: float64(n) / el.Seconds(), perCPU: float64(n) / cpu.Seconds()}, nil
}

// idle: n connections, each handshaken with one echo, then left idle; the
// server's RSS growth per connection.
func (b *bench) idle(s *server, n int) (result, error) {
	time.Sleep(200 * time.Millisecond)
	rss0, err := proc.RSS(s.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	cs := make([]*tls.Conn, 0, n)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	one := []byte{1}
	for range n {
		c, err := tls.Dial("tcp", s.addr, b.client)
		if err != nil {
			return result{}, err
		}
		cs = append(cs, c)
		if _, err := c.Write(one); err != nil {
			return result{}, err
		}
		if _, err := io.ReadFull(c, one); err != nil {
			return result{}, err
		}
	}
	time.Sleep(time.Second)
	rss, err := proc.RSS(s.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	return result{bytes: float64(rss-rss0) / float64(n)}, nil
}

// https: 64 goroutines send keep-alive GETs through one net/http
// Transport (HTTP/1.1 over TLS, 64 connections).
func (b *bench) https(s *server, clients int, dur time.Duration) (result, error) {
	cfg := b.client.Clone()
	tr := &nethttp.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &nethttp.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "https://" + s.addr + "/"
	// warm-up of 500 ms: the connections are made
	return runLoad(s, clients, 500*time.Millisecond, dur, func(int) error {
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	})
}
