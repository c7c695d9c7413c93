package http

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

type roomParams struct {
	Room string `param:"room,required,max=16"`
}

func sseRouter(hub *Hub, maxBuf int) *Router {
	rt := NewRouter()
	rt.Handle("GET /source", Typed(func(r *nethttp.Request, p *roomParams) *future.Future[*Response] {
		return Reply(SSE(func(s *Stream) {
			if maxBuf > 0 {
				s.SetMaxBuffered(maxBuf)
			}
			hub.Subscribe(p.Room, s)
			s.Send(Event{Event: "hello", Data: "subscribed to " + p.Room})
		}))
	}))
	return rt
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sseConn is a raw subscriber: a TCP connection past the response head.
type sseConn struct {
	c  net.Conn
	er *EventReader
}

func subscribe(t testing.TB, addr, room string) *sseConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(c, "GET /source?room=%s HTTP/1.1\r\nHost: x\r\n\r\n", room)
	br := bufio.NewReader(c)
	resp, err := nethttp.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("subscribe: %v %v", err, resp)
	}
	// The body reader de-chunks; EventReader parses events from it.
	er := NewEventReader(resp.Body)
	ev, err := er.Next()
	if err != nil || ev.Event != "hello" {
		t.Fatalf("hello event: %+v %v", ev, err)
	}
	return &sseConn{c: c, er: er}
}

func TestSSEThousandSubscribersAndPruning(t *testing.T) {
	const n = 1000
	hub := NewHub()
	s := startServer(t, sseRouter(hub, 0))
	subs := make([]*sseConn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range subs {
		subs[i] = subscribe(t, s.Addr().String(), "lobby")
	}
	if got := hub.Count("lobby"); got != n {
		t.Fatalf("subscribers %d", got)
	}
	receive := func(list []*sseConn, want string) {
		for _, sc := range list {
			wg.Add(1)
			go func(sc *sseConn) {
				defer wg.Done()
				ev, err := sc.er.Next()
				if err != nil || ev.Data != want {
					errs <- fmt.Errorf("got %+v %v", ev, err)
				}
			}(sc)
		}
	}
	receive(subs, "first")
	if sent := hub.Publish("lobby", Event{Data: "first"}); sent != n {
		t.Fatalf("published to %d", sent)
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	// Kill every other subscriber.
	for i := 0; i < n; i += 2 {
		subs[i].c.Close()
	}
	waitFor(t, "dead subscribers pruned", func() bool { return hub.Count("lobby") == n/2 })
	var alive []*sseConn
	for i := 1; i < n; i += 2 {
		alive = append(alive, subs[i])
	}
	receive(alive, "second")
	if sent := hub.Publish("lobby", Event{Data: "second"}); sent != n/2 {
		t.Fatalf("second publish reached %d", sent)
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for _, sc := range alive {
		sc.c.Close()
	}
	waitFor(t, "channel removed", func() bool { return len(hub.Channels()) == 0 })
}

func TestSSESlowSubscriberDropped(t *testing.T) {
	hub := NewHub()
	s := startServer(t, sseRouter(hub, 128<<10))
	fast := subscribe(t, s.Addr().String(), "r")
	slow := subscribe(t, s.Addr().String(), "r") // never reads again
	defer slow.c.Close()
	big := strings.Repeat("x", 32<<10)
	got := make(chan error)
	go func() {
		for {
			ev, err := fast.er.Next()
			if err == nil && ev.Data == "end" {
				close(got)
				return
			}
			got <- err
			if err != nil {
				return
			}
		}
	}()
	// Publish in lockstep with the fast reader, so only the slow one falls
	// behind: first the kernel's socket buffers fill, then its stream's.
	start := time.Now()
	published := 0
	for hub.Count("r") == 2 && time.Since(start) < 30*time.Second {
		if hub.Publish("r", Event{Data: big}) == 0 {
			t.Fatal("nobody subscribed")
		}
		published++
		if err := <-got; err != nil {
			t.Fatalf("fast subscriber after %d events: %v", published, err)
		}
	}
	if hub.Count("r") != 1 {
		t.Fatalf("slow subscriber still subscribed after %d events", published)
	}
	hub.Publish("r", Event{Data: "end"})
	select {
	case _, ok := <-got:
		if ok {
			t.Fatal("fast subscriber: unexpected event")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fast subscriber stalled")
	}
	fast.c.Close()
	// The slow one's connection was ended by the server: with a reset,
	// since the events queued for it were dropped (a cut stream must not
	// look complete), or with a FIN if nothing was queued any more.
	slow.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, slow.c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("slow subscriber connection: %v", err)
	}
}

func TestSSEWithGoClientAndHTTP10(t *testing.T) {
	hub := NewHub()
	s := startServer(t, sseRouter(hub, 0))
	// Bad parameter: 400 naming it.
	c := goClient(t)
	resp, err := c.Get(baseURL(s) + "/source?room=" + strings.Repeat("r", 17))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"room"`) {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := nethttp.NewRequestWithContext(ctx, "GET", baseURL(s)+"/source?room=go", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	er := NewEventReader(resp.Body)
	if ev, err := er.Next(); err != nil || ev.Event != "hello" {
		t.Fatalf("%+v %v", ev, err)
	}
	waitFor(t, "subscription", func() bool { return hub.Count("go") == 1 })
	hub.Publish("go", Event{ID: "1", Event: "chat", Data: "line one\nline two"})
	if ev, err := er.Next(); err != nil || ev.Data != "line one\nline two" || ev.ID != "1" || ev.Event != "chat" {
		t.Fatalf("%+v %v", ev, err)
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "Go client's stream pruned", func() bool { return hub.Count("go") == 0 })

	// HTTP/1.0: the stream is delimited by the connection.
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, "GET /source?room=old HTTP/1.0\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err = nethttp.ReadResponse(br, &nethttp.Request{Method: "GET"})
	if err != nil || len(resp.TransferEncoding) != 0 || !resp.Close {
		t.Fatalf("1.0 stream: %v %+v", err, resp)
	}
	er = NewEventReader(resp.Body)
	er.Next()
	waitFor(t, "1.0 subscription", func() bool { return hub.Count("old") == 1 })
	hub.Publish("old", Event{Data: "plain"})
	if ev, err := er.Next(); err != nil || ev.Data != "plain" {
		t.Fatalf("%+v %v", ev, err)
	}
}
