package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/cdp"
	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// client is Go's net/http client: an independent peer.
func client(t *testing.T) *nethttp.Client {
	c := &nethttp.Client{Transport: &nethttp.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func post(t *testing.T, c *nethttp.Client, base string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(base+"/send-message", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPage(t *testing.T) {
	srv := extest.StartServer(t, run)
	resp, err := client(t).Get("http://127.0.0.1:" + srv.Port + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(b), "new EventSource(") || !strings.Contains(string(b), `fetch("/send-message"`) {
		t.Fatalf("GET /: %d %q\n%.200s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, err = client(t).Get("http://127.0.0.1:" + srv.Port + "/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("GET /nothing-here: %d", resp.StatusCode)
	}
}

// Every limit, on both sides of its boundary: lengths count characters.
func TestSendMessageLimits(t *testing.T) {
	srv := extest.StartServer(t, run, "-q")
	base := "http://127.0.0.1:" + srv.Port
	c := client(t)
	r := strings.Repeat
	ok := url.Values{"room": {"lobby"}, "name": {"ann"}, "message": {"hello"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range ok {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	without := func(k string) url.Values {
		f := with(k, "")
		f.Del(k)
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		param  string
	}{
		{"valid", ok, 200, ""},
		{"room of 16", with("room", r("r", 16)), 200, ""},
		{"room of 16 runes", with("room", r("é", 16)), 200, ""},
		{"room of 17", with("room", r("r", 17)), 400, "room"},
		{"no room", without("room"), 400, "room"},
		{"name of 1", with("name", "a"), 200, ""},
		{"name of 64", with("name", r("n", 64)), 200, ""},
		{"empty name", with("name", ""), 400, "name"},
		{"name of 65", with("name", r("n", 65)), 400, "name"},
		{"no name", without("name"), 400, "name"},
		{"message of 5", with("message", "12345"), 200, ""},
		{"message of 256", with("message", r("m", 256)), 200, ""},
		{"message of 4", with("message", "1234"), 400, "message"},
		{"message of 257", with("message", r("m", 257)), 400, "message"},
		{"no message", without("message"), 400, "message"},
	} {
		status, body := post(t, c, base, tc.form)
		if status != tc.status || (tc.param != "" && !strings.Contains(body, `"`+tc.param+`"`)) {
			t.Errorf("%s: %d %q; want %d naming %q", tc.name, status, body, tc.status, tc.param)
		}
	}
	// GET is not a way to send, and /source needs its room.
	resp, err := c.Get(base + "/send-message?room=a&name=b&message=hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET /send-message: %d, want 405", resp.StatusCode)
	}
	resp, err = c.Get(base + "/source?room=" + r("x", 17))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET /source with a room of 17: %d, want 400", resp.StatusCode)
	}
}

// sse reads "data:" events from a server-sent event stream with a plain
// line reader (not the library's EventReader).
func sse(t *testing.T, body io.Reader) <-chan string {
	ch := make(chan string, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			case line == "" && data != nil:
				ch <- strings.Join(data, "\n")
				data = nil
			}
		}
	}()
	return ch
}

// A subscriber gets the messages of its room, and only those.
func TestSourceStreamsRoom(t *testing.T) {
	srv := extest.StartServer(t, run)
	base := "http://127.0.0.1:" + srv.Port
	c := client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := nethttp.NewRequestWithContext(ctx, "GET", base+"/source?room=kitchen", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /source: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := sse(t, resp.Body)
	srv.Out.WaitFor(t, `joined room "kitchen" \(1 listening\)`)

	if s, b := post(t, c, base, url.Values{"room": {"hall"}, "name": {"bob"}, "message": {"not for the kitchen"}}); s != 200 {
		t.Fatalf("post: %d %s", s, b)
	}
	if s, b := post(t, c, base, url.Values{"room": {"kitchen"}, "name": {"ann <b>"}, "message": {"tea is ready\nreally"}}); s != 200 {
		t.Fatalf("post: %d %s", s, b)
	}
	select {
	case ev := <-events:
		if want := `{"name":"ann \u003cb\u003e","message":"tea is ready\nreally"}`; ev != want {
			t.Fatalf("event %s, want %s", ev, want)
		}
	case <-time.After(extest.Wait):
		t.Fatal("no event")
	}
	cancel() // the reader leaves: the server prunes it from the room
	srv.Out.WaitFor(t, `left room "kitchen"`)
}

// The chat as a real process, built like `go run ./examples/chat`: it
// answers net/http, then the browser test runs against it.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	port, out := extest.StartProcess(t, extest.Build(t, "chat"))
	base := "http://127.0.0.1:" + port
	resp, err := client(t).Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	if s, b := post(t, client(t), base, url.Values{"room": {"r"}, "name": {"n"}, "message": {"hello"}}); s != 200 {
		t.Fatalf("POST: %d %s", s, b)
	}
	out.WaitFor(t, `n said "hello" in room "r" \(0 listening\)`)
	t.Run("Browsers", func(t *testing.T) { browsersChat(t, port, out) })
}

// browsersChat is the browser test: two headless Chromium pages in the
// same room; a message typed in one appears in the other.
func browsersChat(t *testing.T, port string, out *extest.Output) {
	bin := cdp.Find()
	if bin == "" {
		t.Skip("chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := cdp.Start(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	page := "http://127.0.0.1:" + port + "/?room=browsers"
	ann, err := b.Open(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := b.Open(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*cdp.Page{ann, bob} {
		if err := p.WaitTrue(ctx, `document.getElementById("status")?.dataset.state === "open"`); err != nil {
			t.Fatal(err)
		}
	}
	out.WaitFor(t, `joined room "browsers" \(2 listening\)`)

	// Ann types her name and a message, and presses Enter.
	msg := fmt.Sprintf("hello from ann at %d", time.Now().UnixNano())
	for _, step := range []error{
		ann.Type(ctx, "#name", "ann"),
		ann.Type(ctx, "#message", msg),
		ann.PressEnter(ctx),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	// Bob sees it, and so does Ann.
	want := fmt.Sprintf(`[...document.querySelectorAll("#log li")].some(li => li.textContent === %q)`, "ann"+msg)
	for name, p := range map[string]*cdp.Page{"bob": bob, "ann": ann} {
		if err := p.WaitTrue(ctx, want); err != nil {
			var log string
			p.Eval(ctx, `document.getElementById("log").innerText + " | " + document.getElementById("status").textContent`, &log)
			t.Fatalf("%s's page: %v; it shows: %s", name, err, log)
		}
	}
	// A message too short is refused with 400, and the page says so.
	// (The form's own minlength check is removed first, so the server's
	// validation is what refuses it.)
	if err := bob.Eval(ctx, `document.getElementById("message").removeAttribute("minlength")`, nil); err != nil {
		t.Fatal(err)
	}
	for _, step := range []error{
		bob.Type(ctx, "#name", "bob"),
		bob.Type(ctx, "#message", "hi"),
		bob.PressEnter(ctx),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	if err := bob.WaitTrue(ctx, `document.getElementById("status").textContent.includes("at least 5 characters")`); err != nil {
		t.Fatal(err)
	}
}
