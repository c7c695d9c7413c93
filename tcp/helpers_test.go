package tcp

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
)

const floodEnv = "GOASYNC_TCP_FLOOD"

// newRuntime gives a test its own runtime, shut down at the end.
func newRuntime(t testing.TB) *loop.Runtime {
	t.Helper()
	r, err := loop.New(loop.WithLoops(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("runtime shutdown: %v", err)
		}
	})
	return r
}

func await[T any](t testing.TB, f *future.Future[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := f.Await(ctx)
	if err != nil {
		t.Fatalf("await: %v", err)
	}
	return v
}

func awaitErr[T any](t testing.TB, f *future.Future[T]) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := f.Await(ctx)
	if ctx.Err() != nil {
		t.Fatal("future did not settle in time")
	}
	return err
}

// echoHandler echoes every byte back.
func echoHandler() Handler {
	return Handler{OnData: func(s *Socket, data []byte) { s.Write(data) }}
}

// listen starts a server on a free loopback port.
func listen(t testing.TB, r *loop.Runtime, h Handler, opts ...ListenOption) *Server {
	t.Helper()
	srv, err := Listen("127.0.0.1:0", h, append([]ListenOption{withRuntime(r)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return srv
}

// goListener is Go's net listener as an independent peer.
func goListener(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func readAllTimeout(t testing.TB, c net.Conn, d time.Duration) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

// withBufferedPause keeps gnet reading paused sockets, the fallback path
// used when reads cannot be turned off: the socket holds what arrives, up
// to its buffer bound.
func withBufferedPause() Option { return func(c *config) { c.bufferPaused = true } }

// listenBuffered is listen with withBufferedPause, for the tests of held
// bytes and FINs read while paused.
func listenBuffered(t testing.TB, r *loop.Runtime, h Handler, opts ...ListenOption) *Server {
	t.Helper()
	return listen(t, r, h, append(opts, withBufferedPause())...)
}

// sockFd returns the socket's descriptor, -1 once closed.
func sockFd(s *Socket) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return -1
	}
	return s.conn.Fd()
}

// finHeld reports whether the peer's FIN is held back from delivery: read
// and queued behind held bytes (eofDue), or, with reads off, noticed and
// left in the kernel behind the bytes not read yet.
func finHeld(s *Socket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eofDue || s.conn != nil && s.conn.Held()
}

// finSeen reports whether the peer's FIN was read, or (reads off) noticed
// and left in the kernel.
func finSeen(s *Socket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rdEOF || s.conn != nil && s.conn.Held()
}
