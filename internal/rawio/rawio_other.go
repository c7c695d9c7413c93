//go:build !linux

package rawio

import "golang.org/x/sys/unix"

// Read is read(2) (an ordinary system call outside Linux; macOS and the
// BSDs are development platforms for goasync, not measured ones).
func Read(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

// Write is write(2).
func Write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

// Writev writes bufs in order with write(2) calls, stopping at the first
// short write or error (after some bytes, that error waits for the next
// call); the BSDs need no better.
func Writev(fd int, bufs [][]byte) (int, error) {
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
