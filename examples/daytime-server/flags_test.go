package main

import (
	"bufio"
	"errors"
	"flag"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestHelpExitsZero(t *testing.T) { extest.CheckHelp(t, "daytime-server", "-listen", "-port") }

// readTime connects to addr and reads the server's one line.
func readTime(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(extest.Wait))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	return line
}

func TestListenFlag(t *testing.T) {
	srv := extest.StartServer(t, run, extest.ListenArgs...)
	if line := readTime(t, extest.CheckListen(t, srv)); !strings.HasSuffix(line, "GMT\n") && !strings.HasSuffix(line, "UTC\n") {
		t.Fatalf("line %q", line)
	}
}

// A port chosen by the user, with -listen as with -port.
func TestListenChosenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := extest.StartServer(t, run, "-listen", addr)
	if got := extest.CheckListen(t, srv); got != addr {
		t.Fatalf("listens on %s, want %s", got, addr)
	}
	readTime(t, addr)
}

func TestListenFlagChecked(t *testing.T) {
	for _, bad := range []string{"9999", "127.0.0.1:x", "127.0.0.1:70000", "[::1"} {
		_, stderr, err := extest.Run(t, run, "", "-listen", bad)
		if err == nil || errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr, "invalid value") {
			t.Errorf("-listen %q: err %v; stderr:\n%s", bad, err, stderr)
		}
	}
}
