package http

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

func await(t *testing.T, f *future.Future[*Response]) *Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := f.Await(ctx)
	if err != nil {
		t.Fatalf("handler future: %v", err)
	}
	return r
}

func TestRouter(t *testing.T) {
	rt := NewRouter()
	rt.Handle("GET /items/{id}", Func(func(r *nethttp.Request) *Response { return Text(200, "item "+r.PathValue("id")) }))
	rt.Handle("GET /files/{path...}", Func(func(r *nethttp.Request) *Response { return Text(200, "file "+r.PathValue("path")) }))
	rt.Handle("POST /items", Func(func(r *nethttp.Request) *Response { return Text(201, "created") }))
	rt.Handle("GET /{$}", Func(func(r *nethttp.Request) *Response { return Text(200, "root") }))
	cases := []struct {
		method, target string
		status         int
		body, allow    string
	}{
		{"GET", "/items/42", 200, "item 42", ""},
		{"HEAD", "/items/42", 200, "item 42", ""},
		{"GET", "/files/a/b/c.txt", 200, "file a/b/c.txt", ""},
		{"POST", "/items", 201, "created", ""},
		{"GET", "/", 200, "root", ""},
		{"GET", "/nope", 404, "404 page not found\n", ""},
		{"DELETE", "/items/1", 405, "Method Not Allowed\n", "GET, HEAD"},
		{"GET", "/items", 405, "Method Not Allowed\n", "POST"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.target, nil)
		resp := await(t, rt.Serve(req))
		if resp.Status != c.status || string(resp.Body) != c.body || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q allow %q", c.method, c.target, resp.Status, resp.Body, resp.Header.Get("Allow"))
		}
	}
	// A path with dot segments is redirected to its clean form.
	req := httptest.NewRequest("GET", "/files/../items/7", nil)
	resp := await(t, rt.Serve(req))
	if resp.Status != 301 && resp.Status != 307 {
		t.Errorf("dot-dot path: %d %v", resp.Status, resp.Header)
	}
}

type chatParams struct {
	Room    string   `param:"room,required,max=16"`
	Name    string   `param:"name,required,min=1,max=64"`
	Message string   `param:"message,required,min=5,max=256"`
	Count   int      `param:"count,min=1,max=10,default=3"`
	Ratio   float64  `param:"ratio,min=0,max=1"`
	Loud    bool     `param:"loud"`
	Tags    []string `param:"tag,maxitems=3,max=8"`
	Level   string   `param:"level,oneof=low|high"`
	Filter  struct {
		Lang string `json:"lang"`
	} `param:"filter,json"`
	Nums []int `param:"n,in=query,min=0"`
}

func TestTypedParams(t *testing.T) {
	h := Typed(func(r *nethttp.Request, p *chatParams) *future.Future[*Response] {
		return Reply(JSON(200, p))
	})
	rt := NewRouter()
	rt.Handle("/send/{room}", h)
	form := func(s string) (string, io.Reader, string) {
		return "application/x-www-form-urlencoded", strings.NewReader(s), ""
	}
	_ = form
	type tc struct {
		name, method, target, ct, body string
		status                         int
		bad                            string // substring of the 400 body
		check                          func(p chatParams) bool
	}
	cases := []tc{
		{"query ok", "GET", "/send/lobby?name=ann&message=hello+there&loud=true&tag=a&tag=b&ratio=0.5&level=high&filter=%7B%22lang%22%3A%22go%22%7D&n=1&n=2", "", "", 200, "",
			func(p chatParams) bool {
				return p.Room == "lobby" && p.Name == "ann" && p.Message == "hello there" && p.Count == 3 && p.Loud &&
					len(p.Tags) == 2 && p.Ratio == 0.5 && p.Level == "high" && p.Filter.Lang == "go" && len(p.Nums) == 2
			}},
		{"form ok", "POST", "/send/r1", "application/x-www-form-urlencoded", "name=bob&message=hello%20world&count=7", 200, "",
			func(p chatParams) bool { return p.Room == "r1" && p.Name == "bob" && p.Count == 7 }},
		{"json ok", "POST", "/send/r2", "application/json", `{"name":"cy","message":"12345","count":10,"tag":["x"],"filter":{"lang":"lisp"}}`, 200, "",
			func(p chatParams) bool {
				return p.Name == "cy" && p.Count == 10 && p.Tags[0] == "x" && p.Filter.Lang == "lisp"
			}},
		{"room too long", "GET", "/send/" + strings.Repeat("r", 17) + "?name=a&message=hello", "", "", 400, `"room": at most 16 characters`, nil},
		{"name missing", "GET", "/send/r?message=hello", "", "", 400, `"name": missing`, nil},
		{"name empty", "GET", "/send/r?name=&message=hello", "", "", 400, `"name": at least 1 characters`, nil},
		{"message short", "GET", "/send/r?name=a&message=hey", "", "", 400, `"message": at least 5`, nil},
		{"unicode counted in characters", "GET", "/send/r?name=a&message=" + strings.Repeat("%C3%A9", 5), "", "", 200, "", func(p chatParams) bool { return p.Message == "ééééé" }},
		{"count not int", "GET", "/send/r?name=a&message=hello&count=x", "", "", 400, `"count": must be an integer`, nil},
		{"count too big", "GET", "/send/r?name=a&message=hello&count=11", "", "", 400, `"count": at most 10`, nil},
		{"ratio range", "GET", "/send/r?name=a&message=hello&ratio=1.5", "", "", 400, `"ratio": at most 1`, nil},
		{"ratio NaN", "GET", "/send/r?name=a&message=hello&ratio=NaN", "", "", 400, `"ratio": must be a number`, nil},
		{"bool", "GET", "/send/r?name=a&message=hello&loud=maybe", "", "", 400, `"loud": must be a boolean`, nil},
		{"too many tags", "GET", "/send/r?name=a&message=hello&tag=a&tag=b&tag=c&tag=d", "", "", 400, `"tag": at most 3 items`, nil},
		{"tag too long", "GET", "/send/r?name=a&message=hello&tag=123456789", "", "", 400, `"tag": item 0: at most 8`, nil},
		{"oneof", "GET", "/send/r?name=a&message=hello&level=mid", "", "", 400, `"level": must be one of low, high`, nil},
		{"bad json param", "GET", "/send/r?name=a&message=hello&filter=%7B", "", "", 400, `"filter": invalid JSON`, nil},
		{"repeated scalar", "GET", "/send/r?name=a&name=b&message=hello", "", "", 400, `"name": given 2 times`, nil},
		{"json type mismatch", "POST", "/send/r", "application/json", `{"name":5,"message":"hello"}`, 400, `"name": must be a string`, nil},
		{"json body not object", "POST", "/send/r", "application/json", `[1,2]`, 400, `"body": not a JSON object`, nil},
		{"query-only source", "POST", "/send/r", "application/json", `{"name":"a","message":"hello","n":[-1]}`, 200, "", func(p chatParams) bool { return p.Nums == nil }},
		{"negative in list", "GET", "/send/r?name=a&message=hello&n=-1", "", "", 400, `"n": item 0: at least 0`, nil},
	}
	for _, c := range cases {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req := httptest.NewRequest(c.method, c.target, body)
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		resp := await(t, rt.Serve(req))
		if resp.Status != c.status || (c.bad != "" && !strings.Contains(string(resp.Body), c.bad)) {
			t.Errorf("%s: %d %q", c.name, resp.Status, resp.Body)
			continue
		}
		if c.check != nil {
			var p chatParams
			if err := json.Unmarshal(resp.Body, &p); err != nil || !c.check(p) {
				t.Errorf("%s: decoded %+v (%v)", c.name, p, err)
			}
		}
	}
}

func TestTypedMultipart(t *testing.T) {
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("name", "dee")
	_ = mw.WriteField("message", "multipart!")
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/send/m", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetPathValue("room", "m")
	p, err := Bind[chatParams](req)
	if err != nil || p.Name != "dee" || p.Message != "multipart!" || p.Room != "m" {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestTypedBadTagsPanicAtRegistration(t *testing.T) {
	try := func(name string, f func()) {
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	type badOpt struct {
		A string `param:"a,bogus"`
	}
	type badMin struct {
		A int `param:"a,min=x"`
	}
	type badType struct {
		A map[string]int `param:"a"`
	}
	type badDefault struct {
		A int `param:"a,default=zz"`
	}
	type boolMin struct {
		A bool `param:"a,min=1"`
	}
	h := func(r *nethttp.Request, p *badOpt) *future.Future[*Response] { return nil }
	try("option", func() { Typed(h) })
	try("min", func() { Bind[badMin](httptest.NewRequest("GET", "/", nil)) })
	try("type", func() { Bind[badType](httptest.NewRequest("GET", "/", nil)) })
	try("default", func() { Bind[badDefault](httptest.NewRequest("GET", "/", nil)) })
	try("bool min", func() { Bind[boolMin](httptest.NewRequest("GET", "/", nil)) })
}

func ExampleTyped() {
	type sendMessage struct {
		Room    string `param:"room,required,max=16"`
		Name    string `param:"name,required,min=1,max=64"`
		Message string `param:"message,required,min=5,max=256"`
	}
	hub := NewHub()
	rt := NewRouter()
	rt.Handle("POST /send-message", Typed(func(r *nethttp.Request, p *sendMessage) *future.Future[*Response] {
		msg, _ := json.Marshal(map[string]string{"name": p.Name, "message": p.Message})
		n := hub.Publish(p.Room, Event{Data: string(msg)})
		return Reply(Text(200, fmt.Sprintf("sent to %d\n", n)))
	}))

	req := httptest.NewRequest("POST", "/send-message", strings.NewReader("room=lobby&name=ann&message=hi"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := rt.Serve(req).Await(context.Background())
	fmt.Print(resp.Status, " ", string(resp.Body))
	// Output: 400 Bad Request: parameter "message": at least 5 characters
}

func TestTypedFunc(t *testing.T) {
	type q struct {
		N int `param:"n,required,min=1"`
	}
	h := TypedFunc(func(r *nethttp.Request, p *q) *Response { return Text(200, fmt.Sprint(p.N*2)) })
	for target, want := range map[string]string{"/?n=21": "42", "/?n=0": `Bad Request: parameter "n": at least 1` + "\n"} {
		resp := await(t, h.Serve(httptest.NewRequest("GET", target, nil)))
		if string(resp.Body) != want {
			t.Errorf("%s: %q", target, resp.Body)
		}
	}
}

// The router reuses its per-request capture only after a route matched;
// replies ServeMux wrote itself (404, 405, redirects) keep theirs. Mixing
// them, from several goroutines at once (as several loops would), must
// never mix up path values, statuses or bodies.
func TestRouterReuseKeepsRequestsApart(t *testing.T) {
	rt := NewRouter()
	rt.Handle("GET /u/{name}", Func(func(r *nethttp.Request) *Response { return Text(200, "u="+r.PathValue("name")) }))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				name := fmt.Sprintf("g%d-%d", g, i)
				var target, wantBody string
				wantStatus := 200
				switch i % 4 {
				case 0, 2:
					target, wantBody = "/u/"+name, "u="+name
				case 1:
					target, wantStatus = "/missing/"+name, 404
				case 3:
					target, wantStatus = "/u/x/../"+name, nethttp.StatusTemporaryRedirect
				}
				req := httptest.NewRequest("GET", target, nil)
				resp, f := serveEither(rt, req, nil)
				if f != nil {
					errs <- fmt.Errorf("%s: unexpected future", target)
					return
				}
				if i%4 == 3 && resp.Header.Get("Location") != "/u/"+name {
					errs <- fmt.Errorf("%s: redirect to %q", target, resp.Header.Get("Location"))
					return
				}
				if resp.Status != wantStatus || (wantBody != "" && string(resp.Body) != wantBody) {
					errs <- fmt.Errorf("%s: %d %q, want %d %q", target, resp.Status, resp.Body, wantStatus, wantBody)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
