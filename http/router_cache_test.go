package http

import (
	nethttp "net/http"
	"net/http/httptest"
	"testing"
)

// The route cache gives the answer ServeMux gives, request after request:
// exact routes, wildcard routes (never cached), routes anchored with {$}
// (cached: they capture nothing), HEAD beside GET, unclean paths
// (redirected), host patterns, and routes added later.
func TestRouterCacheAnswersAsServeMux(t *testing.T) {
	rt := NewRouter()
	reply := func(s string) Handler {
		return Func(func(r *nethttp.Request) *Response { return Text(200, s+" "+r.Pattern+" "+r.PathValue("id")) })
	}
	rt.Handle("GET /a", reply("a"))
	rt.Handle("GET /items/{id}", reply("item"))
	rt.Handle("GET example.test/a", reply("host-a"))
	rt.Handle("POST /a/", reply("a-slash"))
	rt.Handle("GET /{$}", reply("root"))
	rt.Handle("GET /b/{$}", reply("b-dir"))
	cases := []struct{ method, host, target, want string }{
		{"GET", "other", "/a", "a GET /a "},
		{"HEAD", "other", "/a", "a GET /a "},
		{"GET", "example.test", "/a", "host-a GET example.test/a "},
		{"GET", "example.test:8080", "/a", "host-a GET example.test/a "},
		{"GET", "other", "/items/7", "item GET /items/{id} 7"},
		{"GET", "other", "/items/8", "item GET /items/{id} 8"},
		{"POST", "other", "/a/", "a-slash POST /a/ "},
		{"GET", "other", "/x/../a", "redirect"},
		{"GET", "other", "/a/./", "redirect"},
		{"GET", "other", "/nope", "404"},
		{"GET", "other", "/", "root GET /{$} "},
		{"GET", "other", "/b/", "b-dir GET /b/{$} "},
		{"GET", "other", "/b/c", "404"},
	}
	for round := range 3 {
		for _, c := range cases {
			req := httptest.NewRequest(c.method, c.target, nil)
			req.Host = c.host
			resp := await(t, rt.Serve(req))
			got := string(resp.Body)
			switch {
			case resp.Status == 404:
				got = "404"
			case resp.Status/100 == 3:
				got = "redirect"
			}
			if got != c.want {
				t.Errorf("round %d: %s %s%s: %q, want %q", round, c.method, c.host, c.target, got, c.want)
			}
		}
	}
	m := rt.routes.Load()
	if m == nil {
		t.Fatal("nothing cached")
	}
	for _, k := range []routeKey{{method: "GET", host: "other", path: "/"}, {method: "GET", host: "other", path: "/b/"}, {method: "GET", host: "other", path: "/a"}} {
		if _, ok := (*m)[k]; !ok {
			t.Errorf("%s %s not cached", k.method, k.path)
		}
	}
	if _, ok := (*m)[routeKey{method: "GET", host: "other", path: "/items/7"}]; ok {
		t.Error("a wildcard route was cached")
	}
	// A route added later is seen, and takes precedence where ServeMux
	// says so.
	rt.Handle("GET /items/special", reply("special"))
	if got := string(await(t, rt.Serve(httptest.NewRequest("GET", "/items/special", nil))).Body); got != "special GET /items/special " {
		t.Fatalf("after adding a route: %q", got)
	}
}

func TestCapturing(t *testing.T) {
	for p, want := range map[string]bool{
		"GET /a": false, "GET /{$}": false, "/b/{$}": false, "example.test/{$}": false,
		"GET /items/{id}": true, "/files/{path...}": true, "/{a}/{$}": true, "/x/{$}/{y}": true,
	} {
		if got := capturing(p); got != want {
			t.Errorf("capturing(%q) = %v, want %v", p, got, want)
		}
	}
}
