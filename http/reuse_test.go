package http

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// With WithRequestReuse, a request's objects serve again only after its
// reply is out: a handler answering late (from a timer) still reads its own
// request when its future settles, pipelined requests never see each
// other's fields (a header sent once does not reappear), and strings taken
// from a request stay valid after its objects were reused.
func TestRequestReuseKeepsRequestsApart(t *testing.T) {
	var mu sync.Mutex
	var kept []string // strings taken from requests, checked at the end
	var keptWant []string
	describe := func(r *nethttp.Request) string {
		return fmt.Sprintf("%s %s q=%s host=%s x=%q only=%q n=%d", r.Method, r.URL.Path, r.URL.RawQuery, r.Host,
			r.Header.Values("X-Seq"), r.Header.Get("X-Only-Some"), len(r.Header))
	}
	rt := NewRouter()
	rt.Handle("/{p...}", HandlerFunc(func(r *nethttp.Request) *future.Future[*Response] {
		mu.Lock()
		kept = append(kept, r.URL.Path+" "+r.Header.Get("X-Seq"))
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/late") {
			p := future.New[*Response]()
			time.AfterFunc(time.Millisecond, func() { p.Resolve(Text(200, describe(r))) })
			return p.Future()
		}
		return Reply(Text(200, describe(r)))
	}))
	s := startServer(t, rt, WithRequestReuse())
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 300
	var wire bytes.Buffer
	var want []string
	for i := range n {
		path := fmt.Sprintf("/r/%d", i)
		if i%3 == 1 {
			path += "/late"
		}
		extra, only, fields := "", "", 1
		if i%4 == 0 {
			extra, only, fields = "X-Only-Some: yes\r\n", "yes", 2
		}
		fmt.Fprintf(&wire, "GET %s?i=%d HTTP/1.1\r\nHost: h%d\r\nX-Seq: %d\r\n%s\r\n", path, i, i%5, i, extra)
		want = append(want, fmt.Sprintf("GET %s q=i=%d host=h%d x=%q only=%q n=%d", path, i, i%5, []string{fmt.Sprint(i)}, only, fields))
		keptWant = append(keptWant, fmt.Sprintf("%s %d", path, i))
	}
	go c.Write(wire.Bytes())
	br := bufio.NewReader(c)
	expectReplyBodies(t, br, want)
	mu.Lock()
	defer mu.Unlock()
	for i := range keptWant {
		if kept[i] != keptWant[i] {
			t.Fatalf("string kept from request %d changed: %q, want %q", i, kept[i], keptWant[i])
		}
	}
}

// WithRequestReuse leaves the handler's Response as the only allocation of
// a pipelined "hello" request (plus a share of the string arena).
func TestAllocationBudgetsServerReuse(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes allocation counts")
	}
	s := startServer(t, helloRouter(), WithRequestReuse())
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	one := []byte("GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n")
	size := len(appendTestReply(nil))
	const n = 16
	batch := bytes.Repeat(one, n)
	buf := make([]byte, size*n)
	round := func() { rawPipeline(t, c, batch, buf, size, n) }
	round()
	if !bytes.HasSuffix(buf, []byte("\r\n\r\nhello")) {
		t.Fatalf("replies out of step: %q", buf[:size])
	}
	per := testing.AllocsPerRun(300, round) / n
	t.Logf("%.2f allocations per pipelined request on the server, requests reused", per)
	if per > 1.1 {
		t.Fatalf("%.2f allocations per pipelined request, budget 1.1", per)
	}
}

// expectReplyBodies reads len(want) responses from br and checks that
// their bodies are want, in order.
func expectReplyBodies(t *testing.T, br *bufio.Reader, want []string) {
	t.Helper()
	for i := range want {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want[i] {
			t.Fatalf("reply %d:\n got %s\nwant %s", i, b, want[i])
		}
	}
}
