// Command goasync-trace draws the pipelines of a goasync debug log as
// timelines, so a slow or failed step stands out at a glance.
//
// It reads a zap JSON log (files named on the command line, or standard
// input) written with the library logger at debug level
// (goasync.SetLogger; the production or the development encoder), keeps the "future started", "future settled" and
// "future linked" entries, and draws each pipeline (trace id) as a
// waterfall: one row per step, indented under the step it came from, a bar
// from its start to its end on a time axis shared by the pipeline, its
// duration and its outcome. Failed steps are marked X with their error,
// cancelled ones ~, steps still pending at the end of the log ?, and the
// slow ones with ! (at least -slow, or by default the steps that take half
// of their pipeline's time: the path that made it slow).
//
// Usage:
//
//	goasync-trace [-trace ID] [-failed] [-slow D] [-width N] [-errwidth N] [-html FILE] [log.json ...]
//
// With -html FILE it also writes one self-contained HTML page with an SVG
// timeline per pipeline (hover a bar for its name, duration, error and
// where it was made). Both zap encoders' usual time and duration
// encodings are read: epoch seconds or ISO 8601 times, seconds,
// nanoseconds or Go duration strings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "goasync-trace:", err)
		}
		os.Exit(2)
	}
}

type options struct {
	trace  string
	failed bool
	slow   time.Duration
	width  int
	errw   int
	html   string
}

func run(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("goasync-trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.trace, "trace", "", "draw only the pipeline with this trace id")
	fs.BoolVar(&o.failed, "failed", false, "draw only pipelines with a failed step")
	fs.DurationVar(&o.slow, "slow", 0, "mark steps at least this long as slow (default: steps taking half of their pipeline's time)")
	fs.IntVar(&o.width, "width", 60, "width of the bars in the text waterfall")
	fs.IntVar(&o.errw, "errwidth", 100, "cut errors to this many characters in the text waterfall (0: never)")
	fs.StringVar(&o.html, "html", "", "also write an HTML page with SVG timelines to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: goasync-trace [flags] [log.json ...]  (standard input without files)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.width < 10 {
		o.width = 10
	}
	lg := newLog()
	if fs.NArg() == 0 {
		if err := lg.read(stdin); err != nil {
			return err
		}
	}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = lg.read(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	ps := lg.pipelines()
	ps = filter(ps, o)
	if len(ps) == 0 {
		fmt.Fprintln(stdout, "no traced pipelines in the log (is the library logger at debug level?)")
	}
	for _, p := range ps {
		writeText(stdout, p, o.width, o.errw, o.slow)
	}
	if o.html != "" {
		f, err := os.Create(o.html)
		if err != nil {
			return err
		}
		if err := writeHTML(f, ps, o.slow); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}

func filter(ps []*pipeline, o options) []*pipeline {
	var out []*pipeline
	for _, p := range ps {
		if o.trace != "" && p.id != o.trace {
			continue
		}
		if o.failed && p.failed == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}
