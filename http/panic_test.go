package http

import (
	"errors"
	"io"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// A panicking handler answers 500 and the connection goes on serving; a
// panicking stream function ends its stream with a *future.PanicError
// carrying the stack; a panicking close hook does not stop the others.
func TestHandlerPanicsAreRecovered(t *testing.T) {
	streamErr := make(chan error, 1)
	hookRan := make(chan struct{})
	rt := NewRouter()
	rt.Handle("GET /hello", Func(func(r *nethttp.Request) *Response { return Text(200, "hello") }))
	rt.Handle("GET /boom", Func(func(r *nethttp.Request) *Response { panic("boom") }))
	rt.Handle("GET /later", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] { panic(errors.New("later")) }))
	rt.Handle("GET /stream", Func(func(r *nethttp.Request) *Response {
		return NewStream(200, nil, func(s *Stream) {
			s.OnClose(func(error) { panic("hook") })
			s.OnClose(func(err error) { streamErr <- err; close(hookRan) })
			panic("stream boom")
		})
	}))
	s := startServer(t, rt)
	c := goClient(t)
	for _, path := range []string{"/boom", "/later"} {
		resp, err := c.Get(baseURL(s) + path)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != 500 || !strings.Contains(body, "Internal Server Error") {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
		resp, err = c.Get(baseURL(s) + "/hello")
		if err != nil || readBody(t, resp) != "hello" {
			t.Fatalf("after %s: %v", path, err)
		}
	}
	resp, err := c.Get(baseURL(s) + "/stream")
	if err == nil {
		io.Copy(io.Discard, resp.Body) // cut short: the stream failed
		resp.Body.Close()
	}
	select {
	case <-hookRan:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream's close hooks did not run")
	}
	var perr *future.PanicError
	if err := <-streamErr; !errors.As(err, &perr) || perr.Value != "stream boom" || len(perr.Stack) == 0 {
		t.Fatalf("stream ended with %v", err)
	}
}
