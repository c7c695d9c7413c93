package tcp

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// settlesWithin fails the test if f does not settle within d.
func settlesWithin[T any](t *testing.T, what string, f *future.Future[T], d time.Duration) {
	t.Helper()
	select {
	case <-f.Done():
		_, _, _ = f.Result()
	case <-time.After(d):
		t.Errorf("%s did not settle within %v", what, d)
	}
}

// Every method of a socket closed in any way settles at once (issue 11,
// item 3): Close on a closed socket used to return a future that never
// settled.
func TestMethodsAfterCloseSettle(t *testing.T) {
	ends := map[string]func(t *testing.T, s *Socket, peer net.Conn){
		"peer closed": func(t *testing.T, s *Socket, peer net.Conn) {
			peer.Close()
			_ = awaitErr(t, s.ReadN(1))
		},
		"aborted": func(t *testing.T, s *Socket, peer net.Conn) { s.Abort() },
		"closed": func(t *testing.T, s *Socket, peer net.Conn) {
			await(t, s.Close())
		},
		"read timeout": func(t *testing.T, s *Socket, peer net.Conn) {
			s.SetReadTimeout(20 * time.Millisecond)
			if err := awaitErr(t, s.ReadN(1)); !errors.Is(err, ErrTimeout) {
				t.Fatalf("read: %v", err)
			}
		},
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			s, peer := connectedPair(t)
			end(t, s, peer)
			deadline := time.Now().Add(time.Second)
			for !s.Closed() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if !s.Closed() {
				t.Fatal("socket not closed")
			}
			const d = time.Second
			settlesWithin(t, "Close", s.Close(), d)
			settlesWithin(t, "second Close", s.Close(), d)
			settlesWithin(t, "CloseWrite", s.CloseWrite(), d)
			settlesWithin(t, "Write", s.Write([]byte("x")), d)
			settlesWithin(t, "WriteString", s.WriteString("x"), d)
			settlesWithin(t, "Writable", s.Writable(), d)
			settlesWithin(t, "ReadN", s.ReadN(1), d)
			settlesWithin(t, "ReadLine", s.ReadLine(), d)
			settlesWithin(t, "ReadUntil", s.ReadUntil([]byte(";")), d)
			s.Pause()
			s.PauseFor(time.Millisecond)
			s.Resume()
			s.SetReadTimeout(time.Millisecond)
			s.SetWriteTimeout(time.Millisecond)
			s.SetIdleTimeout(time.Millisecond)
			s.Abort()
			_ = s.Err()
			_ = s.Buffered()
			_ = s.Paused()
		})
	}
}

// Close after a clean close resolves; after a failure it rejects with that
// failure.
func TestCloseAfterCloseReportsTheEnd(t *testing.T) {
	s, _ := connectedPair(t)
	await(t, s.Close())
	await(t, s.Close())

	s2, _ := connectedPair(t)
	s2.Abort()
	if err := awaitErr(t, s2.Close()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Close after Abort: %v", err)
	}
}

// Abort resets the connection: the peer reads ECONNRESET, not EOF; and
// Err and Closed say so as soon as Abort returns (issue 11, items 2 and 5).
func TestAbortResetsThePeer(t *testing.T) {
	s, peer := connectedPair(t)
	if _, err := s.Write([]byte("hello")).Await(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Abort()
	if !s.Closed() {
		t.Error("Closed() is false right after Abort")
	}
	if err := s.Err(); !errors.Is(err, ErrClosed) {
		t.Errorf("Err() right after Abort = %v, want ErrClosed", err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	var err error
	for err == nil {
		_, err = peer.Read(buf)
	}
	if errors.Is(err, io.EOF) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("peer read after Abort: %v, want ECONNRESET", err)
	}
}

// A server's methods settle after it closed, twice over.
func TestServerMethodsAfterClose(t *testing.T) {
	r := newRuntime(t)
	srv := listen(t, r, echoHandler())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(ctx); err != nil && !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case <-srv.Done():
	case <-ctx.Done():
		t.Fatal("Done not closed")
	}
	_ = srv.Err()
	if n := srv.Count(); n != 0 {
		t.Fatalf("Count after close = %d", n)
	}
	if len(srv.Clients()) != 0 {
		t.Fatal("Clients after close")
	}
	_ = srv.Addr()
	_ = srv.Rejected()
}
