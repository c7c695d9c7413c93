package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// futures runs the futures benchmarks of bench/futures (owned by another
// helper) once, pinned to CPU 0, and returns a markdown table of them.
func futures(cfg *config) string {
	tests, _ := filepath.Glob("futures/*_test.go")
	if len(tests) == 0 {
		return "bench/futures has no benchmarks yet, so the futures comparison was not measured."
	}
	bin, _ := filepath.Abs(cfg.path("futures.test"))
	if out, err := runCmd("", 5*time.Minute, []string{"go", "test", "-c", "-o", bin, "./futures"}); err != nil {
		return "The futures benchmarks did not build: " + oneLine(err.Error()+" "+string(out))
	}
	benchtime := "200ms"
	if cfg.runs == 1 {
		benchtime = "50ms"
	}
	out, err := runCmd("0", 3*time.Minute, []string{bin, "-test.run", "^$", "-test.bench", ".",
		"-test.benchmem", "-test.benchtime", benchtime, "-test.count", "1"})
	if err != nil {
		return "The futures benchmarks failed: " + oneLine(err.Error())
	}
	var b strings.Builder
	b.WriteString("| benchmark | ns/op | B/op | allocs/op |\n| --- | ---: | ---: | ---: |\n")
	rows := 0
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		vals := map[string]string{}
		for i := 2; i+1 < len(f); i += 2 {
			vals[f[i+1]] = f[i]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, vals["ns/op"], vals["B/op"], vals["allocs/op"])
		rows++
	}
	if rows == 0 {
		return "The futures benchmarks printed no result."
	}
	_ = os.Remove(bin)
	return fmt.Sprintf("(-benchtime %s, one run.)\n\n%s", benchtime, b.String())
}
