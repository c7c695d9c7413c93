package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// site makes a directory to serve, and a secret file outside it that a
// symbolic link inside points to.
func site(t *testing.T) (dir string, big []byte) {
	dir = t.TempDir()
	big = make([]byte, 3<<20+17)
	rand.NewChaCha8([32]byte{9}).Read(big)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>hello</h1>\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "file.txt"), []byte("line 1\nline 2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("top secret\n"), 0o644)
	if err := os.Symlink(secret, filepath.Join(dir, "escape.txt")); err != nil {
		t.Fatal(err)
	}
	return dir, big
}

// raw sends a request with Go's net and returns the whole answer.
func raw(t *testing.T, port, request string) string {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(extest.Wait))
	io.WriteString(c, request)
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: %v", request, err)
	}
	return string(b)
}

func TestClientAndServer(t *testing.T) {
	dir, big := site(t)
	srv := extest.StartServer(t, run, "-serve", dir)
	for _, tc := range []struct{ path, want string }{
		{"/index.html", "<h1>hello</h1>\n"},
		{"/", "<h1>hello</h1>\n"},
		{"/sub/file.txt", "line 1\nline 2\n"},
		{"/big.bin", string(big)},
	} {
		out, stderr, err := extest.Run(t, run, "", "-get", tc.path, "-host", "127.0.0.1", "-port", srv.Port)
		if err != nil {
			t.Fatalf("-get %s: %v\nstderr: %s", tc.path, err, stderr)
		}
		if out != tc.want {
			t.Fatalf("-get %s: got %d bytes, want %d", tc.path, len(out), len(tc.want))
		}
		if !strings.Contains(stderr, "> Sending request to 127.0.0.1:"+srv.Port) {
			t.Fatalf("stderr: %s", stderr)
		}
	}
	srv.Out.WaitFor(t, `> Served big.bin \(3145745 bytes\)`)
}

// Nothing outside the directory is ever served: not through "..", not
// through a symbolic link that points out.
func TestNeverOutsideDir(t *testing.T) {
	dir, _ := site(t)
	srv := extest.StartServer(t, run, "-serve", dir)
	for _, p := range []string{"/escape.txt", "/../secret.txt", "/sub/../../secret.txt", "/nope.html", "/sub"} {
		out, _, err := extest.Run(t, run, "", "-get", p, "-host", "127.0.0.1", "-port", srv.Port)
		if out != notFound || err == nil || !strings.Contains(err.Error(), "404 Not found") {
			t.Errorf("-get %s: %q, %v; want the 404 line and an error", p, out, err)
		}
	}
}

func TestBadRequestLine(t *testing.T) {
	dir, _ := site(t)
	srv := extest.StartServer(t, run, "-serve", dir)
	for _, req := range []string{
		"POST /index.html HTTP/0.9\r\n\r\n",
		"garbage\r\n",
		"GET index.html\r\n",
		"GET /index.html HTTP/0.9 extra\r\n\r\n",
		"GET /index.html SMTP/1.0\r\n\r\n",
		"GET /a\\b HTTP/0.9\r\n\r\n",
		"GET /" + strings.Repeat("a", maxLine+10) + " HTTP/0.9\r\n\r\n",
	} {
		if got := raw(t, srv.Port, req); got != badRequest {
			t.Errorf("%.40q: answer %q, want the 400 line", req, got)
		}
	}
	srv.Out.WaitFor(t, `> Bad request from 127\.0\.0\.1`)
}

// A true HTTP/0.9 request has no version and no blank line.
func TestBareRequest(t *testing.T) {
	dir, _ := site(t)
	srv := extest.StartServer(t, run, "-serve", dir)
	if got := raw(t, srv.Port, "GET /sub/file.txt\r\n"); got != "line 1\nline 2\n" {
		t.Fatalf("answer %q", got)
	}
}

// curl, an independent client, can read the answer as HTTP/0.9.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	dir, big := site(t)
	srv := extest.StartServer(t, run, "-serve", dir)
	out, err := exec.Command(curl, "-sS", "--http0.9", "--max-time", "20", "http://127.0.0.1:"+srv.Port+"/big.bin").Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	if !bytes.Equal(out, big) {
		t.Fatalf("curl got %d bytes, want %d", len(out), len(big))
	}
}

func TestUsage(t *testing.T) {
	if _, _, err := extest.Run(t, run, ""); err == nil {
		t.Fatal("no error without -serve or -get")
	}
	if _, _, err := extest.Run(t, run, "", "-serve", "/nonexistent-dir-for-http09"); err == nil {
		t.Fatal("no error for a missing directory")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	_, _, err := extest.Run(t, run, "", "-get", "/", "-host", "127.0.0.1", "-port", port)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("refused: %v", err)
	}
}
