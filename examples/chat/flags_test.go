package main

import (
	"io"
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestHelpExitsZero(t *testing.T) { extest.CheckHelp(t, "chat", "-listen", "-port", "-q") }

// -listen binds the address given, and the page is served there.
func TestListenFlag(t *testing.T) {
	srv := extest.StartServer(t, run, append([]string{"-q"}, extest.ListenArgs...)...)
	addr := extest.CheckListen(t, srv)
	srv.Out.WaitFor(t, `open http://127\.0\.0\.1:`+srv.Port+`/`)
	resp, err := client(t).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(b) == 0 {
		t.Fatalf("GET / on %s: %d, %d bytes", addr, resp.StatusCode, len(b))
	}
}
