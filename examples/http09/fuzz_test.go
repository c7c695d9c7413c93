package main

import (
	"strings"
	"testing"
)

// parseRequest never panics, and a name it accepts is relative, clean and
// never climbs out of the served directory (os.Root is the second guard).
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/0.9", "GET /index.html", "GET /a/../../b HTTP/1.1", "POST / HTTP/0.9",
		"GET /a\\b", "GET //x", "GET /%2e%2e/x", "", " ", "GET  /", "GET /\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, _, ok := parseRequest(line)
		if !ok {
			return
		}
		if !strings.HasPrefix(line, "GET /") {
			t.Fatalf("accepted %q", line)
		}
		if strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") ||
			strings.Contains(name, "/../") || strings.HasSuffix(name, "/..") || strings.ContainsAny(name, "\x00\\") {
			t.Fatalf("%q gave the name %q", line, name)
		}
	})
}
