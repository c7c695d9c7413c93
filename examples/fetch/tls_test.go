package main

import (
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
	"github.com/goasync/goasync/internal/tlstest"
)

// fetch gets https URLs, verifying the server against -cacert; without it
// the test CA is unknown and the fetch fails with the certificate error.
func TestFetchHTTPS(t *testing.T) {
	p := tlstest.Get(t)
	caFile, _, _ := p.Files(t, t.TempDir())
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		fmt.Fprintf(w, "secure %s", r.URL.Path)
	}))
	srv.TLS = tlstest.ServerConfig(p.Localhost, 0, 0)
	srv.StartTLS()
	defer srv.Close()

	out, stderr, err := extest.Run(t, run, "", "-cacert", caFile, srv.URL+"/a", srv.URL+"/bb")
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, want := range []string{
		`^200 +9 bytes +\S+ +` + regexp.QuoteMeta(srv.URL+"/a") + `$`,
		`^200 +10 bytes +\S+ +` + regexp.QuoteMeta(srv.URL+"/bb") + `$`,
	} {
		if i >= len(lines) || !regexp.MustCompile(want).MatchString(lines[i]) {
			t.Fatalf("output:\n%s", out)
		}
	}

	out, _, err = extest.Run(t, run, "", srv.URL+"/a")
	if err == nil || !strings.Contains(out, "certificate signed by unknown authority") {
		t.Fatalf("untrusted server: %v\n%s", err, out)
	}
}
