package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is a running server process.
type server struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
	err  error
	tail *tailBuf
}

// tailBuf keeps the last bytes a process wrote, for error messages.
type tailBuf struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuf) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = append([]byte(nil), t.b[len(t.b)-2048:]...)
	}
	return len(p), nil
}

func (t *tailBuf) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// pinned prefixes argv with taskset when the machine has it.
func pinned(cpu string, argv []string) []string {
	if cpu == "" || tasksetPath == "" {
		return argv
	}
	return append([]string{tasksetPath, "-c", cpu}, argv...)
}

var tasksetPath, _ = exec.LookPath("taskset")

// startServer starts argv pinned to cpu and waits until it prints "ready".
func startServer(cpu string, argv []string) (*server, error) {
	full := pinned(cpu, argv)
	cmd := exec.Command(full[0], full[1:]...)
	s := &server{cmd: cmd, done: make(chan struct{}), tail: &tailBuf{}}
	cmd.Stderr = s.tail
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = cmd.Process.Pid // taskset execs the program: same pid
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !seen && line == "ready" {
				seen = true
				close(ready)
				continue
			}
			_, _ = s.tail.Write([]byte(line + "\n"))
		}
		s.err = cmd.Wait()
		close(s.done)
	}()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("%s exited before ready: %v: %s", argv[0], s.err, s.tail)
	case <-time.After(20 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s not ready after 20s: %s", argv[0], s.tail)
	}
}

// stop ends the server: SIGTERM (which lets a profiled server write its
// profile), then SIGKILL after a grace period.
func (s *server) stop() {
	if s == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(4 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// alive reports whether the server is still running.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// runCmd runs argv pinned to cpu with a time limit and returns its stdout.
func runCmd(cpu string, limit time.Duration, argv []string) ([]byte, error) {
	full := pinned(cpu, argv)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	var out bytes.Buffer
	errb := &tailBuf{}
	cmd.Stdout = &out
	cmd.Stderr = errb
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.Bytes(), fmt.Errorf("%s: over its %v limit", argv[0], limit)
	}
	if err != nil {
		return out.Bytes(), fmt.Errorf("%s: %v: %s", argv[0], err, errb)
	}
	return out.Bytes(), nil
}

// runJSON runs a load tool and decodes the last JSON line it printed.
func runJSON(cpu string, limit time.Duration, argv []string) (map[string]float64, error) {
	out, err := runCmd(cpu, limit, argv)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	var raw map[string]any
	if err := json.Unmarshal([]byte(last), &raw); err != nil {
		return nil, fmt.Errorf("%s: bad output %q: %v", argv[0], last, err)
	}
	m := map[string]float64{}
	for k, v := range raw {
		if f, ok := v.(float64); ok {
			m[k] = f
		}
	}
	return m, nil
}

// parseWrk reads requests/s and the 99th percentile latency from wrk's
// output (run with --latency for the percentile).
func parseWrk(out []byte) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			var v float64
			if _, err := fmt.Sscan(f[1], &v); err == nil {
				m["req_per_sec"] = v
			}
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			var v float64
			if _, err := fmt.Sscan(f[0], &v); err == nil {
				m["requests"] = v
			}
		case len(f) == 2 && f[0] == "99%":
			if d, err := time.ParseDuration(strings.Replace(f[1], "us", "µs", 1)); err == nil {
				m["p99_us"] = float64(d) / 1e3
			}
		case len(f) >= 4 && f[0] == "Non-2xx":
			return nil, errors.New("wrk: non-2xx responses: " + sc.Text())
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			m["socket_errors"] = 1
		}
	}
	if _, ok := m["req_per_sec"]; !ok {
		return nil, fmt.Errorf("wrk: no Requests/sec in %q", string(out))
	}
	return m, nil
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

var _ = io.Discard
