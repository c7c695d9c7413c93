package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }

func dial(t *testing.T, port string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(extest.Wait))
	return c.(*net.TCPConn)
}

func TestEchoLines(t *testing.T) {
	srv := extest.StartServer(t, run)
	c := dial(t, srv.Port)
	r := bufio.NewReader(c)
	for _, line := range []string{"hello\n", "world\r\n", "\n"} {
		if _, err := io.WriteString(c, line); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("echo = %q, %v; want %q", got, err, line)
		}
	}
	// A line cut in two writes comes back once it is complete.
	io.WriteString(c, "split ")
	time.Sleep(10 * time.Millisecond)
	io.WriteString(c, "line\n")
	if got, err := r.ReadString('\n'); got != "split line\n" {
		t.Fatalf("echo = %q, %v", got, err)
	}
}

func TestQuit(t *testing.T) {
	srv := extest.StartServer(t, run)
	c := dial(t, srv.Port)
	io.WriteString(c, "one\nquit\nnot echoed\n")
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "one\nquit\n" {
		t.Fatalf("read %q, %v; want the lines up to quit, then EOF", got, err)
	}
	srv.Out.WaitFor(t, `said quit; closing after the echo`)
}

// A client that sends everything, half-closes and only then reads gets
// every echo, including its last unterminated line, before the close.
func TestHalfCloseGetsEveryEcho(t *testing.T) {
	srv := extest.StartServer(t, run)
	var sent bytes.Buffer
	for i := 0; i < 3000; i++ { // ~20 KB: below the limit, so it may all wait in the server
		fmt.Fprintf(&sent, "line %d\n", i)
	}
	sent.WriteString("no newline at the end")
	c := dial(t, srv.Port)
	if _, err := c.Write(sent.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent.Bytes()) {
		t.Fatalf("got %d bytes back, want %d", len(got), sent.Len())
	}
	srv.Out.WaitFor(t, `produced end-of-file`)
}

// A client that reads while it writes can send far more than the limit.
func TestManyClientsConcurrently(t *testing.T) {
	srv := extest.StartServer(t, run, "-max-buffer", "8192")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for k := 0; k < 8; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", "127.0.0.1:"+srv.Port)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(extest.Wait))
			want := new(bytes.Buffer)
			for i := 0; i < 5000; i++ {
				fmt.Fprintf(want, "client %d line %d\n", k, i)
			}
			go func() {
				c.Write(want.Bytes())
				c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, want.Bytes()) {
				errs <- fmt.Errorf("client %d: got %d bytes (%v), want %d", k, len(got), err, want.Len())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The limit counts the newline: a line of exactly -max-buffer bytes is
// echoed, one byte more is refused, also when it arrives in pieces.
func TestMaxBufferIsExact(t *testing.T) {
	srv := extest.StartServer(t, run, "-max-buffer", "16")
	c := dial(t, srv.Port)
	r := bufio.NewReader(c)
	fits := strings.Repeat("a", 15) + "\n"
	io.WriteString(c, fits)
	if got, err := r.ReadString('\n'); got != fits {
		t.Fatalf("echo of a 16-byte line = %q, %v", got, err)
	}
	io.WriteString(c, strings.Repeat("b", 10))
	time.Sleep(10 * time.Millisecond)
	io.WriteString(c, strings.Repeat("b", 6)+"\n") // 17 bytes with the newline
	rest, err := io.ReadAll(r)
	if err != nil || string(rest) != "error: line longer than 16 bytes\n" {
		t.Fatalf("after a 17-byte line: %q, %v", rest, err)
	}
	srv.Out.WaitFor(t, `sent a line longer than 16 bytes; closing`)

	// 16 bytes without a newline cannot become a line that fits.
	c2 := dial(t, srv.Port)
	io.WriteString(c2, strings.Repeat("c", 16))
	if rest, _ := io.ReadAll(c2); string(rest) != "error: line longer than 16 bytes\n" {
		t.Fatalf("after 16 bytes without newline: %q", rest)
	}
}

// A client that writes and never reads is disconnected once the echoes
// waiting for it pass the limit, instead of growing the server's memory.
func TestNonReadingClientIsDisconnected(t *testing.T) {
	srv := extest.StartServer(t, run, "-max-buffer", "4096")
	c := dial(t, srv.Port)
	c.SetReadBuffer(4096)
	chunk := bytes.Repeat([]byte("0123456789abcde\n"), 4096) // 64 KiB
	var sent int
	var werr error
	for sent < 1<<30 {
		var n int
		n, werr = c.Write(chunk)
		sent += n
		if werr != nil {
			break
		}
	}
	if werr == nil {
		t.Fatalf("sent %d bytes without being disconnected", sent)
	}
	srv.Out.WaitFor(t, `does not read its echoes: \d+ bytes held, limit 4096; disconnecting`)
	t.Logf("disconnected after %d MB sent: %v", sent>>20, werr)
}
