package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goasync/goasync/future"
	ahttp "github.com/goasync/goasync/http"
)

// A server whose handler waits on a timer without blocking its event loop,
// and a client that fetches from it.
func ExampleListen() {
	rt := ahttp.NewRouter()
	rt.Handle("GET /hello/{name}", ahttp.HandlerFunc(func(r *nethttp.Request) *future.Future[*ahttp.Response] {
		p := future.New[*ahttp.Response]()
		time.AfterFunc(10*time.Millisecond, func() {
			p.Resolve(ahttp.Text(200, "hello, "+r.PathValue("name")))
		})
		return p.Future()
	}))
	srv, err := ahttp.Listen("127.0.0.1:0", rt)
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())

	ctx := context.Background()
	resp, err := ahttp.Get(ctx, "http://"+srv.Addr().String()+"/hello/world").Await(ctx)
	if err != nil {
		panic(err)
	}
	body, _ := ahttp.ReadAll(resp).Await(ctx)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello, world
}

// The chat room of the house seed: GET /source?room=R streams the room's
// messages as server-sent events; POST /send-message publishes to a room,
// with its parameters declared and validated once.
func ExampleHub() {
	type source struct {
		Room string `param:"room,required,max=16"`
	}
	type sendMessage struct {
		Room    string `param:"room,required,max=16"`
		Name    string `param:"name,required,min=1,max=64"`
		Message string `param:"message,required,min=5,max=256"`
	}
	hub := ahttp.NewHub()
	rt := ahttp.NewRouter()
	rt.Handle("GET /source", ahttp.Typed(func(r *nethttp.Request, p *source) *future.Future[*ahttp.Response] {
		return ahttp.Reply(ahttp.SSE(func(s *ahttp.Stream) { hub.Subscribe(p.Room, s) }))
	}))
	rt.Handle("POST /send-message", ahttp.Typed(func(r *nethttp.Request, p *sendMessage) *future.Future[*ahttp.Response] {
		msg, _ := json.Marshal(map[string]string{"name": p.Name, "message": p.Message})
		hub.Publish(p.Room, ahttp.Event{Event: "message", Data: string(msg)})
		return ahttp.Reply(ahttp.Text(200, "ok"))
	}))
	srv, err := ahttp.Listen("127.0.0.1:0", rt)
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())
	base := "http://" + srv.Addr().String()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := ahttp.Get(ctx, base+"/source?room=lobby").Await(ctx)
	if err != nil {
		panic(err)
	}
	defer stream.Body.Close()
	for hub.Count("lobby") == 0 { // the subscription happens on the server's loop
		time.Sleep(time.Millisecond)
	}

	post := func(form url.Values) {
		req, _ := nethttp.NewRequest("POST", base+"/send-message", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := ahttp.Do(ctx, req).Await(ctx)
		if err != nil {
			panic(err)
		}
		body, _ := ahttp.ReadAll(resp).Await(ctx)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	post(url.Values{"room": {"lobby"}, "name": {"ann"}, "message": {"hi"}})
	post(url.Values{"room": {"lobby"}, "name": {"ann"}, "message": {"hello, lobby"}})

	ev, err := ahttp.NewEventReader(stream.Body).Next()
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Event, ev.Data)
	// Output:
	// 400 Bad Request: parameter "message": at least 5 characters
	// 200 ok
	// message {"message":"hello, lobby","name":"ann"}
}

// Plain net/http handlers run on the blocking-work pool, so they may block.
func ExampleAdapt() {
	std := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		time.Sleep(5 * time.Millisecond) // blocking is fine here
		fmt.Fprintf(w, "net/http says %s", r.URL.Query().Get("q"))
	})
	srv, err := ahttp.Listen("127.0.0.1:0", ahttp.Adapt(std))
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())
	ctx := context.Background()
	resp, err := ahttp.Get(ctx, "http://"+srv.Addr().String()+"/?q=hi").Await(ctx)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output: net/http says hi
}

// Files serves a directory and nothing outside it.
func ExampleFiles() {
	dir, _ := os.MkdirTemp("", "files")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>home</h1>"), 0o644)
	files, err := ahttp.Files(dir)
	if err != nil {
		panic(err)
	}
	rt := ahttp.NewRouter()
	rt.Handle("GET /static/", ahttp.StripPrefix("/static", files))
	srv, err := ahttp.Listen("127.0.0.1:0", rt)
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())
	ctx := context.Background()
	for _, p := range []string{"/static/", "/static/%2e%2e/etc/passwd"} {
		resp, err := ahttp.Get(ctx, "http://"+srv.Addr().String()+p).Await(ctx)
		if err != nil {
			panic(err)
		}
		body, _ := ahttp.ReadAll(resp).Await(ctx)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}
	// Output:
	// 200 <h1>home</h1>
	// 400 400 bad path
}

// A response body read as a stream of server-sent events.
func ExampleEventReader() {
	r := strings.NewReader("event: chat\ndata: line one\ndata: line two\n\n: a comment\ndata: next\n\n")
	er := ahttp.NewEventReader(r)
	for {
		ev, err := er.Next()
		if err != nil {
			break
		}
		fmt.Printf("%q %q\n", ev.Event, ev.Data)
	}
	// Output:
	// "chat" "line one\nline two"
	// "" "next"
}

// An upload route whose body streams to a net/http handler as it arrives
// (here counted; in practice copied to a file), with a 1 GiB bound instead
// of the server's MaxBodyBytes.
func ExampleStreamBody() {
	upload := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n, err := io.Copy(io.Discard, r.Body) // blocks on the pool, not on a loop
		if err != nil {
			nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "stored %d bytes", n)
	})
	rt := ahttp.NewRouter()
	rt.Handle("PUT /files/{name}", ahttp.StreamBody(ahttp.Adapt(upload), 1<<30))
	srv, err := ahttp.Listen("127.0.0.1:0", rt, ahttp.WithLimits(ahttp.Limits{MaxBodyBytes: 1 << 20}))
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())

	body := strings.NewReader(strings.Repeat("x", 8<<20)) // 8x MaxBodyBytes
	req, _ := nethttp.NewRequest(nethttp.MethodPut, "http://"+srv.Addr().String()+"/files/big", body)
	ctx := context.Background()
	resp, err := ahttp.Do(ctx, req).Await(ctx)
	if err != nil {
		panic(err)
	}
	out, _ := ahttp.ReadAll(resp).Await(ctx)
	fmt.Println(resp.StatusCode, string(out))
	// Output: 200 stored 8388608 bytes
}

// A constructor's response has no header map until a field is set:
// SetHeader makes it and returns the response for chaining; the content
// type the constructor chose is sent unless Header sets another.
func ExampleResponse_SetHeader() {
	resp := ahttp.Text(200, "cached for a minute").SetHeader("Cache-Control", "max-age=60")
	fmt.Println(resp.ContentType())
	fmt.Println(resp.Header.Get("Cache-Control"))
	resp.SetHeader("Content-Type", "text/markdown")
	fmt.Println(resp.ContentType())
	// Output:
	// text/plain; charset=utf-8
	// max-age=60
	// text/markdown
}
