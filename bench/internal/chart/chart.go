// Package chart draws the benchmark results page's plots: horizontal bar
// charts, grouped, written as PNG with the standard library's image/png and
// the fixed 7x13 font of golang.org/x/image.
package chart

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Bar is one bar: a label, its value and whether it is ours (drawn in the
// highlight colour). A bar with Missing set is drawn as a note instead.
type Bar struct {
	Label   string
	Value   float64
	Ours    bool
	Missing string
	// Mark, when positive, draws a dark tick at this value (a target).
	Mark float64
}

// Group is a titled set of bars sharing the chart's scale.
type Group struct {
	Name string
	Bars []Bar
}

// Chart is a horizontal bar chart.
type Chart struct {
	Title  string
	Unit   string // shown after each value and in the subtitle
	Note   string // a line under the title, e.g. "higher is better"
	Groups []Group
	// LabelWidth is the width in pixels of the label column (default 230).
	LabelWidth int
}

var (
	colBG    = color.RGBA{255, 255, 255, 255}
	colText  = color.RGBA{30, 30, 30, 255}
	colMuted = color.RGBA{110, 110, 110, 255}
	colPeer  = color.RGBA{150, 160, 175, 255}
	colOurs  = color.RGBA{230, 120, 30, 255}
	colGrid  = color.RGBA{230, 230, 230, 255}
)

const (
	width   = 900
	labelW  = 230
	valueW  = 175
	rowH    = 22
	barH    = 15
	groupH  = 22
	headerH = 52
	padding = 12
)

// Encode renders c as a PNG to w.
func (c *Chart) Encode(w io.Writer) error {
	rows := 0
	for _, g := range c.Groups {
		rows += len(g.Bars)
	}
	named := 0
	for _, g := range c.Groups {
		if g.Name != "" {
			named++
		}
	}
	h := headerH + named*groupH + rows*rowH + padding
	img := image.NewRGBA(image.Rect(0, 0, width, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBG}, image.Point{}, draw.Src)

	text(img, padding, 18, c.Title, colText)
	if c.Note != "" {
		text(img, padding, 36, c.Note, colMuted)
	}
	maxV := 0.0
	for _, g := range c.Groups {
		for _, b := range g.Bars {
			if b.Missing == "" && b.Value > maxV {
				maxV = b.Value
			}
			if b.Missing == "" && b.Mark > maxV {
				maxV = b.Mark
			}
		}
	}
	if maxV <= 0 {
		maxV = 1
	}
	lw := labelW
	if c.LabelWidth > 0 {
		lw = c.LabelWidth
	}
	x0 := lw
	barMax := width - lw - valueW - padding
	// Light vertical grid at quarters of the scale.
	for q := 1; q <= 4; q++ {
		x := x0 + barMax*q/4
		fill(img, image.Rect(x, headerH-4, x+1, h-padding), colGrid)
	}
	y := headerH
	for _, g := range c.Groups {
		if g.Name != "" {
			text(img, padding, y+15, g.Name, colText)
			y += groupH
		}
		for _, b := range g.Bars {
			col := colPeer
			if b.Ours {
				col = colOurs
			}
			text(img, padding+12, y+14, clip(b.Label, (lw-padding-16)/7), colText)
			if b.Missing != "" {
				text(img, x0+4, y+14, clip("not measured: "+b.Missing, (width-x0-padding)/7), colMuted)
			} else {
				wpx := int(math.Round(b.Value / maxV * float64(barMax)))
				if wpx < 1 && b.Value > 0 {
					wpx = 1
				}
				top := y + (rowH-barH)/2
				fill(img, image.Rect(x0, top, x0+wpx, top+barH), col)
				label := Format(b.Value) + unitSep(c.Unit) + c.Unit
				if b.Mark > 0 {
					mx := x0 + int(math.Round(b.Mark/maxV*float64(barMax)))
					fill(img, image.Rect(mx-1, top-3, mx+1, top+barH+3), colText)
					label += " (target " + Format(b.Mark) + unitSep(c.Unit) + c.Unit + ")"
				}
				text(img, max(x0+wpx, markX(b, x0, barMax, maxV))+6, y+14, label, colText)
			}
			y += rowH
		}
	}
	return png.Encode(w, img)
}

// markX is the right end of a bar's target tick, or 0.
func markX(b Bar, x0, barMax int, maxV float64) int {
	if b.Mark <= 0 {
		return 0
	}
	return x0 + int(math.Round(b.Mark/maxV*float64(barMax))) + 1
}

// unitSep is the space between a value and its unit ("1.2x", "3 KB").
func unitSep(unit string) string {
	if unit == "x" || unit == "" {
		return ""
	}
	return " "
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func clip(s string, n int) string {
	if n < 4 || len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// Format prints a value with three significant figures and a k/M suffix.
func Format(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 10e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case a >= 100e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	case a >= 10e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 1e3:
		return fmt.Sprintf("%.2fk", v/1e3)
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
