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
	extest.CheckHelp(t, "echo-server", "-listen", "-port", "-max-buffer", "-v")
}

func TestListenFlag(t *testing.T) {
	srv := extest.StartServer(t, run, extest.ListenArgs...)
	c, err := net.Dial("tcp", extest.CheckListen(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(extest.Wait))
	io.WriteString(c, "hello\n")
	if got, err := bufio.NewReader(c).ReadString('\n'); got != "hello\n" {
		t.Fatalf("echo = %q, %v", got, err)
	}
}
