package goasync_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	gnetlog "github.com/panjf2000/gnet/v2/pkg/logging"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/tcp"
)

func TestMain(m *testing.M) {
	code := m.Run()
	_ = goasync.Shutdown(context.Background())
	goasync.SetLogger(nil)
	if code == 0 {
		if err := goleak.Find(
			goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
			goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func TestLoggerStatsAndShutdown(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	goasync.SetLogger(zap.New(core))
	defer goasync.SetLogger(nil)

	before := goasync.ReadStats()
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnData: func(s *tcp.Socket, d []byte) { s.Write(d) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := tcp.Connect(ctx, srv.Addr().String()).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteString("ping")
	if b, err := s.ReadN(4).Await(ctx); err != nil || string(b) != "ping" {
		t.Fatalf("echo %q %v", b, err)
	}
	// The echo's bytes can reach us before the server's loop counted them:
	// give the counters a moment.
	st := goasync.ReadStats()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); st = goasync.ReadStats() {
		if st.BytesWritten >= before.BytesWritten+8 && st.BytesRead >= before.BytesRead+8 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st.Loops < 1 || st.ConnsIn < 1 || st.ConnsOut < 1 ||
		st.AcceptedTotal <= before.AcceptedTotal || st.DialedTotal <= before.DialedTotal ||
		st.BytesWritten < before.BytesWritten+8 || st.BytesRead < before.BytesRead+8 {
		t.Fatalf("stats before %+v after %+v", before, st)
	}
	if logs.FilterField(zap.String("event", "accept")).Len() == 0 ||
		logs.FilterField(zap.String("event", "dial")).Len() == 0 ||
		logs.FilterField(zap.String("event", "open")).Len() == 0 {
		t.Fatalf("missing socket events in the debug log: %v", logs.All())
	}

	// A dial that hangs settles with an error when the runtime shuts down.
	pending := tcp.Connect(context.Background(), hangingAddr(t))
	time.Sleep(50 * time.Millisecond)
	if err := goasync.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pending.Await(ctx); !errors.Is(err, tcp.ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("pending connect after Shutdown: %v", err)
	}
	if !s.Closed() {
		t.Fatal("socket open after Shutdown")
	}
	if st := goasync.ReadStats(); st.ConnsIn != 0 || st.ConnsOut != 0 {
		t.Fatalf("connections left after Shutdown: %+v", st)
	}
}

// hangingAddr is a loopback listener with a backlog of 0 whose queue is
// full, so a further connect hangs.
func hangingAddr(t *testing.T) string {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return addr
}

// One set of connection counters (issue 11, item 5): a socket whose peer
// half-closed and which is still writing is still an open connection, and
// tcp.ReadStats reports the same numbers as goasync.ReadStats.
func TestHalfOpenSocketStillCounts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	eof := make(chan *tcp.Socket, 1)
	srv, err := tcp.Listen("127.0.0.1:0", tcp.Handler{
		OnEOF: func(s *tcp.Socket) { s.WriteString("still writing"); eof <- s },
	}, tcp.WithHalfOpen(true))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	base := goasync.ReadStats()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).CloseWrite()
	s := <-eof
	buf := make([]byte, 13)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // a moment for a wrong counter to drop
	st, ts := goasync.ReadStats(), tcp.ReadStats()
	if st.ConnsIn != base.ConnsIn+1 {
		t.Fatalf("ConnsIn = %d while a half-open socket is still writing, want %d", st.ConnsIn, base.ConnsIn+1)
	}
	if ts.Incoming != st.ConnsIn || ts.Outgoing != st.ConnsOut || ts.Accepted != st.AcceptedTotal ||
		ts.Dialed != st.DialedTotal || ts.BytesRead != st.BytesRead {
		t.Fatalf("tcp.ReadStats %+v disagrees with goasync.ReadStats %+v", ts, st)
	}
	s.Close()
	for deadline := time.Now().Add(10 * time.Second); goasync.ReadStats().ConnsIn != base.ConnsIn; {
		if time.Now().After(deadline) {
			t.Fatalf("ConnsIn %d after close, want %d", goasync.ReadStats().ConnsIn, base.ConnsIn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gnet's own log lines (its netpoll logs through gnet's default logger) go
// through the library logger at their level, and nowhere with the default
// no-op logger.
func TestGnetLogsGoThroughTheLibraryLogger(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	goasync.SetLogger(zap.New(core))
	defer goasync.SetLogger(nil)
	gnetlog.Errorf("error occurs in epoll: %v", "simulated")
	gnetlog.Warnf("failed to wake up the poller: %v", "simulated")
	if e := logs.FilterMessage("error occurs in epoll: simulated").All(); len(e) != 1 || e[0].Level != zapcore.ErrorLevel || e[0].LoggerName != "gnet" {
		t.Fatalf("gnet's error line: %+v (all: %v)", e, logs.All())
	}
	if e := logs.FilterMessage("failed to wake up the poller: simulated").All(); len(e) != 1 || e[0].Level != zapcore.WarnLevel {
		t.Fatalf("gnet's warning: %+v", e)
	}
}
