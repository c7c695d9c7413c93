package loop

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// SetNoDelay turns Nagle's algorithm off (on: the default for goasync's
// TCP sockets) or back on. Loop only; a no-op on a unix socket.
func (c *Conn) SetNoDelay(on bool) error {
	if c.isUnix || c.closed.Load() {
		return nil
	}
	v := 0
	if on {
		v = 1
	}
	return os.NewSyscallError("setsockopt", unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v))
}

// SetKeepAlive turns TCP keep-alive probes on, with d as both the idle
// time before the first probe and the interval between probes, or off
// when d < 0. Loop only; a no-op on a unix socket.
func (c *Conn) SetKeepAlive(d time.Duration) error {
	if c.isUnix || c.closed.Load() {
		return nil
	}
	if d < 0 {
		return os.NewSyscallError("setsockopt", unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0))
	}
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	secs := max(int(d/time.Second), 1)
	if tcpKeepIdle >= 0 {
		if err := unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, tcpKeepIdle, secs); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	return os.NewSyscallError("setsockopt", unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs))
}
