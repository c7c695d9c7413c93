package http

import (
	"context"
	"fmt"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
)

// With tracing on, a client request is a step of the caller's pipeline
// with its connect below it, and a served request roots a pipeline named
// by its X-Request-Id, with what the handler starts from r.Context() below.
func TestHTTPTracing(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)
	rt := NewRouter()
	rt.Handle("GET /work", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		inner := future.Trace(r.Context(), future.Resolved(1), "handler work")
		return future.Then(inner, func(int) (*Response, error) { return Text(200, "done"), nil })
	}))
	s := startServer(t, rt)
	c := newClient(t)
	ctx, cancel := context.WithTimeout(future.WithTraceID(context.Background(), "client-7"), 20*time.Second)
	defer cancel()
	req, _ := nethttp.NewRequestWithContext(ctx, "GET", baseURL(s)+"/work", nil)
	req.Header.Set("X-Request-Id", "req-abc")
	resp, err := c.Do(ctx, req).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(resp).Await(ctx); err != nil {
		t.Fatal(err)
	}
	find := func(prefix string) map[string]any {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			for _, e := range logs.FilterMessage("future settled").All() {
				if f := e.ContextMap(); strings.HasPrefix(fmt.Sprint(f["name"]), prefix) {
					return f
				}
			}
		}
		t.Fatalf("no settled step %q; log: %v", prefix, logs.All())
		return nil
	}
	get, conn := find("http GET"), find("tcp.Connect")
	if get["trace"] != "client-7" || conn["trace"] != "client-7" || conn["parent"] != get["id"] {
		t.Errorf("client steps: %v / %v", get, conn)
	}
	serve, work := find("http serve GET /work"), find("handler work")
	if serve["trace"] != "req-abc" || work["trace"] != "req-abc" || work["parent"] != serve["id"] {
		t.Errorf("server steps: %v / %v", serve, work)
	}
}
