package main

import (
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// goServer is an independent HTTP server (net/http).
func goServer(t *testing.T) *httptest.Server {
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/small", func(w nethttp.ResponseWriter, r *nethttp.Request) { fmt.Fprint(w, "hello") })
	mux.HandleFunc("/big", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Write([]byte(strings.Repeat("x", 1<<20))) // no length known: chunked
	})
	// /both answers only once two requests for it are in flight at the
	// same time: sequential fetches would time out and get a 504.
	var mu sync.Mutex
	arrived, both := 0, make(chan struct{})
	mux.HandleFunc("/both", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		if arrived++; arrived == 2 {
			close(both)
		}
		mu.Unlock()
		select {
		case <-both:
			fmt.Fprint(w, "late")
		case <-time.After(5 * time.Second):
			w.WriteHeader(nethttp.StatusGatewayTimeout)
		}
	})
	mux.HandleFunc("/missing", func(w nethttp.ResponseWriter, r *nethttp.Request) { nethttp.NotFound(w, r) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchConcurrently(t *testing.T) {
	srv := goServer(t)
	out, stderr, err := extest.Run(t, run, "", srv.URL+"/both", srv.URL+"/both", srv.URL+"/small", srv.URL+"/big", srv.URL+"/missing")
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{
		`^200 +4 bytes +\S+ +` + regexp.QuoteMeta(srv.URL+"/both") + `$`,
		`^200 +4 bytes +\S+ +` + regexp.QuoteMeta(srv.URL+"/both") + `$`,
		`^200 +5 bytes +\S+ +` + regexp.QuoteMeta(srv.URL+"/small") + `$`,
		`^200 +1048576 bytes +\S+ +` + regexp.QuoteMeta(srv.URL+"/big") + `$`,
		`^404 +19 bytes +\S+ +` + regexp.QuoteMeta(srv.URL+"/missing") + `$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s", out)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %s", i, lines[i], re)
		}
	}
}

// -host and -port complete arguments given as paths.
func TestFetchPaths(t *testing.T) {
	srv := goServer(t)
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	out, _, err := extest.Run(t, run, "", "-host", host, "-port", port, "/small")
	if err != nil || !strings.HasSuffix(out, " "+srv.URL+"/small\n") || !strings.HasPrefix(out, "200 ") {
		t.Fatalf("%q, %v", out, err)
	}
}

// One failure does not stop the others; the exit status reports it.
func TestFetchFailure(t *testing.T) {
	srv := goServer(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close()
	out, _, err := extest.Run(t, run, "", dead, srv.URL+"/small")
	if err == nil || err.Error() != "1 of 2 fetches failed" {
		t.Fatalf("error = %v", err)
	}
	if !strings.HasPrefix(out, "ERR  "+dead+": ") || !strings.Contains(out, "refused") ||
		!strings.Contains(out, "\n200 ") {
		t.Fatalf("output:\n%s", out)
	}
	if _, _, err := extest.Run(t, run, ""); err == nil {
		t.Fatal("no error without URLs")
	}
}

// -v prints the debug trace: the named steps of each pipeline.
func TestFetchVerbose(t *testing.T) {
	srv := goServer(t)
	_, stderr, err := extest.Run(t, run, "", "-v", srv.URL+"/small")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name": "get ` + srv.URL + `/small"`, `"name": "body ` + srv.URL + `/small"`, `"stage": "resolve"`, "tcp socket"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("trace lacks %s:\n%s", want, stderr)
		}
	}
}
