package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Output of Debian's wrk 4.1.0 with --latency, as the suite runs it.
const wrkOut = `Running 2s test @ http://127.0.0.1:21001/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   610.52us  250.11us   5.01ms   80.12%
    Req/Sec   104.31k     3.20k  108.90k    85.00%
  Latency Distribution
     50%  570.00us
     75%  700.00us
     90%  850.00us
     99%    1.39ms
  207560 requests in 2.00s, 29.49MB read
Requests/sec: 103702.41
Transfer/sec:     14.74MB
`

func TestParseWrk(t *testing.T) {
	m, err := parseWrk([]byte(wrkOut))
	if err != nil {
		t.Fatal(err)
	}
	if m["req_per_sec"] != 103702.41 {
		t.Errorf("req_per_sec = %v", m["req_per_sec"])
	}
	if m["requests"] != 207560 {
		t.Errorf("requests = %v", m["requests"])
	}
	if m["p99_us"] != 1390 {
		t.Errorf("p99_us = %v, want 1390", m["p99_us"])
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Error("no error for output without Requests/sec")
	}
	bad := strings.Replace(wrkOut, "Requests/sec", "  Non-2xx or 3xx responses: 12\nRequests/sec", 1)
	if _, err := parseWrk([]byte(bad)); err == nil {
		t.Error("no error for non-2xx responses")
	}
}

func TestMedian(t *testing.T) {
	r := &Result{Samples: []map[string]float64{{"v": 3}, {"v": 1}, {"v": 2}}}
	if v, ok := r.Median("v"); !ok || v != 2 {
		t.Errorf("median of 3,1,2 = %v %v", v, ok)
	}
	r.Samples = append(r.Samples, map[string]float64{"v": 10})
	if v, _ := r.Median("v"); v != 2.5 {
		t.Errorf("median of 1,2,3,10 = %v", v)
	}
	if _, ok := (*Result)(nil).Median("v"); ok {
		t.Error("median of nothing reported ok")
	}
}

func TestGoals(t *testing.T) {
	sc := &Scenario{ID: "x", Metrics: []Metric{{Key: "v"}},
		Targets: []*Target{{Name: "ours", Ours: true}, {Name: "peer"}},
		Goals:   []Goal{{Peer: "peer", MinRatio: 1.5}, {MaxAbs: 10}}}
	res := map[string]*Result{
		"ours": {Samples: []map[string]float64{{"v": 12}}},
		"peer": {Samples: []map[string]float64{{"v": 10}}},
	}
	g := evalGoals(sc, res)
	if g[0].Status != "missed" || g[0].Value != 1.2 {
		t.Errorf("ratio goal: %+v", g[0])
	}
	if g[1].Status != "missed" || g[1].Value != 12 {
		t.Errorf("absolute goal: %+v", g[1])
	}
	sc.Targets[0].Missing = "not built"
	if g := evalGoals(sc, res); !strings.HasPrefix(g[0].Status, "not measured") {
		t.Errorf("missing ours: %+v", g[0])
	}
}

func TestReplaceLongKeepsTheRest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.md")
	page := "# B\n\nbefore\n\n" + longBegin + "\nold\n" + longEnd + "\n\nafter\n"
	if err := os.WriteFile(p, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceLong(p, "new figures"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	s := string(b)
	if !strings.Contains(s, "new figures") || strings.Contains(s, "old") || !strings.Contains(s, "after") || !strings.Contains(s, "before") {
		t.Errorf("page after replaceLong:\n%s", s)
	}
	if got := previousLong(p); got != "new figures" {
		t.Errorf("previousLong = %q", got)
	}
}
