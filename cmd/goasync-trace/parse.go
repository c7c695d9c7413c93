package main

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// step is one future of a pipeline, as its log entries tell.
type step struct {
	id, parent uint64
	trace      string
	name, kind string
	at         string
	stage      string // resolve, reject, cancel; "" while pending
	err        string
	joins      []uint64
	start, end time.Time
	dur        time.Duration
	started    bool
	settled    bool
	children   []*step
	depth      int
}

// pipeline is the steps of one trace id.
type pipeline struct {
	id         string
	steps      []*step // in drawing order (depth first, by start)
	start, end time.Time
	failed     int
}

type logState struct {
	steps map[uint64]*step
	links map[string][2]any // to_trace -> (trace, id) of the step that waits for it
	order []uint64
}

func newLog() *logState {
	return &logState{steps: map[uint64]*step{}, links: map[string][2]any{}}
}

// read takes the JSON lines of r; lines that are not JSON objects, and
// entries that are not future steps, are skipped.
func (lg *logState) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var m map[string]any
		if json.Unmarshal(line, &m) != nil {
			continue
		}
		lg.entry(m)
	}
	return sc.Err()
}

func (lg *logState) get(id uint64) *step {
	s := lg.steps[id]
	if s == nil {
		s = &step{id: id}
		lg.steps[id] = s
		lg.order = append(lg.order, id)
	}
	return s
}

func (lg *logState) entry(m map[string]any) {
	msg := firstString(m, "msg", "M", "message")
	switch msg {
	case "future started", "future settled", "future linked":
	default:
		return
	}
	id, ok := uintField(m["id"])
	if !ok {
		return
	}
	tr, _ := m["trace"].(string)
	if tr == "" {
		return
	}
	var ts time.Time
	hasTS := false
	for _, k := range [...]string{"ts", "T", "time", "timestamp"} {
		if v, ok := m[k]; ok {
			ts, hasTS = timeField(v)
			break
		}
	}
	switch msg {
	case "future linked":
		to, _ := m["to_trace"].(string)
		if to != "" {
			lg.links[to] = [2]any{tr, id}
		}
	case "future started":
		s := lg.get(id)
		s.trace = tr
		s.started = true
		s.parent, _ = uintField(m["parent"])
		s.name, _ = m["name"].(string)
		s.kind, _ = m["kind"].(string)
		s.at, _ = m["at"].(string)
		if js, ok := m["joins"].([]any); ok {
			for _, j := range js {
				if v, ok := uintField(j); ok {
					s.joins = append(s.joins, v)
				}
			}
		}
		if hasTS {
			s.start = ts
		}
	case "future settled":
		s := lg.get(id)
		s.trace = tr
		s.settled = true
		if p, ok := uintField(m["parent"]); ok {
			s.parent = p
		}
		if n, _ := m["name"].(string); n != "" {
			s.name = n
		}
		s.stage, _ = m["stage"].(string)
		s.err, _ = m["error"].(string)
		s.dur, _ = durationField(m["duration"])
		if hasTS {
			s.end = ts
		}
	}
}

// pipelines assembles the steps into pipelines: a trace linked from a
// step of another (a Compose whose callback started its own pipeline) is
// drawn inside that one, under that step.
func (lg *logState) pipelines() []*pipeline {
	byTrace := map[string]*pipeline{}
	var ids []string
	traceOf := func(s *step) string {
		t := s.trace
		for range 16 { // follow links, bounded
			l, ok := lg.links[t]
			if !ok {
				break
			}
			t = l[0].(string)
		}
		return t
	}
	for _, id := range lg.order {
		s := lg.steps[id]
		// Times: a step without its start entry started duration before
		// its end; one without an end entry ended duration after its
		// start (or is still pending).
		switch {
		case s.start.IsZero() && !s.end.IsZero():
			s.start = s.end.Add(-s.dur)
		case s.end.IsZero() && s.settled && !s.start.IsZero():
			s.end = s.start.Add(s.dur)
		case s.settled && s.dur > 0 && !s.start.IsZero() && s.end.Sub(s.start) < s.dur:
			s.start = s.end.Add(-s.dur) // the duration is more precise than ts
		}
		if s.start.IsZero() {
			continue
		}
		if s.parent == 0 {
			if l, ok := lg.links[s.trace]; ok {
				s.parent = l[1].(uint64)
			}
		}
		t := traceOf(s)
		p := byTrace[t]
		if p == nil {
			p = &pipeline{id: t}
			byTrace[t] = p
			ids = append(ids, t)
		}
		p.steps = append(p.steps, s)
	}
	var out []*pipeline
	for _, t := range ids {
		out = append(out, byTrace[t].assemble(lg))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

func (p *pipeline) assemble(lg *logState) *pipeline {
	in := map[uint64]bool{}
	for _, s := range p.steps {
		in[s.id] = true
	}
	var roots []*step
	for _, s := range p.steps {
		if s.parent != 0 && in[s.parent] {
			par := lg.steps[s.parent]
			par.children = append(par.children, s)
		} else {
			roots = append(roots, s)
		}
	}
	p.start, p.end = p.steps[0].start, p.steps[0].start
	for _, s := range p.steps {
		if s.start.Before(p.start) {
			p.start = s.start
		}
		if s.end.After(p.end) {
			p.end = s.end
		}
		if s.start.After(p.end) {
			p.end = s.start
		}
		if s.stage == "reject" {
			p.failed++
		}
	}
	byStart := func(ss []*step) {
		sort.SliceStable(ss, func(i, j int) bool {
			if !ss[i].start.Equal(ss[j].start) {
				return ss[i].start.Before(ss[j].start)
			}
			return ss[i].id < ss[j].id
		})
	}
	var walk func(ss []*step, depth int)
	p.steps = p.steps[:0]
	walk = func(ss []*step, depth int) {
		byStart(ss)
		for _, s := range ss {
			s.depth = depth
			p.steps = append(p.steps, s)
			walk(s.children, depth+1)
		}
	}
	walk(roots, 0)
	return p
}

// isSlow reports whether s is drawn as slow: at least slow when the user
// set -slow, otherwise at least half of its pipeline's time (and 1 ms),
// which marks the path that made the pipeline take as long as it did.
func isSlow(p *pipeline, s *step, slow time.Duration) bool {
	if !s.settled {
		return false
	}
	d := s.end.Sub(s.start)
	if slow > 0 {
		return d >= slow
	}
	return d >= time.Millisecond && d >= p.end.Sub(p.start)/2
}

func uintField(v any) (uint64, bool) {
	switch x := v.(type) {
	case float64:
		if x < 0 || x != math.Trunc(x) {
			return 0, false
		}
		return uint64(x), true
	case string:
		u, err := strconv.ParseUint(x, 10, 64)
		return u, err == nil
	}
	return 0, false
}

// timeField reads zap's time encodings: epoch seconds (float, the
// production default), epoch milli- or nanoseconds (integers), or a
// string in RFC 3339 / ISO 8601 form (the development default).
func timeField(v any) (time.Time, bool) {
	switch x := v.(type) {
	case float64:
		switch {
		case x > 1e17: // nanoseconds
			return time.Unix(0, int64(x)), true
		case x > 1e11: // milliseconds
			return time.UnixMicro(int64(x * 1e3)), true
		case x > 0:
			sec, frac := math.Modf(x)
			return time.Unix(int64(sec), int64(math.Round(frac*1e9))), true
		}
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04:05Z0700"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// durationField reads zap's duration encodings: seconds (float, the
// production default), nanoseconds (integer), or a Go duration string.
func durationField(v any) (time.Duration, bool) {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && x >= 1000 {
			return time.Duration(x), true // nanoseconds
		}
		return time.Duration(x * float64(time.Second)), true
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		return d, err == nil
	}
	return 0, false
}

// firstString returns the first of keys that holds a string: zap's
// production encoder calls the message "msg", the development one "M".
func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	return ""
}
