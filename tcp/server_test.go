package tcp

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

func TestServerClientsAndCount(t *testing.T) {
	r := newRuntime(t)
	conn := make(chan *Socket, 3)
	srv := listen(t, r, Handler{OnConnect: func(s *Socket) { conn <- s }})
	var cs []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
		<-conn
	}
	if srv.Count() != 3 || len(srv.Clients()) != 3 {
		t.Fatalf("Count = %d, Clients = %d", srv.Count(), len(srv.Clients()))
	}
	cs[0].Close()
	waitFor(t, "count to drop", func() bool { return srv.Count() == 2 })
}

func TestServerCloseWaitsForClients(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	buf := make([]byte, 1)
	io.ReadFull(c, buf)
	done := make(chan error, 1)
	go func() { done <- srv.Close(context.Background()) }()
	// The connected client still gets service while the server closes.
	time.Sleep(50 * time.Millisecond)
	c.Write([]byte("y"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || buf[0] != 'y' {
		t.Fatalf("echo during close: %q %v", buf, err)
	}
	// A newcomer is turned away.
	if c2, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		b := readAllTimeout(t, c2, 10*time.Second)
		c2.Close()
		if len(b) != 0 {
			t.Fatalf("newcomer got %q", b)
		}
	}
	select {
	case <-done:
		t.Fatal("Close returned while a client was connected")
	default:
	}
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return after the last client left")
	}
	if _, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		t.Fatal("listener still open after Close")
	}
}

func TestServerCloseForcesAtDeadline(t *testing.T) {
	r := newRuntime(t)
	closed := make(chan error, 1)
	srv := listen(t, r, Handler{OnClose: func(_ *Socket, err error) { closed <- err }})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "client", func() bool { return srv.Count() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := srv.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	if err := <-closed; !errors.Is(err, ErrClosed) {
		t.Fatalf("client close error = %v, want ErrClosed", err)
	}
	if b := readAllTimeout(t, c, 5*time.Second); len(b) != 0 {
		t.Fatalf("read %q", b)
	}
}

func TestPanicInHandlerClosesOnlyThatSocket(t *testing.T) {
	r := newRuntime(t)
	closed := make(chan error, 2)
	srv := listen(t, r, Handler{
		OnData: func(s *Socket, d []byte) {
			if string(d) == "boom" {
				panic("handler exploded")
			}
			s.Write(d)
		},
		OnClose: func(_ *Socket, err error) { closed <- err },
	})
	bad, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	good, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	bad.Write([]byte("boom"))
	err = <-closed
	var pe *future.PanicError
	if !errors.As(err, &pe) || pe.Value != "handler exploded" || len(pe.Stack) == 0 {
		t.Fatalf("close error = %v, want the *future.PanicError", err)
	}
	readAllTimeout(t, bad, 5*time.Second) // the bad socket is closed
	good.Write([]byte("fine"))
	buf := make([]byte, 4)
	good.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(good, buf); err != nil || string(buf) != "fine" {
		t.Fatalf("other socket: %q %v", buf, err)
	}
}

func TestConnectionCapRejectsExtra(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler(), WithMaxConns(2))
	var cs []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	waitFor(t, "two clients", func() bool { return srv.Count() == 2 })
	extra, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if b := readAllTimeout(t, extra, 10*time.Second); len(b) != 0 {
		t.Fatalf("extra got %q", b)
	}
	if srv.Rejected() != 1 || srv.Count() != 2 {
		t.Fatalf("rejected %d, count %d", srv.Rejected(), srv.Count())
	}
}

func fdList() string {
	ents, _ := os.ReadDir("/proc/self/fd")
	out := ""
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out += e.Name() + " -> " + l + "\n"
	}
	return out
}

// countFDs counts the process's socket descriptors (the Go runtime itself
// opens other files, cgroup and /dev/null, at times of its choosing).
func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// 10,000 connections opened and closed in a bounded loop leave no
// socket descriptor behind (goroutines are checked by goleak in TestMain).
func TestTenThousandConnectionsNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	before := countFDs(t)
	const total, batch = 10000, 250
	deadline := time.Now().Add(90 * time.Second)
	for done := 0; done < total; done += batch {
		if time.Now().After(deadline) {
			t.Fatalf("only %d connections in the time budget", done)
		}
		conns := make([]net.Conn, 0, batch)
		for i := 0; i < batch; i++ {
			c, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for i, c := range conns {
			if i%10 == 0 { // some of them talk
				c.Write([]byte("hi"))
				b := make([]byte, 2)
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadFull(c, b); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
		}
	}
	waitFor(t, "server to see every close", func() bool { return srv.Count() == 0 })
	deadline = time.Now().Add(20 * time.Second)
	for countFDs(t) > before {
		if time.Now().After(deadline) {
			t.Fatalf("descriptors: %d before, %d after:\n%s", before, countFDs(t), fdList())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := ReadStats().Accepted; got < total {
		t.Fatalf("accepted %d, want >= %d", got, total)
	}
}
