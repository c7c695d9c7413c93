package http

import (
	"bufio"
	"fmt"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// Requests are never reused: a handler that keeps its request (and the
// strings in it) after its future settled, while the connection goes on
// parsing hundreds of other requests into the same arena and slab, still
// sees exactly what the client sent. Half the requests are answered late,
// from a timer, reading the request only then.
func TestKeptRequestsStayIntact(t *testing.T) {
	type kept struct {
		r    *nethttp.Request
		want string
	}
	var mu sync.Mutex
	var all []kept
	describe := func(r *nethttp.Request) string {
		return fmt.Sprintf("%s %s %s q=%s host=%s x=%q ua=%q body=%q", r.Method, r.URL.Path, r.RequestURI,
			r.URL.Query().Get("q"), r.Host, r.Header.Values("X-Seq"), r.UserAgent(), BodyBytes(r))
	}
	rt := NewRouter()
	rt.Handle("/{p...}", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		d := describe(r)
		mu.Lock()
		all = append(all, kept{r, d})
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/late") {
			p := future.New[*Response]()
			time.AfterFunc(2*time.Millisecond, func() { p.Resolve(Text(200, describe(r))) })
			return p.Future()
		}
		return Reply(Text(200, d))
	}))
	s := startServer(t, rt)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	const n = 400
	var wire strings.Builder
	var wantReplies []string
	for i := range n {
		path := fmt.Sprintf("/item/%d", i)
		if i%2 == 1 {
			path += "/late"
		}
		method, body := "GET", ""
		if i%3 == 0 {
			method, body = "POST", strings.Repeat(string(rune('a'+i%26)), i%50)
		}
		host := fmt.Sprintf("h%d.test", i%7)
		ua := fmt.Sprintf("agent/%d", i)
		fmt.Fprintf(&wire, "%s %s?q=%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nX-Seq: %d\r\nx-seq: again-%d\r\nContent-Length: %d\r\n\r\n%s",
			method, path, i, host, ua, i, i, len(body), body)
		wantReplies = append(wantReplies, fmt.Sprintf("%s %s %s?q=%d q=%d host=%s x=%q ua=%q body=%q", method, path, path, i, i, host,
			[]string{fmt.Sprint(i), fmt.Sprintf("again-%d", i)}, ua, body))
	}
	// Pipelined in pieces, so heads are split across reads and parsed
	// while earlier requests are still held.
	go func() {
		b := []byte(wire.String())
		for len(b) > 0 {
			k := min(len(b), 1000)
			if _, err := c.Write(b[:k]); err != nil {
				return
			}
			b = b[k:]
		}
	}()
	expectReplyBodies(t, br, wantReplies)
	mu.Lock()
	defer mu.Unlock()
	if len(all) != n {
		t.Fatalf("%d requests kept, want %d", len(all), n)
	}
	for i, k := range all {
		if got := describe(k.r); got != k.want || got != wantReplies[i] {
			t.Fatalf("kept request %d changed:\n now  %s\n then %s", i, got, k.want)
		}
	}
}
