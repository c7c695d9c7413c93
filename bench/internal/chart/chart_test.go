package chart

import (
	"bytes"
	"image/png"
	"testing"
)

func TestEncodeDrawsAPNG(t *testing.T) {
	c := &Chart{Title: "t", Unit: "msg/s", Groups: []Group{{Bars: []Bar{
		{Label: "ours", Value: 120e3, Ours: true, Mark: 100e3},
		{Label: "peer", Value: 100e3},
		{Label: "absent", Missing: "not built"},
	}}}}
	var b bytes.Buffer
	if err := c.Encode(&b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w != width {
		t.Errorf("width %d", w)
	}
	// The ours bar is drawn in the highlight colour somewhere.
	found := false
	for y := 0; y < img.Bounds().Dy() && !found; y++ {
		for x := 0; x < width; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == uint32(colOurs.R) && g>>8 == uint32(colOurs.G) && bl>>8 == uint32(colOurs.B) {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("no bar in the highlight colour")
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 7: "7", 2.5: "2.50", 950: "950", 1234: "1.23k", 56789: "56.8k", 123456: "123k",
		1.5e6: "1.50M", 25e6: "25.0M",
	} {
		if got := Format(v); got != want {
			t.Errorf("Format(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestMarkBeyondTheLongestBarStaysInside(t *testing.T) {
	c := &Chart{Title: "t", Unit: "x", Groups: []Group{{Bars: []Bar{{Label: "a", Value: 3, Mark: 5}}}}}
	var b bytes.Buffer
	if err := c.Encode(&b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	// The bar is 3/5 of the scale: the pixels at 90% of the bar area are not orange.
	x := labelW + (width-labelW-valueW-padding)*9/10
	for y := 0; y < img.Bounds().Dy(); y++ {
		r, g, bl, _ := img.At(x, y).RGBA()
		if r>>8 == uint32(colOurs.R) && g>>8 == uint32(colOurs.G) && bl>>8 == uint32(colOurs.B) {
			t.Fatalf("bar reaches x=%d: the scale ignored the mark", x)
		}
	}
}
