package http

import (
	"bufio"
	"context"
	"errors"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

func TestNetHTTPWithRecorder(t *testing.T) {
	rt := NewRouter()
	rt.Handle("GET /hello/{name}", Func(func(r *nethttp.Request) *Response {
		return Text(200, "hello "+r.PathValue("name")).SetHeader("X-Kind", "greeting")
	}))
	rt.Handle("GET /fail", HandlerFunc(func(*nethttp.Request) *future.Future[*Response] {
		return future.Rejected[*Response](errors.New("boom"))
	}))
	rt.Handle("GET /panic", Func(func(*nethttp.Request) *Response { panic("handler bug") }))
	h := NetHTTP(rt)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/hello/ada", nil))
	if rec.Code != 200 || rec.Body.String() != "hello ada" || rec.Header().Get("X-Kind") != "greeting" ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("got %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	for _, path := range []string{"/fail", "/panic"} {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 500 {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nowhere", nil))
	if rec.Code != 404 {
		t.Fatalf("unknown path: status %d", rec.Code)
	}
}

// Mounted in Go's own server beside a plain handler; an SSE stream is
// flushed event by event and read with Go's client.
func TestNetHTTPMountedInGoServer(t *testing.T) {
	hub := NewHub()
	rt := NewRouter()
	rt.Handle("GET /events", Func(func(r *nethttp.Request) *Response {
		return SSE(func(s *Stream) { hub.Subscribe("news", s) })
	}))
	mux := nethttp.NewServeMux()
	mux.Handle("/events", NetHTTP(rt))
	mux.HandleFunc("/plain", func(w nethttp.ResponseWriter, _ *nethttp.Request) { io.WriteString(w, "plain") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := nethttp.Get(srv.URL + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain" {
		t.Fatalf("plain: %q", b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := nethttp.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err = nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	for hub.Count("news") == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	er := NewEventReader(bufio.NewReader(resp.Body))
	for _, want := range []string{"one", "two"} {
		hub.Publish("news", Event{Data: want})
		ev, err := er.Next()
		if err != nil || ev.Data != want {
			t.Fatalf("event %q %v, want %q", ev.Data, err, want)
		}
	}
	// The client goes away: the stream ends and the hub prunes it.
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for hub.Count("news") != 0 {
		hub.Publish("news", Event{Data: "ping"})
		if time.Now().After(deadline) {
			t.Fatal("subscriber not pruned after the client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
