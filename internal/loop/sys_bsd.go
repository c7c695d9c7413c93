//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package loop

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socketNB: macOS has no SOCK_NONBLOCK/SOCK_CLOEXEC flags, so the flags are
// set after socket(2), under the fork lock as the net package does.
func socketNB(family, typ int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, typ, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if family != unix.AF_UNIX {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
	}
	return fd, nil
}

func acceptNB(fd int) (int, unix.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, nil, err
	}
	_ = unix.SetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
	return nfd, sa, nil
}
