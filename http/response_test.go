package http

import (
	"bytes"
	"strings"
	"testing"
)

// The constructors keep a response's Content-Type value and short body in
// the Response's own allocation; changing one response must never show in
// another, and a long body must be copied whole.
func TestConstructorsDoNotShareStorage(t *testing.T) {
	a, b := Text(200, "hello"), Text(200, "hello")
	a.Header["Content-Type"][0] = "x/changed"
	a.Body[0] = 'J'
	if got := b.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Fatalf("second response's Content-Type = %q", got)
	}
	if string(b.Body) != "hello" {
		t.Fatalf("second response's body = %q", b.Body)
	}
	// Appending must not write past the body into the response's storage.
	ext := append(b.Body, " world"...)
	if string(b.Body) != "hello" || string(ext) != "hello world" {
		t.Fatalf("append: body %q, result %q", b.Body, ext)
	}
	b.Header.Add("Content-Type", "y/second")
	if got := b.Header.Values("Content-Type"); len(got) != 2 || got[0] != "text/plain; charset=utf-8" {
		t.Fatalf("Add on Content-Type: %q", got)
	}
	long := strings.Repeat("z", 3*smallBody)
	if r := HTML(201, long); string(r.Body) != long || r.Status != 201 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("HTML with a long body: status %d, type %q, body %d bytes", r.Status, r.Header.Get("Content-Type"), len(r.Body))
	}
	for _, n := range []int{0, 1, smallBody - 1, smallBody, smallBody + 1} {
		s := strings.Repeat("q", n)
		if r := Text(200, s); string(r.Body) != s || (n <= smallBody && len(r.Body) != cap(r.Body)) {
			t.Fatalf("Text with %d bytes: body %q, cap %d", n, r.Body, cap(r.Body))
		}
	}
	raw := []byte("kept")
	if r := Bytes(200, "application/octet-stream", raw); &r.Body[0] != &raw[0] || r.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatal("Bytes must keep the caller's slice and set its type")
	}
	if r := JSON(200, map[string]int{"a": 1}); !bytes.Equal(r.Body, []byte("{\"a\":1}\n")) || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: %q %q", r.Body, r.Header.Get("Content-Type"))
	}
}

var sinkResponse *Response

// BenchmarkText is the cost of the most common constructor.
func BenchmarkText(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkResponse = Text(200, "hello")
	}
}
