//go:build linux

package loop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

func socketNB(family, typ int) (int, error) {
	return unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

func acceptNB(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

// The reads and writes of the loops are raw system calls: the descriptors
// are nonblocking, so each call returns within microseconds, and the loop
// keeps its P (scheduler slot) through it. With unix.Read and unix.Write
// the P is marked "in a system call" each time; when the kernel preempts
// the loop's thread in the middle of one (a busy machine), the runtime's
// monitor takes that P away, wakes another thread to run it (there is
// nothing else to run: the loop is one goroutine) and keeps polling every
// 20 µs. Measured on an HTTP server sharing its CPU with a busy process:
// 17% fewer requests per CPU-second than alone with unix.Read/Write,
// nearly all of it that monitor's wake-ups and the thread hand-offs.
// (Without the race detector's annotations that unix.Read adds: a loop
// buffer is only ever touched by its loop's goroutine.)

// sysRead is read(2) on a nonblocking descriptor.
func sysRead(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// sysWrite is write(2) on a nonblocking descriptor.
func sysWrite(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// writev is writev(2) on a nonblocking descriptor, at most unix's IOV_MAX
// (1024) buffers; empty buffers are skipped.
func writev(fd int, bufs [][]byte) (int, error) {
	var iovs [16]unix.Iovec
	iov := iovs[:0]
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if len(iov) == 1024 {
			break
		}
		v := unix.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	if len(iov) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}
