package tcp

import (
	"crypto/sha256"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestBorrowDataEcho echoes 16 MiB through a server whose OnData borrows the
// read buffer and writes it straight back (Write copies what the kernel does
// not take), pausing now and then so held bytes are lent from the socket's
// own buffer too. A Go net client checks every byte came back in order.
func TestBorrowDataEcho(t *testing.T) {
	r := newRuntime(t)
	var reads atomic.Int64
	h := Handler{
		BorrowData: true,
		OnData: func(s *Socket, data []byte) {
			s.Write(data)
			if reads.Add(1)%50 == 0 {
				s.PauseFor(2 * time.Millisecond) // bytes pile up, then are lent from s.in
			}
		},
	}
	srv := listen(t, r, h)
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const size = 16 << 20
	out, sum := randomStream(t, size)
	go func() {
		for off := 0; off < size; off += 64 << 10 {
			if _, err := c.Write(out[off : off+64<<10]); err != nil {
				return
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	h2 := sha256.New()
	if n, err := io.CopyN(h2, c, size); err != nil {
		t.Fatalf("echo: %d of %d bytes: %v", n, size, err)
	}
	var got [32]byte
	copy(got[:], h2.Sum(nil))
	if got != sum {
		t.Fatal("echoed bytes differ from the bytes sent")
	}
	if n := reads.Load(); n < 2 {
		t.Fatalf("only %d OnData calls", n)
	}
}

// TestBorrowDataIsView checks the contract both ways: with BorrowData the
// bytes handed to OnData are reused by later reads (so keeping them would be
// wrong), without it each call gets its own copy.
func TestBorrowDataIsView(t *testing.T) {
	for _, borrow := range []bool{false, true} {
		r := newRuntime(t)
		kept := make(chan []byte, 2)
		first := make(chan struct{})
		n := 0
		h := Handler{
			BorrowData: borrow,
			OnData: func(s *Socket, data []byte) {
				n++
				if n <= 2 {
					kept <- data // deliberately kept past the call
				}
				if n == 1 {
					close(first)
				}
			},
		}
		srv := listen(t, r, h)
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("aaaa"))
		<-first
		c.Write([]byte("bbbb"))
		a, b := <-kept, <-kept
		c.Close()
		if string(b) != "bbbb" {
			t.Fatalf("borrow=%v: second read %q", borrow, b)
		}
		switch {
		case !borrow && string(a) != "aaaa":
			t.Fatalf("copied data changed after the call: %q", a)
		case borrow && string(a) != "bbbb":
			// gnet reads every event into the loop's one buffer, so a
			// view kept past the call shows the next read: if it does
			// not, the bytes were copied and BorrowData saves nothing.
			t.Fatalf("borrowed view kept its old bytes %q: was it a copy?", a)
		}
	}
}
