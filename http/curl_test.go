package http

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func needCurl(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed; skipping the curl interop test (CI installs it)")
	}
	return p
}

func runCurl(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needCurl(t), append([]string{"-sS", "--max-time", "20"}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl: %v\n%s", err, errb.String())
	}
	return out.String(), errb.String()
}

func TestCurlPlainAndKeepAlive(t *testing.T) {
	needCurl(t)
	rt := testRouter()
	var mu sync.Mutex
	peers := map[string]int{}
	rt.Handle("GET /who", Func(func(r *nethttp.Request) *Response {
		mu.Lock()
		peers[r.RemoteAddr]++
		mu.Unlock()
		return Text(200, "you\n")
	}))
	s := startServer(t, rt)
	out, _ := runCurl(t, "-i", baseURL(s)+"/hello")
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(out, "\r\n\r\nhello") {
		t.Fatalf("plain: %q", out)
	}
	u := baseURL(s) + "/who"
	out, _ = runCurl(t, "--http1.1", u, u, u, u)
	mu.Lock()
	defer mu.Unlock()
	if out != strings.Repeat("you\n", 4) || len(peers) != 1 {
		t.Fatalf("keep-alive: %q from %d connections", out, len(peers))
	}
}

func TestCurlBodies(t *testing.T) {
	needCurl(t)
	s := startServer(t, testRouter(), WithLimits(Limits{MaxBodyBytes: 4 << 20}))
	body := strings.Repeat("curl body ", 100000) // 1 MB
	want := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))
	file := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{
		{},
		{"-H", "Transfer-Encoding: chunked"},
		{"-H", "Expect: 100-continue"},
	} {
		args := append([]string{"--http1.1", "--data-binary", "@" + file, baseURL(s) + "/sha"}, extra...)
		out, _ := runCurl(t, args...)
		if out != want {
			t.Fatalf("%v: %q", extra, out)
		}
	}
	out, _ := runCurl(t, "--raw", baseURL(s)+"/stream")
	if !strings.Contains(out, "7\r\npart 0\n\r\n") || !strings.HasSuffix(out, "0\r\nX-Parts: 5\r\n\r\n") {
		t.Fatalf("raw chunked stream: %q", out)
	}
	out, _ = runCurl(t, "-I", baseURL(s)+"/hello")
	if !strings.Contains(out, "Content-Length: 5\r\n") {
		t.Fatalf("HEAD: %q", out)
	}
}

func TestCurlSSE(t *testing.T) {
	curl := needCurl(t)
	hub := NewHub()
	s := startServer(t, sseRouter(hub, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, "-sS", "-N", baseURL(s)+"/source?room=curl")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	er := NewEventReader(bufio.NewReader(stdout))
	if ev, err := er.Next(); err != nil || ev.Event != "hello" {
		t.Fatalf("%+v %v", ev, err)
	}
	for i := range 3 {
		hub.Publish("curl", Event{Data: fmt.Sprintf("msg %d", i)})
		if ev, err := er.Next(); err != nil || ev.Data != fmt.Sprintf("msg %d", i) {
			t.Fatalf("%+v %v", ev, err)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	waitFor(t, "curl's subscription pruned", func() bool { return hub.Count("curl") == 0 })
}
