package tcp

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
)

// With tracing on, Connect is a step of the caller's pipeline, the socket's
// lifetime a child of it, its reads children of that, and its event lines
// carry the pipeline id; an accepted socket roots a pipeline of its own.
func TestTracedConnectAndSocket(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	logx.Set(zap.New(core))
	defer logx.Set(nil)
	r := newRuntime(t)
	srv := listen(t, r, Handler{OnConnect: func(s *Socket) { s.WriteString("hi\n") }})
	ctx := future.WithTraceID(context.Background(), "req-42")
	s := await(t, Connect(ctx, srv.Addr().String(), withRuntime(r)))
	if got := string(await(t, s.ReadLine())); got != "hi" {
		t.Fatalf("read %q", got)
	}
	await(t, s.Close())

	steps := map[string]map[string]any{} // name prefix -> fields of "future settled"
	// The accepted socket's step settles when the server side has seen the
	// close too: give it a moment.
	for deadline := time.Now().Add(10 * time.Second); steps["tcp.Accept"] == nil && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		for _, e := range logs.FilterMessage("future settled").All() {
			f := e.ContextMap()
			name := fmt.Sprint(f["name"])
			for _, p := range []string{"tcp.Connect", "tcp.Socket", "tcp.ReadLine", "tcp.Close", "tcp.Accept"} {
				if strings.HasPrefix(name, p) {
					steps[p] = f
				}
			}
		}
	}
	for _, p := range []string{"tcp.Connect", "tcp.Socket", "tcp.ReadLine", "tcp.Close", "tcp.Accept"} {
		if steps[p] == nil {
			t.Fatalf("no settled step %s; log: %v", p, logs.All())
		}
	}
	for _, p := range []string{"tcp.Connect", "tcp.Socket", "tcp.ReadLine", "tcp.Close"} {
		if steps[p]["trace"] != "req-42" {
			t.Errorf("%s in pipeline %v, want the caller's req-42", p, steps[p]["trace"])
		}
	}
	if steps["tcp.Socket"]["parent"] != steps["tcp.Connect"]["id"] ||
		steps["tcp.ReadLine"]["parent"] != steps["tcp.Socket"]["id"] {
		t.Errorf("nesting: connect %v, socket %v, read %v", steps["tcp.Connect"], steps["tcp.Socket"], steps["tcp.ReadLine"])
	}
	if steps["tcp.Accept"]["trace"] == "req-42" || steps["tcp.Accept"]["parent"] != uint64(0) {
		t.Errorf("accepted socket should root its own pipeline: %v", steps["tcp.Accept"])
	}
	events := 0
	for _, e := range logs.FilterMessage("tcp socket").All() {
		if e.ContextMap()["trace"] == "req-42" {
			events++
		}
	}
	if events == 0 {
		t.Error("no socket event line carries the pipeline id")
	}
}
