//go:build linux

package loop

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/internal/stats"
)

func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(es)
}

// TestAcceptSurvivesEMFILE fills the descriptor table so that accept fails
// with EMFILE: the error is counted and surfaced, the listener backs off
// and accepts the waiting connection once descriptors are free again.
func TestAcceptSurvivesEMFILE(t *testing.T) {
	r := newRT(t, 1)
	ln := echoServer(t, r, "tcp", "127.0.0.1:0", ListenConfig{})
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	saved := rl
	rl.Cur = uint64(openFDs(t) + 64)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Skip(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &saved)

	var fill []*os.File
	defer func() {
		for _, f := range fill {
			f.Close()
		}
	}()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		fill = append(fill, f)
	}
	// Free one descriptor for the client; the server has none for accept.
	fill[len(fill)-1].Close()
	fill = fill[:len(fill)-1]
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for ln.AcceptErrors() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if ln.AcceptErrors() == 0 || ln.LastAcceptError() == nil {
		t.Fatal("accept never failed although no descriptor was free")
	}
	if !isErrno(ln.LastAcceptError(), unix.EMFILE) {
		t.Fatalf("last accept error %v, want EMFILE", ln.LastAcceptError())
	}
	for _, f := range fill[:8] {
		f.Close()
	}
	fill = fill[8:]
	// The listener backs off, then accepts the waiting client.
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "still here" {
		t.Fatalf("echo after EMFILE: %q %v", buf, err)
	}
	t.Logf("accept errors: %d (%v)", ln.AcceptErrors(), ln.LastAcceptError())
}

func isErrno(err error, e unix.Errno) bool {
	for err != nil {
		if v, ok := err.(unix.Errno); ok {
			return v == e
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestChurnLeaksNothing opens and closes thousands of connections both
// ways and checks descriptors and counters come back.
func TestChurnLeaksNothing(t *testing.T) {
	r := newRT(t, 2)
	ln := echoServer(t, r, "tcp", "127.0.0.1:0", ListenConfig{ReusePort: true})
	fds0 := openFDs(t)
	in0, out0 := stats.ConnsIn.Load(), stats.ConnsOut.Load()
	const n = 2000
	for i := 0; i < n; i++ {
		h := newRecorder(false)
		h.closeOn = true
		c, err := r.Dial(context.Background(), "tcp", ln.Addr().String(), h).Await(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		c.Loop().Execute(func() {
			_, _ = c.Write([]byte("x"))
			_ = c.CloseWrite()
			close(done)
		})
		<-done
		if i%2 == 0 {
			wait(t, h.eof, 5*time.Second, "EOF")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for (stats.ConnsIn.Load() != in0 || stats.ConnsOut.Load() != out0 || openFDs(t) > fds0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if stats.ConnsIn.Load() != in0 || stats.ConnsOut.Load() != out0 {
		t.Fatalf("ConnsIn %d (was %d), ConnsOut %d (was %d)", stats.ConnsIn.Load(), in0, stats.ConnsOut.Load(), out0)
	}
	if f := openFDs(t); f > fds0 {
		t.Fatalf("%d descriptors open, %d before", f, fds0)
	}
}
