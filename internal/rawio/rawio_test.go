package rawio

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// socketPair returns a connected pair of nonblocking stream sockets.
func socketPair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
	}
	return fds[0], fds[1]
}

func TestReadWrite(t *testing.T) {
	a, b := socketPair(t)
	buf := make([]byte, 64)
	if n, err := Read(b, buf); n != -1 || !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("read of an empty socket: %d, %v; want -1, EAGAIN", n, err)
	}
	if n, err := Write(a, []byte("hello")); n != 5 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n, err := Write(a, nil); n != 0 || err != nil {
		t.Fatalf("empty write: %d, %v", n, err)
	}
	if n, err := Read(b, buf); n != 5 || err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read: %d, %v, %q", n, err, buf[:max(n, 0)])
	}
	if n, err := Read(-1, buf); n != -1 || !errors.Is(err, unix.EBADF) {
		t.Fatalf("read of fd -1: %d, %v; want EBADF", n, err)
	}
}

func TestWritevSkipsEmptyBuffersAndStopsWhenFull(t *testing.T) {
	a, b := socketPair(t)
	if n, err := Writev(a, [][]byte{nil, []byte("ab"), {}, []byte("cde")}); n != 5 || err != nil {
		t.Fatalf("writev: %d, %v", n, err)
	}
	if n, err := Writev(a, [][]byte{nil, {}}); n != 0 || err != nil {
		t.Fatalf("writev of nothing: %d, %v", n, err)
	}
	buf := make([]byte, 16)
	if n, _ := Read(b, buf); string(buf[:max(n, 0)]) != "abcde" {
		t.Fatalf("read %q, want abcde", buf[:max(n, 0)])
	}
	// Fill the send buffer: the last writes are short or EAGAIN, never
	// blocking, and what was written arrives intact and in order.
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	total := 0
	for i := 0; i < 1000; i++ {
		n, err := Writev(a, [][]byte{chunk, chunk})
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total == 0 {
		t.Fatal("nothing written")
	}
	got := 0
	for got < total {
		n, err := Read(b, chunk)
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", got, total, err)
		}
		got += n
	}
}
