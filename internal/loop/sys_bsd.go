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

// writev: written as a loop of writes, which the BSDs need no better.
func writev(fd int, bufs [][]byte) (int, error) {
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		n, err := unix.Write(fd, b)
		if n > 0 {
			total += n
		}
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if n < len(b) {
			break
		}
	}
	return total, nil
}

// sysRead is read(2); see sys_linux.go for why Linux makes it raw.
func sysRead(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

// sysWrite is write(2).
func sysWrite(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
