package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
)

// config holds the sizes and durations of one run of the suite.
type config struct {
	runs      int
	bin       string // directory of the built tools
	lua       string // wrk pipelining script
	echoDur   time.Duration
	warm      time.Duration
	wrkDur    time.Duration
	clientDur time.Duration
	idleN     int
	delayRate int
	delayOpen time.Duration
	delay     time.Duration
}

// Metric is one figure a scenario reports.
type Metric struct {
	Key         string // key in the load tool's JSON
	Name        string
	Unit        string
	LowerBetter bool
	Chart       bool // draw a PNG for it
	Ratio       bool // give it an "ours ÷ this" column too (the primary metric always has one)
}

// Target is one implementation measured in a scenario.
type Target struct {
	Name    string
	Ours    bool
	Kind    string                  // ours: the kind cmd/ours must list
	Argv    func(port int) []string // the server (or, for client scenarios, the client) command
	Missing string                  // why it was not measured, when it was not
}

// Goal is a target of the issue: ours ÷ Peer at least MinRatio, or the
// primary metric of ours at most MaxAbs.
type Goal struct {
	Text     string
	Peer     string
	MinRatio float64
	MaxAbs   float64
}

// Scenario is one benchmark: targets measured the same way.
type Scenario struct {
	ID      string
	Title   string
	Short   string // for the summary chart
	Method  string
	Metrics []Metric // the first is the primary one
	Targets []*Target
	Goals   []Goal
	// Measure runs target t once, its server (if any) on the given port;
	// prof, when set, asks ours to write a CPU profile there.
	Measure func(t *Target, port int, prof string) (map[string]float64, error)
}

func (c *config) path(name string) string { return filepath.Join(c.bin, name) }

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// withProf asks ours for a profile: a heap profile when prof ends in
// ".heap.pprof", else a CPU profile.
func withProf(argv []string, prof string) []string {
	if prof == "" {
		return argv
	}
	flag := "-cpuprofile"
	if strings.HasSuffix(prof, ".heap.pprof") {
		flag = "-memprofile"
	}
	return append(append([]string(nil), argv...), flag, prof)
}

func dur(d time.Duration) string { return d.String() }

// The targets, by role.
func (c *config) echoTargets() []*Target {
	return []*Target{
		{Name: "ours (tcp)", Ours: true, Kind: "echo", Argv: func(p int) []string {
			return []string{c.path("ours"), "-kind", "echo", "-addr", addr(p)}
		}},
		c.oldCore("echo"),
		{Name: "raw gnet", Argv: func(p int) []string {
			return []string{c.path("peers"), "-kind", "gnetecho", "-addr", addr(p)}
		}},
		{Name: "Go net (goroutine per conn)", Argv: func(p int) []string {
			return []string{c.path("peers"), "-kind", "netecho", "-addr", addr(p)}
		}},
		{Name: "C epoll (ceiling)", Argv: func(p int) []string {
			return []string{c.path("epoll_echo"), strconv.Itoa(p)}
		}},
	}
}

// oldCoreName names the baseline: goasync before its own event loops
// (gnet's Engine and Client), built by run.sh from a git worktree.
const oldCoreName = "old core (gnet engine)"

// oldCore is the same server as ours, built from the baseline commit
// (bin/ours-old, see run.sh).
func (c *config) oldCore(kind string) *Target {
	t := &Target{Name: oldCoreName, Argv: func(p int) []string {
		return []string{c.path("ours-old"), "-kind", kind, "-addr", addr(p)}
	}}
	if _, err := os.Stat(c.path("ours-old")); err != nil {
		t.Missing = "bin/ours-old not built (run.sh builds it from the baseline commit)"
	}
	return t
}

func (c *config) httpTargets() []*Target {
	return []*Target{
		{Name: "ours (http)", Ours: true, Kind: "http", Argv: func(p int) []string {
			return []string{c.path("ours"), "-kind", "http", "-addr", addr(p)}
		}},
		c.oldCore("http"),
		{Name: "net/http", Argv: func(p int) []string {
			return []string{c.path("peers"), "-kind", "nethttp", "-addr", addr(p)}
		}},
		{Name: "fasthttp v1.70.0", Argv: func(p int) []string {
			return []string{c.path("peers"), "-kind", "fasthttp", "-addr", addr(p)}
		}},
		{Name: "raw gnet responder", Argv: func(p int) []string {
			return []string{c.path("peers"), "-kind", "gnethttp", "-addr", addr(p)}
		}},
	}
}

func (c *config) scenarios() []*Scenario {
	var out []*Scenario
	echo := func(id, title, short string, conns, depth int, metrics []Metric, goals bool) *Scenario {
		s := &Scenario{ID: id, Title: title, Short: short, Metrics: metrics, Targets: c.echoTargets(),
			Method: fmt.Sprintf("`load echo`: %d connections, 64-byte messages, %d in flight per connection; "+
				"a single-threaded epoll client answers every reply with a new message; %v measured after %v warm-up; "+
				"server on CPU 0, client on CPU 1. Server CPU time from /proc/PID/stat (utime+stime). "+
				"The client costs about what a fast server costs per message (one read and one write), so when "+
				"\"load tool CPU\" nears 100%% the client caps messages/s and messages per server CPU-second is "+
				"the fairer comparison.",
				conns, depth, c.echoDur, c.warm),
		}
		if goals {
			s.Goals = []Goal{
				{Text: "at least 1.0x the old core", Peer: oldCoreName, MinRatio: 1.0},
				{Text: "at least 1.0x raw gnet", Peer: "raw gnet", MinRatio: 1.0},
				{Text: "at least 1.0x Go net", Peer: "Go net (goroutine per conn)", MinRatio: 1.0},
			}
		}
		s.Measure = func(t *Target, port int, prof string) (map[string]float64, error) {
			srv, err := startServer("0", withProf(t.Argv(port), prof))
			if err != nil {
				return nil, err
			}
			defer srv.stop()
			return runJSON("1", c.echoDur+c.warm+60*time.Second, []string{c.path("load"), "echo",
				"-addr", addr(port), "-conns", strconv.Itoa(conns), "-depth", strconv.Itoa(depth),
				"-dur", dur(c.echoDur), "-warmup", dur(c.warm), "-pid", strconv.Itoa(srv.pid)})
		}
		return s
	}
	rr := []Metric{
		{Key: "msg_per_sec", Name: "messages/s", Unit: "msg/s", Chart: true},
		{Key: "msg_per_server_cpu_second", Name: "messages per server CPU-second", Unit: "msg/CPU-s", Chart: true, Ratio: true},
		{Key: "p50_us", Name: "p50", Unit: "µs", LowerBetter: true},
		{Key: "p99_us", Name: "p99", Unit: "µs", LowerBetter: true},
		{Key: "client_cpu_util", Name: "load tool CPU", Unit: "%"},
	}
	out = append(out,
		echo("echo-rr-50", "Echo request/response, 50 connections, 64 B", "echo 50 conns", 50, 1, rr, true),
		echo("echo-rr-1000", "Echo request/response, 1,000 connections, 64 B", "echo 1,000 conns", 1000, 1, rr, true),
		echo("echo-pipe-50", "Echo pipelined, 50 connections, 16 in flight, 64 B", "echo pipelined", 50, 16, []Metric{
			{Key: "msg_per_sec", Name: "messages/s", Unit: "msg/s", Chart: true},
			{Key: "msg_per_server_cpu_second", Name: "messages per server CPU-second", Unit: "msg/CPU-s", Ratio: true},
			{Key: "client_cpu_util", Name: "load tool CPU", Unit: "%"},
		}, true),
	)

	// Idle memory.
	idle := &Scenario{ID: "idle", Short: "idle memory", Title: fmt.Sprintf("Idle memory, %s connections after one round trip", thousands(c.idleN)),
		Metrics: []Metric{{Key: "bytes_per_conn", Name: "server RSS per connection", Unit: "B", LowerBetter: true, Chart: true},
			{Key: "open_seconds", Name: "time to open all", Unit: "s", LowerBetter: true}},
		Method: fmt.Sprintf("`load idle` (a separate process: one process may open at most 20000 files) opens %d "+
			"connections, each makes one round trip (64-byte echo, or one keep-alive GET for HTTP servers), "+
			"then the server's VmRSS minus its VmRSS before the first connection, divided by %d.", c.idleN, c.idleN),
		Goals: []Goal{{Text: "at most 1 KB per connection (tcp)", MaxAbs: 1024}},
	}
	idleTargets := []*Target{
		{Name: "ours (tcp)", Ours: true, Kind: "echo"},
		{Name: "ours (http)", Ours: true, Kind: "http"},
		{Name: oldCoreName},
		{Name: "Go net (goroutine per conn)"},
		{Name: "raw gnet"},
		{Name: "net/http"},
	}
	modes := map[string]string{}
	for _, t := range idleTargets {
		t := t
		switch t.Name {
		case "ours (tcp)":
			t.Argv = func(p int) []string { return []string{c.path("ours"), "-kind", "echo", "-addr", addr(p)} }
			modes[t.Name] = "echo"
		case "ours (http)":
			t.Argv = func(p int) []string { return []string{c.path("ours"), "-kind", "http", "-addr", addr(p)} }
			modes[t.Name] = "http"
		case oldCoreName:
			old := c.oldCore("echo")
			t.Argv, t.Missing = old.Argv, old.Missing
			modes[t.Name] = "echo"
		case "Go net (goroutine per conn)":
			t.Argv = func(p int) []string { return []string{c.path("peers"), "-kind", "netecho", "-addr", addr(p)} }
			modes[t.Name] = "echo"
		case "raw gnet":
			t.Argv = func(p int) []string { return []string{c.path("peers"), "-kind", "gnetecho", "-addr", addr(p)} }
			modes[t.Name] = "echo"
		case "net/http":
			t.Argv = func(p int) []string { return []string{c.path("peers"), "-kind", "nethttp", "-addr", addr(p)} }
			modes[t.Name] = "http"
		}
	}
	idle.Targets = idleTargets
	idle.Measure = func(t *Target, port int, prof string) (map[string]float64, error) {
		srv, err := startServer("0", withProf(t.Argv(port), prof))
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		return runJSON("1", 90*time.Second, []string{c.path("load"), "idle", "-addr", addr(port),
			"-n", strconv.Itoa(c.idleN), "-mode", modes[t.Name], "-pid", strconv.Itoa(srv.pid)})
	}
	out = append(out, idle)

	// HTTP server with wrk.
	wrk := func(id, title, short string, pipelined bool, goal float64) *Scenario {
		s := &Scenario{ID: id, Title: title, Short: short, Targets: c.httpTargets(),
			Metrics: []Metric{{Key: "req_per_sec", Name: "requests/s", Unit: "req/s", Chart: true},
				{Key: "req_per_server_cpu_second", Name: "requests per server CPU-second", Unit: "req/CPU-s", Ratio: true}},
			Goals: []Goal{{Text: fmt.Sprintf("at least %.1fx net/http", goal), Peer: "net/http", MinRatio: goal},
				{Text: "at least 1.0x the old core", Peer: oldCoreName, MinRatio: 1.0}},
		}
		args := []string{"wrk", "-t1", "-c64", "-d" + dur(c.wrkDur)}
		if pipelined {
			args = append(args, "-s", c.lua)
			s.Method = fmt.Sprintf("`wrk -t1 -c64 -d%v -s bench/lua/pipeline16.lua` (16 GET requests sent back to back "+
				"per connection, each reply counted); server on CPU 0, wrk on CPU 1; a \"hello\" handler.", c.wrkDur)
		} else {
			args = append(args, "--latency")
			s.Metrics = append(s.Metrics, Metric{Key: "p99_us", Name: "p99", Unit: "µs", LowerBetter: true})
			s.Method = fmt.Sprintf("`wrk -t1 -c64 -d%v --latency` (keep-alive, no pipelining); server on CPU 0, "+
				"wrk on CPU 1; a \"hello\" handler.", c.wrkDur)
		}
		s.Measure = func(t *Target, port int, prof string) (map[string]float64, error) {
			srv, err := startServer("0", withProf(t.Argv(port), prof))
			if err != nil {
				return nil, err
			}
			defer srv.stop()
			cpu0, _ := proc.CPU(srv.pid)
			out, err := runCmd("1", c.wrkDur+30*time.Second, append(args, "http://"+addr(port)+"/"))
			if err != nil {
				return nil, err
			}
			cpu1, err := proc.CPU(srv.pid)
			if err != nil || !srv.alive() {
				return nil, fmt.Errorf("server died: %s", srv.tail)
			}
			m, err := parseWrk(out)
			if err == nil && cpu1 > cpu0 && m["requests"] > 0 {
				m["req_per_server_cpu_second"] = m["requests"] / (cpu1 - cpu0).Seconds()
			}
			return m, err
		}
		return s
	}
	out = append(out,
		wrk("http-plain", "HTTP server, wrk -t1 -c64, keep-alive", "HTTP server", false, 1.5),
		wrk("http-pipe", "HTTP server, wrk -t1 -c64, 16-deep pipelining", "HTTP pipelined", true, 5))

	// HTTP client.
	cl := &Scenario{ID: "http-client", Short: "HTTP client", Title: "HTTP client, 64 requests in flight, keep-alive",
		Metrics: []Metric{{Key: "req_per_sec", Name: "requests/s", Unit: "req/s", Chart: true}},
		Goals:   []Goal{{Text: "at least 1.5x net/http's client", Peer: "net/http client", MinRatio: 1.5}},
		Method: fmt.Sprintf("each client keeps 64 GET requests in flight over keep-alive connections against the "+
			"same server (the raw gnet responder on CPU 0); client on CPU 1; %v measured after %v warm-up.", c.clientDur, c.warm),
		Targets: []*Target{
			{Name: "ours (http client)", Ours: true, Kind: "httpclient", Argv: func(p int) []string {
				return []string{c.path("ours"), "-kind", "httpclient", "-url", "http://" + addr(p) + "/",
					"-inflight", "64", "-dur", dur(c.clientDur), "-warmup", dur(c.warm)}
			}},
			{Name: "net/http client", Argv: func(p int) []string {
				return []string{c.path("load"), "httpclient", "-client", "nethttp", "-url", "http://" + addr(p) + "/",
					"-inflight", "64", "-dur", dur(c.clientDur), "-warmup", dur(c.warm)}
			}},
			{Name: "fasthttp client", Argv: func(p int) []string {
				return []string{c.path("load"), "httpclient", "-client", "fasthttp", "-url", "http://" + addr(p) + "/",
					"-inflight", "64", "-dur", dur(c.clientDur), "-warmup", dur(c.warm)}
			}},
		},
	}
	cl.Measure = func(t *Target, port int, prof string) (map[string]float64, error) {
		srv, err := startServer("0", []string{c.path("peers"), "-kind", "gnethttp", "-addr", addr(port)})
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		return runJSON("1", c.clientDur+c.warm+60*time.Second, withProf(t.Argv(port), prof))
	}
	out = append(out, cl)

	// TCP proxy.
	px := &Scenario{ID: "proxy", Short: "TCP proxy", Title: "TCP proxy, wrk -t1 -c64 through the proxy",
		Metrics: []Metric{{Key: "req_per_sec", Name: "requests/s", Unit: "req/s", Chart: true},
			{Key: "p99_us", Name: "p99", Unit: "µs", LowerBetter: true},
			{Key: "req_per_proxy_cpu_second", Name: "requests per proxy CPU-second", Unit: "req/CPU-s", Ratio: true}},
		Goals: []Goal{{Text: "at least 1.0x the io.Copy proxy", Peer: "Go io.Copy proxy", MinRatio: 1.0}},
		Method: fmt.Sprintf("`wrk -t1 -c64 -d%v --latency` through the proxy (CPU 0) to the raw gnet HTTP responder; "+
			"wrk and the backend share CPU 1. \"no proxy\" is wrk straight to the backend.", c.wrkDur),
		Targets: []*Target{
			{Name: "ours (tcp proxy)", Ours: true, Kind: "proxy", Argv: func(p int) []string {
				return []string{c.path("ours"), "-kind", "proxy", "-addr", addr(p), "-backend", addr(p + 1)}
			}},
			{Name: "Go io.Copy proxy", Argv: func(p int) []string {
				return []string{c.path("peers"), "-kind", "copyproxy", "-addr", addr(p), "-backend", addr(p + 1)}
			}},
			{Name: "no proxy"},
		},
	}
	px.Measure = func(t *Target, port int, prof string) (map[string]float64, error) {
		be, err := startServer("1", []string{c.path("peers"), "-kind", "gnethttp", "-addr", addr(port + 1)})
		if err != nil {
			return nil, err
		}
		defer be.stop()
		target := addr(port + 1)
		pid := 0
		if t.Argv != nil {
			srv, err := startServer("0", withProf(t.Argv(port), prof))
			if err != nil {
				return nil, err
			}
			defer srv.stop()
			target, pid = addr(port), srv.pid
		}
		var cpu0 time.Duration
		if pid > 0 {
			cpu0, _ = proc.CPU(pid)
		}
		out, err := runCmd("1", c.wrkDur+30*time.Second, []string{"wrk", "-t1", "-c64", "-d" + dur(c.wrkDur), "--latency",
			"http://" + target + "/"})
		if err != nil {
			return nil, err
		}
		m, err := parseWrk(out)
		if pid > 0 && err == nil {
			if cpu1, cerr := proc.CPU(pid); cerr == nil && cpu1 > cpu0 && m["requests"] > 0 {
				m["req_per_proxy_cpu_second"] = m["requests"] / (cpu1 - cpu0).Seconds()
			}
		}
		return m, err
	}
	out = append(out, px)

	// cl-async's delay server.
	dl := &Scenario{ID: "delay", Short: "delay server", Title: fmt.Sprintf("Delay server (cl-async's benchmark), %v delay", c.delay),
		Metrics: []Metric{
			{Key: "peak_held", Name: "peak connections held", Unit: "conns", Chart: true},
			{Key: "drain_rate", Name: "then rate", Unit: "replies/s"},
			{Key: "bytes_per_held", Name: "server memory per held connection", Unit: "B", LowerBetter: true, Chart: true},
			{Key: "failed", Name: "failed", Unit: "conns", LowerBetter: true},
		},
		Method: fmt.Sprintf("`load delay` opens %d connections per second for %v; each sends one HTTP request; the server "+
			"answers after %v (a timer future) and closes, as in cl-async's README. Peak concurrent connections, "+
			"the reply rate from first to last reply, and peak server RSS growth divided by the peak held. "+
			"The rate is the driver's opening rate when the server keeps up: %d/s holds about %s connections, "+
			"below the 20,000 files one process may open here (cl-async's README reports about 6,000/s and up to "+
			"40K held with httperf on a 2012 Linode).",
			c.delayRate, c.delayOpen, c.delay, c.delayRate, thousands(c.delayRate*int(c.delay/time.Second))),
		Targets: []*Target{
			{Name: "ours (tcp + timer)", Ours: true, Kind: "delay", Argv: func(p int) []string {
				return []string{c.path("ours"), "-kind", "delay", "-addr", addr(p), "-delay", dur(c.delay)}
			}},
		},
	}
	dl.Measure = func(t *Target, port int, prof string) (map[string]float64, error) {
		srv, err := startServer("0", withProf(t.Argv(port), prof))
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		return runJSON("1", c.delayOpen+c.delay+60*time.Second, []string{c.path("load"), "delay", "-addr", addr(port),
			"-rate", strconv.Itoa(c.delayRate), "-open", dur(c.delayOpen), "-delay", dur(c.delay),
			"-pid", strconv.Itoa(srv.pid)})
	}
	out = append(out, dl)
	return out
}

// thousands prints n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
