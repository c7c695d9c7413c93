package tcp

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func sockopt(t *testing.T, s *Socket, level, opt int) int {
	t.Helper()
	v, err := unix.GetsockoptInt(s.lc.Fd(), level, opt)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// WithNoDelay(false) and WithKeepAlive reach the descriptors of dialed and
// accepted sockets; by default TCP_NODELAY is on and keep-alive left alone.
func TestNoDelayAndKeepAlive(t *testing.T) {
	r := newRuntime(t)
	accepted := make(chan *Socket, 1)
	srv := listen(t, r, Handler{OnConnect: func(s *Socket) { accepted <- s }}, WithKeepAlive(7*time.Second), WithNoDelay(false))
	s := await(t, Connect(context.Background(), srv.Addr().String(), withRuntime(r), WithKeepAlive(9*time.Second), WithNoDelay(false)))
	defer s.Close()
	in := <-accepted
	for _, c := range []struct {
		s    *Socket
		idle int
	}{{s, 9}, {in, 7}} {
		if v := sockopt(t, c.s, unix.IPPROTO_TCP, unix.TCP_NODELAY); v != 0 {
			t.Errorf("TCP_NODELAY = %d, want 0", v)
		}
		if v := sockopt(t, c.s, unix.SOL_SOCKET, unix.SO_KEEPALIVE); v == 0 {
			t.Error("SO_KEEPALIVE off")
		}
		if v := sockopt(t, c.s, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE); v != c.idle {
			t.Errorf("TCP_KEEPIDLE = %d, want %d", v, c.idle)
		}
		if v := sockopt(t, c.s, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL); v != c.idle {
			t.Errorf("TCP_KEEPINTVL = %d, want %d", v, c.idle)
		}
	}
	d := await(t, Connect(context.Background(), srv.Addr().String(), withRuntime(r)))
	defer d.Close()
	if v := sockopt(t, d, unix.IPPROTO_TCP, unix.TCP_NODELAY); v == 0 {
		t.Error("TCP_NODELAY off by default")
	}
}
