package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/net/html"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/tcp"
	"github.com/goasync/goasync/timer"
)

func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_ = goasync.Shutdown(ctx)
	cancel()
	if code == 0 {
		if err := goleak.Find(
			goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
			goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) Sync() error { return nil }
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lineServer is a real loopback peer: it answers "GET key" with
// "value-of-key", after 150 ms for "slow", and hangs up on "bad".
func lineServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				key := strings.TrimSpace(strings.TrimPrefix(line, "GET "))
				switch key {
				case "slow":
					time.Sleep(150 * time.Millisecond)
				case "bad":
					return
				}
				fmt.Fprintf(c, "value-of-%s\n", key)
			}()
		}
	}()
	return ln.Addr().String()
}

func refusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// realRun runs a traced fan-out over a real loopback peer with the
// library logger at debug level writing zap JSON with enc, and returns
// the log.
func realRun(t *testing.T, enc zapcore.Encoder) string {
	t.Helper()
	log := &syncBuffer{}
	goasync.SetLogger(zap.New(zapcore.NewCore(enc, log, zapcore.DebugLevel)))
	defer goasync.SetLogger(nil)

	good, dead := lineServer(t), refusedAddr(t)
	ctx := future.WithTraceID(context.Background(), "run-1")
	get := func(ctx context.Context, addr, key string) *future.Future[string] {
		conn := future.Trace(ctx, tcp.Connect(ctx, addr), "connect "+addr)
		return future.Compose(conn, func(s *tcp.Socket) *future.Future[string] {
			s.WriteString("GET " + key + "\n")
			line := future.Then(s.ReadLine(), func(b []byte) (string, error) { return string(b), nil })
			return line.Finally(func() { s.Close() })
		})
	}
	fetch := func(key string) *future.Future[string] {
		hosts := []string{dead, good}
		return timer.Retry(ctx, timer.Backoff{Attempts: 3, Initial: 5 * time.Millisecond, RetryIf: timer.RetryOn(tcp.ErrRefused)},
			func(ctx context.Context, i int) *future.Future[string] { return get(ctx, hosts[i%2], key) })
	}
	both := future.All2(fetch("a"), fetch("slow"))
	v, err := both.Await(context.Background())
	if err != nil || v.V1 != "value-of-a" || v.V2 != "value-of-slow" {
		t.Fatalf("fan-out = %+v, %v", v, err)
	}
	// A second pipeline that fails: the peer hangs up (EOF), which is not
	// retried.
	bad := get(future.WithTraceID(context.Background(), "run-2"), good, "bad")
	if _, err := bad.Await(context.Background()); err == nil {
		t.Fatal("the bad key did not fail")
	}
	return log.String()
}

func TestTimelineOfARealRun(t *testing.T) {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()) // ts and durations as float seconds
	logText := realRun(t, enc)
	path := filepath.Join(t.TempDir(), "run.json")
	if err := os.WriteFile(path, []byte(logText), 0o644); err != nil {
		t.Fatal(err)
	}
	htmlPath := filepath.Join(t.TempDir(), "run.html")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-html", htmlPath, path}, nil, &out, &errOut); err != nil {
		t.Fatalf("run: %v %s", err, errOut.String())
	}
	text := out.String()
	t.Logf("waterfall:\n%s", text)

	// Two pipelines, with the application's ids.
	if !regexp.MustCompile(`(?m)^trace run-1  \d+ steps`).MatchString(text) || !strings.Contains(text, "trace run-2") {
		t.Fatalf("pipelines missing:\n%s", text)
	}
	run1 := text[strings.Index(text, "trace run-1"):strings.Index(text, "trace run-2")]
	// The fan-out's join, both retries, the failed first attempts with
	// their error, the slow call marked, and nesting (attempts under
	// retry, the connect under its attempt).
	for _, re := range []string{
		`(?m)^[ !] all2 \(joins 2\)`,
		`(?m)^  retry +\|`,
		`(?m)^X     attempt 1/3 +\|\s*X+\s*\| .* failed: .*refused`,
		`(?m)^      connect 127\.0\.0\.1:\d+ +\|`,
		`(?m)^!.*attempt 2/3 .* ok`,
		`(?m)^[ !]   backoff \d`,
	} {
		re = strings.Replace(re, "^X     attempt", `^[ !]\s+attempt`, 1)
		if !regexp.MustCompile(re).MatchString(run1) {
			t.Errorf("run-1 lacks %s", re)
		}
	}
	if !regexp.MustCompile(`(?m)attempt 1/3 +\|\s*X+\s*\|.*failed: .*refused`).MatchString(run1) {
		t.Errorf("the refused attempt is not drawn as failed")
	}
	if !strings.Contains(run1, "main_test.go:") {
		t.Errorf("steps do not say where they were made")
	}
	run2 := text[strings.Index(text, "trace run-2"):]
	if !regexp.MustCompile(`\d+ failed`).MatchString(strings.SplitN(run2, "\n", 2)[0]) || !strings.Contains(run2, "EOF") {
		t.Errorf("run-2's failure is not shown:\n%s", run2)
	}

	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", `class="failed"`, `class="ok slow"`, "trace run-1", "trace run-2", "attempt 1/3", "made at main_test.go:"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("HTML page lacks %q", want)
		}
	}
	// The page parses, and has one bar per step drawn in the text.
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	rects, svgs := 0, 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "rect" {
			rects++
		}
		if n.Type == html.ElementNode && n.Data == "svg" {
			svgs++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	steps := 0
	for _, m := range regexp.MustCompile(`(?m)^trace \S+  (\d+) steps`).FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		steps += n
	}
	if svgs != 2 || rects != steps {
		t.Errorf("HTML has %d svgs and %d bars; the text has 2 pipelines and %d steps", svgs, rects, steps)
	}

	// Filters.
	out.Reset()
	if err := run(context.Background(), []string{"-failed", path}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "trace run-2") || !strings.Contains(out.String(), "trace run-1") {
		// run-1 has failed attempts too, so both show.
		t.Errorf("-failed:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"-trace", "run-2"}, strings.NewReader(logText), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "trace run-1") || !strings.Contains(out.String(), "trace run-2") {
		t.Errorf("-trace run-2 from stdin:\n%s", out.String())
	}
}

// The development encoder writes ISO 8601 times and duration strings.
func TestTimelineOfADevelopmentLog(t *testing.T) {
	cfg := zap.NewDevelopmentEncoderConfig()
	cfg.EncodeDuration = zapcore.StringDurationEncoder
	logText := realRun(t, zapcore.NewJSONEncoder(cfg))
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-width", "40"}, strings.NewReader(logText), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "trace run-1") || !strings.Contains(out.String(), "attempt 2/3") {
		t.Fatalf("development log not drawn:\n%s", out.String())
	}
	// The slow call's attempt lasts 150 ms or more.
	m := regexp.MustCompile(`(?m)^!.*attempt 2/3 +\|[^|]*\| +([0-9.]+m?s) ok`).FindAllStringSubmatch(out.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no slow attempt marked:\n%s", out.String())
	}
	d, err := time.ParseDuration(m[len(m)-1][1])
	if err != nil || d < 150*time.Millisecond {
		t.Fatalf("slow attempt drawn as %v (%v)", d, err)
	}
}

func TestEmptyLogAndBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), nil, strings.NewReader("not json\n{\"msg\":\"other\"}\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no traced pipelines") {
		t.Fatalf("out = %q", out.String())
	}
	if err := run(context.Background(), []string{"-nope"}, nil, &out, &errOut); err == nil {
		t.Fatal("bad flag accepted")
	}
	if err := run(context.Background(), []string{filepath.Join(t.TempDir(), "missing.json")}, nil, &out, &errOut); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzRead feeds arbitrary lines to the parser and both drawings: no
// input may make them panic.
func FuzzRead(f *testing.F) {
	f.Add(`{"msg":"future started","ts":1.5e9,"trace":"t","id":1,"parent":0,"name":"x","joins":[1,2]}` + "\n" +
		`{"msg":"future settled","ts":1.6e9,"trace":"t","id":1,"stage":"reject","duration":0.1,"error":"e"}`)
	f.Add(`{"msg":"future settled","ts":"2026-01-02T03:04:05.000Z","trace":"t","id":2,"parent":1,"duration":"3ms"}`)
	f.Add(`{"msg":"future linked","trace":"a","id":1,"to_trace":"b","to_id":2}` + "\n" + `{"msg":"future started","trace":"b","id":2,"ts":1}`)
	f.Fuzz(func(t *testing.T, in string) {
		lg := newLog()
		if err := lg.read(strings.NewReader(in)); err != nil {
			return
		}
		ps := lg.pipelines()
		var b bytes.Buffer
		for _, p := range ps {
			writeText(&b, p, 20, 30, 0)
		}
		if err := writeHTML(&b, ps, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	})
}
