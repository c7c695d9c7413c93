package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// outcome is the mark of a step in both drawings.
func outcome(s *step) (mark byte, word string) {
	switch {
	case !s.settled:
		return '?', "pending"
	case s.stage == "reject":
		return 'X', "failed"
	case s.stage == "cancel":
		return '~', "cancelled"
	}
	return '=', "ok"
}

// span is a step's time on the pipeline's axis; a pending step runs to the
// end of the pipeline.
func span(p *pipeline, s *step) (from, to time.Duration) {
	from = s.start.Sub(p.start)
	end := s.end
	if !s.settled || end.IsZero() {
		end = p.end
	}
	to = end.Sub(p.start)
	if to < from {
		to = from
	}
	return from, to
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// writeText draws p as a waterfall of width columns.
func writeText(w io.Writer, p *pipeline, width, errw int, slow time.Duration) {
	total := p.end.Sub(p.start)
	fmt.Fprintf(w, "trace %s  %d steps  %s", p.id, len(p.steps), round(total))
	if p.failed > 0 {
		fmt.Fprintf(w, "  %d failed", p.failed)
	}
	fmt.Fprintf(w, "  (start %s)\n", p.start.Format("15:04:05.000000"))
	nameW := 0
	for _, s := range p.steps {
		if n := 2*s.depth + len(label(s)); n > nameW {
			nameW = n
		}
	}
	if nameW > 48 {
		nameW = 48
	}
	for _, s := range p.steps {
		from, to := span(p, s)
		a, b := 0, 0
		if total > 0 {
			a = int(int64(from) * int64(width) / int64(total))
			b = int(int64(to) * int64(width) / int64(total))
		}
		if a >= width {
			a = width - 1
		}
		if b <= a {
			b = a + 1
		}
		if b > width {
			b = width
		}
		mark, word := outcome(s)
		bar := strings.Repeat(" ", a) + strings.Repeat(string(mark), b-a) + strings.Repeat(" ", width-b)
		d := to - from
		flag := " "
		if isSlow(p, s, slow) {
			flag = "!"
		}
		name := strings.Repeat("  ", s.depth) + label(s)
		if len(name) > nameW {
			name = name[:nameW-1] + "…"
		}
		fmt.Fprintf(w, "%s %-*s |%s| %9s %s", flag, nameW, name, bar, round(d), word)
		if s.err != "" {
			e := s.err
			if errw > 0 {
				e = clip(e, errw)
			}
			fmt.Fprintf(w, ": %s", e)
		}
		if s.at != "" {
			fmt.Fprintf(w, "  (%s)", s.at)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// label is the step's name, with the steps it joins.
func label(s *step) string {
	n := s.name
	if n == "" {
		n = s.kind
	}
	if n == "" {
		n = fmt.Sprintf("step %d", s.id)
	}
	if len(s.joins) > 1 {
		n += fmt.Sprintf(" (joins %d)", len(s.joins))
	}
	return n
}
