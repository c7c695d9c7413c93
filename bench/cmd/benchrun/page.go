package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/goasync/goasync/bench/internal/chart"
)

const (
	longBegin = "<!-- long:begin -->"
	longEnd   = "<!-- long:end -->"
)

// fmtVal prints a metric value with its unit.
func fmtVal(m Metric, v float64) string {
	switch m.Unit {
	case "B":
		if v >= 10*1024 {
			return fmt.Sprintf("%.1f KB", v/1024)
		}
		return fmt.Sprintf("%.0f B", v)
	case "µs":
		if v >= 10000 {
			return fmt.Sprintf("%.1f ms", v/1000)
		}
		return fmt.Sprintf("%.0f µs", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "%":
		return fmt.Sprintf("%.0f%%", v*100)
	}
	return chart.Format(v)
}

func ratioStr(r float64) string { return fmt.Sprintf("%.2fx", r) }

func machine() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "?"
	if b, err := exec.Command("uname", "-r").Output(); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs (%s), Linux %s, %s", runtime.NumCPU(), model, kernel, runtime.Version())
}

func writePage(cfg *config, run *Run, scs []*Scenario, docs, plots, command string, quick bool) error {
	if err := os.MkdirAll(plots, 0o755); err != nil {
		return err
	}
	relPlots, err := filepath.Rel(filepath.Dir(docs), plots)
	if err != nil {
		relPlots = plots
	}
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Benchmarks\n\n")
	w("goasync measured side by side with its peers in one run of\n\n    %s\n\n", command)
	w("(generated %s; %s). ", run.Started.Format("2006-01-02 15:04 UTC"), machine())
	w("Every server ran pinned to CPU 0 and every load generator to CPU 1 (`taskset`); each target was measured "+
		"%d time(s), round robin, and the tables show the median with every run beside it. "+
		"The measuring took %.0f s.\n\n", cfg.runs, run.Elapsed.Seconds())
	if quick {
		w("**This page comes from a quick smoke run (`--quick`: one short measurement, fewer connections): " +
			"its figures only prove the tools work.**\n\n")
	}
	w("**Read the ratios, not the absolute numbers.** Other processes (other agents compiling and running tests) "+
		"shared this 2-core machine during the run: load average %s at the start, %s at the end. All targets of one "+
		"benchmark were measured in the same run, interleaved, so the noise falls on all of them; the ratio "+
		"ours ÷ peer is the result, absolute figures are context.\n\n", run.LoadStart, run.LoadEnd)

	// Summary of goals.
	w("## Targets of the issue\n\n")
	if ok, err := drawTargets(filepath.Join(plots, "targets.png"), scs, run); err != nil {
		return err
	} else if ok {
		w("![ours ÷ peer for every ratio target of the issue](%s)\n\n", filepath.ToSlash(filepath.Join(relPlots, "targets.png")))
	}
	w("| benchmark | target | measured | status |\n| --- | --- | --- | --- |\n")
	for _, sc := range scs {
		for _, g := range evalGoals(sc, run.Results[sc.ID]) {
			val := "—"
			if strings.HasPrefix(g.Status, "met") || strings.HasPrefix(g.Status, "missed") {
				if g.Goal.MaxAbs > 0 {
					val = fmtVal(sc.Metrics[0], g.Value)
				} else {
					val = ratioStr(g.Value) + " " + g.Goal.Peer
				}
			}
			status := g.Status
			border := ""
			if g.Goal.MinRatio > 0 && (status == "met" || status == "missed") && math.Abs(g.Value/g.Goal.MinRatio-1) < 0.1 {
				border = ", borderline: within 10% of the target"
			}
			switch {
			case status == "met":
				status = "**met**" + border
			case status == "missed":
				status = "**missed**" + border + " (profile below)"
			}
			w("| %s | %s | %s | %s |\n", sc.Title, g.Goal.Text, val, status)
		}
	}
	w("\nA ratio within 10%% of its target is marked borderline: on this shared machine such a ratio can land on " +
		"either side of the target from one full run to the next (the medians of 3 runs move by more than 10%% " +
		"when other processes take CPU time). Where the load tool's CPU is near 100%% (echo request/response), " +
		"messages/s is capped by the client and the per-server-CPU-second ratio in the table is the better guide.\n\n")

	var missing []string
	for _, sc := range scs {
		res := run.Results[sc.ID]
		w("## %s\n\n%s\n\n", sc.Title, sc.Method)
		for _, m := range sc.Metrics {
			if !m.Chart {
				continue
			}
			name := sc.ID + "-" + m.Key + ".png"
			if err := drawChart(filepath.Join(plots, name), sc, m, res); err != nil {
				return err
			}
			w("![%s: %s](%s)\n\n", sc.Title, m.Name, filepath.ToSlash(filepath.Join(relPlots, name)))
		}
		ours := oursTarget(sc)
		peers := len(sc.Targets) > 1
		var ratios []Metric // metrics with an "ours ÷ this" column
		if peers {
			ratios = append(ratios, sc.Metrics[0])
			for _, m := range sc.Metrics[1:] {
				if m.Ratio {
					ratios = append(ratios, m)
				}
			}
		}
		w("| target |")
		for _, m := range sc.Metrics {
			w(" %s |", m.Name)
		}
		for _, m := range ratios {
			w(" %s (ours ÷ this) |", m.Name)
		}
		w("\n|---|")
		for range len(sc.Metrics) + len(ratios) {
			w("---|")
		}
		w("\n")
		empty := func() {
			for range len(sc.Metrics) - 1 + len(ratios) {
				w(" |")
			}
			w("\n")
		}
		for _, t := range sc.Targets {
			name := t.Name
			if t.Ours {
				name = "**" + name + "**"
			}
			r := res[t.Name]
			if t.Missing != "" {
				w("| %s | not measured: %s |", name, t.Missing)
				empty()
				missing = append(missing, fmt.Sprintf("%s — %s: %s", sc.Title, t.Name, t.Missing))
				continue
			}
			if r == nil || len(r.Samples) == 0 {
				e := "no successful run"
				if r != nil && len(r.Errs) > 0 {
					e = r.Errs[0]
				}
				w("| %s | failed: %s |", name, oneLine(e))
				empty()
				continue
			}
			w("| %s |", name)
			for i, m := range sc.Metrics {
				v, _ := r.Median(m.Key)
				cell := fmtVal(m, v)
				if _, has := r.Samples[0][m.Key]; !has {
					w(" — |")
					continue
				}
				if i == 0 {
					cell = "**" + cell + "**"
					if len(r.Samples) > 1 {
						var all []string
						for _, s := range r.Samples {
							all = append(all, fmtVal(m, s[m.Key]))
						}
						cell += " (" + strings.Join(all, ", ") + ")"
					}
				}
				w(" %s |", cell)
			}
			for _, m := range ratios {
				om, oursOK := res[ours.Name].Median(m.Key)
				pv, _ := r.Median(m.Key)
				_, has := r.Samples[0][m.Key]
				if t.Ours || !oursOK || pv == 0 || !has {
					w(" — |")
				} else {
					w(" %s |", ratioStr(om/pv))
				}
			}
			w("\n")
		}
		w("\n")
		for _, t := range sc.Targets {
			if r := res[t.Name]; r != nil && len(r.Errs) > 0 {
				w("Failed runs of %s: %s\n\n", t.Name, oneLine(strings.Join(r.Errs, "; ")))
			}
		}
		if p, ok := run.Profiles[sc.ID]; ok {
			kind := "CPU profile of ours during one more run"
			if sc.ID == "idle" {
				kind = "heap profile (in-use bytes) of ours with every connection open"
			}
			w("**A target is missed here.** Where it goes (%s; flat, then cumulative):\n\n```text\n%s\n```\n\n", kind, clipLines(p, 70))
		}
	}

	if len(missing) > 0 {
		w("## Not measured\n\n")
		for _, m := range missing {
			w("- %s\n", m)
		}
		w("\n")
	}

	w("## Futures (go test -bench)\n\n")
	if run.Futures == "" {
		w("Not run in this invocation.\n\n")
	} else {
		w("`go test -run '^$' -bench . -benchmem ./futures/` in the bench module (bench/futures: " +
			"goasync's future package against jizhuozhi/go-future, chebyrash/promise and reugn/async), pinned to CPU 0. " +
			"One short run for context; [benchmarks/futures.md](benchmarks/futures.md) has the repeated runs and their ratios.\n\n")
		w("%s\n\n", run.Futures)
	}

	w("## Long mode: 100,000 connections\n\n")
	w("%s\n%s\n%s\n\n", longBegin, previousLong(docs), longEnd)

	w("## How to run\n\n")
	w("    %s            # the full suite (about 5 minutes), writes this page and its plots\n", command)
	w("    %s --quick    # a smoke run of every tool, seconds per benchmark\n", command)
	w("    %s --long     # long mode only (not run by default or by CI)\n\n", command)
	w("The script compiles the C echo server with gcc, builds the Go tools of the separate module `bench/` " +
		"(its own go.mod, so the peers never become dependencies of the library), installs wrk from Debian " +
		"if it is missing and the script runs as root, then runs `bench/cmd/benchrun`. Every load run is bounded " +
		"in time and count and uses loopback only.\n\n")
	w("| tool | what it is |\n| --- | --- |\n")
	w("| bench/c/epoll_echo.c | single-threaded level-triggered epoll echo server in C (the ceiling) |\n")
	w("| bench/cmd/peers | the peers: Go net echo, raw gnet echo, net/http, fasthttp, a raw gnet HTTP responder, an io.Copy proxy, a Go net delay server |\n")
	w("| bench/cmd/ours | the same servers (and an HTTP client driver) written with goasync |\n")
	w("| bench/cmd/load | load generators: echo (epoll client), idle, httpclient, delay |\n")
	w("| bench/cmd/benchrun | this orchestrator: pins, repeats, takes medians and ratios, profiles misses, writes the page |\n")
	w("| bench/lua/pipeline16.lua | wrk script sending 16 pipelined requests per connection |\n\n")

	w("## Other benchmark pages\n\n")
	others, _ := filepath.Glob(filepath.Join(filepath.Dir(docs), "benchmarks", "*.md"))
	sort.Strings(others)
	if len(others) == 0 {
		w("None yet.\n")
	}
	for _, o := range others {
		rel, _ := filepath.Rel(filepath.Dir(docs), o)
		w("- [%s](%s)\n", filepath.Base(o), filepath.ToSlash(rel))
	}
	return os.WriteFile(docs, b.Bytes(), 0o644)
}

func drawChart(path string, sc *Scenario, m Metric, res map[string]*Result) error {
	c := &chart.Chart{Title: sc.Title + ": " + m.Name, Unit: m.Unit,
		Note: "median of the runs; ours in orange; " + map[bool]string{true: "lower is better", false: "higher is better"}[m.LowerBetter]}
	g := chart.Group{Name: ""}
	for _, t := range sc.Targets {
		bar := chart.Bar{Label: t.Name, Ours: t.Ours}
		if t.Ours && m.Key == sc.Metrics[0].Key && t == oursTarget(sc) {
			for _, gl := range sc.Goals {
				if gl.MaxAbs > 0 {
					bar.Mark = gl.MaxAbs
				}
			}
		}
		if t.Missing != "" {
			bar.Missing = "see the page"
		} else if v, ok := res[t.Name].Median(m.Key); ok {
			bar.Value = v
		} else {
			bar.Missing = "every run failed"
		}
		g.Bars = append(g.Bars, bar)
	}
	c.Groups = []chart.Group{g}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := c.Encode(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// drawTargets plots ours ÷ peer for every ratio goal that was measured,
// with the goal as a tick. It reports whether there was anything to plot.
func drawTargets(path string, scs []*Scenario, run *Run) (bool, error) {
	g := chart.Group{}
	for _, sc := range scs {
		for _, gs := range evalGoals(sc, run.Results[sc.ID]) {
			if gs.Goal.MinRatio <= 0 || (gs.Status != "met" && gs.Status != "missed") {
				continue
			}
			g.Bars = append(g.Bars, chart.Bar{Label: sc.Short + ": ours / " + gs.Goal.Peer, Value: gs.Value,
				Ours: true, Mark: gs.Goal.MinRatio})
		}
	}
	if len(g.Bars) == 0 {
		return false, nil
	}
	c := &chart.Chart{Title: "ours / peer (ratio of medians)", Unit: "x", LabelWidth: 400,
		Note: "the dark tick is the issue's target; higher is better", Groups: []chart.Group{g}}
	f, err := os.Create(path)
	if err != nil {
		return false, err
	}
	if err := c.Encode(f); err != nil {
		f.Close()
		return false, err
	}
	return true, f.Close()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func clipLines(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}

// previousLong returns the long-mode section of the existing page, so a
// normal run keeps the last long-mode figures.
func previousLong(docs string) string {
	b, err := os.ReadFile(docs)
	if err == nil {
		s := string(b)
		i := strings.Index(s, longBegin)
		j := strings.Index(s, longEnd)
		if i >= 0 && j > i {
			return strings.TrimSpace(s[i+len(longBegin) : j])
		}
	}
	return "Not run yet. `./bench/run.sh --long` holds 100,000 concurrent connections on this one machine: " +
		"several server processes share the port with SO_REUSEPORT, and several client processes connect from " +
		"source addresses 127.0.0.2 and up (one process may open at most 20000 files here). It reports server " +
		"memory per connection."
}
