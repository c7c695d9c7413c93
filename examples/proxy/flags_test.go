package main

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestHelpExitsZero(t *testing.T) {
	extest.CheckHelp(t, "proxy", "-listen", "-port", "-to", "-max-buffer", "-v")
}

// -listen binds the address given and relays to -to (here a one-line echo
// backend written with Go's net).
func TestListenFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(extest.Wait))
		if line, err := bufio.NewReader(c).ReadString('\n'); err == nil {
			io.WriteString(c, "backend: "+line)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })

	srv := extest.StartServer(t, run, append([]string{"-to", ln.Addr().String()}, extest.ListenArgs...)...)
	c, err := net.Dial("tcp", extest.CheckListen(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(extest.Wait))
	io.WriteString(c, "hello\n")
	if got, err := bufio.NewReader(c).ReadString('\n'); got != "backend: hello\n" {
		t.Fatalf("read %q, %v", got, err)
	}
}
