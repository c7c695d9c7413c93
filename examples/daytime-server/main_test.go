package main

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

// Clients made with Go's net package each get one line with the time,
// then EOF.
func TestDaytimeServer(t *testing.T) {
	srv := extest.StartServer(t, run)
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+srv.Port)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(extest.Wait))
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the time: %v", err)
		}
		got, err := time.Parse(time.RFC1123+"\n", line)
		if err != nil {
			t.Fatalf("line %q is not a time: %v", line, err)
		}
		if d := time.Since(got); d < -time.Minute || d > time.Minute {
			t.Fatalf("time %v is %v away from now", got, d)
		}
		if b, err := r.ReadByte(); err == nil {
			t.Fatalf("byte %q after the line, want EOF", b)
		}
		c.Close()
	}
	srv.Out.WaitFor(t, `(?s)(Sent the time to 127\.0\.0\.1:\d+ and closed the connection\.\n.*){3}`)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	srv.Out.WaitFor(t, "Shutting down.")
}

// The IPv6 loopback works too: the server listens on all interfaces.
func TestDaytimeServerIPv6(t *testing.T) {
	srv := extest.StartServer(t, run)
	c, err := net.Dial("tcp", "[::1]:"+srv.Port)
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(extest.Wait))
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
}

func TestDaytimeServerBadFlag(t *testing.T) {
	_, stderr, err := extest.Run(t, run, "", "-port", "x")
	if err == nil {
		t.Fatalf("no error for -port x; stderr: %s", stderr)
	}
}
