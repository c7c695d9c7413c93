package tlsrec

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/goasync/goasync/future"
)

// testLoop is a minimal event loop: one goroutine runs queued functions in
// order, like a goasync loop's task queue. Execute never blocks.
type testLoop struct {
	mu   sync.Mutex
	q    []func()
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newTestLoop() *testLoop {
	l := &testLoop{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *testLoop) Execute(fn func()) {
	l.mu.Lock()
	l.q = append(l.q, fn)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *testLoop) run() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			return
		}
		for {
			l.mu.Lock()
			q := l.q
			l.q = nil
			l.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, fn := range q {
				fn()
			}
		}
	}
}

func (l *testLoop) close() {
	close(l.stop)
	<-l.done
}

// loopConn drives an Engine over a real net.Conn the way a goasync socket
// will: a reader goroutine hands received bytes to the loop (the poller's
// role), the loop owns the engine, a writer goroutine sends the ciphertext
// the loop produced (the socket's output queue's role). Plaintext is read
// with Read like a net.Conn.
type loopConn struct {
	e    *Engine
	c    net.Conn
	loop *testLoop
	hs   *future.Future[struct{}]

	out     chan outItem // ciphertext to the writer goroutine
	outDone chan struct{}
	inDone  chan struct{}
	credit  chan struct{} // bounds the chunks in flight from the reader

	plain chan []byte // decrypted chunks for Read
	rest  []byte
	rerr  error // terminal read error, after plain is closed

	endOnce   sync.Once
	closeOnce sync.Once
	wclosed   bool // loop only: out is closed
}

// startLoopConn starts the engine's handshake over c. The caller ends it
// with shutdown (which also closes c).
func startLoopConn(t testing.TB, c net.Conn, mk func(Options) *Engine) *loopConn {
	lc := &loopConn{c: c, loop: newTestLoop(), out: make(chan outItem, 64), outDone: make(chan struct{}),
		inDone: make(chan struct{}), credit: make(chan struct{}, 8), plain: make(chan []byte, 256)}
	lc.e = mk(Options{OnOutput: func() { lc.loop.Execute(lc.flush) }})
	go lc.writer()
	lc.hs = lc.e.Handshake(context.Background())
	lc.hs.OnComplete(func(_ struct{}, err error) {
		lc.loop.Execute(func() {
			lc.flush()
			if err != nil {
				lc.end(err)
				return
			}
			p, err := lc.e.Drain(nil)
			lc.deliver(p, err)
		})
	})
	go lc.reader()
	return lc
}

func (lc *loopConn) reader() {
	defer close(lc.inDone)
	for {
		lc.credit <- struct{}{}
		buf := make([]byte, 32<<10)
		n, err := lc.c.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			lc.loop.Execute(func() {
				<-lc.credit
				p, err := lc.e.Receive(nil, chunk)
				lc.deliver(p, err)
			})
		} else {
			<-lc.credit
		}
		if err != nil {
			lc.loop.Execute(func() {
				lc.e.ReceiveEOF()
				if !lc.e.Established() {
					return // the handshake fails and ends the conn
				}
				p, err := lc.e.Drain(nil)
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				lc.deliver(p, err)
			})
			return
		}
	}
}

// deliver runs on the loop.
func (lc *loopConn) deliver(p []byte, err error) {
	lc.flush()
	if len(p) > 0 {
		lc.plain <- p
	}
	if err != nil {
		lc.end(err)
	}
}

func (lc *loopConn) end(err error) {
	lc.endOnce.Do(func() {
		lc.rerr = err
		close(lc.plain)
	})
}

// flush runs on the loop: pending ciphertext goes to the writer.
func (lc *loopConn) flush() {
	if out := lc.e.Output(nil); len(out) > 0 && !lc.wclosed {
		lc.out <- outItem{b: out}
	}
}

type outItem struct {
	b   []byte
	ack chan struct{} // closed once everything before it was written
}

func (lc *loopConn) writer() {
	defer close(lc.outDone)
	var err error
	for it := range lc.out {
		if err == nil && len(it.b) > 0 {
			_, err = lc.c.Write(it.b)
		}
		if it.ack != nil {
			close(it.ack)
		}
	}
}

// onLoop runs fn on the loop and waits for it.
func (lc *loopConn) onLoop(fn func()) {
	done := make(chan struct{})
	lc.loop.Execute(func() { fn(); close(done) })
	select {
	case <-done:
	case <-lc.loop.done: // the loop has stopped: fn never runs
	}
}

// handshake waits for the handshake.
func (lc *loopConn) handshake() error {
	_, err := lc.hs.Await(context.Background())
	return err
}

// Write waits for the handshake, then encrypts p on the loop and queues
// it.
func (lc *loopConn) Write(p []byte) (int, error) {
	if err := lc.handshake(); err != nil {
		return 0, err
	}
	var err error
	lc.onLoop(func() {
		var ct []byte
		ct, err = lc.e.Encrypt(nil, p)
		if err == nil && len(ct) > 0 && !lc.wclosed {
			lc.out <- outItem{b: ct}
		}
	})
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read returns decrypted bytes.
func (lc *loopConn) Read(p []byte) (int, error) {
	for len(lc.rest) == 0 {
		b, ok := <-lc.plain
		if !ok {
			return 0, lc.rerr
		}
		lc.rest = b
	}
	n := copy(p, lc.rest)
	lc.rest = lc.rest[n:]
	return n, nil
}

// closeWrite sends close_notify, then half-closes TCP.
func (lc *loopConn) closeWrite() error {
	var err error
	lc.onLoop(func() {
		err = lc.e.CloseWrite()
		lc.flush()
	})
	if err != nil {
		return err
	}
	// Wait for the writer to have sent everything queued so far.
	ack := make(chan struct{})
	lc.onLoop(func() { lc.out <- outItem{ack: ack} })
	<-ack
	return lc.c.(*net.TCPConn).CloseWrite()
}

// shutdown sends close_notify (if established), flushes, closes the socket
// and stops the goroutines.
func (lc *loopConn) shutdown() {
	lc.closeOnce.Do(func() {
		lc.onLoop(func() {
			lc.e.Close()
			lc.flush()
			lc.wclosed = true
			close(lc.out)
			lc.end(net.ErrClosed)
		})
		<-lc.outDone
		lc.c.Close()
		<-lc.inDone
		lc.hs.Await(context.Background()) // the handshake has ended (Close interrupts it)
		lc.onLoop(func() {})              // the reader's last task ran
		lc.loop.close()
	})
}

// goPeer returns a connected pair: ours (for the engine) and the peer
// conn accepted or dialled over loopback.
func tcpPair(t testing.TB) (ours, peer net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	ours, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return ours, r.c
}

// isTimeout reports whether err is the handshake timeout.
func isTimeout(err error) bool { return errors.Is(err, ErrHandshakeTimeout) }

var _ = tls.VersionTLS13
