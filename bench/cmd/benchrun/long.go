package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
)

// longTarget is a server measured in long mode.
type longTarget struct {
	name string
	kind string // ours kind ("" = peer)
	argv func(port int) []string
}

// runLong holds n concurrent connections on this machine: several server
// processes share one port (SO_REUSEPORT) and several client processes
// connect from 127.0.0.2, 127.0.0.3, ... because one process may open at
// most 20000 files. It reports server memory per connection and writes the
// long-mode section of the results page.
func runLong(cfg *config, n int, docs string) error {
	if n < 1 || n > 200000 {
		return fmt.Errorf("-long-conns must be 1..200000")
	}
	const perServer, perClient = 12500, 16000
	nsrv := (n + perServer - 1) / perServer
	ncli := (n + perClient - 1) / perClient
	ours := oursKinds(cfg)
	targets := []longTarget{
		{"ours (tcp)", "echo", func(p int) []string {
			return []string{cfg.path("ours"), "-kind", "echo", "-addr", addr(p), "-reuseport"}
		}},
		{"raw gnet", "", func(p int) []string {
			return []string{cfg.path("peers"), "-kind", "gnetecho", "-addr", addr(p), "-reuseport"}
		}},
		{"Go net (goroutine per conn)", "", func(p int) []string {
			return []string{cfg.path("peers"), "-kind", "netecho", "-addr", addr(p), "-reuseport"}
		}},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s with `./bench/run.sh --long`: %d connections, %d server processes sharing the port "+
		"(SO_REUSEPORT, all on CPU 0), %d client processes (CPU 1) connecting from 127.0.0.2 to 127.0.0.%d; "+
		"one 64-byte echo round trip per connection, then the servers' VmRSS growth is summed.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), n, nsrv, ncli, ncli+1)
	b.WriteString("| target | connections held | server RSS growth | per connection | time to open |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, t := range targets {
		if t.kind != "" {
			if why := ours.missing(t.kind); why != "" {
				fmt.Fprintf(&b, "| %s | not measured: %s | | | |\n", t.name, why)
				continue
			}
		}
		held, growth, secs, err := longOne(cfg, t, n, nsrv, ncli)
		if err != nil {
			log.Printf("long %s: %v", t.name, err)
			fmt.Fprintf(&b, "| %s | failed: %s | | | |\n", t.name, oneLine(err.Error()))
			continue
		}
		log.Printf("long %s: %d conns, %.0f B/conn, %.1fs", t.name, held, float64(growth)/float64(held), secs)
		fmt.Fprintf(&b, "| %s | %d | %.1f MB | %.0f B | %.1f s |\n", t.name, held, float64(growth)/1e6,
			float64(growth)/float64(held), secs)
	}
	return replaceLong(docs, b.String())
}

func longOne(cfg *config, t longTarget, n, nsrv, ncli int) (held int, growth int64, secs float64, err error) {
	p := port()
	var srvs []*server
	defer func() {
		for _, s := range srvs {
			s.stop()
		}
	}()
	var base int64
	for range nsrv {
		s, err := startServer("0", t.argv(p))
		if err != nil {
			return 0, 0, 0, err
		}
		srvs = append(srvs, s)
		r, _ := proc.RSS(s.pid)
		base += r
	}
	type client struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		lines chan string
	}
	var cls []*client
	defer func() {
		for _, c := range cls {
			c.stdin.Close()
			done := make(chan struct{})
			go func() { _ = c.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = c.cmd.Process.Kill()
				<-done
			}
		}
	}()
	t0 := time.Now()
	left := n
	for i := range ncli {
		k := left / (ncli - i)
		left -= k
		argv := pinned("1", []string{cfg.path("load"), "idle", "-hold", "-addr", addr(p), "-n", strconv.Itoa(k),
			"-src", "127.0.0." + strconv.Itoa(i+2), "-workers", "16", "-limit", "120s"})
		cmd := exec.Command(argv[0], argv[1:]...)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return 0, 0, 0, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return 0, 0, 0, err
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return 0, 0, 0, err
		}
		c := &client{cmd: cmd, stdin: stdin, lines: make(chan string, 4)}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				c.lines <- sc.Text()
			}
			close(c.lines)
		}()
		cls = append(cls, c)
	}
	for _, c := range cls {
		select {
		case l, ok := <-c.lines:
			if !ok || !strings.Contains(l, "opened") {
				return 0, 0, 0, fmt.Errorf("a client failed to open its connections (%q)", l)
			}
			var k int
			if _, err := fmt.Sscanf(l, "{\"opened\":%d", &k); err == nil {
				held += k
			}
		case <-time.After(150 * time.Second):
			return 0, 0, 0, fmt.Errorf("clients did not open their connections in time")
		}
	}
	secs = time.Since(t0).Seconds()
	time.Sleep(500 * time.Millisecond)
	var rss int64
	for _, s := range srvs {
		r, err := proc.RSS(s.pid)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("a server died: %s", s.tail)
		}
		rss += r
	}
	return held, rss - base, secs, nil
}

// replaceLong writes section between the long-mode markers of the page.
func replaceLong(docs, section string) error {
	b, err := os.ReadFile(docs)
	if err != nil {
		b = []byte("# Benchmarks\n\n## Long mode: 100,000 connections\n\n" + longBegin + "\n" + longEnd + "\n")
	}
	s := string(b)
	i := strings.Index(s, longBegin)
	j := strings.Index(s, longEnd)
	if i < 0 || j < i {
		s += "\n## Long mode: 100,000 connections\n\n" + longBegin + "\n" + longEnd + "\n"
		i = strings.Index(s, longBegin)
		j = strings.Index(s, longEnd)
	}
	s = s[:i+len(longBegin)] + "\n" + strings.TrimSpace(section) + "\n" + s[j:]
	return os.WriteFile(docs, []byte(s), 0o644)
}
