package http

import (
	"bytes"
	"strings"
	"testing"
)

// The constructors keep a response's short body in the Response's own
// allocation and its content type beside a nil Header; changing one
// response must never show in another, and a long body must be copied
// whole.
func TestConstructorsDoNotShareStorage(t *testing.T) {
	a, b := Text(200, "hello"), Text(200, "hello")
	if a.Header != nil || a.ContentType() != "text/plain; charset=utf-8" {
		t.Fatalf("Text: header %v, type %q", a.Header, a.ContentType())
	}
	a.SetHeader("Content-Type", "x/changed")
	a.Body[0] = 'J'
	if got := a.ContentType(); got != "x/changed" {
		t.Fatalf("a Content-Type in Header must win: %q", got)
	}
	if got := b.ContentType(); got != "text/plain; charset=utf-8" || b.Header != nil {
		t.Fatalf("second response's Content-Type = %q, header %v", got, b.Header)
	}
	if string(b.Body) != "hello" {
		t.Fatalf("second response's body = %q", b.Body)
	}
	// Appending must not write past the body into the response's storage.
	ext := append(b.Body, " world"...)
	if string(b.Body) != "hello" || string(ext) != "hello world" {
		t.Fatalf("append: body %q, result %q", b.Body, ext)
	}
	long := strings.Repeat("z", 3*smallBody)
	if r := HTML(201, long); string(r.Body) != long || r.Status != 201 || r.ContentType() != "text/html; charset=utf-8" {
		t.Fatalf("HTML with a long body: status %d, type %q, body %d bytes", r.Status, r.ContentType(), len(r.Body))
	}
	for _, n := range []int{0, 1, smallBody - 1, smallBody, smallBody + 1} {
		s := strings.Repeat("q", n)
		if r := Text(200, s); string(r.Body) != s || (n <= smallBody && len(r.Body) != cap(r.Body)) {
			t.Fatalf("Text with %d bytes: body %q, cap %d", n, r.Body, cap(r.Body))
		}
	}
	raw := []byte("kept")
	if r := Bytes(200, "application/octet-stream", raw); &r.Body[0] != &raw[0] || r.ContentType() != "application/octet-stream" {
		t.Fatal("Bytes must keep the caller's slice and set its type")
	}
	if r := JSON(200, map[string]int{"a": 1}); !bytes.Equal(r.Body, []byte("{\"a\":1}\n")) || r.ContentType() != "application/json" {
		t.Fatalf("JSON: %q %q", r.Body, r.ContentType())
	}
	// The constructor's type reaches the wire, sanitized like any field.
	head, _ := appendResponseHead(nil, Bytes(200, "a/b\r\nX-Evil: 1", []byte("x")), "GET", 1, true)
	if !bytes.Contains(head, []byte("Content-Type: a/b  X-Evil: 1\r\n")) {
		t.Fatalf("content type on the wire: %q", head)
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
