// Command benchrun is the orchestrator of goasync's benchmark suite (run it
// through bench/run.sh). It starts every server pinned to CPU 0 and every
// load generator pinned to CPU 1, measures each target the same number of
// times (round robin, so machine noise spreads over all targets), takes the
// median, computes the ratio of ours to each peer, profiles ours where a
// target of the issue is missed, and writes docs/benchmarks.md and its PNG
// plots.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Result holds the samples of one target in one scenario.
type Result struct {
	Samples []map[string]float64 `json:"samples"`
	Errs    []string             `json:"errors,omitempty"`
}

// Median returns the median of metric key over the samples, and whether
// there was any sample.
func (r *Result) Median(key string) (float64, bool) {
	if r == nil || len(r.Samples) == 0 {
		return 0, false
	}
	v := make([]float64, 0, len(r.Samples))
	for _, s := range r.Samples {
		v = append(v, s[key])
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2], true
	}
	return (v[n/2-1] + v[n/2]) / 2, true
}

// Run is everything one invocation measured.
type Run struct {
	Started   time.Time                     `json:"started"`
	Elapsed   time.Duration                 `json:"elapsed"`
	LoadStart string                        `json:"loadavg_start"`
	LoadEnd   string                        `json:"loadavg_end"`
	Results   map[string]map[string]*Result `json:"results"`
	Profiles  map[string]string             `json:"profiles"`
	Futures   string                        `json:"futures"`
}

var nextPort = 21000

func port() int {
	p := nextPort
	nextPort += 2
	if nextPort > 32000 {
		nextPort = 21000
	}
	return p
}

func main() {
	log.SetFlags(0)
	bin := flag.String("bin", "bin", "directory of the built tools")
	docs := flag.String("docs", "../docs/benchmarks.md", "results page to write")
	plots := flag.String("plots", "../docs/benchmarks", "directory for the PNG plots")
	runs := flag.Int("runs", 3, "measurements per target")
	quick := flag.Bool("quick", false, "smoke run: 1 measurement, short durations, fewer connections")
	only := flag.String("only", "", "comma-separated scenario ids to run (default all)")
	long := flag.Bool("long", false, "long mode: 100,000 connections over several server processes (SO_REUSEPORT)")
	longN := flag.Int("long-conns", 100000, "connections in long mode")
	command := flag.String("command", "./bench/run.sh", "the command shown on the page")
	from := flag.String("from", "", "rewrite the page from a saved results JSON (results/latest.json) without measuring")
	flag.Parse()

	cfg := &config{runs: *runs, bin: *bin, lua: "lua/pipeline16.lua",
		echoDur: 2 * time.Second, warm: 300 * time.Millisecond,
		wrkDur: 2 * time.Second, clientDur: 2 * time.Second,
		idleN: 15000, delayRate: 3000, delayOpen: 5 * time.Second, delay: 5 * time.Second}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		// A smoke run must not replace the committed figures.
		if !set["docs"] {
			*docs = "results/quick.md"
		}
		if !set["plots"] {
			*plots = "results/quick"
		}
		cfg.runs = 1
		cfg.echoDur, cfg.warm, cfg.wrkDur, cfg.clientDur = 500*time.Millisecond, 100*time.Millisecond, time.Second, 500*time.Millisecond
		cfg.idleN, cfg.delayRate, cfg.delayOpen, cfg.delay = 2000, 500, time.Second, time.Second
	}
	if *long {
		if err := runLong(cfg, *longN, *docs); err != nil {
			log.Fatalf("benchrun: long mode: %v", err)
		}
		return
	}

	ours := oursKinds(cfg)
	run := &Run{Started: time.Now().UTC(), LoadStart: loadavg(), Results: map[string]map[string]*Result{},
		Profiles: map[string]string{}}
	want := map[string]bool{}
	for _, id := range strings.Split(*only, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	var scs []*Scenario
	for _, sc := range cfg.scenarios() {
		if len(want) > 0 && !want[sc.ID] {
			continue
		}
		for _, t := range sc.Targets {
			if t.Ours {
				t.Missing = ours.missing(t.Kind)
			}
		}
		scs = append(scs, sc)
	}
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			log.Fatalf("benchrun: %v", err)
		}
		if err := json.Unmarshal(b, run); err != nil {
			log.Fatalf("benchrun: %s: %v", *from, err)
		}
		if err := writePage(cfg, run, scs, *docs, *plots, *command, *quick); err != nil {
			log.Fatalf("benchrun: write page: %v", err)
		}
		log.Printf("benchrun: rewrote %s from %s", *docs, *from)
		return
	}
	t0 := time.Now()
	for _, sc := range scs {
		st := time.Now()
		res := map[string]*Result{}
		run.Results[sc.ID] = res
		for i := 0; i < cfg.runs; i++ {
			for _, t := range sc.Targets {
				if t.Missing != "" {
					continue
				}
				r := res[t.Name]
				if r == nil {
					r = &Result{}
					res[t.Name] = r
				}
				m, err := sc.Measure(t, port(), "")
				if err != nil {
					r.Errs = append(r.Errs, err.Error())
					log.Printf("  %s / %s: %v", sc.ID, t.Name, err)
					continue
				}
				r.Samples = append(r.Samples, m)
			}
		}
		log.Printf("%s: %.1fs", sc.ID, time.Since(st).Seconds())
		// Profile ours once where a goal is missed.
		if g := missedGoals(sc, res); len(g) > 0 {
			if t := oursTarget(sc); t != nil && t.Missing == "" {
				run.Profiles[sc.ID] = profile(cfg, sc, t)
			}
		}
	}
	if len(want) == 0 || want["futures"] {
		st := time.Now()
		run.Futures = futures(cfg)
		log.Printf("futures: %.1fs", time.Since(st).Seconds())
	}
	run.Elapsed = time.Since(t0)
	run.LoadEnd = loadavg()
	if err := os.MkdirAll("results", 0o755); err == nil {
		if b, err := json.MarshalIndent(run, "", " "); err == nil {
			_ = os.WriteFile("results/latest.json", b, 0o644)
		}
	}
	if err := writePage(cfg, run, scs, *docs, *plots, *command, *quick); err != nil {
		log.Fatalf("benchrun: write page: %v", err)
	}
	log.Printf("benchrun: measured in %.0fs; wrote %s", run.Elapsed.Seconds(), *docs)
}

// oursSet says which kinds cmd/ours implements, or why none.
type oursSet struct {
	kinds  map[string]bool
	reason string
}

func (o oursSet) missing(kind string) string {
	if o.reason != "" {
		return o.reason
	}
	if !o.kinds[kind] {
		return "cmd/ours has no \"" + kind + "\" yet: the library package it needs had not landed when this page was generated"
	}
	return ""
}

func oursKinds(cfg *config) oursSet {
	bin := cfg.path("ours")
	if !fileExists(bin) {
		reason := "cmd/ours did not build"
		if b, err := os.ReadFile(cfg.path("ours.err")); err == nil && len(b) > 0 {
			first := strings.SplitN(strings.TrimSpace(string(b)), "\n", 3)
			reason += " (" + strings.Join(first[:min(2, len(first))], "; ") + ")"
		}
		return oursSet{reason: reason}
	}
	out, err := exec.Command(bin, "-list").Output()
	if err != nil {
		return oursSet{reason: fmt.Sprintf("cmd/ours -list failed: %v", err)}
	}
	s := oursSet{kinds: map[string]bool{}}
	for _, k := range strings.Fields(string(out)) {
		s.kinds[k] = true
	}
	return s
}

func oursTarget(sc *Scenario) *Target {
	for _, t := range sc.Targets {
		if t.Ours {
			return t
		}
	}
	return nil
}

// goalStatus is the outcome of one goal.
type goalStatus struct {
	Goal   Goal
	Value  float64 // the ratio, or the absolute value for MaxAbs goals
	Status string  // "met", "missed", or "not measured: ..."
}

func evalGoals(sc *Scenario, res map[string]*Result) []goalStatus {
	var out []goalStatus
	t := oursTarget(sc)
	key := sc.Metrics[0].Key
	for _, g := range sc.Goals {
		gs := goalStatus{Goal: g}
		ov, ok := res[t.Name].Median(key)
		switch {
		case t.Missing != "":
			gs.Status = "not measured: " + t.Missing
		case !ok:
			gs.Status = "not measured: every run of ours failed"
		case g.MaxAbs > 0:
			gs.Value = ov
			gs.Status = map[bool]string{true: "met", false: "missed"}[ov <= g.MaxAbs]
		default:
			pv, ok := res[g.Peer].Median(key)
			if !ok || pv == 0 {
				gs.Status = "not measured: the peer failed"
				break
			}
			gs.Value = ov / pv
			gs.Status = map[bool]string{true: "met", false: "missed"}[gs.Value >= g.MinRatio]
		}
		out = append(out, gs)
	}
	return out
}

func missedGoals(sc *Scenario, res map[string]*Result) []goalStatus {
	var out []goalStatus
	for _, g := range evalGoals(sc, res) {
		if g.Status == "missed" {
			out = append(out, g)
		}
	}
	return out
}

// profile measures ours once more with a profile and returns pprof's top.
func profile(cfg *config, sc *Scenario, t *Target) string {
	dir, _ := filepath.Abs("results")
	_ = os.MkdirAll(dir, 0o755)
	ext := ".cpu.pprof"
	if sc.ID == "idle" {
		ext = ".heap.pprof"
	}
	prof := filepath.Join(dir, sc.ID+ext)
	_ = os.Remove(prof)
	if _, err := sc.Measure(t, port(), prof); err != nil {
		return "profiling run failed: " + err.Error()
	}
	var parts []string
	for _, view := range [][]string{{"-nodecount=15"}, {"-cum", "-nodecount=25"}} {
		args := append([]string{"tool", "pprof", "-top"}, view...)
		if sc.ID == "idle" {
			args = append(args, "-sample_index=inuse_space")
		}
		args = append(args, cfg.path("ours"), prof)
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			return fmt.Sprintf("go tool pprof failed: %v: %s", err, out)
		}
		parts = append(parts, "$ go tool pprof "+strings.Join(args[2:len(args)-2], " ")+"\n"+trimPprof(string(out)))
	}
	return strings.Join(parts, "\n\n")
}

// trimPprof drops pprof's File/Build ID/Time header lines.
func trimPprof(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
