package tcp_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/tcp"
)

// An echo server: every chunk a client sends is written back.
func ExampleListen() {
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) { s.Write(data) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close(context.Background())

	s, err := tcp.Connect(context.Background(), srv.Addr().String()).Await(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	s.WriteString("hello\n")
	line, err := s.ReadLine().Await(context.Background())
	fmt.Printf("%s %v\n", line, err)
	// Output: hello <nil>
}

// A client as one chain of futures: connect, send a request, read the
// reply line, close. Nothing blocks until the final Await.
func ExampleConnect() {
	srv, _ := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) {
			s.WriteString(strings.ToUpper(string(data)))
		},
	})
	defer srv.Close(context.Background())

	ctx := context.Background()
	reply := future.Compose(tcp.Connect(ctx, srv.Addr().String(), tcp.WithConnectTimeout(5*time.Second)),
		func(s *tcp.Socket) *future.Future[string] {
			s.WriteString("shout\n")
			return future.Then(s.ReadLine(), func(line []byte) (string, error) {
				s.Close()
				return string(line), nil
			})
		})
	v, err := reply.Await(ctx)
	fmt.Println(v, err)
	// Output: SHOUT <nil>
}

// A daytime server (the IOLib tutorial's first server): it writes the
// time and closes; Close waits until the bytes reached the kernel.
func ExampleSend() {
	got := make(chan string, 1)
	srv, _ := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) { got <- string(data) },
	})
	defer srv.Close(context.Background())

	s, err := tcp.Send(context.Background(), srv.Addr().String(), []byte("one shot")).Await(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Close()
	fmt.Println(<-got)
	// Output: one shot
}

// Half-close: send everything, shut the write side, and keep reading the
// peer's answer until EOF.
func ExampleSocket_CloseWrite() {
	srv, _ := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) { s.Write(data) },
	})
	defer srv.Close(context.Background())

	ctx := context.Background()
	s, _ := tcp.Connect(ctx, srv.Addr().String()).Await(ctx)
	s.WriteString("all of it")
	s.CloseWrite()
	echo, err := s.ReadN(len("all of it")).Await(ctx)
	fmt.Printf("%s %v\n", echo, err)
	_, err = s.ReadN(1).Await(ctx)
	fmt.Println(err)
	// Output:
	// all of it <nil>
	// EOF
}
