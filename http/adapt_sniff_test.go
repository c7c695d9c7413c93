package http

import (
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A net/http handler that writes and then flushes without setting
// Content-Type gets the sniffed type, as under net/http's own server;
// one that flushes before writing gets none, as there.
func TestAdaptFlushSniffsContentType(t *testing.T) {
	handlers := map[string]nethttp.HandlerFunc{
		"/write-flush": func(w nethttp.ResponseWriter, r *nethttp.Request) {
			io.WriteString(w, "<html><body>hi</body></html>")
			w.(nethttp.Flusher).Flush()
			io.WriteString(w, " more")
		},
		"/flush-first": func(w nethttp.ResponseWriter, r *nethttp.Request) {
			w.(nethttp.Flusher).Flush()
			io.WriteString(w, "<html>late</html>")
		},
		"/big": func(w nethttp.ResponseWriter, r *nethttp.Request) {
			io.WriteString(w, strings.Repeat("plain text ", 10000))
		},
		"/encoded": func(w nethttp.ResponseWriter, r *nethttp.Request) {
			w.Header().Set("Content-Encoding", "identity")
			io.WriteString(w, "<html>x</html>")
			w.(nethttp.Flusher).Flush()
		},
	}
	mux := nethttp.NewServeMux()
	rt := NewRouter()
	for p, h := range handlers {
		mux.Handle(p, h)
		rt.Handle("GET "+p, Adapt(h))
	}
	ref := httptest.NewServer(mux)
	defer ref.Close()
	s := startServer(t, rt)
	c := goClient(t)
	for p := range handlers {
		want, err := c.Get(ref.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		wantBody := readBody(t, want)
		got, err := c.Get(baseURL(s) + p)
		if err != nil {
			t.Fatal(err)
		}
		gotBody := readBody(t, got)
		if gotBody != wantBody {
			t.Errorf("%s: body %q, net/http %q", p, gotBody, wantBody)
		}
		if g, w := got.Header.Values("Content-Type"), want.Header.Values("Content-Type"); strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("%s: Content-Type %q, net/http sends %q", p, g, w)
		}
	}
}
