package tcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/internal/loop"
)

// The invariant these tests check: every byte received before the peer's
// FIN reaches pending reads or OnData, in order, before OnEOF / OnClose,
// whatever the timing of Pause and Resume; nothing is delivered after
// OnClose.

// eventLog records the order of socket events, safely.
type eventLog struct {
	mu     sync.Mutex
	data   bytes.Buffer
	events []string
	closed chan error
	eof    chan struct{}
}

func newEventLog() *eventLog {
	return &eventLog{closed: make(chan error, 1), eof: make(chan struct{}, 1)}
}

func (l *eventLog) add(ev string) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

func (l *eventLog) onData(b []byte) {
	l.mu.Lock()
	if n := len(l.events); n > 0 && (l.events[n-1] == "close" || l.events[n-1] == "eof") {
		l.events = append(l.events, fmt.Sprintf("data after %s", l.events[n-1]))
	}
	l.data.Write(b)
	l.mu.Unlock()
}

// snapshot returns the bytes delivered so far.
func (l *eventLog) snapshot() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.data.Bytes()...)
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// pollFd waits until the socket's descriptor reports ev (poll(2), loopback
// only; the event loop's epoll is not disturbed).
func pollFd(t *testing.T, s *Socket, ev int16) {
	t.Helper()
	fd := sockFd(s)
	deadline := time.Now().Add(10 * time.Second)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: ev}}
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			t.Fatalf("poll: %v", err)
		}
		if n == 1 && fds[0].Revents&ev != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("descriptor never reported %#x", ev)
		}
	}
}

// raceRig is a server on a one-loop runtime where the loop handles the
// peer's FIN after Resume made the target socket unpaused but before the
// delivery Resume queued on the loop has run. It does so without timing
// luck: while the loop is blocked in a task, a trigger connection becomes
// readable and then the target's FIN arrives; in the next poll round the
// loop first runs the trigger's OnData, which calls target.Resume (the
// delivery is queued as a task), then handles the FIN, and only then runs
// tasks.
type raceRig struct {
	srv    *Server
	target *Socket
	trig   *Socket
	peer   *net.TCPConn
	tconn  net.Conn
}

// newRaceRig starts the server. h is the target's handler; the rig wraps
// it to recognise the trigger connection.
func newRaceRig(t *testing.T, h Handler, opts ...ListenOption) *raceRig {
	t.Helper()
	r, err := loop.New(loop.WithLoops(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Errorf("runtime shutdown: %v", err)
		}
	})
	var target atomic.Pointer[Socket]
	targets := make(chan *Socket, 1)
	trigs := make(chan *Socket, 1)
	wrapped := Handler{
		OnConnect: func(s *Socket) {
			if target.CompareAndSwap(nil, s) {
				s.Pause()
				targets <- s
				if h.OnConnect != nil {
					h.OnConnect(s)
				}
				return
			}
			trigs <- s
		},
		OnData: func(s *Socket, b []byte) {
			if s != target.Load() {
				target.Load().Resume() // on the loop, just before the FIN
				return
			}
			if h.OnData != nil {
				h.OnData(s, b)
			}
		},
		OnEOF: func(s *Socket) {
			if s != target.Load() {
				s.Close()
			} else if h.OnEOF != nil {
				h.OnEOF(s)
			}
		},
		OnClose: func(s *Socket, err error) {
			if s == target.Load() && h.OnClose != nil {
				h.OnClose(s, err)
			}
		},
	}
	srv := listenBuffered(t, r, wrapped, opts...)
	rig := &raceRig{srv: srv}
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rig.peer = c.(*net.TCPConn)
	rig.target = <-targets
	if rig.tconn, err = net.Dial("tcp", srv.Addr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.tconn.Close() })
	rig.trig = <-trigs
	return rig
}

// sendThenFIN has the peer send data, waits until the paused target holds
// all of it, and makes the FIN race the Resume as described on raceRig.
func (rig *raceRig) sendThenFIN(t *testing.T, data []byte) {
	t.Helper()
	go rig.peer.Write(data)
	waitFor(t, "the paused socket to hold the bytes", func() bool {
		return rig.target.BytesRead() == int64(len(data))
	})
	entered, release := make(chan struct{}), make(chan struct{})
	rig.target.Executor().Execute(func() {
		close(entered)
		<-release
	})
	<-entered
	if _, err := rig.tconn.Write([]byte{1}); err != nil {
		close(release)
		t.Fatal(err)
	}
	pollFd(t, rig.trig, unix.POLLIN)
	if err := rig.peer.CloseWrite(); err != nil {
		close(release)
		t.Fatal(err)
	}
	pollFd(t, rig.target, pollRDHUP)
	close(release)
}

func awaitClose(t *testing.T, l *eventLog) error {
	t.Helper()
	select {
	case err := <-l.closed:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no OnClose")
		return nil
	}
}

// Push style: the FIN handled between Resume and its delivery must not
// lose the held bytes, and answers written for them still reach the peer.
func TestFINBetweenResumeAndDeliveryKeepsBytes(t *testing.T) {
	for _, halfOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("halfOpen=%v", halfOpen), func(t *testing.T) {
			l := newEventLog()
			data := pattern(100000)
			rig := newRaceRig(t, Handler{
				OnData: func(s *Socket, b []byte) {
					l.onData(b)
					s.Write(b) // echo: the write side must still work
				},
				OnEOF: func(s *Socket) {
					l.add("eof")
					l.eof <- struct{}{}
					s.Close()
				},
				OnClose: func(_ *Socket, err error) {
					l.add("close")
					l.closed <- err
				},
			}, WithHalfOpen(halfOpen))
			type result struct {
				b   []byte
				err error
			}
			echo := make(chan result, 1)
			go func() {
				rig.peer.SetReadDeadline(time.Now().Add(20 * time.Second))
				b, err := io.ReadAll(rig.peer)
				echo <- result{b, err}
			}()
			rig.sendThenFIN(t, data)
			if err := awaitClose(t, l); err != nil {
				t.Fatalf("OnClose(%v), want nil", err)
			}
			if got := l.snapshot(); !bytes.Equal(got, data) {
				t.Fatalf("OnData saw %d of %d bytes before OnClose (events %v)", len(got), len(data), l.list())
			}
			want := []string{"close"}
			if halfOpen {
				want = []string{"eof", "close"}
			}
			if ev := l.list(); fmt.Sprint(ev) != fmt.Sprint(want) {
				t.Fatalf("events %v, want %v", ev, want)
			}
			if got := <-echo; got.err != nil || !bytes.Equal(got.b, data) {
				t.Fatalf("peer got %d of %d echoed bytes (%v)", len(got.b), len(data), got.err)
			}
		})
	}
}

// Pull style: reads pending when the FIN races the Resume are served from
// the held bytes before OnEOF / OnClose.
func TestFINBetweenResumeAndDeliveryServesReads(t *testing.T) {
	for _, halfOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("halfOpen=%v", halfOpen), func(t *testing.T) {
			l := newEventLog()
			type result struct {
				b   []byte
				err error
			}
			line, rest := make(chan result, 1), make(chan result, 1)
			rig := newRaceRig(t, Handler{
				OnConnect: func(s *Socket) {
					s.ReadLine().OnComplete(func(b []byte, err error) { l.add("line"); line <- result{b, err} })
					s.ReadN(10).OnComplete(func(b []byte, err error) { l.add("readN"); rest <- result{b, err} })
				},
				OnEOF:   func(s *Socket) { l.add("eof"); s.Close() },
				OnClose: func(_ *Socket, err error) { l.add("close"); l.closed <- err },
			}, WithHalfOpen(halfOpen))
			rig.sendThenFIN(t, []byte("first line\r\nabc"))
			if err := awaitClose(t, l); err != nil {
				t.Fatalf("OnClose(%v), want nil", err)
			}
			if r := <-line; r.err != nil || string(r.b) != "first line" {
				t.Fatalf("ReadLine = %q, %v", r.b, r.err)
			}
			if r := <-rest; !errors.Is(r.err, io.ErrUnexpectedEOF) {
				t.Fatalf("ReadN(10) = %q, %v; want io.ErrUnexpectedEOF", r.b, r.err)
			}
			want := []string{"line", "readN", "close"}
			if halfOpen {
				want = []string{"line", "readN", "eof", "close"}
			}
			if ev := l.list(); fmt.Sprint(ev) != fmt.Sprint(want) {
				t.Fatalf("events %v, want %v", ev, want)
			}
		})
	}
}

// A FIN read while paused is delivered only after Resume delivered what
// came before it: OnEOF (half-open) and OnClose wait, pending reads stay
// pending, and the socket can still answer the held bytes.
func TestFINWhilePausedWaitsForResume(t *testing.T) {
	for _, mode := range pauseModes {
		for _, halfOpen := range []bool{false, true} {
			for _, pull := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/halfOpen=%v/pull=%v", mode.name, halfOpen, pull), func(t *testing.T) {
					r := newRuntime(t)
					l := newEventLog()
					socks := make(chan *Socket, 1)
					var line, rest chan error
					h := Handler{
						OnConnect: func(s *Socket) {
							s.Pause()
							socks <- s
						},
						OnEOF:   func(s *Socket) { l.add("eof"); s.Close() },
						OnClose: func(_ *Socket, err error) { l.add("close"); l.closed <- err },
					}
					if pull {
						line, rest = make(chan error, 1), make(chan error, 1)
						h.OnConnect = func(s *Socket) {
							s.Pause()
							s.ReadLine().OnComplete(func(b []byte, err error) {
								l.add("line")
								l.onData(b)
								if err == nil {
									s.WriteString(string(b) + "\n")
								}
								line <- err
							})
							s.ReadN(10).OnComplete(func(b []byte, err error) { l.add("readN"); rest <- err })
							socks <- s
						}
					} else {
						h.OnData = func(s *Socket, b []byte) {
							l.add("data")
							l.onData(b)
							s.Write(b)
						}
					}
					srv := listen(t, r, h, WithHalfOpen(halfOpen), mode.opt)
					c, err := net.Dial("tcp", srv.Addr().String())
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					s := <-socks
					msg := []byte("held line\nxyz")
					c.Write(msg)
					c.(*net.TCPConn).CloseWrite()
					waitFor(t, "the FIN to be seen", func() bool { return finSeen(s) })
					time.Sleep(20 * time.Millisecond) // room for a wrong early event
					if ev := l.list(); len(ev) != 0 {
						t.Fatalf("events while paused: %v", ev)
					}
					s.Resume()
					if err := awaitClose(t, l); err != nil {
						t.Fatalf("OnClose(%v), want nil", err)
					}
					var want []string
					wantEcho := msg
					if pull {
						if err := <-line; err != nil {
							t.Fatalf("ReadLine: %v", err)
						}
						if err := <-rest; !errors.Is(err, io.ErrUnexpectedEOF) {
							t.Fatalf("ReadN(10) = %v, want io.ErrUnexpectedEOF", err)
						}
						want = []string{"line", "readN"}
						wantEcho = []byte("held line\n")
					} else {
						want = []string{"data"}
						if got := l.snapshot(); !bytes.Equal(got, msg) {
							t.Fatalf("OnData saw %q", got)
						}
					}
					if halfOpen {
						want = append(want, "eof")
					}
					want = append(want, "close")
					if ev := l.list(); fmt.Sprint(ev) != fmt.Sprint(want) {
						t.Fatalf("events %v, want %v", ev, want)
					}
					if got := readAllTimeout(t, c, 20*time.Second); !bytes.Equal(got, wantEcho) {
						t.Fatalf("peer got %q, want %q", got, wantEcho)
					}
				})
			}
		}
	}
}

// pauseModes are the two ways a paused socket can hold back input: reads
// turned off (the default: the peer's FIN is still seen, and the kernel's
// remaining bytes are read when gnet closes), and the buffering fallback.
var pauseModes = []struct {
	name string
	opt  Option
}{
	{"readsOff", nil},
	{"buffered", withBufferedPause()},
}

// A read left unsatisfied by the FIN gives way to OnData: the bytes it was
// waiting for are not dropped.
func TestFINUnsatisfiedReadLeavesBytesToOnData(t *testing.T) {
	r := newRuntime(t)
	l := newEventLog()
	readErr := make(chan error, 1)
	srv := listenBuffered(t, r, Handler{
		OnConnect: func(s *Socket) {
			s.ReadN(100).OnComplete(func(_ []byte, err error) { l.add("readN"); readErr <- err })
		},
		OnData:  func(_ *Socket, b []byte) { l.add("data"); l.onData(b) },
		OnClose: func(_ *Socket, err error) { l.add("close"); l.closed <- err },
	})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("only fifty bytes, not the hundred the read wants."))
	c.(*net.TCPConn).CloseWrite()
	if err := awaitClose(t, l); err != nil {
		t.Fatalf("OnClose(%v), want nil", err)
	}
	if err := <-readErr; !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadN(100) = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := string(l.snapshot()); got != "only fifty bytes, not the hundred the read wants." {
		t.Fatalf("OnData saw %q", got)
	}
	if ev := l.list(); fmt.Sprint(ev) != "[readN data close]" {
		t.Fatalf("events %v", ev)
	}
}

// The reporter's load: many clients against a server that pauses at
// connect and resumes 2 ms later from a timer. Bounded (60 clients of
// 100 kB per mode); the deterministic tests above pin the race down, this
// one checks the whole path under real scheduling.
func TestTimedResumeUnderLoadLosesNothing(t *testing.T) {
	for _, halfOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("halfOpen=%v", halfOpen), func(t *testing.T) {
			r := newRuntime(t)
			const n, size = 60, 100000
			var bad atomic.Int64
			var wg sync.WaitGroup
			wg.Add(n)
			var got sync.Map
			srv := listenBuffered(t, r, Handler{
				OnConnect: func(s *Socket) {
					s.Pause()
					got.Store(s, new(atomic.Int64))
					time.AfterFunc(2*time.Millisecond, s.Resume)
				},
				OnData: func(s *Socket, b []byte) {
					v, _ := got.Load(s)
					v.(*atomic.Int64).Add(int64(len(b)))
				},
				OnEOF: func(s *Socket) {
					v, _ := got.Load(s)
					if k := v.(*atomic.Int64).Load(); k != size {
						bad.Add(1)
						t.Errorf("socket %d: OnEOF after %d of %d bytes", s.ID(), k, size)
					}
					s.Close()
				},
				OnClose: func(s *Socket, err error) {
					defer wg.Done()
					v, _ := got.Load(s)
					if k := v.(*atomic.Int64).Load(); k != size || err != nil {
						bad.Add(1)
						t.Errorf("socket %d: OnClose(%v) after %d of %d bytes", s.ID(), err, k, size)
					}
				},
			}, WithHalfOpen(halfOpen))
			buf := make([]byte, size)
			for i := 0; i < n; i++ {
				c, err := net.Dial("tcp", srv.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(i%5) * 500 * time.Microsecond)
				c.Write(buf)
				c.Close()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("not every socket closed")
			}
			if bad.Load() > 0 {
				t.Fatalf("%d of %d connections lost bytes", bad.Load(), n)
			}
		})
	}
}

// A socket holding bytes and a FIN while paused is still settled by a
// local Close, an Abort or a runtime shutdown: OnClose runs once, the held
// bytes are discarded (never delivered after OnClose), the descriptor is
// closed. With "/closewrite" this side half-closed first, so no dup keeps
// a descriptor and only the socket's stop hook can settle it.
func TestHeldFINSettledByCloseAbortShutdown(t *testing.T) {
	for _, mode := range pauseModes {
		for _, name := range []string{"close", "abort", "shutdown", "abort/closewrite", "shutdown/closewrite"} {
			how, cw, _ := strings.Cut(name, "/")
			t.Run(mode.name+"/"+name, func(t *testing.T) {
				r, err := loop.New(loop.WithLoops(1))
				if err != nil {
					t.Fatal(err)
				}
				stopped := false
				t.Cleanup(func() {
					if !stopped {
						ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
						defer cancel()
						r.Shutdown(ctx)
					}
				})
				l := newEventLog()
				socks := make(chan *Socket, 1)
				srv := listen(t, r, Handler{
					OnConnect: func(s *Socket) { s.Pause(); socks <- s },
					OnData:    func(_ *Socket, b []byte) { l.add("data"); l.onData(b) },
					OnClose:   func(_ *Socket, err error) { l.add("close"); l.closed <- err },
				}, mode.opt)
				c, err := net.Dial("tcp", srv.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				s := <-socks
				if cw != "" {
					await(t, s.CloseWrite())
				}
				c.Write([]byte("held"))
				c.(*net.TCPConn).CloseWrite()
				waitFor(t, "the FIN to be held", func() bool { return finHeld(s) })
				switch how {
				case "close":
					await(t, s.Close())
				case "abort":
					s.Abort()
				case "shutdown":
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					if err := r.Shutdown(ctx); err != nil {
						t.Fatalf("shutdown: %v", err)
					}
					stopped = true
				}
				err = awaitClose(t, l)
				if how == "close" && err != nil || how != "close" && !errors.Is(err, ErrClosed) {
					t.Fatalf("OnClose(%v)", err)
				}
				s.Resume() // too late: nothing more is delivered
				time.Sleep(20 * time.Millisecond)
				if ev := l.list(); fmt.Sprint(ev) != "[close]" {
					t.Fatalf("events %v", ev)
				}
				fd := sockFd(s)
				if fd != -1 || !s.Closed() {
					t.Fatalf("fd %d, closed %v", fd, s.Closed())
				}
				if how == "abort" {
					// Abort resets: the peer reads ECONNRESET, nothing else.
					_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
					n, err := c.Read(make([]byte, 16))
					// After our CloseWrite the peer read our FIN first.
					if n != 0 || !errors.Is(err, syscall.ECONNRESET) && !(cw != "" && errors.Is(err, io.EOF)) {
						t.Fatalf("peer read after Abort: %d bytes, %v; want ECONNRESET", n, err)
					}
					return
				}
				if got := readAllTimeout(t, c, 20*time.Second); len(got) != 0 {
					t.Fatalf("peer got %q", got)
				}
			})
		}
	}
}
