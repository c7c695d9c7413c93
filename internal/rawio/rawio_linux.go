//go:build linux

package rawio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read is read(2) on a nonblocking descriptor: n bytes, or -1 and the
// errno (EAGAIN when nothing is there).
func Read(fd int, p []byte) (int, error) { return call(unix.SYS_READ, fd, p) }

// Write is write(2) on a nonblocking descriptor: n bytes written, or -1
// and the errno (EAGAIN when the send buffer is full).
func Write(fd int, p []byte) (int, error) { return call(unix.SYS_WRITE, fd, p) }

// call makes the raw system call trap(fd, p, len(p)).
func call(trap uintptr, fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// maxIov is the most buffers one writev(2) takes (IOV_MAX).
const maxIov = 1024

// Writev is writev(2) on a nonblocking descriptor, with the non-empty
// buffers of bufs (at most 1024 of them; the rest is left for the next
// call, as with a short write).
func Writev(fd int, bufs [][]byte) (int, error) {
	var stack [16]unix.Iovec
	iov := stack[:0]
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if len(iov) == maxIov {
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
