// Package cdp drives a headless Chromium for the examples' browser tests
// through the Chrome DevTools Protocol, over the browser's WebSocket, with
// nothing but golang.org/x/net/websocket: start the browser, open pages,
// evaluate JavaScript in them.
package cdp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

// Paths where Debian and others install Chromium.
var candidates = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}

// Find returns the path of a Chromium binary ($CHROMIUM, else a usual
// place), or "" if there is none.
func Find() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// Browser is a running headless Chromium and the DevTools connection to it.
type Browser struct {
	cmd     *exec.Cmd
	ws      *websocket.Conn
	exited  chan struct{}
	mu      sync.Mutex
	nextID  int64
	waiting map[int64]chan reply
	readErr error
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type message struct {
	ID int64 `json:"id"`
	reply
}

var listening = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// Start launches bin headless with a fresh profile in userDataDir and
// connects to it.
func Start(ctx context.Context, bin, userDataDir string) (*Browser, error) {
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--remote-allow-origins=*",
		"--user-data-dir="+userDataDir, "--remote-debugging-port=0", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &Browser{cmd: cmd, exited: make(chan struct{}), waiting: map[int64]chan reply{}}
	urlc := make(chan string, 1)
	var log strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				urlc <- m[1]
				sent = true
			}
		}
	}()
	go func() { cmd.Wait(); close(b.exited) }()
	var wsURL string
	select {
	case wsURL = <-urlc:
	case <-b.exited:
		logMu.Lock()
		defer logMu.Unlock()
		return nil, fmt.Errorf("chromium exited before listening:\n%s", log.String())
	case <-ctx.Done():
		b.kill()
		return nil, fmt.Errorf("chromium did not start: %w", ctx.Err())
	}
	ws, err := websocket.Dial(wsURL, "", "http://127.0.0.1/")
	if err != nil {
		b.kill()
		return nil, fmt.Errorf("devtools websocket: %w", err)
	}
	b.ws = ws
	go b.readLoop()
	return b, nil
}

func (b *Browser) readLoop() {
	for {
		var m message
		if err := websocket.JSON.Receive(b.ws, &m); err != nil {
			b.mu.Lock()
			b.readErr = err
			for id, ch := range b.waiting {
				close(ch)
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		if m.ID == 0 {
			continue // an event: not used
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// call sends one DevTools command (to a page when session is not empty)
// and decodes its result into out.
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return b.readErr
	}
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	req := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		req["sessionId"] = session
	}
	if err := websocket.JSON.Send(b.ws, req); err != nil {
		return err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: devtools connection closed", method)
		}
		if r.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Page is one browser tab.
type Page struct {
	b       *Browser
	session string
}

// Open opens a new tab on url.
func (b *Browser) Open(ctx context.Context, url string) (*Page, error) {
	var t struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": url}, &t); err != nil {
		return nil, err
	}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": t.TargetID, "flatten": true}, &s); err != nil {
		return nil, err
	}
	return &Page{b: b, session: s.SessionID}, nil
}

// Eval evaluates a JavaScript expression in the page (awaiting it if it
// is a promise) and decodes its value into out.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception *struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.b.call(ctx, p.session, "Runtime.evaluate",
		map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		msg := e.Text
		if e.Exception != nil {
			msg = e.Exception.Description
		}
		return fmt.Errorf("javascript: %s", msg)
	}
	if out == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// Type focuses the element matched by the CSS selector and types text
// into it as keyboard input (Input.insertText), as a user would.
func (p *Page) Type(ctx context.Context, selector, text string) error {
	sel, _ := json.Marshal(selector)
	var found bool
	if err := p.Eval(ctx, `(() => { const e = document.querySelector(`+string(sel)+`); if (!e) return false; e.focus(); return true; })()`, &found); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("no element matches %s", selector)
	}
	return p.b.call(ctx, p.session, "Input.insertText", map[string]any{"text": text}, nil)
}

// PressEnter sends an Enter key press to the focused element (which
// submits its form).
func (p *Page) PressEnter(ctx context.Context) error {
	for _, typ := range []string{"keyDown", "keyUp"} {
		params := map[string]any{"type": typ, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
		if typ == "keyDown" {
			params["text"] = "\r"
		}
		if err := p.b.call(ctx, p.session, "Input.dispatchKeyEvent", params, nil); err != nil {
			return err
		}
	}
	return nil
}

// WaitTrue evaluates expr every 50ms until it is true, or fails when ctx
// ends.
func (p *Page) WaitTrue(ctx context.Context, expr string) error {
	var last error
	for {
		var ok bool
		if last = p.Eval(ctx, expr, &ok); last == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = errors.New("still false")
			}
			return fmt.Errorf("waiting for %s: %v (%w)", expr, last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close closes the connection and stops the browser.
func (b *Browser) Close() {
	if b.ws != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = b.call(ctx, "", "Browser.close", map[string]any{}, nil)
		cancel()
		b.ws.Close()
	}
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		b.kill()
	}
}

func (b *Browser) kill() {
	_ = b.cmd.Process.Kill()
	<-b.exited
}
