package tutorial_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/tcp"
	"github.com/goasync/goasync/timer"
)

// startDaytime runs a daytime-like server that sends one fixed line, so
// the examples' output is stable. It returns the address and a stop func.
func startDaytime(line string) (string, func()) {
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnConnect: func(s *tcp.Socket) {
			s.WriteString(line)
			s.Close()
		},
	})
	if err != nil {
		panic(err)
	}
	return srv.Addr().String(), func() { srv.Close(context.Background()) }
}

// freeAddr returns an address where nothing listens.
func freeAddr() string {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	return ln.Addr().String()
}

// Step 1: a blocking client. Await turns each future into a plain value,
// like IOLib's blocking connect and read-line.
func Example_blockingClient() {
	addr, stop := startDaytime("Sat, 21 Nov 2026 21:00:00 UTC\n")
	defer stop()

	// tutorial:blocking
	ctx := context.Background()
	s, err := tcp.Connect(ctx, addr).Await(ctx)
	if err != nil {
		fmt.Println("connect:", err)
		return
	}
	defer s.Close()
	line, err := s.ReadLine().Await(ctx)
	if err != nil {
		fmt.Println("read:", err)
		return
	}
	fmt.Println(string(line))
	// end
	// Output: Sat, 21 Nov 2026 21:00:00 UTC
}

// Step 2: the same client as one chain of futures. Nothing waits until
// the last line; each step runs when the previous one resolves.
func Example_futureChain() {
	addr, stop := startDaytime("Sat, 21 Nov 2026 21:00:00 UTC\n")
	defer stop()

	// tutorial:chain
	ctx := context.Background()
	daytime := future.Compose(tcp.Connect(ctx, addr), func(s *tcp.Socket) *future.Future[string] {
		line := future.Then(s.ReadLine(), func(b []byte) (string, error) {
			return strings.ToUpper(string(b)), nil
		})
		return line.Finally(func() { s.Close() })
	})
	fmt.Println(daytime.Await(ctx))
	// end
	// Output: SAT, 21 NOV 2026 21:00:00 UTC <nil>
}

// Step 3: errors. A rejection skips every Then and reaches the first
// Catch, which plays the part of handler-case.
func Example_catch() {
	addr := freeAddr()

	// tutorial:catch
	ctx := context.Background()
	line := future.Compose(tcp.Connect(ctx, addr), func(s *tcp.Socket) *future.Future[[]byte] {
		return s.ReadLine()
	})
	msg := future.Then(line, func(b []byte) (string, error) { return string(b), nil }).
		Catch(func(err error) (string, error) {
			if errors.Is(err, tcp.ErrRefused) {
				return "Connection refused. Maybe the server isn't running?", nil
			}
			return "", err // not ours to handle: pass it on
		})
	fmt.Println(msg.Await(ctx))
	// end
	// Output: Connection refused. Maybe the server isn't running? <nil>
}

// CatchAs matches one type of error with errors.As, like a handler-case
// clause on one condition class.
func Example_catchAs() {
	addr := freeAddr()

	// tutorial:catchas
	ctx := context.Background()
	s := tcp.Connect(ctx, addr)
	s = future.CatchAs(s, func(e *tcp.OpError) (*tcp.Socket, error) {
		return nil, fmt.Errorf("could not %s: %w", e.Op, e.Err)
	})
	_, err := s.Await(ctx)
	fmt.Println(err)
	fmt.Println(errors.Is(err, tcp.ErrRefused))
	// end
	// Output:
	// could not dial: connection refused
	// true
}

// Step 4: a concurrent server without threads. Every client's events run
// on an event loop; nothing blocks, so one loop serves many clients.
func Example_concurrentServer() {
	// tutorial:server
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) {
			s.Write(data) // an echo server: write back what came
		},
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())

	ctx := context.Background()
	var replies []*future.Future[[]byte]
	for i := range 3 { // three clients at once
		c := future.Compose(tcp.Connect(ctx, srv.Addr().String()), func(s *tcp.Socket) *future.Future[[]byte] {
			s.WriteString(fmt.Sprintf("client %d\n", i))
			return s.ReadLine().Finally(func() { s.Close() })
		})
		replies = append(replies, c)
	}
	all, err := future.All(replies...).Await(ctx)
	for _, r := range all {
		fmt.Println(string(r))
	}
	// end
	fmt.Println(err)
	// Output:
	// client 0
	// client 1
	// client 2
	// <nil>
}

// Step 5: buffer limits. A socket holds at most WithMaxBuffered bytes
// that nobody has asked for yet; a line longer than that fails with
// ErrBufferFull instead of growing memory.
func Example_bufferLimit() {
	// tutorial:limit
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnConnect: func(s *tcp.Socket) {
			s.ReadLine().OnComplete(func(line []byte, err error) {
				if errors.Is(err, tcp.ErrBufferFull) {
					s.WriteString("error: line too long\n")
				} else if err == nil {
					s.WriteString("ok: " + string(line) + "\n")
				}
				s.Close()
			})
		},
	}, tcp.WithMaxBuffered(16))
	// end
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())
	for _, msg := range []string{"short\n", strings.Repeat("x", 100)} {
		c, _ := net.Dial("tcp", srv.Addr().String())
		c.Write([]byte(msg))
		answer, _ := io.ReadAll(c)
		c.Close()
		fmt.Print(string(answer))
	}
	// Output:
	// ok: short
	// error: line too long
}

// Step 6: half-close. The client shuts down its writing when it has sent
// everything and keeps reading until the server, which saw EOF, has sent
// the rest and closed.
func Example_halfClose() {
	// tutorial:halfclose
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) { s.Write(data) },
		OnEOF:  func(s *tcp.Socket) { s.WriteString("bye\n"); s.Close() },
	}, tcp.WithHalfOpen(true))
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())

	ctx := context.Background()
	s, err := tcp.Connect(ctx, srv.Addr().String()).Await(ctx)
	if err != nil {
		panic(err)
	}
	s.WriteString("one\ntwo\n")
	s.CloseWrite() // the server reads EOF after "two"
	for {
		line, err := s.ReadLine().Await(ctx)
		if err != nil {
			fmt.Println("end:", err) // io.EOF once the server closed
			break
		}
		fmt.Println(string(line))
	}
	// end
	// Output:
	// one
	// two
	// bye
	// end: EOF
}

// Timeouts are futures too: Timeout rejects with future.ErrTimeout when
// the reply takes too long, and cancels the read.
func Example_timeout() {
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{}) // never answers
	if err != nil {
		panic(err)
	}
	defer srv.Close(context.Background())
	ctx := context.Background()
	s, err := tcp.Connect(ctx, srv.Addr().String()).Await(ctx)
	if err != nil {
		panic(err)
	}
	defer s.Abort()

	// tutorial:timeout
	line := timer.Timeout(s.ReadLine(), 50*time.Millisecond)
	_, err = line.Await(ctx)
	fmt.Println(errors.Is(err, future.ErrTimeout))
	// end
	// Output: true
}
