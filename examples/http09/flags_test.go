package main

import (
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestHelpExitsZero(t *testing.T) {
	extest.CheckHelp(t, "http09", "-serve", "-get", "-host", "-port", "-listen")
}

func TestListenFlag(t *testing.T) {
	dir, _ := site(t)
	srv := extest.StartServer(t, run, append([]string{"-serve", dir}, extest.ListenArgs...)...)
	extest.CheckListen(t, srv)
	out, stderr, err := extest.Run(t, run, "", "-get", "/sub/file.txt", "-host", "127.0.0.1", "-port", srv.Port)
	if err != nil || out != "line 1\nline 2\n" {
		t.Fatalf("-get: %q, %v; stderr:\n%s", out, err, stderr)
	}
}
