package main

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

type htmlBar struct {
	X, Y, W, TextX float64
	Class, Label   string
	Title          string
	Depth          int
}

type htmlPipeline struct {
	ID, Summary string
	Height      int
	Bars        []htmlBar
	Ticks       []htmlTick
}

type htmlTick struct {
	X     float64
	Label string
}

const (
	svgLeft  = 360.0 // the name column
	svgWidth = 720.0 // the time axis
	rowH     = 20
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>goasync pipelines</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 1.5em; color: #222 }
h2 { font-size: 14px; margin: 1.5em 0 .3em; font-weight: 600 }
h2 small { font-weight: normal; color: #666 }
svg text { font: 12px ui-monospace, monospace; dominant-baseline: middle }
rect.ok { fill: #4c9a5a } rect.failed { fill: #d33 } rect.cancelled { fill: #aaa }
rect.pending { fill: #e0a030 } rect.slow { stroke: #000; stroke-width: 2 }
text.failed { fill: #d33; font-weight: bold } line.tick { stroke: #ddd }
.legend span { display: inline-block; padding: 0 .6em; margin-right: .5em; color: #fff }
</style></head><body>
<h1>goasync pipelines</h1>
<p class="legend"><span style="background:#4c9a5a">ok</span><span style="background:#d33">failed</span><span style="background:#aaa">cancelled</span><span style="background:#e0a030">pending</span><span style="background:#fff;color:#000;outline:2px solid #000">slow</span> Hover a bar for its name, duration, error and where it was made.</p>
{{range $p := .}}<h2>trace {{.ID}} <small>{{.Summary}}</small></h2>
<svg width="1100" height="{{.Height}}" xmlns="http://www.w3.org/2000/svg">
{{range .Ticks}}<line class="tick" x1="{{.X}}" y1="0" x2="{{.X}}" y2="{{$p.Height}}"/><text x="{{.X}}" y="8" fill="#999">{{.Label}}</text>
{{end}}{{range .Bars}}<g><title>{{.Title}}</title><text x="{{.TextX}}" y="{{.Y}}" class="{{.Class}}">{{.Label}}</text><rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="14" transform="translate(0,-7)" class="{{.Class}}"/></g>
{{end}}</svg>
{{end}}</body></html>
`))

// writeHTML writes one page with an SVG waterfall per pipeline.
func writeHTML(w io.Writer, ps []*pipeline, slow time.Duration) error {
	var hs []htmlPipeline
	for _, p := range ps {
		total := p.end.Sub(p.start)
		h := htmlPipeline{ID: p.id, Height: rowH*len(p.steps) + 24}
		h.Summary = fmt.Sprintf("%d steps, %s", len(p.steps), round(total))
		if p.failed > 0 {
			h.Summary += fmt.Sprintf(", %d failed", p.failed)
		}
		for i := 0; i <= 4; i++ {
			h.Ticks = append(h.Ticks, htmlTick{X: svgLeft + svgWidth*float64(i)/4, Label: round(total * time.Duration(i) / 4)})
		}
		for i, s := range p.steps {
			from, to := span(p, s)
			x, wd := svgLeft, 2.0
			if total > 0 {
				x = svgLeft + svgWidth*float64(from)/float64(total)
				wd = svgWidth * float64(to-from) / float64(total)
			}
			if wd < 2 {
				wd = 2
			}
			_, word := outcome(s)
			class := word
			if isSlow(p, s, slow) {
				class += " slow"
			}
			title := fmt.Sprintf("%s\n%s, %s", label(s), word, round(to-from))
			if s.err != "" {
				title += "\nerror: " + s.err
			}
			if s.at != "" {
				title += "\nmade at " + s.at
			}
			title += fmt.Sprintf("\nstep %d, parent %d", s.id, s.parent)
			h.Bars = append(h.Bars, htmlBar{
				X: x, W: wd, Y: float64(24 + i*rowH), TextX: 4 + 12*float64(s.depth),
				Class: class, Label: clip(label(s), 44-s.depth*2), Title: title, Depth: s.depth,
			})
		}
		hs = append(hs, h)
	}
	return page.Execute(w, hs)
}

func clip(s string, n int) string {
	if n < 8 {
		n = 8
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
