package goasync_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/tcp"
)

// TestRuntimesSideBySide: two runtimes serve at once; shutting one down
// closes its server and sockets and leaves the other serving.
func TestRuntimesSideBySide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	echo := tcp.Handler{OnData: func(s *tcp.Socket, d []byte) { s.Write(d) }}
	var rts []*goasync.Runtime
	var srvs []*tcp.Server
	for i := 0; i < 2; i++ {
		rt, err := goasync.NewRuntime(goasync.WithLoops(1))
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Shutdown(ctx)
		if rt.Loops() != 1 {
			t.Fatalf("Loops() = %d", rt.Loops())
		}
		srv, err := tcp.Listen("127.0.0.1:0", echo, tcp.WithRuntime(rt))
		if err != nil {
			t.Fatal(err)
		}
		rts, srvs = append(rts, rt), append(srvs, srv)
	}
	s0, err := tcp.Connect(ctx, srvs[0].Addr().String(), tcp.WithRuntime(rts[0])).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	s0.Executor().Execute(func() {}) // the socket lives on rts[0]
	if err := rts[0].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { _, err := s0.ReadN(1).Await(ctx); closed <- err }()
	if err := <-closed; !errors.Is(err, tcp.ErrClosed) {
		t.Fatalf("read on a socket of a stopped runtime: %v", err)
	}
	if _, err := net.DialTimeout("tcp", srvs[0].Addr().String(), time.Second); err == nil {
		t.Fatal("the stopped runtime's server still accepts")
	}
	c, err := net.Dial("tcp", srvs[1].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hi"))
	buf := make([]byte, 2)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("the other runtime's server: %q %v", buf, err)
	}
}

func ExampleNewRuntime() {
	rt, err := goasync.NewRuntime(goasync.WithLoops(2))
	if err != nil {
		panic(err)
	}
	defer rt.Shutdown(context.Background())
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, d []byte) { s.Write(d) },
	}, tcp.WithRuntime(rt))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s, err := tcp.Connect(ctx, srv.Addr().String(), tcp.WithRuntime(rt)).Await(ctx)
	if err != nil {
		panic(err)
	}
	s.WriteString("ping\n")
	line, _ := s.ReadLine().Await(ctx)
	fmt.Println(string(line))
	// Output: ping
}
