package tcp

import (
	"bufio"
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
)

// idleServerMain is the child process of BenchmarkIdleConnMemory: one echo
// server (goasync, raw gnet or Go net) that reports its memory on stdin
// commands.
func idleServerMain(kind string) int {
	var count func() int
	var addr string
	switch kind {
	case "goasync":
		srv, err := Listen("127.0.0.1:0", echoHandler())
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		addr, count = srv.Addr().String(), srv.Count
	case "gnet":
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr = ln.Addr().String()
		ln.Close()
		e := &countingGnetEcho{gnetEcho: gnetEcho{booted: make(chan struct{})}}
		go gnet.Run(e, "tcp://"+addr, gnet.WithNumEventLoop(goruntime.GOMAXPROCS(0)), gnet.WithReusePort(true), gnet.WithLogger(zap.NewNop().Sugar()))
		<-e.booted
		count = func() int { return int(e.n.Load()) }
	case "gonet":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		addr = ln.Addr().String()
		var n atomic.Int64
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				go func() {
					defer c.Close()
					buf := make([]byte, 4<<10) // a modest per-connection buffer
					for {
						k, err := c.Read(buf)
						if err != nil {
							return
						}
						c.Write(buf[:k])
					}
				}()
			}
		}()
		count = func() int { return int(n.Load()) }
	}
	fmt.Println(addr)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "mem":
			goruntime.GC()
			var ms goruntime.MemStats
			goruntime.ReadMemStats(&ms)
			fmt.Println(count(), ms.HeapInuse+ms.StackInuse, vmRSS())
		case "exit":
			return 0
		}
	}
	return 0
}

type countingGnetEcho struct {
	gnetEcho
	n atomic.Int64
}

func (e *countingGnetEcho) OnOpen(gnet.Conn) ([]byte, gnet.Action) {
	e.n.Add(1)
	return nil, gnet.None
}

func vmRSS() uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkIdleConnMemory opens 15,000 idle connections to an echo server
// in a child process (so each process stays under its 20,000-descriptor
// limit) and reports the server's Go memory (heap in use + stacks) and RSS
// per connection, for goasync, raw gnet and Go net. b.N is ignored: one
// measurement per server.
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 15000
	for _, kind := range []string{"goasync", "gnet", "gonet"} {
		b.Run(kind, func(b *testing.B) {
			cmd := newChild(b, "idle-"+kind)
			mem := func() (int, float64, float64) {
				fmt.Fprintln(cmd.in, "mem")
				line, err := cmd.out.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				var c int
				var m, rss float64
				fmt.Sscan(line, &c, &m, &rss)
				return c, m, rss
			}
			_, m0, r0 := mem()
			conns := make([]net.Conn, 0, n)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for i := 0; i < n; i++ {
				c, err := net.DialTimeout("tcp", cmd.addr, 5*time.Second)
				if err != nil {
					b.Fatalf("dial %d: %v", i, err)
				}
				conns = append(conns, c)
			}
			deadline := time.Now().Add(60 * time.Second)
			var c int
			var m1, r1 float64
			for {
				c, m1, r1 = mem()
				if c >= n || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if c < n {
				b.Fatalf("server saw %d of %d connections", c, n)
			}
			b.ReportMetric((m1-m0)/n, "goB/conn")
			b.ReportMetric((r1-r0)/n, "rssB/conn")
		})
	}
}

func newChild(b *testing.B, mode string) *floodChild {
	b.Helper()
	return startFloodChild(b, mode)
}
