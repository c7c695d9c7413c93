package http

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	nethttp "net/http"
	"net/http/httptest"
)

func TestFilesNeverLeaveRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "sub"), filepath.Join(root, "empty")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "a.txt"), "alpha file")
	write(filepath.Join(root, "sub", "index.html"), "<p>index</p>")
	write(filepath.Join(outside, "secret.txt"), "SECRET")
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside", filepath.Join(root, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "inside-link")); err != nil {
		t.Fatal(err)
	}
	h, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, target string
		status         int
		body           string
	}{
		{"GET", "/a.txt", 200, "alpha file"},
		{"GET", "/inside-link", 200, "alpha file"},
		{"GET", "/sub/", 200, "<p>index</p>"},
		{"GET", "/empty/", 404, ""},
		{"GET", "/nope", 404, ""},
		{"GET", "/../outside/secret.txt", 400, ""},
		{"GET", "/%2e%2e/outside/secret.txt", 400, ""},
		{"GET", "/sub/%2E%2E/%2e%2e/outside/secret.txt", 400, ""},
		{"GET", "/..%5coutside%5csecret.txt", 400, ""},
		{"GET", "/link", 404, ""},
		{"GET", "/dirlink/secret.txt", 404, ""},
		{"GET", "/a.txt%00.png", 400, ""},
		{"POST", "/a.txt", 405, ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.target, nil)
		resp := await(t, h.Serve(req))
		if resp.Status != c.status || (c.body != "" && string(resp.Body) != c.body) || strings.Contains(string(resp.Body), "SECRET") {
			t.Errorf("%s %s: %d %q", c.method, c.target, resp.Status, resp.Body)
		}
	}
	// Ranges and HEAD come from http.ServeContent.
	req := httptest.NewRequest("GET", "/a.txt", nil)
	req.Header.Set("Range", "bytes=0-4")
	if resp := await(t, h.Serve(req)); resp.Status != nethttp.StatusPartialContent || string(resp.Body) != "alpha" {
		t.Errorf("range: %d %q", resp.Status, resp.Body)
	}
	resp := await(t, h.Serve(httptest.NewRequest("HEAD", "/a.txt", nil)))
	head, _ := appendResponseHead(nil, resp, "HEAD", 1, true)
	if resp.Status != 200 || !strings.Contains(string(head), "Content-Length: 10\r\n") {
		t.Errorf("head: %d %q", resp.Status, head)
	}
}
